package booking

import (
	"testing"
	"time"
)

// TestRefusalMemoRenewal: the memo answers a pool's refusal for its TTL,
// never longer; from half the TTL on it hands one caller per refreshGap the
// renewal (that caller renews it, or goes on to admission) and answers the
// others; an answer remembered again starts a new TTL. Times are given, not
// read.
func TestRefusalMemoRenewal(t *testing.T) {
	const ttl = 100 * time.Millisecond
	m := newRefusalMemo(ttl)
	t0 := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	// known: answered from memory, without renewing it.
	known := func(d time.Duration) bool {
		e, renew := m.known("s1", ChannelOnline, at(d))
		return e != nil && !renew
	}
	if known(0) {
		t.Fatal("a pool never refused is answered from memory")
	}
	m.remember("s1", ChannelOnline, ErrSoldOut, t0, time.Time{})

	for _, d := range []time.Duration{0, 10 * time.Millisecond, 49 * time.Millisecond, 49 * time.Millisecond} {
		if !known(d) {
			t.Errorf("t0+%s, before half the TTL: not answered from memory", d)
		}
	}
	if known(50 * time.Millisecond) {
		t.Error("t0+50ms: the first caller from half the TTL on is answered from memory; want it let through to renew")
	}
	for _, d := range []time.Duration{50 * time.Millisecond, 55 * time.Millisecond, 62 * time.Millisecond} {
		if !known(d) {
			t.Errorf("t0+%s, within refreshGap (%s) of the one let through: not answered from memory", d, m.refreshGap())
		}
	}
	// The one let through renewed nothing (say it was rate limited): after
	// the gap, another is let through.
	if known(63 * time.Millisecond) {
		t.Error("t0+63ms, a gap after the last one let through: answered from memory; want another let through")
	}
	if !known(70 * time.Millisecond) {
		t.Error("t0+70ms: not answered from memory")
	}
	// Never past the TTL of admission's answer.
	if known(ttl) || known(ttl+time.Millisecond) {
		t.Error("answered from memory at or after the TTL of admission's answer")
	}

	// Renewed at t0+60ms (the caller let through met the empty pool):
	// answered until t0+160ms, renewed again from t0+110ms.
	m.remember("s1", ChannelOnline, ErrSoldOut, at(60*time.Millisecond), time.Time{})
	if !known(ttl) || !known(109*time.Millisecond) {
		t.Error("after renewal, not answered from memory past the first TTL")
	}
	if known(110 * time.Millisecond) {
		t.Error("t0+110ms, half the renewed TTL: want one let through")
	}
	if !known(115 * time.Millisecond) {
		t.Error("t0+115ms, within refreshGap of the one let through: not answered from memory")
	}
	if known(160 * time.Millisecond) {
		t.Error("t0+160ms, the renewed answer's TTL: answered from memory")
	}
	if hits := m.hits.Load(); hits != 11 {
		t.Errorf("hits = %d, want the 11 answers given from memory", hits)
	}
}

// TestRefusalMemoNotReleasedNotRenewedPastRelease: a not_released answer
// ends at the release time; when that comes before half the TTL nobody is
// let through early, and from the release time everyone asks admission.
func TestRefusalMemoNotReleasedNotRenewedPastRelease(t *testing.T) {
	m := newRefusalMemo(100 * time.Millisecond)
	t0 := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	release := t0.Add(40 * time.Millisecond)
	m.remember("s1", ChannelOnline, ErrNotReleased, t0, release)
	if e, _ := m.known("s1", ChannelOnline, t0.Add(39*time.Millisecond)); e == nil {
		t.Error("before the release time: not answered from memory")
	}
	if e, _ := m.known("s1", ChannelOnline, release); e != nil {
		t.Error("at the release time: answered from memory")
	}
}
