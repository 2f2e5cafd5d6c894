package httpfront

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"wsgo/internal/sendfile"
)

// tempFileOf is a file holding data, opened for reading.
func tempFileOf(t *testing.T, data []byte) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return b
}

// plainWriter hides a socket's type, so copyFile reads the file itself
// (as for TLS or an HTTP/2 stream).
type plainWriter struct{ w io.Writer }

func (p plainWriter) Write(b []byte) (int, error) { return p.w.Write(b) }

// copyFile sends exactly the bytes asked for, from its own offset: the
// file's offset (shared with the app's descriptor) stays where it was;
// progress sees the total grow to the length; a file shorter than the
// length is an error. With sendfile(2) to a socket, and by reading.
func TestCopyFileSendsFromAnOffsetOfItsOwn(t *testing.T) {
	data := randomBytes(3 << 20)
	const off, n = 1000, 2<<20 + 12345
	for _, via := range []string{"sendfile", "reads"} {
		t.Run(via, func(t *testing.T) {
			server, client := loopbackPair(t)
			var w io.Writer = server
			if via == "reads" {
				w = plainWriter{server}
			}
			f := tempFileOf(t, data)
			if _, err := f.Seek(123, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			got := make(chan []byte)
			go func() {
				b, _ := io.ReadAll(io.LimitReader(client, n))
				got <- b
			}()
			var totals []int64
			sent, err := copyFile(w, f, off, n, func(total int64) error {
				totals = append(totals, total)
				return nil
			})
			if err != nil || sent != n {
				t.Fatalf("copyFile = %d, %v; want %d, nil", sent, err, n)
			}
			if b := <-got; !bytes.Equal(b, data[off:off+n]) {
				t.Fatalf("the client got %d bytes that are not the file's %d from %d", len(b), n, off)
			}
			if pos, _ := f.Seek(0, io.SeekCurrent); pos != 123 {
				t.Errorf("the file's offset moved from 123 to %d", pos)
			}
			for i := 1; i < len(totals); i++ {
				if totals[i] <= totals[i-1] {
					t.Fatalf("progress went from %d to %d", totals[i-1], totals[i])
				}
			}
			if len(totals) == 0 || totals[len(totals)-1] != n {
				t.Errorf("progress ended at %v; want %d", totals[len(totals)-1:], n)
			}

			go io.Copy(io.Discard, client)
			sent, err = copyFile(w, f, int64(len(data))-10, 20, nil)
			if !errors.Is(err, sendfile.ErrShortFile) || sent != 10 {
				t.Errorf("20 bytes from 10 before the end: %d, %v; want 10, %v", sent, err, sendfile.ErrShortFile)
			}
		})
	}
}

// A file queued for a client that takes it slowly, but steadily, is sent
// whole though it takes many stall timeouts; a client that stops taking
// it is cut after one.
func TestOutboxFilePatienceIsPerSliceTaken(t *testing.T) {
	const stall = 300 * time.Millisecond
	data := randomBytes(4 << 20)
	send := func(t *testing.T) (*outbox, net.Conn) {
		server, client := loopbackPair(t)
		server.(*net.TCPConn).SetWriteBuffer(64 << 10) // no room to hide the pace in
		client.(*net.TCPConn).SetReadBuffer(64 << 10)
		o := newOutbox(server, stall, newBufferBudget(DefaultMaxResponseSpool))
		o.begin(nil)
		if err := o.writeFile(tempFileOf(t, data), 0, int64(len(data))); err != nil {
			t.Fatal(err)
		}
		return o, client
	}

	t.Run("steady", func(t *testing.T) {
		o, client := send(t)
		got := make(chan []byte)
		go func() {
			var b []byte
			buf := make([]byte, 64<<10)
			for len(b) < len(data) {
				time.Sleep(stall / 10) // 64 KiB per 30 ms: a sendSlice in 30 ms
				k, err := client.Read(buf)
				b = append(b, buf[:k]...)
				if err != nil {
					break
				}
			}
			got <- b
		}()
		start := time.Now()
		if err := o.drain(); err != nil {
			t.Fatalf("after %v the send failed: %v", time.Since(start), err)
		}
		if took := time.Since(start); took < 2*stall {
			t.Fatalf("the client took the file in %v, within two stall timeouts of %v: nothing is tested", took, stall)
		}
		if b := <-got; !bytes.Equal(b, data) {
			t.Fatalf("the client got %d bytes, not the file's %d", len(b), len(data))
		}
	})

	t.Run("stopped", func(t *testing.T) {
		o, client := send(t)
		if _, err := io.ReadFull(client, make([]byte, 512<<10)); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err := o.drain()
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("a client that stopped reading: the send ended with %v; want a deadline", err)
		}
		if took := time.Since(start); took > 10*stall {
			t.Errorf("the send was cut %v after the client stopped; want about %v", took, stall)
		}
	})
}
