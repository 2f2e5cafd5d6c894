package supervisor

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"wsgo/handoff"
	"wsgo/internal/cpusched"
	"wsgo/internal/exitcode"
)

// phase is where a worker is in its life.
type phase int

const (
	starting phase = iota // importing the app
	ready                 // lent connections
	draining              // told to Release or Stop; lent nothing more
)

// worker is one worker process, as the master sees it.
type worker struct {
	id    int // the position it fills, 1.. (kept by its replacements)
	cmd   *exec.Cmd
	ch    *handoff.Channel
	slots *handoff.Slots
	crash *os.File // its Go runtime's crash report, if it crashes (handoff.NewCrashFile)
	// crashed is the head of that report, read at reap; "" if none.
	crashed string
	// killedFor says why the master sent SIGKILL, for the exit's log line;
	// set before the kill, read at reap (the loop's).
	killedFor string
	// dismissed: killed while importing, as wsgo stops or its position
	// goes (SIGTTOU); no failure.
	dismissed bool
	// superseded: killed while importing because the app's files changed
	// meanwhile (--reload); its position is started afresh at once.
	superseded bool
	hello      handoff.Hello
	state      *os.ProcessState // once reaped; the loop's
	exited     chan struct{}    // closed once the process has exited
	heard      atomic.Int64     // when its last message came, in Unix nanoseconds

	serial  uint64    // the order it was started in (metrics.go)
	started time.Time // when its process started

	// Guarded by Master.mu.
	seat  int // on the board (seats), or -1
	phase phase
	// imported: it said it was ready, so the app is in; its exits are
	// the app's then (describeExit), whatever its phase.
	imported bool
	conns    map[uint32]heldConn // by slot
	// slotNums numbers its connections' slots.
	slotNums numbers[uint32]

	batch         *batch      // the replacement it is part of, while starting
	replaced      bool        // a replacement is on its way or done
	replacedIn    *batch      // the batch starting its replacement, until complete or abandoned
	drainDeadline *time.Timer // kills it if draining takes too long
}

type eventKind int

const (
	evReady    eventKind = iota // the worker imported the app
	evRecycle                   // the worker asks to be replaced (detail: why)
	evExit                      // the process is gone and its messages read
	evRespawn                   // a backoff ended: start position id again
	evReload                    // replace every worker (detail: why): --reload saw the app's files change, or SIGHUP
	evLinkLost                  // the worker's channel failed, yet it lives on
)

type event struct {
	kind   eventKind
	w      *worker
	id     int
	why    handoff.Why // evRecycle
	detail string
	at     time.Time // evReload from --reload: when the files last changed
}

// spawn starts a worker for position id; replacing: to replace running
// workers (a batch).
func (m *Master) spawn(id int, replacing bool) (*worker, error) {
	ch, chFile, err := handoff.Pair()
	if err != nil {
		return nil, err
	}
	slots, slotsFile, err := handoff.NewSlots()
	if err != nil {
		ch.Close()
		chFile.Close()
		return nil, err
	}
	crash, err := handoff.NewCrashFile()
	if err != nil {
		ch.Close()
		chFile.Close()
		slots.Unmap()
		slotsFile.Close()
		return nil, err
	}
	m.mu.Lock()
	seat := m.seats.take()
	m.mu.Unlock()
	cmd := m.cfg.Command()
	// Descriptors 3 to 6, then the Command's own (from 7), the worker's
	// alone once it runs.
	given := cmd.ExtraFiles
	cmd.ExtraFiles = append([]*os.File{chFile, slotsFile, crash, m.seats.file}, given...)
	defer closeFiles(given)
	cmd.Env = append(cmd.Environ(), handoff.Env+"="+handoff.EnvValue(id, seat, replacing))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err = m.start(cmd)
	chFile.Close() // the worker's end must live in the worker alone, so its death ends Recv
	slotsFile.Close()
	if err != nil {
		ch.Close()
		slots.Unmap()
		crash.Close()
		m.mu.Lock()
		m.seats.give(seat)
		m.mu.Unlock()
		return nil, fmt.Errorf("wsgo: starting a worker: %w", err)
	}
	w := &worker{id: id, cmd: cmd, ch: ch, slots: slots, crash: crash, seat: seat, conns: map[uint32]heldConn{},
		slotNums: numbers[uint32]{limit: handoff.NumSlots}, exited: make(chan struct{}), started: time.Now()}
	m.mu.Lock()
	m.spawned++
	w.serial = m.spawned
	m.workers[w] = struct{}{}
	m.mu.Unlock()
	m.log.Info(fmt.Sprintf("wsgo: worker %d (pid %d) started", id, cmd.Process.Pid))
	read := make(chan struct{})
	go m.read(w, read)
	go m.wait(w, read)
	return w, nil
}

// start starts a worker's process, under SCHED_BATCH unless --worker-sched
// normal said otherwise. Refused (a container's seccomp profile), the
// worker starts all the same, and the master says so once.
func (m *Master) start(cmd *exec.Cmd) error {
	if !m.cfg.BatchWorkers {
		return cmd.Start()
	}
	err, schedErr := cpusched.StartBatch(cmd)
	if schedErr != nil {
		m.schedWarned.Do(func() {
			m.log.Warn(fmt.Sprintf("wsgo: workers run under the normal CPU policy, as setting SCHED_BATCH was refused (%v), which costs throughput on a busy core; allow sched_setattr (a seccomp profile), or pass --worker-sched normal to say this is intended", schedErr))
		})
	}
	return err
}

// read handles a worker's messages until its channel closes. Connection
// messages are handled here; life-cycle ones go to the loop.
func (m *Master) read(w *worker, done chan<- struct{}) {
	defer close(done)
	for {
		msg, fd, err := w.ch.Recv()
		if fd >= 0 {
			syscall.Close(fd) // workers send no descriptors
		}
		if err != nil {
			m.linkLost(w)
			return
		}
		w.heard.Store(time.Now().UnixNano())
		switch msg.Kind {
		case handoff.Ready:
			if err := json.Unmarshal(msg.Data, &w.hello); err != nil {
				m.log.Error("wsgo: a worker's ready message is malformed", "worker", w.id, "err", err)
				continue
			}
			m.events <- event{kind: evReady, w: w}
		case handoff.Recycle:
			m.events <- event{kind: evRecycle, w: w, why: handoff.Why(msg.Slot), detail: string(msg.Data)}
		case handoff.Reload:
			m.events <- event{kind: evReload, w: w, detail: "reload (the app's files changed)", at: handoff.ReloadTime(msg)}
		case handoff.MetricsPart, handoff.MetricsEnd:
			m.metrics.received(w, msg)
		case handoff.Closed, handoff.Aborted, handoff.Returned, handoff.Declined:
			if c, ok := m.untake(w, msg.Slot); ok {
				m.settle(c, msg.Kind)
			}
		case handoff.Proxied:
			m.proxied(w, msg.Slot, msg.Data)
		}
	}
}

// linkLost follows a worker's channel failing. A worker that exits closes
// its end; one whose app closed it (os.closerange) lives on deaf to the
// master's orders, while the master would go on lending it connections:
// it is killed, which lends them again (reap), and replaced.
func (m *Master) linkLost(w *worker) {
	select {
	case <-w.exited:
	case <-time.After(time.Second):
		m.events <- event{kind: evLinkLost, w: w}
	}
}

// killSilent kills the ready workers that have sent nothing (not even
// handoff.Alive) for --graceful-timeout, at least five beats: stopped
// (SIGSTOP, a debugger) or wedged, they would take connections and answer
// none. It also kills a replacement still importing after as long. The
// loop's.
func (m *Master) killSilent(now time.Time) {
	limit := max(m.cfg.GracefulTimeout, 5*handoff.BeatInterval)
	for _, w := range m.living() {
		m.mu.Lock()
		ready := w.phase == ready
		m.mu.Unlock()
		silent := now.Sub(time.Unix(0, w.heard.Load()))
		if ready && w.state == nil && w.killedFor == "" && silent > limit {
			m.log.Error(fmt.Sprintf("wsgo: worker %d (pid %d) has sent nothing for %s (stopped, by SIGSTOP or a debugger, or wedged); killing it to replace it",
				w.id, w.cmd.Process.Pid, silent.Round(time.Second)))
			w.kill("it went silent")
		}
		// A replacement still importing: the workers it replaces serve on,
		// so giving up loses nothing, and a hung import would otherwise
		// hold every later reload back (they wait for this one).
		if b := w.batch; b != nil && w.state == nil && w.killedFor == "" && now.Sub(w.started) > limit {
			m.log.Error(fmt.Sprintf("wsgo: %s: worker %d (pid %d) is still importing the app after %s (--graceful-timeout); killing it",
				b.why, w.id, w.cmd.Process.Pid, limit))
			w.kill("its import took longer than --graceful-timeout")
		}
	}
}

// wait reaps the process once it has exited and its messages are read.
func (m *Master) wait(w *worker, read <-chan struct{}) {
	w.cmd.Wait()
	close(w.exited)
	select {
	case <-read:
	case <-time.After(time.Second):
		// A process the app forked holds the channel open; stop reading.
		w.ch.Close()
		<-read
	}
	m.events <- event{kind: evExit, w: w}
}

// settle acts on a worker's word about a connection it held.
func (m *Master) settle(c heldConn, k handoff.Kind) {
	switch k {
	case handoff.Closed:
		syscall.Close(c.fd)
	case handoff.Aborted:
		reset(c.fd)
	case handoff.Returned:
		m.lend(again(c))
	case handoff.Declined:
		m.answer(c.fd, http.StatusServiceUnavailable, "the server is out of file descriptors; see its log", handoff.Request{})
		m.metrics.answeredItself("503", 1)
	}
}

// markReady lets a starting worker receive connections, and hands it the
// connections that were waiting.
func (m *Master) markReady(w *worker) {
	m.log.Info(fmt.Sprintf("wsgo: worker %d (pid %d) ready", w.id, w.cmd.Process.Pid))
	m.mu.Lock()
	w.imported = true
	if w.phase == starting { // one told to drain while it imported (SIGTTOU) stays so: lent nothing
		w.phase = ready
	}
	waiting := m.pending
	m.pending = nil
	draining := m.draining
	m.mu.Unlock()
	if draining { // started during --shutdown-delay
		w.ch.Send(handoff.Msg{Kind: handoff.Draining}, -1)
	}
	for _, p := range waiting {
		m.lend(p.heldConn)
	}
}

// reap takes an exited worker out and answers for its connections: those
// it had not begun a request on, or whose last response the socket took
// whole, are lent again; a request in flight gets 502; a response begun
// and not whole is cut. The slots' counts settle a state the worker died
// before writing (handoff.Slots).
func (m *Master) reap(w *worker) {
	w.state = w.cmd.ProcessState // Wait has returned: the event says so
	m.mu.Lock()
	delete(m.workers, w)
	m.seats.give(w.seat)
	conns := w.conns
	w.conns = nil
	m.mu.Unlock()
	if w.drainDeadline != nil {
		w.drainDeadline.Stop()
	}
	failed := 0
	for slot, c := range conns {
		switch c.orphaned(w.slots.Get(slot), w.slots.Count(slot)) {
		case lendAgain:
			m.lend(again(c))
		case answer502:
			m.badGateway(c.fd, w.slots.GetRequest(slot))
			failed++
		default:
			reset(c.fd)
		}
	}
	w.slots.Unmap()
	w.ch.Close()
	w.crashed = handoff.CrashSummary(w.crash)
	w.crash.Close()
	m.metrics.answeredItself("502", failed)
	msg := fmt.Sprintf("wsgo: worker %d (pid %d) exited: %s", w.id, w.cmd.Process.Pid, describeExit(w.state, w.crashed, w.killedFor, w.imported))
	if failed > 0 {
		msg += fmt.Sprintf("; %d request(s) it was running got 502", failed)
	}
	if w.dismissed || w.phase == draining && w.state.Success() {
		m.log.Info(msg)
	} else {
		m.log.Error(msg)
	}
}

// describeExit says how a process ended, in words an operator can act on;
// crash is the head of its Go runtime's crash report, or ""; killedFor why
// wsgo killed it, or ""; imported whether it had loaded the app.
func describeExit(ps *os.ProcessState, crash, killedFor string, imported bool) string {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	switch {
	case !ok:
		return ps.String()
	case ws.Signaled():
		s := fmt.Sprintf("killed by signal %d (%s)", int(ws.Signal()), signalName(ws.Signal()))
		switch {
		case ws.Signal() == syscall.SIGKILL && killedFor != "":
			s = "killed by wsgo (SIGKILL): " + killedFor
		case ws.Signal() == syscall.SIGKILL:
			s += "; if nobody sent it, the kernel's out-of-memory killer may have"
		}
		if ws.CoreDump() {
			s += ", core dumped"
		}
		return s
	case ws.ExitStatus() == 0:
		return "exit code 0"
	case ws.ExitStatus() == exitcode.AppImport && imported: // not wsgo's code once the app is in
		return "exit code 4 (after the app was imported: its own code ended the process, with os._exit(4) or a C extension's exit(4))"
	case ws.ExitStatus() == exitcode.AppImport:
		return "exit code 4 (the app could not be imported; its error is above)"
	case ws.ExitStatus() == exitcode.GoCrash && crash != "":
		s := "crashed: " + crash
		if strings.Contains(crash, "signal arrived during cgo execution") {
			s += " (a crash in C code: the app's, a C extension's or CPython's)"
		}
		return s + "; the full report is above"
	default:
		return fmt.Sprintf("exit code %d", ws.ExitStatus())
	}
}

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGSEGV:
		return "SIGSEGV: a crash in C code"
	case syscall.SIGABRT:
		return "SIGABRT: os.abort() or a failed C assertion"
	}
	if name := unix.SignalName(s); name != "" {
		return name
	}
	return s.String()
}

// kill ends w at once with SIGKILL, saying why in its exit's log line.
func (w *worker) kill(why string) {
	w.killedFor = why
	w.cmd.Process.Kill()
}

// importing reports whether w is importing the app and was not killed:
// it serves nothing yet.
func (m *Master) importing(w *worker) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return w.phase == starting && w.state == nil && w.killedFor == ""
}

// supersede kills w, importing the app outside any reload (at start, after
// a crash, SIGTTIN), as the app's files changed meanwhile (--reload): an
// import that hangs would otherwise ignore the save that fixes it. Its
// position is started afresh once it has exited (afterExit, startAll).
func (m *Master) supersede(w *worker, why string) {
	m.log.Info(fmt.Sprintf("wsgo: %s: worker %d (pid %d) was still importing the app; starting it afresh",
		why, w.id, w.cmd.Process.Pid))
	w.superseded = true
	w.dismiss("the app's files changed while it imported them (--reload)")
}

// dismiss kills w, which is importing the app and so serves nothing, as
// wsgo stops: its exit is logged as no failure.
func (w *worker) dismiss(why string) {
	w.dismissed = true
	w.kill(why)
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}
