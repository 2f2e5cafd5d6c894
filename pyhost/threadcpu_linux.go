package pyhost

import (
	"bytes"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// threadCPU tells the scheduler what one Python thread's OS thread is
// doing: the CPU time it has used, and whether it is runnable right now
// (running, or waiting for a CPU) rather than asleep (blocked on I/O, a
// lock or the GIL).
type threadCPU struct {
	clock uintptr  // the thread's CPU-time clock for clock_gettime
	stat  *os.File // its /proc/…/stat, which says its state
}

// newThreadCPU measures the calling OS thread; nil when it cannot.
func newThreadCPU() *threadCPU {
	stat, err := os.Open("/proc/thread-self/stat")
	if err != nil {
		return nil
	}
	// Linux's CPU clock of one thread: MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED).
	return &threadCPU{clock: uintptr(^syscall.Gettid()<<3 | 6), stat: stat}
}

func (l *threadCPU) cpu() time.Duration {
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, l.clock, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}

// runnable reads the state letter that follows the command name in
// "pid (comm) S ...".
func (l *threadCPU) runnable() bool {
	var buf [128]byte
	n, _ := l.stat.ReadAt(buf[:], 0)
	b := buf[:n]
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'R'
}

func (l *threadCPU) close() { l.stat.Close() }
