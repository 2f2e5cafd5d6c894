package pyhost

/*
#include "wsgo.h"
*/
import "C"

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// watchGIL reports a thread that keeps the GIL in C code (a regular
// expression that backtracks, a C extension's loop) while requests run:
// no other request of the worker runs meanwhile, whatever --timeout says,
// and without --timeout nothing else would say so, nor end it: then a
// thread that keeps it for StuckAfter has its worker replaced. Each
// gilWait it looks for a request that has run through the whole
// interval; only then does it ask for the GIL itself, so that requests of
// normal length cost nothing. It returns when the host stops.
func (h *Host) watchGIL() {
	tick := time.NewTicker(gilWait)
	defer tick.Stop()
	var before []*job
	busy := busyWatch{seen: map[*job]time.Time{}}
	for {
		select {
		case <-h.stop:
			return
		case <-tick.C:
		}
		now := h.runningJobs()
		if slices.ContainsFunc(now, func(j *job) bool { return slices.Contains(before, j) }) {
			h.probeGIL(now)
			now = h.runningJobs()
		}
		busy.look(h, now, time.Now())
		before = now
	}
}

// busyFor is how long every Python thread may hold the same requests
// while others wait for one before the log says so.
const busyFor = 10 * time.Second

// busyWatch tells of a worker whose every thread has run the same
// request for busyFor while requests wait: with no --timeout nothing
// else would say so, and those requests wait for as long as they run.
type busyWatch struct {
	seen map[*job]time.Time // when each running request was first seen
	told time.Time          // the last warning; again after a minute
}

func (b *busyWatch) look(h *Host, running []*job, now time.Time) {
	var youngest time.Time // when the request running the shortest was first seen
	for j := range b.seen {
		if !slices.Contains(running, j) {
			delete(b.seen, j)
		}
	}
	for _, j := range running {
		if _, ok := b.seen[j]; !ok {
			b.seen[j] = now
		}
		if b.seen[j].After(youngest) {
			youngest = b.seen[j]
		}
	}
	if len(running) < len(h.pythreads) || now.Sub(youngest) < busyFor || h.sched.waiting() == 0 || now.Sub(b.told) < time.Minute {
		return
	}
	b.told = now
	names := make([]string, len(running))
	for i, j := range running {
		names[i] = fmt.Sprintf("%s (for %s)", j, now.Sub(b.seen[j]).Round(time.Second))
	}
	fix := "set --timeout SECONDS to cut requests that run too long, or raise --threads if they wait on I/O"
	if h.cfg.Timeout > 0 {
		fix = "the requests past --timeout were answered 504, but their threads have not let go (stuck in C code or a finally block); raise --threads, or find what holds them (SIGUSR2 to the master logs every stack)"
	}
	h.cfg.Logger.Warn(fmt.Sprintf("wsgo: requests wait for a Python thread: all %d have run the same requests for over %v; %s",
		len(h.pythreads), busyFor, fix), "running", strings.Join(names, "; "), "waiting", h.sched.waiting())
}

// runningJobs lists the requests the pythreads run.
func (h *Host) runningJobs() []*job {
	var jobs []*job
	for _, p := range h.pythreads {
		if j := p.current.Load(); j != nil {
			jobs = append(jobs, j)
		}
	}
	return jobs
}

// probeGIL takes the GIL once; when that takes over gilWait, it says so,
// naming the requests running (one of them keeps it), and again once the
// GIL is free.
func (h *Host) probeGIL(running []*job) {
	free := make(chan struct{})
	go func() {
		h.withPython(func() { C.wsgo_take_gil_once(h.st) })
		close(free)
	}()
	asked := time.Now()
	select {
	case <-free:
		return
	case <-time.After(gilWait):
	case <-h.stop:
		return
	}
	names := make([]string, len(running))
	for i, j := range running {
		names[i] = j.String()
	}
	fix := ""
	var replace <-chan time.Time // --timeout's own path replaces the worker otherwise (abandon)
	if h.cfg.Timeout == 0 && h.cfg.StuckAfter > 0 && h.cfg.OnStuck != nil {
		fix = fmt.Sprintf("; past %v (--graceful-timeout) the worker is replaced; --timeout would cut such a request sooner", h.cfg.StuckAfter)
		t := time.NewTimer(h.cfg.StuckAfter - time.Since(asked))
		defer t.Stop()
		replace = t.C
	}
	runningNames := strings.Join(names, "; ")
	h.cfg.Logger.Warn(fmt.Sprintf("wsgo: a Python thread has held the GIL for over %v in C code: no other request of this "+
		"worker runs until it lets go%s", gilWait, fix), "running", runningNames)
	h.load.gilHeld(1)
	defer h.load.gilHeld(-1)
	for {
		select {
		case <-free:
			h.sched.setWedged(false)
			h.cfg.Logger.Warn(fmt.Sprintf("wsgo: the GIL is free again, after %.1fs", time.Since(asked).Seconds()))
			return
		case <-replace:
			replace = nil
			h.cfg.Logger.Error(fmt.Sprintf("wsgo: a Python thread has held the GIL in C code for %v (--graceful-timeout): "+
				"replacing the worker; requests it has not begun get 503 meanwhile; set --timeout to cut such a request sooner",
				h.cfg.StuckAfter), "running", runningNames)
			h.sched.setWedged(true) // a wait for the GIL would end only when the worker is killed
			h.cfg.OnStuck("a Python thread keeps the GIL in C code")
		case <-h.stop:
			return
		}
	}
}
