package config

import (
	"errors"
	"net"
	"strconv"
	"strings"
)

// bindForms are the addresses --bind and --metrics-bind take.
const bindForms = "HOST:PORT, :PORT, [IPV6]:PORT, tcp://HOST:PORT, unix:PATH or fd://N"

// ParseBind checks the form of one --bind address and gives it as the
// supervisor listens on it: gunicorn's tcp://HOST:PORT is HOST:PORT and
// its unix://PATH is unix:PATH; fd://N is a listening socket inherited
// on descriptor N. Whether the address can be listened on is only known
// by listening (exit 3); its error says what is wrong and the forms.
func ParseBind(bind string) (string, error) {
	if path, ok := strings.CutPrefix(bind, "unix://"); ok {
		bind = "unix:" + path
	}
	bind = strings.TrimPrefix(bind, "tcp://")
	if problem := bindProblem(bind); problem != "" {
		return "", errors.New(problem + "; use " + bindForms)
	}
	return bind, nil
}

// bindProblem is what is wrong with the form of bind, or "".
func bindProblem(bind string) string {
	if path, ok := strings.CutPrefix(bind, "unix:"); ok {
		if path == "" {
			return "the socket path is empty"
		}
		return ""
	}
	if fd, ok := strings.CutPrefix(bind, "fd://"); ok {
		if _, err := strconv.ParseUint(fd, 10, 31); err != nil {
			return "the descriptor must be a number"
		}
		return ""
	}
	_, port, err := net.SplitHostPort(bind)
	var ae *net.AddrError
	switch {
	case errors.As(err, &ae):
		return ae.Err // without the address, which the caller shows
	case err != nil:
		return err.Error()
	}
	// net.Listen would take service names ("http"); a number is clearer.
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "the port must be a number from 0 to 65535"
	}
	return ""
}

// parseBinds checks --bind and --metrics-bind before anything starts: a
// malformed address is a usage error naming where it came from.
func (o *Options) parseBinds(c *given) error {
	if c.IsSet("bind") {
		for _, b := range c.StringSlice("bind") {
			bind, err := ParseBind(b)
			if err != nil {
				return c.bad("bind", b, err.Error()+uwsgiBufferSizeHint(b))
			}
			if other := overlapping(bind, o.Binds); other != "" {
				return c.bad("bind", b, "--bind "+other+" already listens there; give each address once")
			}
			o.Binds = append(o.Binds, bind)
		}
	}
	if b := c.String("metrics-bind"); b != "" {
		var err error
		if o.MetricsBind, err = ParseBind(b); err != nil {
			return c.bad("metrics-bind", b, err.Error())
		}
		if other := overlapping(o.MetricsBind, o.Binds); other != "" {
			return c.bad("metrics-bind", b, "--bind "+other+" already listens there; give the metrics an address of their own")
		}
	}
	return nil
}

// overlapping is the address of binds that bind would listen on too (the
// same one, or a port that one listens on at every address; port 0 is a
// new port each time), or "": the
// kernel would refuse the second as an address in use, which reads as
// another server's.
func overlapping(bind string, binds []string) string {
	for _, other := range binds {
		if bind == other && !strings.HasSuffix(bind, ":0") || sharePort(bind, other) {
			return other
		}
	}
	return ""
}

// sharePort: a and b are TCP addresses of the same port, not 0, of which
// one is every address of the other's family: ":P" of both, "0.0.0.0:P"
// of IPv4, "[::]:P" of IPv6 (an IP literal listens on its family only,
// supervisor.Listen, so "0.0.0.0:P" and "[::]:P" together are both).
func sharePort(a, b string) bool {
	for _, bind := range []string{a, b} {
		if strings.HasPrefix(bind, "unix:") || strings.HasPrefix(bind, "fd://") {
			return false
		}
	}
	hostA, portA, errA := net.SplitHostPort(a)
	hostB, portB, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil || portA != portB || portA == "0" {
		return false
	}
	every := func(host, beside string) bool {
		ip := net.ParseIP(beside) // nil: a name, of either family
		switch host {
		case "":
			return true
		case "::":
			return ip == nil || ip.To4() == nil
		case "0.0.0.0":
			return ip == nil || ip.To4() != nil
		}
		return false
	}
	return every(hostA, hostB) || every(hostB, hostA)
}
