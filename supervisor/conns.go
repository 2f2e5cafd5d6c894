package supervisor

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"wsgo/handoff"
	"wsgo/internal/acceptretry"
)

// accept takes connections from l and lends them, until stop. It
// accepts on a blocking duplicate of the listening socket, in a thread of
// its own: a connection then never enters this process's poller, so its
// traffic never wakes the master.
func (m *Master) accept(l net.Listener, fd int) {
	defer m.accepting.Done()
	var backoff acceptretry.Backoff
	for {
		accepted, err := m.acceptAll(fd)
		if m.isStopping() {
			return
		}
		if !acceptretry.Temporary(err) {
			m.log.Error("wsgo: accepting connections failed; this listener stops", "listener", m.cfg.URL(l), "err", err)
			return
		}
		if accepted {
			backoff.Accepted()
		}
		time.Sleep(backoff.Failed(m.log, err, "listener", m.cfg.URL(l)))
	}
}

// acceptAll accepts and lends until accept fails; on a non-blocking
// socket, until none is waiting (EAGAIN). accepted says whether any
// connection came before the failure.
func (m *Master) acceptAll(lfd int) (accepted bool, err error) {
	for {
		fd, _, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch {
		case err == nil:
			accepted = true
			m.lend(heldConn{fd: fd}) // fresh: the socket has taken no bytes
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.ECONNABORTED):
		default:
			return accepted, err
		}
	}
}

// stopAccepting lends what the kernel had already accepted (a client
// whose connect succeeded is owed a response), then closes the listeners.
// A connection arriving after this is refused: it came after the signal.
func (m *Master) stopAccepting() {
	m.mu.Lock()
	m.stopping = true
	m.mu.Unlock()
	for i, l := range m.listeners {
		fd := int(m.listenFiles[i].Fd())
		unix.SetNonblock(fd, true)
		m.acceptAll(fd) // until EAGAIN: the backlog is empty
		// Wakes the accept blocked in the other thread (EINVAL). On a
		// listening socket it also resets what arrived since.
		unix.Shutdown(fd, unix.SHUT_RD)
		l.Close()
	}
	m.accepting.Wait()
	for _, f := range m.listenFiles {
		f.Close()
	}
}

func (m *Master) isStopping() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stopping
}

// heldConn is the master's descriptor of a connection, and the kernel's
// counts of what its readers and writers had taken when it was last lent,
// which a dead worker's slot counts are measured from (handoff.Idle and
// handoff.Ending).
type heldConn struct {
	fd         int
	read, sent uint64
	proxy      []byte // what a worker read of its PROXY header (handoff.Proxied)
}

// again is c, an idle connection back from a worker, to lend again.
func again(c heldConn) heldConn {
	c.read, _ = handoff.SocketRead(c.fd)
	c.sent, _ = handoff.SocketSent(c.fd)
	return c
}

// What the master does with a connection whose worker died.
type orphanFate int

const (
	lendAgain orphanFate = iota // no request in flight
	answer502                   // a request in flight, no response byte out
	resetIt                     // a response begun and not whole
)

// orphaned says what c needs, its worker dead with c's slot in state and
// count.
func (c heldConn) orphaned(state handoff.State, count uint64) orphanFate {
	switch {
	case state == handoff.Lent && c.readNoMore(0),
		state == handoff.Idle && c.readNoMore(count),
		state == handoff.Ending && c.sentWhole(count):
		return lendAgain
	case state == handoff.Lent, state == handoff.Idle, state == handoff.Busy:
		return answer502
	}
	return resetIt
}

// readNoMore reports whether a dead worker read no more of c than the n
// bytes its slot says: else it took (part of) a request and died before
// it could say so. Where the kernel cannot tell, it did not.
func (c heldConn) readNoMore(n uint64) bool {
	read, ok := handoff.SocketRead(c.fd)
	return !ok || read == c.read+n
}

// sentWhole reports whether the socket took the n bytes after which a dead
// worker's response was whole.
func (c heldConn) sentWhole(n uint64) bool {
	sent, ok := handoff.SocketSent(c.fd)
	return ok && sent == c.sent+n
}

// lend gives connection c to the ready worker with the least load (see
// leastBusy), or keeps it pending while no worker is ready.
func (m *Master) lend(c heldConn) {
	m.mu.Lock()
	var serving []*worker
	for cand := range m.workers {
		if cand.phase == ready {
			serving = append(serving, cand)
		}
	}
	w := leastBusy(serving, m.seats.board)
	if w == nil {
		m.pending = append(m.pending, pendingConn{heldConn: c, since: time.Now()})
		m.mu.Unlock()
		return
	}
	slot, ok := w.take(c)
	if ok && w.seat >= 0 {
		m.seats.board.Lent(w.seat) // until the worker hears from it
	}
	m.mu.Unlock()
	if !ok {
		m.log.Error("wsgo: a worker holds too many connections; closing a new one", "worker", w.id)
		syscall.Close(c.fd)
		return
	}
	// On failure the worker is dying: reap() finds the slot and lends
	// the connection again.
	w.ch.Send(handoff.Msg{Kind: handoff.Lend, Slot: slot, Data: c.proxy}, c.fd)
}

// leastBusy returns the worker of ws with the least load on the board
// (requests running, connections lent and not yet heard from), of those
// the one holding fewest connections; nil when ws is empty. While one of
// them is off the board, the others' loads cannot be weighed against its,
// and connections alone decide. Master.mu: held.
func leastBusy(ws []*worker, board *handoff.Board) *worker {
	onBoard := !slices.ContainsFunc(ws, func(w *worker) bool { return w.seat < 0 })
	var best *worker
	var least int32
	for _, w := range ws {
		var load int32
		if onBoard {
			load = board.Load(w.seat)
		}
		if best == nil || load < least || load == least && len(w.conns) < len(best.conns) {
			best, least = w, load
		}
	}
	return best
}

// take records c in a free slot of w. Master.mu: held.
func (w *worker) take(c heldConn) (uint32, bool) {
	slot, ok := w.slotNums.take()
	if !ok {
		return 0, false
	}
	w.slots.ForgetRequest(slot) // the slot's last connection's
	w.slots.Set(slot, handoff.Lent)
	w.conns[slot] = c
	return slot, true
}

// untake ends w's hold on a slot and returns its connection.
func (m *Master) untake(w *worker, slot uint32) (heldConn, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := w.conns[slot]
	if ok {
		delete(w.conns, slot)
		w.slots.Set(slot, handoff.Free)
		w.slotNums.give(slot)
	}
	return c, ok
}

// proxied records what w read of a connection's PROXY header.
func (m *Master) proxied(w *worker, slot uint32, addrs []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := w.conns[slot]; ok {
		c.proxy = addrs
		w.conns[slot] = c
	}
}

// expirePending answers 503 to connections that waited too long for a
// worker.
func (m *Master) expirePending(now time.Time) {
	m.mu.Lock()
	var keep, expired []pendingConn
	for _, p := range m.pending {
		if now.Sub(p.since) > pendingLimit {
			expired = append(expired, p)
		} else {
			keep = append(keep, p)
		}
	}
	m.pending = keep
	m.mu.Unlock()
	for _, p := range expired {
		m.answer(p.fd, http.StatusServiceUnavailable, "no worker could start in time; see the server's log", handoff.Request{})
	}
	m.metrics.answeredItself("503", len(expired))
	if len(expired) > 0 {
		m.log.Error("wsgo: connections waited too long for a worker; answered 503", "count", len(expired))
	}
}

// badGateway answers a request whose worker died under it; req is what
// the worker recorded of it (handoff.Slots.SetRequest), if anything.
func (m *Master) badGateway(fd int, req handoff.Request) {
	m.answer(fd, http.StatusBadGateway, "the worker process serving this request died", req)
}

// answer sends a complete response on a connection, ends it, and logs it
// in the access log, with the request's line and id when req has them.
// The socket is fresh or idle enough that a short write does not block.
func (m *Master) answer(fd int, status int, text string, req handoff.Request) {
	body := http.StatusText(status) + ": " + text + "\n"
	id := ""
	if req.ID != "" {
		id = "X-Request-ID: " + req.ID + "\r\n"
	}
	resp := "HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) +
		"\r\nServer: wsgo\r\nContent-Type: text/plain; charset=utf-8\r\n" + id +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body
	_, err := unix.Write(fd, []byte(resp))
	if m.cfg.AnswerLog != nil && err == nil {
		m.cfg.AnswerLog(peerIP(fd), status, int64(len(body)), req)
	}
	unix.Shutdown(fd, unix.SHUT_WR)
	go lingerClose(fd)
}

// peerIP is the address of a connection's peer, without its port: "" on
// a unix socket, as in the workers' access lines.
func peerIP(fd int) string {
	switch sa, _ := unix.Getpeername(fd); sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrFrom4(sa.Addr).String()
	case *unix.SockaddrInet6:
		return netip.AddrFrom16(sa.Addr).Unmap().String()
	}
	return ""
}

// lingerClose closes fd once the client has hung up, or after
// lingerFor, reading and dropping what it sends meanwhile: a socket
// closed with unread input sends a reset, which destroys the answer
// before a client still uploading its body has read it.
func lingerClose(fd int) {
	defer unix.Close(fd)
	buf := make([]byte, 32<<10)
	for deadline := time.Now().Add(lingerFor); ; {
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		ready, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, int(left/time.Millisecond)+1)
		if err == unix.EINTR {
			continue
		}
		if err != nil || ready == 0 {
			return
		}
		if n, err := unix.Read(fd, buf); n == 0 || err != nil && err != unix.EAGAIN && err != unix.EINTR {
			return // the client hung up, or the socket failed
		}
	}
}

// lingerFor bounds lingerClose: a client that sends on for longer (a
// large upload) gets the reset after all.
const lingerFor = 2 * time.Second

// reset ends a connection with a reset: its response is broken off.
func reset(fd int) {
	unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	unix.Close(fd)
}
