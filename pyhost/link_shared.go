//go:build !pystatic

package pyhost

// libpython is linked as a shared library, the one pkg-config's
// python3-embed names. The Makefile builds with the pystatic tag instead
// when that Python ships its static archive (link_static.go).

// #cgo pkg-config: python3-embed
import "C"
