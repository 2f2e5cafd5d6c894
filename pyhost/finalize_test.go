package pyhost

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"wsgo/wsgi/wsgitest"
)

// Stacks (the ops endpoint, a stuck worker's report) and a timeout's
// interrupt may run while the worker shuts down: they must not enter a
// finalized interpreter, nor the thread states freed before it. This runs
// in a child, since a Host finalizes CPython for good.
func TestNothingEntersPythonAfterFinalization(t *testing.T) {
	out := runChild(t, "after-shutdown")
	want := "served: 200 Hello, world!\n" +
		"during shutdown: every Stacks call answered\n" +
		"stacks: (Python has been finalized)\n" +
		"interrupt: (Python has been finalized)\n"
	if !strings.HasSuffix(out, want) {
		t.Fatalf("child printed:\n%s\nwant it to end with:\n%s", out, want)
	}
}

// afterShutdown serves a request, shuts the Host down while another
// goroutine keeps asking for its stacks, then asks for them again and
// interrupts the finished request as a late timeout would, printing
// what each answered. It returns the exit code.
func afterShutdown() int {
	h, err := Start(Config{Target: "testdata/apps/app.py", Threads: 1, QueueSize: 1, Logger: testLog})
	if err != nil {
		fmt.Println("start:", err)
		return 1
	}
	rec := &wsgitest.Recorder{}
	if err := h.ServeWSGI(context.Background(), request("/hello", ""), rec); err != nil {
		fmt.Println("serve:", err)
		return 1
	}
	fmt.Printf("served: %d %s\n", rec.Status, rec.Body.String())
	p := h.pythreads[0]
	j := &job{}
	j.handle = jobs.add(j)
	defer jobs.remove(j.handle)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	bad := ""
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if s := h.Stacks(); !strings.HasPrefix(s, "Thread ") && s != "(Python has been finalized)\n" {
				bad = s
			}
		}
	})
	err = h.Shutdown(context.Background())
	close(stop)
	wg.Wait()
	if err != nil {
		fmt.Println("shutdown:", err)
		return 1
	}
	if bad != "" {
		fmt.Printf("during shutdown, Stacks answered %q\n", bad)
		return 1
	}
	fmt.Println("during shutdown: every Stacks call answered")
	fmt.Print("stacks: ", h.Stacks())
	fmt.Print("interrupt: ", h.interrupt(p, j))
	return 0
}
