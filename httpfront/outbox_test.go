package httpfront

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// loopbackPair is a connected TCP pair on loopback.
func loopbackPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if server, err = l.Accept(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// A client that does not read: the writer is released after patience and
// everything is queued (past memory, in a file); once the client reads,
// it gets every byte in order. Plain writes, and gathered ones (a chunk
// with its framing), which are cut and queued the same way.
func TestOutboxQueuesForASlowClientAndSendsAllInOrder(t *testing.T) {
	t.Run("writes", func(t *testing.T) {
		queuesForASlowClient(t, func(o *outbox, chunk []byte) error {
			n, err := o.Write(chunk)
			if n != len(chunk) && err == nil {
				err = io.ErrShortWrite
			}
			return err
		})
	})
	t.Run("gathered writes", func(t *testing.T) {
		queuesForASlowClient(t, func(o *outbox, chunk []byte) error {
			third := len(chunk) / 3
			return o.writeGathered(chunk[:third], chunk[third:2*third], chunk[2*third:])
		})
	})
}

func queuesForASlowClient(t *testing.T, write func(o *outbox, chunk []byte) error) {
	server, client := loopbackPair(t)
	o := newOutbox(server, time.Minute, newBufferBudget(DefaultMaxResponseSpool))
	o.begin(nil)
	var want []byte
	for i := 0; len(want) < 8<<20; i++ {
		chunk := bytes.Repeat([]byte{byte(i)}, 64<<10+i%7)
		want = append(want, chunk...)
		if err := write(o, chunk); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	o.mu.Lock()
	inFile := o.temp != nil
	o.mu.Unlock()
	if !inFile {
		t.Error("8 MiB a client does not read are not queued in a file")
	}
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(client, int64(len(want))))
		got <- b
	}()
	if err := o.drain(); err != nil {
		t.Fatalf("sending the queue failed: %v", err)
	}
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("the client got %d bytes, not the %d written in order", len(b), len(want))
	}
}

func TestSliceBuffers(t *testing.T) {
	bufs := [][]byte{[]byte("ab"), []byte("cdef"), nil, []byte("g")}
	for _, c := range []struct {
		off, k int64
		want   string
	}{{0, 7, "ab|cdef|g"}, {1, 2, "b|c"}, {2, 4, "cdef"}, {3, 4, "def|g"}, {6, 1, "g"}, {7, 0, ""}} {
		var parts []string
		for _, b := range sliceBuffers(bufs, c.off, c.k) {
			parts = append(parts, string(b))
		}
		if got := strings.Join(parts, "|"); got != c.want {
			t.Errorf("sliceBuffers(%d, %d) = %q; want %q", c.off, c.k, got, c.want)
		}
	}
}
