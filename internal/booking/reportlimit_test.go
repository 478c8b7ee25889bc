package booking_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"
	limredis "github.com/ulule/limiter/v3/drivers/store/redis"

	"fairslot/internal/booking"
	"fairslot/internal/lockout"
	"fairslot/internal/testenv"
)

// TestReportsPerAddressAreBounded: accounts cost nothing, so one address
// could file reports (and complaints) from account after account and fill
// the administrators' queue. Reports are counted per client address in
// Redis, which the instances share: three a day here, from three accounts
// on two instances, and a fourth from the address, on either instance, is
// 429 reports_limited with a wait of up to a day, before anything is
// stored; another address files as before. A refused report (one too
// short) spends nothing.
func TestReportsPerAddressAreBounded(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	guard := func() booking.LoginGuard {
		st, err := limredis.NewStoreWithOptions(rdb, limiter.StoreOptions{Prefix: prefix + ":reports-ip"})
		testenv.Must(t, err, "limiter store")
		return lockout.New(st, []lockout.Tier{{Failures: 3, Window: 24 * time.Hour}})
	}
	h := newHarness(t, harnessConfig{reportIPGuard: guard()})
	second := h.stack.Instance(t, booking.Config{ReportIPGuard: guard()})
	_, err := second.Refresh(h.ctx)
	testenv.Must(t, err, "refresh the second instance")
	instances := []*booking.Service{h.svc, second}
	const lobby, elsewhere = "198.51.100.7", "192.0.2.8"
	file := func(i int, u user, ip, text string) error {
		_, err := instances[i%2].FileCase(h.ctx, u.actor, booking.CaseRequest{Kind: booking.CaseReport, HospitalID: h.hosp.ID,
			Text: text, OfferedAccount: "scalper" + string(rune('a'+i))}, booking.Origin{IP: ip})
		return err
	}
	wantErr(t, "a report too short", file(0, h.user(0), lobby, "号贩子"), booking.ErrInvalidField)
	for i := range 3 {
		if err := file(i, h.user(0), lobby, "有人在大厅加价倒卖号源"); err != nil {
			t.Fatalf("report %d from the address: %v, want it filed", i+1, err)
		}
	}
	before := h.count(`SELECT count(*) FROM patient_cases`)
	for i := range 2 {
		err := file(3+i, h.user(0), lobby, "有人在大厅加价倒卖号源")
		wantErr(t, "past the address's reports", err, booking.ErrReportsLimited)
		var le *booking.LimitError
		if !errors.As(err, &le) || le.Wait <= 0 || le.Wait > 24*time.Hour+time.Second {
			t.Errorf("past the address's reports: %v, want a wait of up to a day", err)
		} else if le.Err.Kind.HTTPStatus() != 429 {
			t.Errorf("past the address's reports: status %d, want 429", le.Err.Kind.HTTPStatus())
		}
	}
	if got := h.count(`SELECT count(*) FROM patient_cases`); got != before {
		t.Errorf("cases stored past the limit = %d, want 0", got-before)
	}
	if err := file(5, h.user(0), elsewhere, "有人在大厅加价倒卖号源"); err != nil {
		t.Errorf("a report from another address: %v, want it filed", err)
	}
}
