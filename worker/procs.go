package worker

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"

	"wsgo/internal/cpusched"
)

// ensureTwoPs gives a worker on one CPU (taskset, a container's limit) a
// second Go P when it runs under SCHED_BATCH. With one P, every call into
// Python longer than the Go runtime's monitor tick (20 µs) has its P taken
// back and handed to another thread, which the pythread must wait for on
// its return; with a spare P the pythread keeps its own, and the network
// goroutines run on the other without preempting it (SCHED_BATCH). Under
// the normal policy a second P measured slower: those goroutines preempt
// Python instead. A GOMAXPROCS set by the user is left alone.
func ensureTwoPs(logger *slog.Logger) {
	if os.Getenv("GOMAXPROCS") != "" || runtime.GOMAXPROCS(0) >= 2 || !cpusched.Batch() {
		return
	}
	runtime.GOMAXPROCS(2)
	logger.Debug(fmt.Sprintf("wsgo: worker %d: GOMAXPROCS 2 on 1 CPU under SCHED_BATCH", os.Getpid()))
}
