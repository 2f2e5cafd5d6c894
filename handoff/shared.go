package handoff

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// newShared makes a memfd of size bytes, to be mapped by the master and
// by workers, and maps it here with mapIt.
func newShared[T any](name string, size int, mapIt func(*os.File) (T, error)) (T, *os.File, error) {
	var none T
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return none, nil, fmt.Errorf("handoff: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), name)
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		return none, nil, fmt.Errorf("handoff: sizing %s: %w", name, err)
	}
	t, err := mapIt(f)
	if err != nil {
		f.Close()
		return none, nil, err
	}
	return t, f, nil
}

// mapShared maps size bytes of f, shared and writable: page-aligned memory.
func mapShared(f *os.File, size int) ([]byte, error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("handoff: mapping %s: %w", f.Name(), err)
	}
	return mem, nil
}
