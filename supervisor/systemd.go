package supervisor

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// systemd's protocols, spoken by the master (sd_listen_fds(3),
// sd_notify(3)); no libsystemd: both are environment variables and a
// datagram.
//
// Socket activation: systemd (or systemd-socket-activate) opens the
// listening sockets of a .socket unit and starts wsgo with them as
// descriptors 3.. and LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES saying so.
// The master serves them in place of --bind.
//
// Notification: with NOTIFY_SOCKET set (Type=notify or notify-reload),
// the master reports READY=1 once its workers are ready, RELOADING=1 and
// READY=1 around a reload, STOPPING=1 at SIGTERM, STATUS= lines, and
// WATCHDOG=1 every half WATCHDOG_USEC from its event loop, so that a
// wedged master is restarted.
//
// The master unsets these variables, as sd_listen_fds and sd_notify do
// when asked to, so that neither the workers nor the app see them.

// listenFDsStart is the first descriptor systemd passes (SD_LISTEN_FDS_START).
const listenFDsStart = 3

var systemdVariables = []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"}

// Activated reports whether systemd passed this process listening
// sockets (LISTEN_PID is this process).
func Activated() bool {
	return os.Getenv("LISTEN_PID") == strconv.Itoa(os.Getpid()) && os.Getenv("LISTEN_FDS") != ""
}

// activatedListeners adopts the sockets systemd passed. Each must be a
// listening stream socket (ListenStream=, Accept=no).
func activatedListeners() ([]net.Listener, error) {
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n < 1 {
		return nil, &ListenError{fmt.Errorf("wsgo: LISTEN_FDS=%q from systemd is not a count of sockets", os.Getenv("LISTEN_FDS"))}
	}
	names := strings.Split(os.Getenv("LISTEN_FDNAMES"), ":")
	var ls []net.Listener
	for i := range n {
		fd := listenFDsStart + i
		name := "fd " + strconv.Itoa(fd)
		if i < len(names) && names[i] != "" {
			name = names[i]
		}
		l, err := adoptActivated(fd, name)
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			return nil, &ListenError{err}
		}
		ls = append(ls, l)
	}
	return ls, nil
}

// adoptActivated is adopt for a socket systemd passed: its error names
// the .socket unit's settings that pass what wsgo takes.
func adoptActivated(fd int, name string) (net.Listener, error) {
	l, err := adopt(fd, name)
	if err != nil {
		return nil, fmt.Errorf("wsgo: the socket systemd passed as %s: %v; use ListenStream= with Accept=no in the .socket unit", name, err)
	}
	return l, nil
}

// adopt makes a listener of descriptor fd (systemd's, or --bind fd://N),
// named name, closing fd itself: the listener holds a close-on-exec
// duplicate, so workers never inherit it. Its error says why fd is not a
// listening stream socket; the caller says whose it was.
func adopt(fd int, name string) (net.Listener, error) {
	bad := func(why string) error {
		return fmt.Errorf("descriptor %d %s", fd, why)
	}
	if typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); errors.Is(err, unix.EBADF) {
		return nil, bad("is not open")
	} else if err != nil {
		return nil, bad("is not a socket")
	} else if typ != unix.SOCK_STREAM {
		return nil, bad("is not a stream socket")
	}
	if on, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || on != 1 {
		return nil, bad("is not listening")
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	l, err := net.FileListener(f)
	if err != nil {
		return nil, bad(err.Error())
	}
	return l, nil
}

// notifier sends sd_notify messages; nil when NOTIFY_SOCKET is unset.
type notifier struct {
	addr     *net.UnixAddr
	watchdog time.Duration // half WATCHDOG_USEC; 0 without a watchdog
}

// newNotifier reads NOTIFY_SOCKET and WATCHDOG_USEC.
func newNotifier() *notifier {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	// "@name" is an abstract socket; Go's net package reads it so.
	n := &notifier{addr: &net.UnixAddr{Name: path, Net: "unixgram"}}
	pid := os.Getenv("WATCHDOG_PID")
	if usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64); err == nil && usec > 0 &&
		(pid == "" || pid == strconv.Itoa(os.Getpid())) {
		n.watchdog = time.Duration(usec) * time.Microsecond / 2
	}
	return n
}

// send sends one message of NAME=value lines; systemd being away is no
// reason to stop serving, so failures are only logged by the caller.
func (n *notifier) send(lines ...string) error {
	if n == nil {
		return nil
	}
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(strings.Join(lines, "\n") + "\n"))
	return err
}

// ticks is a channel of the watchdog's pings, nil without a watchdog.
func (n *notifier) ticks() <-chan time.Time {
	if n == nil || n.watchdog == 0 {
		return nil
	}
	return time.Tick(n.watchdog)
}

// reloading is the message of a reload's start: Type=notify-reload
// (systemd 253 and later) wants the CLOCK_MONOTONIC time with it.
func reloading(status string) []string {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return []string{"RELOADING=1", "MONOTONIC_USEC=" + strconv.FormatInt(ts.Nano()/1000, 10), "STATUS=" + status}
}

// notify sends a message to systemd, logging a failure.
func (m *Master) notify(lines ...string) {
	if err := m.notifier.send(lines...); err != nil {
		m.log.Warn("wsgo: cannot notify systemd (NOTIFY_SOCKET): " + err.Error())
	}
}

// forgetSystemd unsets systemd's variables: workers and the app must not
// take the master's sockets or speak for it.
func forgetSystemd() {
	for _, v := range systemdVariables {
		os.Unsetenv(v)
	}
}
