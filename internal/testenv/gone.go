package testenv

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"fairslot/internal/cockroach"
)

// GoneDB is a database of the test's own that has gone away (stopped,
// unreachable): opened and migrated through a forwarder that then refuses
// connections and breaks those it carried, its pool emptied, as a pool
// that found its connections dead. Every statement meets a refused
// connection: nothing is ever sent.
func GoneDB(t testing.TB) *cockroach.DB {
	t.Helper()
	u, err := url.Parse(DatabaseURL(t))
	Must(t, err, "parse database url")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Must(t, err, "listen")
	target := u.Host
	u.Host = ln.Addr().String()
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, s)
			mu.Unlock()
			wg.Go(func() { _, _ = io.Copy(s, c); s.Close() })
			wg.Go(func() { _, _ = io.Copy(c, s); c.Close() })
		}
	})
	db, err := cockroach.Open(t.Context(), u.String(), nil)
	Must(t, err, "open the database through the forwarder")
	t.Cleanup(db.Close)
	_, err = db.Migrate(t.Context())
	Must(t, err, "migrate")
	ln.Close()
	mu.Lock()
	for _, c := range conns {
		c.Close()
	}
	mu.Unlock()
	wg.Wait()
	db.Pool().Reset()
	return db
}
