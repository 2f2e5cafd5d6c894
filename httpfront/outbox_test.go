package httpfront

import (
	"bytes"
	"io"
	"net"
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
// it gets every byte in order.
func TestOutboxQueuesForASlowClientAndSendsAllInOrder(t *testing.T) {
	server, client := loopbackPair(t)
	o := newOutbox(server, time.Minute, true)
	o.begin(nil)
	want := make([]byte, 0, 8<<20)
	for i := 0; len(want) < cap(want); i++ {
		chunk := bytes.Repeat([]byte{byte(i)}, 64<<10)
		want = append(want, chunk...)
		if n, err := o.Write(chunk); n != len(chunk) || err != nil {
			t.Fatalf("write %d: %d, %v", i, n, err)
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
