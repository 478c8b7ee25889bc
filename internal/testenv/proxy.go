package testenv

import (
	"net"
	"net/url"
	"sync"
	"testing"
)

// Outage is a forwarder in front of a server (the test's PostgreSQL) that
// can go down and come back. Down, it carries no byte: a statement sent
// hangs, as behind a dead link or a stalled server, and a new connection
// waits. Back, every connection it carried or held meanwhile is broken
// (what was sent during the outage never arrives), as after the server's
// restart, and new connections are carried again.
type Outage struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cond  *sync.Cond
	down  bool
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

// NewOutage forwards a loopback port to target until the test ends.
func NewOutage(t testing.TB, target string) *Outage {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Must(t, err, "listen")
	o := &Outage{ln: ln, target: target, conns: map[net.Conn]bool{}}
	o.cond = sync.NewCond(&o.mu)
	o.wg.Go(o.accept)
	t.Cleanup(o.close)
	return o
}

// Via is dbURL with its host replaced by the forwarder's address.
func (o *Outage) Via(t testing.TB, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	Must(t, err, "parse database url")
	u.Host = o.ln.Addr().String()
	return u.String()
}

// Down stops carrying bytes.
func (o *Outage) Down() {
	o.mu.Lock()
	o.down = true
	o.mu.Unlock()
}

// Back breaks every connection carried or held so far and carries new ones.
func (o *Outage) Back() {
	o.mu.Lock()
	for c := range o.conns {
		c.Close()
		delete(o.conns, c)
	}
	o.down = false
	o.cond.Broadcast()
	o.mu.Unlock()
}

func (o *Outage) close() {
	o.ln.Close()
	o.Back()
	o.wg.Wait()
}

func (o *Outage) accept() {
	for {
		c, err := o.ln.Accept()
		if err != nil {
			return
		}
		o.wg.Go(func() { o.serve(c) })
	}
}

// serve carries one connection, once the forwarder is up.
func (o *Outage) serve(c net.Conn) {
	if !o.track(c) {
		return
	}
	up, err := net.Dial("tcp", o.target)
	if err != nil {
		o.drop(c)
		return
	}
	if !o.track(up) {
		o.drop(c)
		return
	}
	o.wg.Go(func() { o.pipe(up, c) })
	o.pipe(c, up)
}

// track waits while down, then records c as carried; false if c was broken
// meanwhile.
func (o *Outage) track(c net.Conn) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.conns[c] = true
	for o.down {
		o.cond.Wait()
	}
	return o.conns[c]
}

func (o *Outage) drop(c net.Conn) {
	o.mu.Lock()
	delete(o.conns, c)
	o.mu.Unlock()
	c.Close()
}

// pipe copies src to dst; while down, what it read waits, and is dropped if
// the connections were broken meanwhile.
func (o *Outage) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			o.mu.Lock()
			for o.down {
				o.cond.Wait()
			}
			alive := o.conns[src] && o.conns[dst]
			o.mu.Unlock()
			if !alive {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
