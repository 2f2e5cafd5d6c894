package config

import (
	"errors"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// Privileges is who the master and the workers run as once the master
// has opened its listeners (--user, --group).
type Privileges struct {
	Name     string // the user (or group) as given, for messages
	UID, GID int
	Groups   []int // supplementary groups: the user's, or GID alone
}

// parsePrivileges resolves --user and --group (names or numeric ids); nil
// when neither is given. --group alone changes only the group.
func parsePrivileges(c *given) (*Privileges, error) {
	userName, groupName := c.String("user"), c.String("group")
	if userName == "" && groupName == "" {
		return nil, nil
	}
	p := &Privileges{UID: os.Getuid(), GID: os.Getgid(), Name: userName}
	if userName != "" {
		u, err := lookupUser(userName)
		if err != nil {
			return nil, c.bad("user", userName, "no such user; give an existing name or uid (or create it: useradd --system "+userName+")")
		}
		p.UID, _ = strconv.Atoi(u.Uid)
		p.GID, _ = strconv.Atoi(u.Gid)
		ids, _ := u.GroupIds()
		for _, id := range ids {
			if n, err := strconv.Atoi(id); err == nil {
				p.Groups = append(p.Groups, n)
			}
		}
	}
	if groupName != "" {
		g, err := lookupGroup(groupName)
		if err != nil {
			return nil, c.bad("group", groupName, "no such group; give an existing name or gid (or create it: groupadd --system "+groupName+")")
		}
		p.GID, _ = strconv.Atoi(g.Gid)
		if userName == "" {
			p.Name = "group " + groupName
			p.Groups = nil
		}
	}
	if len(p.Groups) == 0 {
		p.Groups = []int{p.GID}
	}
	return p, nil
}

func lookupUser(s string) (*user.User, error) {
	if _, err := strconv.Atoi(s); err == nil {
		return user.LookupId(s)
	}
	return user.Lookup(s)
}

func lookupGroup(s string) (*user.Group, error) {
	if _, err := strconv.Atoi(s); err == nil {
		return user.LookupGroupId(s)
	}
	return user.LookupGroup(s)
}

// parseUmask reads --umask, octal as gunicorn takes it ("022", "0o22",
// "0"); -1 when not given.
func parseUmask(s string) (int, error) {
	if s == "" {
		return -1, nil
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(s), "0o"), 8, 32)
	if err != nil || n > 0o777 {
		return 0, errors.New("give an octal mode from 0 to 777, e.g. 027")
	}
	return int(n), nil
}

// Permits reports whether p may read (4) or write (2) path by its mode
// bits (ACLs aside), as the kernel decides for a process that is not root.
func (p *Privileges) Permits(path string, access uint32) bool {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return false
	}
	switch {
	case p.UID == 0:
		return true
	case int(st.Uid) == p.UID:
		return st.Mode&(access<<6) != 0
	case p.inGroup(int(st.Gid)):
		return st.Mode&(access<<3) != 0
	}
	return st.Mode&access != 0
}

func (p *Privileges) inGroup(gid int) bool {
	if gid == p.GID {
		return true
	}
	for _, g := range p.Groups {
		if g == gid {
			return true
		}
	}
	return false
}
