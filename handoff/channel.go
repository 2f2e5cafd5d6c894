package handoff

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"

	"wsgo/internal/hangup"
)

// Kind is the type of a message.
type Kind byte

// Master to worker.
const (
	// Lend: Slot: serve the connection whose descriptor comes along. Data:
	// what a worker read of its PROXY header (Proxied), or nothing.
	Lend    Kind = 'L'
	Release Kind = 'R' // give idle connections back, finish the rest, exit
	Stop    Kind = 'S' // shutdown: finish in-flight requests, close, exit
	Dump    Kind = 'D' // log the Python stack of every thread
	Reopen  Kind = 'O' // reopen the log files (SIGUSR1, logrotate)
	// Draining: the master is stopping (SIGTERM with --shutdown-delay):
	// readiness turns to 503, connections are still served.
	Draining Kind = 'd'
	Scrape   Kind = 'M' // Slot: a scrape number; answer with the worker's metrics
)

// Worker to master.
const (
	Ready    Kind = 'r' // Data: the worker's Hello, JSON
	Closed   Kind = 'c' // Slot: the connection is over; close your descriptor
	Aborted  Kind = 'a' // Slot: end the connection with a reset
	Returned Kind = 'b' // Slot: nothing of a next request read; lend it again
	// Declined: Slot: the worker could not take the connection lent (out
	// of file descriptors); answer it 503.
	Declined Kind = 'n'
	// Proxied: Slot: the connection's PROXY header is read; Data: its
	// addresses (ProxyAddrs), which a later Lend of it carries.
	Proxied Kind = 'x'
	Recycle Kind = 'y' // Slot: a Why; Data: replace me (the reason, for the log)
	Reload  Kind = 'h' // the app's files changed (--reload): replace every worker
	// The answer to Scrape (Slot: its number): the worker's metrics,
	// encoded (JSON, promtext.Encode), in pieces that each fit a
	// packet: MetricsPart while more follow, MetricsEnd with the last.
	MetricsPart Kind = 'p'
	MetricsEnd  Kind = 'm'
	Alive       Kind = 'l' // every BeatInterval from a ready worker (Link.Beat)
)

// Why is the cause of a Recycle, sent as its Slot.
type Why uint32

const (
	WhyMaxRequests Why = iota + 1 // --max-requests
	WhyMaxRSS                     // --max-rss
	WhyStuck                      // a thread stays stuck in a request that timed out
	WhySignal                     // the worker itself got SIGTERM (from the app, or kill)
)

// Msg is one packet: a kind, a slot and data. Lend carries a descriptor
// besides.
type Msg struct {
	Kind Kind
	Slot uint32
	Data []byte
}

const headerLen = 5 // kind + slot

// maxMsg bounds a packet; a Hello is far smaller, and metrics go in
// pieces of at most maxData bytes.
const (
	maxMsg  = 64 << 10
	maxData = maxMsg - headerLen
)

// Channel is one end of a master-worker pair. Send may be called from
// several goroutines at once; Recv from one.
type Channel struct {
	c   *net.UnixConn
	buf []byte
	oob []byte
}

// Pair makes a connected pair: the master's Channel and the file to pass
// to the worker.
func Pair() (*Channel, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("handoff: socketpair: %w", err)
	}
	ch, err := Open(os.NewFile(uintptr(fds[0]), "wsgo-master"))
	if err != nil {
		unix.Close(fds[1])
		return nil, nil, err
	}
	return ch, os.NewFile(uintptr(fds[1]), "wsgo-worker"), nil
}

// PeerGone reports whether the other end is closed (its process gone),
// without reading: a message waiting is left for Recv.
func (ch *Channel) PeerGone() bool {
	rc, err := ch.c.SyscallConn()
	return err == nil && hangup.Look(rc) != hangup.Open
}

// Open makes a Channel of f, which it takes over.
func Open(f *os.File) (*Channel, error) {
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("handoff: %w", err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, errors.New("handoff: the channel is not a unix socket")
	}
	return &Channel{c: uc, buf: make([]byte, maxMsg), oob: make([]byte, unix.CmsgSpace(4))}, nil
}

// Send sends m, with fd (>= 0) attached. The descriptor stays the caller's.
// Data over maxData is refused: Recv would get it cut short.
func (ch *Channel) Send(m Msg, fd int) error {
	if len(m.Data) > maxData {
		return fmt.Errorf("handoff: a %q message of %d bytes is over the limit of %d", m.Kind, len(m.Data), maxData)
	}
	p := make([]byte, headerLen+len(m.Data))
	p[0] = byte(m.Kind)
	binary.LittleEndian.PutUint32(p[1:], m.Slot)
	copy(p[headerLen:], m.Data)
	var oob []byte
	if fd >= 0 {
		oob = unix.UnixRights(fd)
	}
	_, _, err := ch.c.WriteMsgUnix(p, oob, nil)
	return err
}

// Recv waits for the next message. fd is the descriptor that came with
// it, now the caller's, or -1.
func (ch *Channel) Recv() (m Msg, fd int, err error) {
	n, oobn, _, _, err := ch.c.ReadMsgUnix(ch.buf, ch.oob)
	if err != nil {
		return m, -1, err
	}
	fd = -1
	if oobn > 0 {
		if fd, err = takeFD(ch.oob[:oobn]); err != nil {
			return m, -1, err
		}
	}
	if n < headerLen {
		if fd >= 0 {
			unix.Close(fd)
		}
		return m, -1, fmt.Errorf("handoff: short message (%d bytes)", n)
	}
	m.Kind = Kind(ch.buf[0])
	m.Slot = binary.LittleEndian.Uint32(ch.buf[1:])
	m.Data = append([]byte(nil), ch.buf[headerLen:n]...)
	return m, fd, nil
}

// takeFD extracts the one descriptor of a SCM_RIGHTS message.
func takeFD(oob []byte) (int, error) {
	cmsgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(cmsgs) != 1 {
		return -1, fmt.Errorf("handoff: malformed control message: %v", err)
	}
	fds, err := unix.ParseUnixRights(&cmsgs[0])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return -1, fmt.Errorf("handoff: expected one descriptor: %v", err)
	}
	unix.CloseOnExec(fds[0])
	return fds[0], nil
}

// Close closes the channel; the other end's Recv fails.
func (ch *Channel) Close() error { return ch.c.Close() }
