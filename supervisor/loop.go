package supervisor

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"syscall"
	"time"

	"wsgo/handoff"
	"wsgo/internal/logfmt"
)

// batch is a replacement in progress: fresh workers start and, once all
// are ready, the old ones drain. If one of the fresh ones dies starting
// (the new code does not import), the others are killed and the old ones
// keep serving.
type batch struct {
	why   string
	began time.Time
	fresh map[*worker]bool // starting
	ready []*worker
	old   []*worker

	reason string // of the restarts, for metrics
}

// loop is the supervisor's life after start-up: it alone starts, replaces
// and stops workers.
func (m *Master) loop(sigs <-chan os.Signal) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var delayOver <-chan time.Time // set during --shutdown-delay
	watchdog := m.notifier.ticks()
	for {
		select {
		case <-watchdog:
			m.notify("WATCHDOG=1")
		case sig := <-sigs:
			echo := m.echo(sig)
			switch {
			case sig == syscall.SIGQUIT: // gunicorn's quick stop
				m.stopNow("SIGQUIT")
				m.log.Info("wsgo: stopped")
				return nil
			case !stopSignal(sig) && delayOver != nil:
				m.signaledWhileStopping(sig)
			case !stopSignal(sig):
				m.signaled(sig)
			case delayOver != nil:
				if !echo {
					m.stopNow("second signal")
					return errSecondSignal
				}
			case m.cfg.ShutdownDelay > 0:
				m.beginDraining(fmt.Sprintf("%s received: draining after --shutdown-delay %s", osSignalName(sig), m.cfg.ShutdownDelay))
				m.countEchoes(sigs)
				m.log.Info(fmt.Sprintf("wsgo: %s received: /readyz answers 503; still serving new connections for --shutdown-delay %s, then finishing in-flight requests (again to stop now)",
					osSignalName(sig), m.cfg.ShutdownDelay))
				delayOver = time.After(m.cfg.ShutdownDelay)
			default:
				return m.stop(fmt.Sprintf("%s received", osSignalName(sig)), sigs)
			}
		case ev := <-m.events:
			m.handle(ev)
		case now := <-tick.C:
			m.expirePending(now)
			m.killSilent(now)
		case <-delayOver:
			return m.stop("--shutdown-delay over", sigs)
		}
	}
}

// echoSettle is how long the signal that begins a stop waits for others
// sent with it to arrive (see countEchoes): GNU timeout signals its
// child, then its process group, child included, microseconds apart.
const echoSettle = 20 * time.Millisecond

// countEchoes counts the signals queued once echoSettle has passed. It
// comes before the stop's "again to stop now" line: none of them can be a
// reaction to it.
func (m *Master) countEchoes(sigs <-chan os.Signal) {
	time.Sleep(echoSettle)
	m.echoes = len(sigs)
}

// echo is told of each signal read; it reports whether sig is a SIGTERM
// or SIGINT that was queued before the stop was announced (echoes): the
// same signal sent twice, which is one stop, not a stop and an operator's
// "again".
func (m *Master) echo(sig os.Signal) bool {
	if m.echoes == 0 {
		return false
	}
	m.echoes--
	if sig != syscall.SIGTERM && sig != syscall.SIGINT {
		return false
	}
	m.log.Debug(fmt.Sprintf("wsgo: %s was sent before the stop was announced: taken as the signal that began it, sent twice", osSignalName(sig)))
	return true
}

// signaled acts on a signal that does not stop wsgo.
func (m *Master) signaled(sig os.Signal) {
	switch sig {
	case syscall.SIGHUP:
		if m.cfg.Reconfigure == nil {
			m.reload("reload (SIGHUP)", time.Time{})
			break
		}
		go func() {
			if m.cfg.Reconfigure() {
				m.events <- event{kind: evReload, detail: "reload (SIGHUP)"}
			}
		}()
	case syscall.SIGUSR1:
		m.reopenLogs()
	case syscall.SIGUSR2:
		m.dump()
	case syscall.SIGTTIN:
		m.target++
		m.nextID++
		m.log.Info(fmt.Sprintf("wsgo: SIGTTIN: one worker more, %d in all", m.target))
		m.startPosition(m.nextID)
	case syscall.SIGTTOU:
		m.shrink()
	}
}

// signaledWhileStopping acts on a signal that does not stop wsgo once a
// stop has begun: logs are still reopened and stacks shown, but the
// workers are not reloaded nor counted again (README, "Signals").
func (m *Master) signaledWhileStopping(sig os.Signal) {
	if sig == syscall.SIGUSR1 || sig == syscall.SIGUSR2 {
		m.signaled(sig)
		return
	}
	m.log.Warn(fmt.Sprintf("wsgo: %s ignored: wsgo is stopping", osSignalName(sig)))
}

// osSignalName names a signal as an operator sends it: SIGTERM, not
// "terminated".
func osSignalName(sig os.Signal) string {
	if s, ok := sig.(syscall.Signal); ok {
		return signalName(s)
	}
	return sig.String()
}

// serving lists the current workers, by position.
func (m *Master) serving() []*worker {
	var ws []*worker
	for _, w := range m.current {
		ws = append(ws, w)
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].id < ws[j].id })
	return ws
}

func (m *Master) handle(ev event) {
	w := ev.w
	switch ev.kind {
	case evReady:
		if w.superseded { // it was told to go before it said so
			break
		}
		m.markReady(w)
		m.crashes[w.id] = 0
		if b := w.batch; b != nil {
			w.batch = nil
			delete(b.fresh, w)
			b.ready = append(b.ready, w)
			if len(b.fresh) == 0 {
				m.complete(b)
			}
		}
	case evRecycle:
		if w.phase == ready && !w.replaced && !m.isDraining() { // stopping: no new workers
			m.log.Info(fmt.Sprintf("wsgo: worker %d (pid %d) asks to be replaced: %s", w.id, w.cmd.Process.Pid, ev.detail))
			m.replace("recycling worker "+fmt.Sprint(w.id), recycleReason(ev.why), []*worker{w})
		}
	case evExit:
		m.reap(w)
		m.afterExit(w)
	case evLinkLost:
		if w.state == nil { // not reaped yet
			m.log.Error(fmt.Sprintf("wsgo: worker %d (pid %d) lost its channel to the master, yet runs on: did the app close "+
				"file descriptors it does not own (os.closerange)? Killing it to replace it", w.id, w.cmd.Process.Pid))
			w.kill("its channel to the master was lost")
		}
	case evReload:
		if w != nil && w.batch == nil && m.importing(w) {
			m.supersede(w, ev.detail)
			break
		}
		m.reload(ev.detail, ev.at)
	case evRespawn:
		if _, taken := m.current[ev.id]; !taken && ev.id <= m.nextID {
			m.startPosition(ev.id)
		}
	}
}

// afterExit decides what a worker's exit calls for.
func (m *Master) afterExit(w *worker) {
	if b := w.batch; b != nil { // a replacement that could not start
		fix := "fix the error above, then send SIGHUP to reload"
		if m.cfg.Reload {
			fix = "save a fix: --reload is watching"
		}
		m.log.Error(fmt.Sprintf("wsgo: %s failed: the new worker could not start; the old workers keep serving (%s)", b.why, fix))
		m.abandon(b)
		return
	}
	if m.current[w.id] != w {
		return // drained, replaced, or its position was removed
	}
	delete(m.current, w.id)
	if w.replaced {
		// A reload or recycle is starting its successor, which takes the
		// position when ready (complete); one started here too would be
		// overwritten there, and serve on untracked (old code, no SIGHUP).
		return
	}
	if w.superseded { // no failure: it goes to import the saved files
		m.startPosition(w.id)
		return
	}
	if w.phase != starting {
		m.metrics.restarted(reasonCrash, 1)
		m.startPosition(w.id)
		return
	}
	m.metrics.restarted(reasonStartFailure, 1)
	m.crashes[w.id]++
	delay := min(100*time.Millisecond<<(m.crashes[w.id]-1), 10*time.Second)
	m.log.Error(fmt.Sprintf("wsgo: worker %d failed to start (%d time(s) in a row); trying again in %s",
		w.id, m.crashes[w.id], delay))
	time.AfterFunc(delay, func() { m.events <- event{kind: evRespawn, id: w.id} })
}

// startPosition starts a worker to fill position id.
func (m *Master) startPosition(id int) {
	w, err := m.spawn(id, false)
	if err != nil {
		m.log.Error(err.Error())
		time.AfterFunc(time.Second, func() { m.events <- event{kind: evRespawn, id: id} })
		return
	}
	m.current[id] = w
}

// reload replaces every worker, so that the app is imported afresh. While
// a reload is under way, another waits for it to complete, whether it
// succeeds or fails: the workers starting may have imported the code
// before the latest change. changed is when --reload saw the app's files
// change last (zero for SIGHUP): a change before the latest reload began
// was read by its workers, or made them fail, and asks for nothing more
// (each worker watching sees the same save).
func (m *Master) reload(why string, changed time.Time) {
	if m.isDraining() { // --shutdown-delay: the workers serving are the last
		m.log.Warn(fmt.Sprintf("wsgo: %s ignored: wsgo is stopping", why))
		return
	}
	if !changed.IsZero() && !changed.After(m.reloadBegan) {
		return
	}
	m.notify(reloading(why)...)
	if m.reloading != nil {
		m.reloadAgain = why
		return
	}
	m.reloadBegan = time.Now()
	m.reloading = m.replace(why, reasonReload, m.serving())
	if m.reloading == nil {
		m.notifyReady()
	}
}

// replace starts a fresh worker for each of old, and drains old once all
// the fresh ones are ready.
func (m *Master) replace(why, reason string, old []*worker) *batch {
	b := &batch{why: why, reason: reason, fresh: map[*worker]bool{}}
	for _, o := range old {
		if o.replaced {
			continue
		}
		w, err := m.spawn(o.id, true)
		if err != nil {
			m.log.Error(fmt.Sprintf("wsgo: %s failed: %v", why, err))
			m.abandon(b)
			return nil
		}
		w.batch = b
		b.fresh[w] = true
		b.old = append(b.old, o)
		o.replaced = true
		o.replacedIn = b
	}
	if len(b.old) == 0 {
		return nil
	}
	m.log.Info(fmt.Sprintf("wsgo: %s: starting %s", why, plural(len(b.old), "new worker")))
	return b
}

// complete puts a batch's fresh workers in place and drains the old.
func (m *Master) complete(b *batch) {
	for _, w := range b.ready {
		m.current[w.id] = w
	}
	for _, o := range b.old {
		o.replacedIn = nil
		m.drain(o)
	}
	m.metrics.restarted(b.reason, len(b.old))
	m.log.Info(fmt.Sprintf("wsgo: %s done", b.why))
	m.settled(b)
}

// settled forgets a batch that completed or was abandoned, and runs the
// reload that waited for it.
func (m *Master) settled(b *batch) {
	if b != m.reloading {
		return
	}
	m.reloading = nil
	if why := m.reloadAgain; why != "" {
		m.reloadAgain = ""
		m.reload(why, time.Time{})
		return
	}
	m.notifyReady()
}

// notifyReady tells systemd that wsgo serves (after start and reloads).
func (m *Master) notifyReady() {
	m.notify("READY=1", "STATUS="+m.status)
}

// abandon gives up a batch: its fresh workers go (the ready ones drain,
// as they may have been lent connections already), the old ones serve on.
func (m *Master) abandon(b *batch) {
	for _, f := range b.ready {
		m.drain(f)
	}
	for f := range b.fresh {
		f.batch = nil
		f.kill("its replacement batch was abandoned")
	}
	for _, o := range b.old {
		o.replaced = false
		o.replacedIn = nil
		if _, taken := m.current[o.id]; o.state != nil && !taken && !m.isDraining() {
			m.startPosition(o.id) // it died while its successor was starting (afterExit)
		}
	}
	m.settled(b)
}

// KillMargin is how long past the graceful timeout a draining worker may
// take to exit before it is killed.
const KillMargin = 2 * time.Second

// drain tells w to give its idle connections back and finish the rest;
// past the graceful timeout it is killed.
func (m *Master) drain(w *worker) {
	m.order(w, handoff.Release)
}

// order moves w to draining with a Release or Stop, killing it if it
// does not exit within the graceful timeout.
func (m *Master) order(w *worker, k handoff.Kind) {
	m.mu.Lock()
	already := w.phase == draining
	w.phase = draining
	m.mu.Unlock()
	if already || w.state != nil {
		return
	}
	w.replaced = true
	w.ch.Send(handoff.Msg{Kind: k}, -1)
	// The worker cuts its own requests at the graceful timeout; the
	// margin lets it do so, and say so, before it is killed.
	w.drainDeadline = time.AfterFunc(m.cfg.GracefulTimeout+KillMargin, func() {
		m.log.Warn(fmt.Sprintf("wsgo: worker %d (pid %d) still running %s after --graceful-timeout %s; killing it",
			w.id, w.cmd.Process.Pid, KillMargin, m.cfg.GracefulTimeout))
		w.kill("it ran past --graceful-timeout")
	})
}

// shrink drains the worker of the highest position (SIGTTOU), and the
// successor a reload or recycle is starting for it, which would take the
// position back.
func (m *Master) shrink() {
	if m.target <= 1 {
		m.log.Warn("wsgo: SIGTTOU ignored: one worker is the least")
		return
	}
	ws := m.serving()
	w := ws[len(ws)-1]
	m.target--
	delete(m.current, w.id)
	m.log.Info(fmt.Sprintf("wsgo: SIGTTOU: one worker fewer, %d in all", m.target))
	m.drain(w)
	if b := w.replacedIn; b != nil {
		m.withdraw(b, w)
	}
}

// withdraw takes old, whose position was removed, out of the batch b
// replacing it: the fresh worker b started for it goes too (killed if
// still importing, drained if ready, as it may have been lent
// connections), and b completes with the others.
func (m *Master) withdraw(b *batch, old *worker) {
	b.old = slices.DeleteFunc(b.old, func(o *worker) bool { return o == old })
	for f := range b.fresh {
		if f.id == old.id {
			delete(b.fresh, f)
			f.batch = nil
			f.dismiss("its position was removed (SIGTTOU)")
		}
	}
	b.ready = slices.DeleteFunc(b.ready, func(f *worker) bool {
		if f.id == old.id {
			m.drain(f)
		}
		return f.id == old.id
	})
	switch {
	case len(b.fresh) > 0: // the others are still importing
	case len(b.old) > 0:
		m.complete(b)
	default:
		m.settled(b)
	}
}

// reopenLogs reopens the log files of the master and every worker
// (SIGUSR1), after logrotate renamed them.
func (m *Master) reopenLogs() {
	if err := logfmt.ReopenAll(); err != nil {
		m.log.Error(err.Error())
	} else {
		m.log.Info("wsgo: SIGUSR1: log files reopened; the workers reopen theirs")
	}
	m.tellAll(handoff.Reopen)
}

// dump asks every worker that has imported the app to log its Python
// stacks (SIGUSR2), draining ones too: what a stop waits for.
func (m *Master) dump() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for w := range m.workers {
		if w.phase != starting {
			w.ch.Send(handoff.Msg{Kind: handoff.Dump}, -1)
		}
	}
}

// stop is the graceful stop: accept what the kernel already accepted,
// then tell every worker to finish and exit, killing those still busy
// after the graceful timeout. A second signal stops at once.
func (m *Master) stop(why string, sigs <-chan os.Signal) error {
	m.beginDraining(why + ": finishing in-flight requests")
	m.countEchoes(sigs)
	m.log.Info(fmt.Sprintf("wsgo: %s, finishing in-flight requests (up to %s; again to stop now)",
		why, m.cfg.GracefulTimeout))
	m.stopAccepting()
	for _, w := range m.living() {
		m.mu.Lock()
		importing := w.phase == starting
		m.mu.Unlock()
		if importing { // it serves nothing yet: waiting for its import would only delay the stop
			w.dismiss("wsgo is stopping")
		} else {
			m.order(w, handoff.Stop)
		}
	}
	watchdog := m.notifier.ticks()
	for {
		m.mu.Lock()
		left := len(m.workers)
		m.mu.Unlock()
		if left == 0 {
			break
		}
		select {
		case <-watchdog:
			m.notify("WATCHDOG=1")
		case sig := <-sigs:
			switch echo := m.echo(sig); {
			case !stopSignal(sig):
				m.signaledWhileStopping(sig)
			case !echo:
				m.stopNow("second signal")
				return errSecondSignal
			}
		case ev := <-m.events:
			if ev.kind == evExit {
				m.reap(ev.w)
			}
		}
	}
	m.closePending()
	m.log.Info("wsgo: stopped")
	return nil
}

// stopNow kills every worker at once (a second signal, SIGQUIT): their
// requests in flight get 502. Closing the listeners removes the unix
// socket files it made (a graceful stop has closed them already).
func (m *Master) stopNow(why string) {
	m.log.Warn(fmt.Sprintf("wsgo: %s, stopping now", why))
	m.killAll(fmt.Sprintf("a %s said to stop now", why))
	m.closePending()
	m.closeListeners()
}

// errSecondSignal is the end of a graceful stop cut short.
var errSecondSignal = errors.New("wsgo: stopped by a second signal")

// closePending closes connections no worker will serve.
func (m *Master) closePending() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.pending {
		syscall.Close(p.fd)
	}
	m.pending = nil
}
