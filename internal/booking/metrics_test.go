package booking_test

import (
	"maps"
	"sync"
	"testing"

	"fairslot/internal/booking"
)

// countingMetrics records what the Service reports.
type countingMetrics struct {
	mu       sync.Mutex
	booked   map[booking.Channel]int
	refusals map[string]int
}

func (m *countingMetrics) Booked(ch booking.Channel) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.booked[ch]++
}

func (m *countingMetrics) Refused(code string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refusals[code]++
}

// TestMetricsCountAtTheSource: every booking is counted where it is
// committed — online, by phone, and the waitlist's hand-over that no
// request made — and every refused attempt once, whatever adapter asked.
func TestMetricsCountAtTheSource(t *testing.T) {
	m := &countingMetrics{booked: map[booking.Channel]int{}, refusals: map[string]int{}}
	h := newHarness(t, harnessConfig{metrics: m})
	s := h.session(sessionOpts{online: 1, phone: 1})
	operator := h.staff(booking.RoleOperator)
	holder, waiter := h.user(1), h.user(1)

	first := h.mustBook(holder, 0, s, "")
	_, err := h.book(waiter, 0, s, "")
	wantErr(t, "the second online attempt", err, booking.ErrSoldOut)
	_, err = h.book(waiter, 0, s, "")
	wantErr(t, "the third, answered from memory", err, booking.ErrSoldOut)
	if _, err := h.staffBook(operator, h.person("王芳"), s, booking.ChannelPhone, "13800138000"); err != nil {
		t.Fatalf("phone booking: %v", err)
	}
	h.join(waiter, s)
	h.mustCancel(holder.actor, first.ID) // the slot goes to the waiter

	m.mu.Lock()
	defer m.mu.Unlock()
	if want := map[booking.Channel]int{booking.ChannelOnline: 2, booking.ChannelPhone: 1}; !maps.Equal(m.booked, want) {
		t.Errorf("bookings counted %v, want %v (the waitlist's hand-over included)", m.booked, want)
	}
	if want := map[string]int{"sold_out": 2}; !maps.Equal(m.refusals, want) {
		t.Errorf("refusals counted %v, want %v", m.refusals, want)
	}
}
