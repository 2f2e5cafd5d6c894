package main

import (
	"github.com/urfave/cli/v2"

	"wsgo/httpfront"
)

// loadCerts reads --certfile and --keyfile, or returns nil without them.
// A file that cannot be read, or a key that does not match, is a bad
// flag: exit 2.
func loadCerts(c *cli.Context) (*httpfront.Certs, error) {
	cert, key := c.String("certfile"), c.String("keyfile")
	switch {
	case cert == "" && key == "":
		return nil, nil
	case cert == "" || key == "":
		return nil, cli.Exit("wsgo run: TLS needs both --certfile and --keyfile (PEM files)", exitUsage)
	}
	certs, err := httpfront.LoadCerts(cert, key)
	if err != nil {
		return nil, cli.Exit(err.Error(), exitUsage)
	}
	return certs, nil
}
