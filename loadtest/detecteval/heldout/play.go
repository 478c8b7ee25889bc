package heldout

import (
	"container/heap"
	"time"

	"fairslot/internal/booking"
)

// The play: every attempt, cancellation and returned slot of every session
// in one time-ordered queue.

type action struct {
	at  time.Time
	seq int
	do  func(now time.Time)
}

type actions []*action

func (q actions) Len() int { return len(q) }
func (q actions) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q actions) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *actions) Push(x any)   { *q = append(*q, x.(*action)) }
func (q *actions) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

func (g *gen) later(at time.Time, do func(now time.Time)) {
	g.seq++
	heap.Push(&g.q, &action{at: at, seq: g.seq, do: do})
}

// want queues an attempt.
func (g *gen) want(t *attempt) {
	g.later(t.at, func(now time.Time) { g.try(t, now) })
}

func (g *gen) play() {
	for g.q.Len() > 0 {
		a := heap.Pop(&g.q).(*action)
		a.do(a.at)
	}
}

func (g *gen) base(t *attempt, typ booking.EventType, now time.Time) booking.Event {
	e := booking.Event{TS: now, Type: typ, AccountID: t.a.id, PatientID: t.p.pid, SessionID: t.s.id,
		HospitalID: t.s.c.id, DepartmentID: t.s.dept, DoctorID: t.s.doc, Channel: booking.ChannelOnline}
	e.DeviceID, e.IP = t.dev, t.ip
	if e.DeviceID == "" && e.IP == "" {
		e.DeviceID, e.IP = g.devOf(t.a), g.ipOf(t.a)
	}
	return e
}

// try is one booking attempt at now.
func (g *gen) try(t *attempt, now time.Time) {
	s := t.s
	if !now.Before(s.visit) {
		return
	}
	if now.Before(s.release) {
		e := g.base(t, booking.EventRejected, now)
		e.Reason = "NOT_OPEN"
		g.emit(e)
		return
	}
	if s.free > 0 || t.sure {
		s.free = max(0, s.free-1)
		g.book(t, now, "")
		return
	}
	e := g.base(t, booking.EventRejected, now)
	e.Reason = "SOLD_OUT"
	if t.gap != nil && g.yes(0.15) && t.retries > 3 {
		e = g.base(t, booking.EventRateLimited, now)
		e.SessionID, e.HospitalID, e.DepartmentID, e.DoctorID, e.PatientID = "", "", "", "", ""
	}
	g.emit(e)
	if t.retries > 0 {
		t.retries--
		gap := g.span(2*time.Second, 25*time.Second)
		if t.gap != nil {
			gap = t.gap()
		}
		g.later(now.Add(gap), func(n time.Time) { g.try(t, n) })
		return
	}
	if t.wait && len(s.waiting) < 10 {
		s.waiting = append(s.waiting, t)
		w := g.base(t, booking.EventWaitlisted, now.Add(g.span(3*time.Second, time.Minute)))
		w.IdentityID = t.p.ident
		g.emit(w)
	}
}

// book writes the booking and decides what becomes of it.
func (g *gen) book(t *attempt, now time.Time, reason string) {
	b := &bk{id: "BK" + g.hex(14), at: now, t: t}
	e := g.base(t, booking.EventBooked, now)
	e.BookingID, e.IdentityID, e.Reason = b.id, t.p.ident, reason
	if reason == "" {
		e.ReleaseAt = t.s.release
	}
	g.emit(e)
	if t.fate != nil {
		t.fate(b)
		return
	}
	a, s := t.a, t.s
	switch x := g.f(); {
	case x < a.pCancel:
		deadline := s.visit.Truncate(24 * time.Hour).Add(-9 * time.Hour) // 15:00 the day before, local
		at := now.Add(g.span(30*time.Minute, max(time.Hour, deadline.Sub(now))))
		late := g.yes(0.15)
		if late {
			at = deadline.Add(g.span(0, s.visit.Sub(deadline)-time.Hour))
		}
		g.later(at, func(n time.Time) { g.cancel(b, n, late, nil) })
	case x < a.pCancel+a.pNoShow:
		g.lapse(b)
	default:
		g.checkIn(b)
	}
}

func (g *gen) checkIn(b *bk) {
	s := b.t.s
	e := booking.Event{TS: s.visit.Add(g.span(-30*time.Minute, 3*time.Hour)), Type: booking.EventCheckedIn, BookingID: b.id,
		AccountID: b.t.a.id, PatientID: b.t.p.pid, SessionID: s.id, HospitalID: s.c.id, StaffID: choose(g, s.c.clerks), IP: s.c.deskIP}
	g.emit(e)
}

// lapse: the patient does not come; half the time the system writes a
// no-show, half the time nothing at all.
func (g *gen) lapse(b *bk) {
	if g.yes(0.5) {
		return
	}
	s := b.t.s
	g.emit(booking.Event{TS: s.visit.Add(4 * time.Hour), Type: booking.EventNoShow, BookingID: b.id, AccountID: b.t.a.id,
		PatientID: b.t.p.pid, SessionID: s.id, HospitalID: s.c.id})
}

// cancel gives the slot back: to the first in the waitlist, to the pool at
// once or after a delay; then, to the buyer when there is one.
func (g *gen) cancel(b *bk, now time.Time, late bool, buyer *attempt) {
	s := b.t.s
	if !now.Before(s.visit) {
		return
	}
	e := g.base(b.t, booking.EventCancelled, now)
	e.BookingID, e.IdentityID = b.id, b.t.p.ident
	if late {
		e.Reason = "late_cancel"
	}
	g.emit(e)
	g.slotBack(b, now, buyer)
}

// slotBack gives a cancelled booking's slot on: to the buyer when there
// is one, else to the first in the waitlist, else to the pool.
func (g *gen) slotBack(b *bk, now time.Time, buyer *attempt) {
	s := b.t.s
	if buyer != nil {
		buyer.sure = true
		g.later(buyer.at, func(n time.Time) { g.try(buyer, n) })
		return
	}
	if len(s.waiting) > 0 {
		w := s.waiting[0]
		s.waiting = s.waiting[1:]
		g.book(w, now.Add(g.span(100*time.Millisecond, 2*time.Second)), "waitlist_promoted")
		return
	}
	back := now
	if s.c.delay {
		back = now.Add(g.span(10*time.Minute, 40*time.Minute))
	}
	g.later(back, func(n time.Time) {
		s.free++
		for _, w := range s.watchers {
			t := &attempt{a: w, p: g.buyerID(w, n), s: s, at: n.Add(g.span(500*time.Millisecond, 8*time.Second))}
			t.fate = w.grabbed
			g.want(t)
		}
		if g.yes(0.02) {
			a := choose(g, g.genuine)
			g.want(&attempt{a: a, p: choose(g, a.people), s: s, at: n.Add(g.span(time.Second, 15*time.Second))})
		}
	})
}

// handOver: the seller cancels b at the agreed time and the buyer books
// within seconds.
func (g *gen) handOver(b *bk, buyer *attempt) {
	s := b.t.s
	room := s.visit.Sub(b.at) - 4*time.Hour
	if room < time.Hour {
		g.lapse(b)
		return
	}
	at := b.at.Add(g.span(time.Hour, room))
	at = at.Truncate(30 * time.Second).Add(g.span(0, 3*time.Second))
	buyer.s, buyer.at = s, at.Add(g.span(500*time.Millisecond, 30*time.Second))
	g.later(at, func(n time.Time) { g.cancel(b, n, false, buyer) })
}

// buyerID is a buyer's ID the watcher puts on its account for a grab.
func (g *gen) buyerID(w *acct, now time.Time) *person {
	if len(w.people) > 0 && g.yes(0.3) {
		return choose(g, w.people)
	}
	return g.addPerson(w, g.stranger(), now.Add(-g.span(10*time.Minute, 10*time.Hour)))
}
