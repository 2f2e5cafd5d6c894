package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"
)

// idleConns are keep-alive connections that made one request each and
// then stay silent, as slow or parked clients do.
type idleConns struct {
	conns []net.Conn
}

// openIdle opens n connections to addr, each sending one GET of path and
// reading its response; it gives up on what is not done within 30 s.
func openIdle(addr, path string, n int) *idleConns {
	deadline := time.Now().Add(30 * time.Second)
	results := make(chan net.Conn, n)
	work := make(chan struct{}, n)
	for range n {
		work <- struct{}{}
	}
	close(work)
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				if c, err := oneIdle(addr, path, deadline); err == nil {
					results <- c
				}
			}
		}()
	}
	wg.Wait()
	close(results)
	ic := &idleConns{}
	for c := range results {
		ic.conns = append(ic.conns, c)
	}
	return ic
}

func oneIdle(addr, path string, deadline time.Time) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, time.Until(deadline))
	if err != nil {
		return nil, err
	}
	c.SetDeadline(deadline)
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, addr)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if err != nil || resp.Close {
		c.Close()
		return nil, errors.New("not kept alive")
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// held counts the connections the server still keeps open, closing the
// others: a read that times out finds the connection alive.
func (ic *idleConns) held() int {
	alive := make([]net.Conn, len(ic.conns))
	var wg sync.WaitGroup
	for i, c := range ic.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			_, err := c.Read(make([]byte, 1))
			if errors.Is(err, os.ErrDeadlineExceeded) {
				c.SetReadDeadline(time.Time{})
				alive[i] = c
				return
			}
			c.Close()
		}()
	}
	wg.Wait()
	ic.conns = ic.conns[:0]
	for _, c := range alive {
		if c != nil {
			ic.conns = append(ic.conns, c)
		}
	}
	return len(ic.conns)
}

func (ic *idleConns) close() {
	for _, c := range ic.conns {
		c.Close()
	}
}

// raiseFileLimit lifts the soft limit on open files to the hard one: the
// idle connections need more than the usual 1024, and the servers the
// runner starts inherit the limit.
func raiseFileLimit(need uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur < need {
		return fmt.Errorf("the open-file limit is %d, the idle workload needs %d: raise it (ulimit -Hn)", lim.Cur, need)
	}
	return nil
}
