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
			o.Binds = append(o.Binds, bind)
		}
	}
	if b := c.String("metrics-bind"); b != "" {
		var err error
		if o.MetricsBind, err = ParseBind(b); err != nil {
			return c.bad("metrics-bind", b, err.Error())
		}
	}
	return nil
}
