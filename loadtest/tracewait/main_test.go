package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// stacks a goroutine blocks at, innermost first, as -d=parsed lists them.
var (
	atRequest = []string{"internal/poll.(*FD).Read", "bufio.(*Reader).Peek",
		"github.com/valyala/fasthttp.(*Server).serveConnCounted", "github.com/valyala/fasthttp.(*Server).serveConn"}
	atReserve = []string{"internal/poll.(*FD).Read", "github.com/redis/go-redis/v9.(*baseClient).process",
		"fairslot/internal/admission.(*Gate).Reserve", "fairslot/internal/booking.(*Service).book",
		"github.com/valyala/fasthttp.(*Server).serveConn"}
	atCommit = []string{"fairslot/internal/booking.(*groupCommit[...]).do", "fairslot/internal/booking.(*Service).commit",
		"fairslot/internal/booking.(*Service).book", "github.com/valyala/fasthttp.(*Server).serveConn"}
	atInsert = []string{"internal/poll.(*FD).Read", "github.com/jackc/pgx/v5/pgconn.(*PgConn).ReceiveMessage",
		"fairslot/internal/booking.(*Service).writeBookings", "fairslot/internal/booking.(*groupCommit[...]).flush"}
	atConfirm = []string{"internal/poll.(*FD).Read", "github.com/redis/go-redis/v9.(*baseClient).process",
		"fairslot/internal/booking.(*Service).confirmBookings", "fairslot/internal/booking.(*Service).confirmBatch"}
)

func TestWaitedOn(t *testing.T) {
	for _, c := range []struct {
		stack []string
		want  string
	}{
		{atRequest, onRequest}, {atReserve, onRedis}, {atCommit, onGroupCommit}, {atInsert, onPostgres},
		{atConfirm, onConfirm}, {[]string{"runtime.gopark", "time.Sleep"}, onOther},
	} {
		if got := waitedOn(c.stack); got != c.want {
			t.Errorf("waitedOn(%v) = %s, want %s", c.stack, got, c.want)
		}
	}
}

// parsedTrace writes events as `go tool trace -d=parsed` does: at (from
// the first event), the goroutine, its transition and its stack.
type parsedTrace struct{ strings.Builder }

func (p *parsedTrace) transition(at time.Duration, g int, from, to string, stack []string) {
	fmt.Fprintf(p, "M=1 P=0 G=-1 StateTransition Time=%d GoID=%d %s->%s Reason=\"\"\n", 1_000_000_000+at, g, from, to)
	if len(stack) > 0 {
		p.WriteString("Stack=\n")
		for _, f := range stack {
			fmt.Fprintf(p, "\t%s @ 0x1\n\t\t/src/x.go:1\n", f)
		}
	}
}

// TestParse: a winner's request — woken for it, a turn, reserve in Redis,
// a turn, the group commit, a turn, the next request — split into its
// running, runnable and waiting parts by what woke it and what it waited
// on; a refused request beside it, not a winner's.
func TestParse(t *testing.T) {
	ms := time.Millisecond
	var p parsedTrace
	p.WriteString("M=-1 P=-1 G=-1 Sync Time=1000000000 N=1\n")
	for _, g := range []int{7, 8} {
		p.transition(1*ms, g, "Running", "Waiting", atRequest)
	}
	// Each goroutine is woken (made runnable), then runs, then blocks at
	// a stack: the winner (7) three times, the refused request (8) once.
	for _, e := range []struct {
		woken, runs, blocks time.Duration
		g                   int
		at                  []string
	}{
		{10 * ms, 12 * ms, 13 * ms, 7, atReserve},
		{20 * ms, 25 * ms, 26 * ms, 7, atCommit},
		{30 * ms, 33 * ms, 34 * ms, 8, atRequest},
		{100 * ms, 101 * ms, 102 * ms, 7, atRequest},
	} {
		p.transition(e.woken, e.g, "Waiting", "Runnable", nil)
		p.transition(e.runs, e.g, "Runnable", "Running", nil)
		p.transition(e.blocks, e.g, "Running", "Waiting", e.at)
	}

	a, err := parse(strings.NewReader(p.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.requests) != 2 {
		t.Fatalf("%d requests, want 2", len(a.requests))
	}
	other, win := a.requests[0], a.requests[1]
	if other.winner || !win.winner {
		t.Fatalf("winners: %v, %v; want the second alone", other.winner, win.winner)
	}
	if win.start != 10*ms || win.end != 102*ms || win.running != 3*ms {
		t.Errorf("winner: from %v to %v, running %v; want 10ms to 102ms, 3ms", win.start, win.end, win.running)
	}
	for _, c := range []struct {
		of   map[string][]time.Duration
		on   string
		want []time.Duration
		what string
	}{
		{win.runnable, onRequest, []time.Duration{2 * ms}, "turn after the request"},
		{win.runnable, onRedis, []time.Duration{5 * ms}, "turn after reserve"},
		{win.runnable, onGroupCommit, []time.Duration{1 * ms}, "turn after the group commit"},
		{win.waiting, onRedis, []time.Duration{7 * ms}, "reserve"},
		{win.waiting, onGroupCommit, []time.Duration{74 * ms}, "the group commit"},
		{other.runnable, onRequest, []time.Duration{3 * ms}, "the refused request's turn"},
	} {
		if !slices.Equal(c.of[c.on], c.want) {
			t.Errorf("%s: %v, want %v", c.what, c.of[c.on], c.want)
		}
	}
	if got := win.running + sumAll(win.runnable) + sumAll(win.waiting); got != win.end-win.start {
		t.Errorf("the winner's parts add to %v, its request took %v", got, win.end-win.start)
	}
	if a.busy[0] != 3*ms || a.busy[1] != 1*ms {
		t.Errorf("running in the first 100 ms and the next: %v, %v; want 3ms (the refused request's 1, the winner's 2), 1ms", a.busy[0], a.busy[1])
	}
}
