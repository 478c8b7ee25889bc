package realname

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestDailyBudgetAcrossInstances: the hospital pays per call, so its
// instances share one daily budget of calls in Redis. Two instances, a
// budget of three: three calls reach the gateway, whichever instance
// makes them; the fourth check, on either, is Unverifiable without a call
// (the name stays a claim for the desk), counted over_budget and logged
// without the number or the name; a cached answer costs nothing; at local
// midnight (Asia/Shanghai) the budget is whole again.
func TestDailyBudgetAcrossInstances(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	testenv.Must(t, err, "zone")
	clk := &fakeClock{t: time.Date(2026, 12, 5, 23, 50, 0, 0, shanghai)}
	g := newGateway(t, clk.Now) // the signature's timestamp is the verifier's clock's
	var logs bytes.Buffer
	instance := func() (*Verifier, *fixture) {
		cfg := Config{URL: g.srv.URL + "/verify", Secret: secret, Client: g.srv.Client(), Now: clk.Now, Timeout: 2 * time.Second,
			Budget: NewRedisBudget(rdb, prefix, 3, shanghai, clk.Now)}
		v, err := New(cfg, slog.New(slog.NewTextHandler(&lockedWriter{w: &logs}, nil)), prometheus.NewRegistry())
		testenv.Must(t, err, "verifier")
		return v, &fixture{g: g, v: v, clk: clk}
	}
	_, a := instance()
	_, b := instance()
	ids := []string{"11010519491231002", "11010519491231003", "11010519491231004", "11010519491231005", "11010519491231006"}
	for i, body := range ids[:3] {
		g.register[residentID(body).Number] = "张三"
		f := []*fixture{a, b}[i%2]
		if got := f.verify(t, residentID(body), "张三"); got != booking.NameMatches {
			t.Errorf("check %d within the budget = %s, want matches", i+1, verdictNames[got])
		}
	}
	g.register[residentID(ids[3]).Number] = "李四"
	for _, f := range []*fixture{a, b} {
		if got := f.verify(t, residentID(ids[3]), "王五"); got != booking.Unverifiable {
			t.Errorf("a check past the budget = %s, want unverifiable (a claim for the desk)", verdictNames[got])
		}
	}
	if got := g.calls.Load(); got != 3 {
		t.Errorf("calls that reached the gateway = %d, want 3 (the day's budget)", got)
	}
	if got := a.count(outcomeOverBudget) + b.count(outcomeOverBudget); got != 2 {
		t.Errorf("checks counted over_budget = %d, want 2", got)
	}
	if got := a.verify(t, residentID(ids[0]), "张三"); got != booking.NameMatches {
		t.Errorf("a cached answer past the budget = %s, want matches (it costs nothing)", verdictNames[got])
	}
	if !strings.Contains(logs.String(), "budget") {
		t.Errorf("log = %q, want a line saying the day's budget is spent", logs.String())
	}
	for _, secret := range []string{"李四", "王五", residentID(ids[3]).Number} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}

	clk.add(11 * time.Minute) // 00:01 in Shanghai
	if got := b.verify(t, residentID(ids[3]), "李四"); got != booking.NameMatches {
		t.Errorf("a check the next day = %s, want matches", verdictNames[got])
	}
	if got := g.calls.Load(); got != 4 {
		t.Errorf("calls that reached the gateway = %d, want 4", got)
	}
}
