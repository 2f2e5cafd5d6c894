package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/urfave/cli/v2"

	"wsgo/httpfront"
)

// frontFlags are the flags of the HTTP front: static files, access log,
// proxy headers, request limits and timeouts, --debug. Each is documented
// in README.md's table and docs/deployment.md.
func frontFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "static", EnvVars: []string{"WSGO_STATIC"},
			Usage: "serve the files of DIR under the URL prefix, from Go (`/PREFIX=DIR`, repeatable)"},
		&cli.IntFlag{Name: "static-max-age", EnvVars: []string{"WSGO_STATIC_MAX_AGE"},
			Usage: "Cache-Control max-age of static files in `SECONDS` (0: clients revalidate every time)"},
		&cli.StringFlag{Name: "access-log", EnvVars: []string{"WSGO_ACCESS_LOG"},
			Usage: "write one line per request to `FILE` (- for standard output; default: to standard error when it is a terminal, else none)"},
		&cli.StringFlag{Name: "access-log-format", EnvVars: []string{"WSGO_ACCESS_LOG_FORMAT"}, Value: "combined",
			Usage: "`FORMAT` of the access log: combined or json"},
		&cli.StringFlag{Name: "forwarded-allow-ips", EnvVars: []string{"WSGO_FORWARDED_ALLOW_IPS", "FORWARDED_ALLOW_IPS"},
			Value: "127.0.0.1,::1",
			Usage: "proxies whose X-Forwarded-* and Forwarded headers are believed: `LIST` of addresses, CIDRs, unix, or *"},
		&cli.IntFlag{Name: "limit-request-line", EnvVars: []string{"WSGO_LIMIT_REQUEST_LINE"},
			Value: httpfront.DefaultLimitRequestLine, Usage: "longest request line in `BYTES`; longer gets 414"},
		&cli.IntFlag{Name: "limit-request-fields", EnvVars: []string{"WSGO_LIMIT_REQUEST_FIELDS"},
			Value: httpfront.DefaultLimitRequestFields, Usage: "most header fields in a request (`N`); more gets 431"},
		&cli.IntFlag{Name: "limit-request-field_size", EnvVars: []string{"WSGO_LIMIT_REQUEST_FIELD_SIZE"},
			Value: httpfront.DefaultLimitRequestFieldSize, Usage: "longest header field in `BYTES`; longer gets 431"},
		&cli.Int64Flag{Name: "max-body-size", EnvVars: []string{"WSGO_MAX_BODY_SIZE"},
			Usage: "largest request body in `BYTES`; larger gets 413 (0: no limit)"},
		&cli.BoolFlag{Name: "stream-request-body", EnvVars: []string{"WSGO_STREAM_REQUEST_BODY"},
			Usage: "pass a request body with a Content-Length to the app as it arrives, rather than receiving it whole first (for apps that stream uploads; a slow client then holds a Python thread)"},
		&cli.IntFlag{Name: "keep-alive", EnvVars: []string{"WSGO_KEEP_ALIVE"}, Value: secs(httpfront.DefaultKeepAlive),
			Usage: "`SECONDS` an idle connection waits for its next request (0: one request per connection)"},
		&cli.IntFlag{Name: "header-timeout", EnvVars: []string{"WSGO_HEADER_TIMEOUT"}, Value: secs(httpfront.DefaultHeaderTimeout),
			Usage: "`SECONDS` a request's headers may take to arrive (against slowloris)"},
		&cli.IntFlag{Name: "stall-timeout", EnvVars: []string{"WSGO_STALL_TIMEOUT"}, Value: secs(httpfront.DefaultStallTimeout),
			Usage: "`SECONDS` a body read or response write may make no progress before the client is dropped"},
		&cli.BoolFlag{Name: "debug", EnvVars: []string{"WSGO_DEBUG"},
			Usage: "show an HTML page with the traceback when the app raises before responding (never in production)"},
	}
}

func secs(d time.Duration) int { return int(d / time.Second) }

// frontConfig maps the front's flags to its Config (App left to the
// caller) and opens the access log; closeLog closes it after the server has
// stopped. Errors are the user's to fix.
func frontConfig(c *cli.Context, logger *slog.Logger) (cfg httpfront.Config, closeLog func(), err error) {
	for _, name := range []string{"limit-request-line", "limit-request-fields", "limit-request-field_size", "header-timeout", "stall-timeout"} {
		if c.Int(name) < 1 {
			return cfg, nil, fmt.Errorf("wsgo run: --%s must be at least 1", name)
		}
	}
	for _, name := range []string{"keep-alive", "static-max-age"} {
		if c.Int(name) < 0 {
			return cfg, nil, fmt.Errorf("wsgo run: --%s must be at least 0", name)
		}
	}
	if c.Int64("max-body-size") < 0 {
		return cfg, nil, fmt.Errorf("wsgo run: --max-body-size must be at least 0 (0: no limit)")
	}
	cfg = httpfront.Config{
		Logger:                logger,
		KeepAlive:             time.Duration(c.Int("keep-alive")) * time.Second,
		HeaderTimeout:         time.Duration(c.Int("header-timeout")) * time.Second,
		StallTimeout:          time.Duration(c.Int("stall-timeout")) * time.Second,
		LimitRequestLine:      c.Int("limit-request-line"),
		LimitRequestFields:    c.Int("limit-request-fields"),
		LimitRequestFieldSize: c.Int("limit-request-field_size"),
		MaxBodySize:           c.Int64("max-body-size"),
		StreamRequestBody:     c.Bool("stream-request-body"),
		StaticMaxAge:          time.Duration(c.Int("static-max-age")) * time.Second,
		Debug:                 c.Bool("debug"),
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = -1 // Config's zero is the default
	}
	for _, spec := range c.StringSlice("static") {
		dir, err := httpfront.ParseStatic(spec)
		if err != nil {
			return cfg, nil, err
		}
		cfg.Static = append(cfg.Static, dir)
	}
	if cfg.ForwardedAllow, err = httpfront.ParseAllowList(c.String("forwarded-allow-ips")); err != nil {
		return cfg, nil, err
	}
	closeLog = func() {}
	if !c.IsSet("access-log") {
		if cfg.AccessLog = httpfront.TerminalAccessLog(logger); cfg.AccessLog != nil {
			closeLog = func() { cfg.AccessLog.Close() }
		}
	} else if path := c.String("access-log"); path != "" {
		if cfg.AccessLog, err = httpfront.OpenAccessLog(path, c.String("access-log-format"), logger); err != nil {
			return cfg, nil, err
		}
		closeLog = func() { cfg.AccessLog.Close() }
	}
	return cfg, closeLog, nil
}
