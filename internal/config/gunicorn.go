package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// What gunicorn users bring along: its flags (aliases in flags.go, and
// these three with a meaning of their own), and the PORT and
// WEB_CONCURRENCY variables of Heroku-style platforms, read as gunicorn
// reads them.

// parseGunicorn applies --worker-class, --preload and --daemon, PORT and
// WEB_CONCURRENCY.
func (o *Options) parseGunicorn(c *cli.Context) error {
	if c.Bool("daemon") {
		return usage("wsgo run: --daemon is refused: wsgo stays in the foreground so that its supervisor sees it; " +
			"run it under systemd (examples/systemd), in a container, or detach it yourself with `setsid -f wsgo run …`")
	}
	switch class := c.String("worker-class"); strings.ToLower(class[strings.LastIndexByte(class, '.')+1:]) {
	case "":
	case "sync", "syncworker":
		if !c.IsSet("threads") {
			o.Threads = 1
			o.Notes = append(o.Notes, "wsgo: --worker-class sync: one thread per worker (--threads 1), as gunicorn's sync workers")
		}
	case "gthread", "threadworker":
	case "gevent", "geventworker", "geventpywsgiworker", "eventlet", "eventletworker", "tornado", "tornadoworker":
		return usage(fmt.Sprintf("wsgo run: --worker-class %s is refused: wsgo serves WSGI apps on threads and does not "+
			"monkey-patch; use --threads N for N concurrent requests per worker", class))
	default:
		return usage(fmt.Sprintf("wsgo run: --worker-class %q: wsgo runs sync or gthread (Python threads, --threads); "+
			"ASGI workers such as uvicorn's are not WSGI", class))
	}
	if c.Bool("preload") {
		o.Notes = append(o.Notes, "wsgo: --preload changes nothing: each worker imports the app itself "+
			"(a Go program cannot fork once it runs), so import errors still stop wsgo at start")
	}
	if port := os.Getenv("PORT"); port != "" && !c.IsSet("bind") {
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return usage(fmt.Sprintf("wsgo run: PORT=%q is not a port number (1 to 65535); fix it or give --bind", port))
		}
		o.Binds = []string{"0.0.0.0:" + port}
		o.Notes = append(o.Notes, "wsgo: listening on 0.0.0.0:"+port+" from PORT, as gunicorn does (--bind overrides it)")
	}
	if n := os.Getenv("WEB_CONCURRENCY"); n != "" && !c.IsSet("workers") {
		workers, err := parseWorkers(n)
		if err != nil {
			return usage(fmt.Sprintf("wsgo run: WEB_CONCURRENCY=%q: give a number of at least 1 (or unset it and give --workers)", n))
		}
		o.Workers = workers
		o.Notes = append(o.Notes, fmt.Sprintf("wsgo: %d worker(s) from WEB_CONCURRENCY, as gunicorn does (--workers overrides it)", workers))
	}
	return nil
}
