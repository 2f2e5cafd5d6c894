package pyhost

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"wsgo/wsgi"
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
	h := startOneThread()
	if h == nil {
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
	err := h.Shutdown(context.Background())
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
	fmt.Print("interrupt: ", h.interrupt(p, j, false))
	return 0
}

// A timeout's interrupt may come once the request's thread has exited,
// before Python is finalized (Shutdown's first step): it must not use the
// thread's state, freed by then (CI saw the crash). This runs that window
// in a child: the threads stopped, then the interrupt.
func TestALateInterruptFindsTheThreadGone(t *testing.T) {
	out := runChild(t, "interrupt-after-exit")
	if want := "interrupt: (its thread has exited)\n"; !strings.HasSuffix(out, want) {
		t.Fatalf("child printed:\n%s\nwant it to end with %q", out, want)
	}
}

func interruptAfterExit() int {
	h := startOneThread()
	if h == nil {
		return 1
	}
	p := h.pythreads[0]
	j := &job{}
	j.handle = jobs.add(j)
	defer jobs.remove(j.handle)
	h.sched.stop()
	h.running.Wait()
	out := h.interrupt(p, j, false)
	if err := h.Shutdown(context.Background()); err != nil {
		fmt.Println("shutdown:", err)
		return 1
	}
	fmt.Print("interrupt: ", out)
	return 0
}

// A request times out while its thread holds the GIL in C, so the
// timeout's interrupt waits for the GIL with the thread's state in hand,
// while the Host shuts down and the thread exits as soon as the request
// ends: the thread keeps its state until the interrupt is out. Which
// gets the GIL first varies: two children run it.
func TestAnInterruptWaitingForTheGILOutlivesNoThreadState(t *testing.T) {
	for range 2 {
		if out := runChild(t, "interrupt-while-exiting"); !strings.HasSuffix(out, "timed out, then shut down\n") {
			t.Fatalf("child printed:\n%s", out)
		}
	}
}

func interruptWhileExiting() int {
	h := startOneThread()
	if h == nil {
		return 1
	}
	ctx, cancel := context.WithTimeoutCause(context.Background(), 50*time.Millisecond, wsgi.ErrTimeout)
	defer cancel()
	req := request("/hold-gil", "")
	req.RawQuery = "300"
	if err := h.ServeWSGI(ctx, req, &wsgitest.Recorder{}); !errors.Is(err, wsgi.ErrTimeout) {
		fmt.Println("serve: want a timeout, got", err)
		return 1
	}
	if err := h.Shutdown(context.Background()); err != nil {
		fmt.Println("shutdown:", err)
		return 1
	}
	fmt.Println("timed out, then shut down")
	return 0
}

// startOneThread starts a child's Host of one thread on the test app, or
// prints why it could not and returns nil.
func startOneThread() *Host {
	h, err := Start(Config{Target: "testdata/apps/app.py", Threads: 1, QueueSize: 1, Logger: testLog})
	if err != nil {
		fmt.Println("start:", err)
		return nil
	}
	return h
}
