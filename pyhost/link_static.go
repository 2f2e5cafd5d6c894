//go:build pystatic

package pyhost

// libpython is linked from its static archive, which the Makefile passes
// in CGO_LDFLAGS with the libraries its built-in modules need, and the
// include directories in CGO_CFLAGS. Extension modules (.so files) look
// up the C API in the binary itself, so its symbols are exported, as
// Python's own executable does (LINKFORSHARED).

// #cgo LDFLAGS: -Wl,--export-dynamic
import "C"
