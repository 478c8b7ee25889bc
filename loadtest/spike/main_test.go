package main

import (
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/loadtest/report"
)

// TestSummaryReadsAsK6s: the totals spike writes are read by the report as
// k6's own summary, with nearest-rank percentiles over every attempt.
func TestSummaryReadsAsK6s(t *testing.T) {
	dir := t.TempDir()
	lat := make([]float64, 0, 100)
	for i := 100; i >= 1; i-- {
		lat = append(lat, float64(i))
	}
	outcomes := map[string]int{"201": 10, "409 sold_out": 88, "5xx": 1, "error": 1}
	if err := summary(dir, lat, outcomes, 7, 10); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, report.SamplesFile), []byte(`{"t":1}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run, err := report.Load(dir)
	if err != nil {
		t.Fatalf("report.Load: %v", err)
	}
	if run.Summary == nil {
		t.Fatal("the report found no summary")
	}
	want := map[string]map[string]float64{
		"http_reqs":                      {"count": 100, "rate": 10},
		"dropped_iterations":             {"count": 7},
		"http_req_failed":                {"passes": 2, "fails": 98},
		"http_req_duration":              {"min": 1, "med": 50, "p(95)": 95, "p(99)": 99, "max": 100, "avg": 50.5},
		"outcomes{outcome:409 sold_out}": {"count": 88},
	}
	for metric, values := range want {
		for k, v := range values {
			if got := run.Summary.Metrics[metric].Values[k]; got != v {
				t.Errorf("%s %s = %v, want %v", metric, k, got, v)
			}
		}
	}
}

// TestDropped: an attempt is dropped only with max-in-flight attempts
// unanswered, and the drop is the generator's own when its schedule ran
// more than 10 ms late.
func TestDropped(t *testing.T) {
	for _, c := range []struct {
		inFlight  int64
		late      time.Duration
		drop, own bool
	}{
		{4095, time.Second, false, false},
		{4096, time.Millisecond, true, false},
		{5000, 11 * time.Millisecond, true, true},
	} {
		if drop, own := dropped(c.inFlight, 4096, c.late); drop != c.drop || own != c.own {
			t.Errorf("%d in flight, %s late: drop %v own %v, want %v %v", c.inFlight, c.late, drop, own, c.drop, c.own)
		}
	}
}

// TestConnect: the connections are opened before the load, each a
// connection of its own (none handed out twice while they open), and
// then idle in the pool for the attempts.
func TestConnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	counted := &countingListener{Listener: ln}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(200) }}
	go func() { _ = srv.Serve(counted) }()
	defer func() { _ = srv.Shutdown() }()
	client := &fasthttp.HostClient{Addr: ln.Addr().String(), MaxConns: 64, MaxIdleConnDuration: time.Minute}
	if n := connect(client, 40, 5*time.Second); n != 40 {
		t.Fatalf("opened %d of 40", n)
	}
	if got := client.ConnsCount(); got != 40 {
		t.Errorf("the pool holds %d connections, want 40", got)
	}
	for range 40 { // reused, not opened anew
		if code, _, err := client.Get(nil, "http://"+client.Addr+"/"); err != nil || code != 200 {
			t.Fatalf("get: %d %v", code, err)
		}
	}
	if got := counted.accepted.Load(); got != 40 {
		t.Errorf("the server accepted %d connections, want 40", got)
	}
}

type countingListener struct {
	net.Listener
	accepted atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}
