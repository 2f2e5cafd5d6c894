package handoff

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"wsgo/internal/sendfile"
)

// Env is set in a worker's environment to its number and its seat on the
// board ("3/1"; seat -1: none), then "/r" if it is to replace running
// workers (a reload, a recycle); the channel is its descriptor 3, the slot
// table its descriptor 4, its crash file (crash.go) 5, the board 6.
const Env = "WSGO_INTERNAL_WORKER"

// EnvValue is Env's value for worker id at seat.
func EnvValue(id, seat int, replacing bool) string {
	v := strconv.Itoa(id) + "/" + strconv.Itoa(seat)
	if replacing {
		v += "/r"
	}
	return v
}

// Hello is what a worker tells the master once its app is imported.
type Hello struct {
	Description string   // what is served, e.g. "hello.py:application"
	ScriptBind  string   // the address a wsgiref script gave make_server, or ""
	Python      string   // the Python version
	Notes       []string // what the master says after its start line (the virtualenv found)
	Warnings    []string // and warns of (an app that looks like a factory)
}

// Link is a worker process's end of the wire to its master.
type Link struct {
	ID int
	// Replacing: running workers serve on while this one starts, so a
	// failed import is fixed by another reload, not by a restart.
	Replacing bool
	ch        *Channel
	slots     *Slots
	seat      *Seat // nil without a seat on the board
}

// Join returns this worker process's Link, or nil when it is not a worker
// (Env unset). It removes Env, so the app does not see it.
func Join() (*Link, error) {
	v, ok := os.LookupEnv(Env)
	if !ok {
		return nil, nil
	}
	os.Unsetenv(Env)
	idText, rest, _ := strings.Cut(v, "/")
	seatText, mode, _ := strings.Cut(rest, "/")
	id, err := strconv.Atoi(idText)
	seat, serr := strconv.Atoi(seatText)
	if err != nil || serr != nil || seat < -1 || seat >= BoardSize || mode != "" && mode != "r" {
		return nil, fmt.Errorf("handoff: %s=%q is not a worker number and seat", Env, v)
	}
	ch, err := Open(os.NewFile(3, "wsgo-channel"))
	if err != nil {
		return nil, err
	}
	if err := reportCrashes(); err != nil {
		ch.Close()
		return nil, err
	}
	slots, err := mapFile(4, "wsgo-slots", MapSlots)
	if err != nil {
		ch.Close()
		return nil, err
	}
	board, err := mapFile(6, "wsgo-board", MapBoard)
	if err != nil {
		ch.Close()
		return nil, err
	}
	w := &Link{ID: id, Replacing: mode == "r", ch: ch, slots: slots}
	if seat >= 0 {
		w.seat = board.Seat(seat)
	}
	return w, nil
}

// mapFile maps the shared table at descriptor fd, then closes fd.
func mapFile[T any](fd uintptr, name string, mapIt func(*os.File) (T, error)) (T, error) {
	f := os.NewFile(fd, name)
	defer f.Close()
	return mapIt(f)
}

// MasterGone reports whether the master has gone (killed): its end of
// the channel is closed. Unlike a change of parent pid, this holds also
// when it died before the worker first looked.
func (w *Link) MasterGone() bool { return w.ch.PeerGone() }

// Seat returns this worker's place on the board, or nil when it has none.
func (w *Link) Seat() *Seat { return w.seat }

// Ready tells the master the app is loaded and connections may come.
func (w *Link) Ready(h Hello) error {
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return w.ch.Send(Msg{Kind: Ready, Data: data}, -1)
}

// BeatInterval is how often a ready worker tells the master it lives.
const BeatInterval = time.Second

// Beat tells the master every BeatInterval that this worker's Go runtime
// runs, until the channel fails. A worker stopped (SIGSTOP, a debugger)
// or wedged goes silent, and the master replaces it.
func (w *Link) Beat() {
	for range time.Tick(BeatInterval) {
		if w.ch.Send(Msg{Kind: Alive}, -1) != nil {
			return
		}
	}
}

// Recycle asks the master to replace this worker, for reason.
func (w *Link) Recycle(why Why, reason string) error {
	return w.ch.Send(Msg{Kind: Recycle, Slot: uint32(why), Data: []byte(reason)}, -1)
}

// AskReload asks the master to replace every worker: the app's source
// changed (--reload), last at at. A worker still importing the app may
// ask too: the master starts it afresh.
func (w *Link) AskReload(at time.Time) error {
	return w.ch.Send(Msg{Kind: Reload, Data: binary.BigEndian.AppendUint64(nil, uint64(at.UnixNano()))}, -1)
}

// ReloadTime reads the time of a Reload message's change; zero if it
// has none.
func ReloadTime(m Msg) time.Time {
	if len(m.Data) != 8 {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(m.Data)))
}

// Orders are what the master may tell a worker to do. Each is called on
// the goroutine running Serve; Release and Stop come at most once.
type Orders struct {
	Conn    func(net.Conn) // serve it; it implements httpfront.Lent
	Release func()         // give idle connections back, finish the rest
	Stop    func()         // shut down gracefully (also when the master is gone)
	Dump    func()         // log the Python stacks
	Reopen  func()         // reopen the log files
	// Draining: readiness turns to 503 for good; serve on. Nil: ignored.
	Draining func()
	// Metrics returns the worker's metrics for Scrape, encoded; it runs
	// on a goroutine of its own. Nil: the worker has none.
	Metrics func() []byte
	// Declined: a connection lent could not be taken (err: why, such as
	// EMFILE); the master answers it 503. Nil: not reported.
	Declined func(err error)
}

// Serve receives orders until the master goes away. After Release or Stop
// (whose handler it calls once) it still acts on Dump and Reopen, for a
// drain may take --graceful-timeout: its stacks show what it waits for.
func (w *Link) Serve(o Orders) error {
	draining := false
	for {
		m, fd, err := w.ch.Recv()
		if err != nil {
			if !draining {
				o.Stop()
			}
			if err == io.EOF {
				return nil
			}
			return err
		}
		switch m.Kind {
		case Lend:
			c, err := w.adopt(m.Slot, fd, m.Data)
			if err != nil { // this worker serves on: the others, and the connections it has
				w.decline(m.Slot)
				if o.Declined != nil {
					o.Declined(err)
				}
				continue
			}
			o.Conn(c)
		case Release, Stop:
			if !draining {
				draining = true
				if m.Kind == Release {
					o.Release()
				} else {
					o.Stop()
				}
			}
		case Dump:
			o.Dump()
		case Reopen:
			o.Reopen()
		case Draining:
			if o.Draining != nil {
				o.Draining()
			}
		case Scrape:
			go w.answerScrape(m.Slot, o.Metrics)
		default:
			if fd >= 0 {
				unix.Close(fd)
			}
		}
	}
}

// decline gives back a connection lent that could not be taken: the
// master answers it, and no longer counts it on this worker's load.
func (w *Link) decline(slot uint32) {
	if slot >= NumSlots {
		return // not a connection the master holds
	}
	if w.seat != nil {
		w.seat.Heard()
	}
	w.ch.Send(Msg{Kind: Declined, Slot: slot}, -1)
}

// answerScrape sends the metrics gather returns, in pieces that fit a
// packet.
func (w *Link) answerScrape(scrape uint32, gather func() []byte) {
	var data []byte
	if gather != nil {
		data = gather()
	}
	for len(data) > maxData {
		if w.ch.Send(Msg{Kind: MetricsPart, Slot: scrape, Data: data[:maxData]}, -1) != nil {
			return
		}
		data = data[maxData:]
	}
	w.ch.Send(Msg{Kind: MetricsEnd, Slot: scrape, Data: data}, -1)
}

// adopt wraps a lent descriptor; proxy is the Lend's data.
func (w *Link) adopt(slot uint32, fd int, proxy []byte) (net.Conn, error) {
	if fd < 0 || slot >= NumSlots {
		return nil, fmt.Errorf("handoff: a Lend order without a descriptor or with slot %d", slot)
	}
	remote, local, proxied, err := decodeProxy(proxy)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	refillStdio()
	f := os.NewFile(uintptr(fd), "lent")
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("handoff: adopting a connection: %w", err)
	}
	lc := &lentConn{Conn: c, w: w, slot: slot, proxied: proxied, proxyRemote: remote, proxyLocal: local}
	lc.unheard.Store(w.seat != nil) // the master counted it (Board.Lent) if so
	return lc, nil
}

// refillStdio opens /dev/null on any of fds 0 to 2 the app has closed.
// net.FileConn duplicates a lent socket to the lowest free number, and a
// client's socket must not become the fd that print(), a C library or a
// child process writes to: one client received another's traceback.
func refillStdio() {
	for fd := 0; fd <= 2; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
			continue
		}
		if null, err := unix.Open("/dev/null", unix.O_RDWR, 0); err == nil && null != fd {
			unix.Close(null) // another thread took fd meanwhile
		}
	}
}

// lentConn is a connection the master lent; see httpfront.Lent.
type lentConn struct {
	net.Conn
	w      *Link
	slot   uint32
	opaque bool // Pin: its state stays Opaque
	// What an earlier worker read of its PROXY header (Proxy).
	proxied                 bool
	proxyRemote, proxyLocal net.Addr
	// Bytes read and written since it was lent (see Slots' counts).
	read, written atomic.Uint64
	end           sync.Once
	// unheard: the master counts it on the board as a request to come,
	// until heard takes that back.
	unheard atomic.Bool
}

func (c *lentConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(uint64(n))
	if n > 0 {
		if !c.w.slots.Advance(c.slot, Idle, Busy) {
			c.w.slots.Advance(c.slot, Lent, Busy)
		}
		c.heard()
	}
	return n, err
}

// heard takes c off its worker's load as a connection yet to speak: it
// spoke, went opaque or ended.
func (c *lentConn) heard() {
	if c.unheard.Load() && c.unheard.CompareAndSwap(true, false) {
		c.w.seat.Heard()
	}
}

func (c *lentConn) Write(p []byte) (int, error) {
	c.sent()
	n, err := c.Conn.Write(p)
	c.written.Add(uint64(n))
	return n, err
}

// sent records that response bytes go out, unless they are the last ones
// (Ending).
func (c *lentConn) sent() {
	if !c.opaque && c.w.slots.Get(c.slot) != Ending {
		c.w.slots.Set(c.slot, Sent)
	}
}

// WriteBuffers keeps writev(2) for gathered writes (net.Buffers gathers
// only on the net package's own connections).
func (c *lentConn) WriteBuffers(b *net.Buffers) (int64, error) {
	c.sent()
	n, err := b.WriteTo(c.Conn)
	c.written.Add(uint64(n))
	return n, err
}

// SendFile sends n bytes of f from off with sendfile(2) (httpfront's
// fileSender), counted as written.
func (c *lentConn) SendFile(f *os.File, off, n int64, progress func(sent int64) error) (int64, error) {
	c.sent()
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return 0, errors.ErrUnsupported
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, err
	}
	k, err := sendfile.Send(rc, f, off, n, progress)
	c.written.Add(uint64(k))
	return k, err
}

// NetConn is the socket itself, for what looks at it without reading
// or writing (httpfront's look for a client that hung up).
func (c *lentConn) NetConn() net.Conn { return c.Conn }

// CloseWrite sends a FIN, which our descriptor's close alone would not.
func (c *lentConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *lentConn) Idle() {
	if !c.opaque {
		c.w.slots.ForgetRequest(c.slot)
		c.w.slots.Mark(c.slot, Idle, c.read.Load())
	}
}

func (c *lentConn) Request(id, method, target, proto string) {
	if !c.opaque {
		c.w.slots.SetRequest(c.slot, Request{ID: id, Method: method, Target: target, Proto: proto})
	}
}

func (c *lentConn) Ending(n int) {
	if !c.opaque {
		c.w.slots.Mark(c.slot, Ending, c.written.Load()+uint64(n))
	}
}

func (c *lentConn) Proxied(remote, local net.Addr) {
	c.w.ch.Send(Msg{Kind: Proxied, Slot: c.slot, Data: encodeProxy(remote, local)}, -1)
}

func (c *lentConn) Proxy() (remote, local net.Addr, read bool) {
	return c.proxyRemote, c.proxyLocal, c.proxied
}

func (c *lentConn) Pin() {
	c.opaque = true
	c.w.slots.Set(c.slot, Opaque)
	c.heard()
}

func (c *lentConn) Close() error { return c.finish(Closed) }

func (c *lentConn) Abort() { c.finish(Aborted) }

func (c *lentConn) Return() { c.finish(Returned) }

// finish drops our descriptor first, so that the master's is the last.
func (c *lentConn) finish(k Kind) error {
	err := net.ErrClosed
	c.end.Do(func() {
		c.heard()
		err = c.Conn.Close()
		c.w.ch.Send(Msg{Kind: k, Slot: c.slot}, -1)
	})
	return err
}
