package heldout

import (
	"math/rand/v2"
	"time"

	"fairslot/internal/booking"
	"fairslot/loadtest/detecteval/labels"
)

// Other people's ID numbers, written for this generator from the press
// cases and the service's rules (docs/security.md, "Ownership"), apart
// from synth:
//
//   - A leaked list (squatter): a hospital department's patient records —
//     names and ID numbers — sold on, as in the Beijing cases of staff
//     selling patients' details. An operation of 2–5 accounts registers
//     each account under a listed person as its self (refused
//     identity_taken when that person already has an account of their own;
//     past three refusals in a day the service answers
//     identity_claims_limited until the next), then adds 3–5 listed people
//     as family under the listed names (refused identity_unverified where
//     the list's name is stale and the desk has verified the true one),
//     and books that department's experts for them, at release or within
//     the morning. What nobody ends is handed to a buyer at the agreed
//     second, cancelled unsold before the deadline, or left to lapse.
//   - The listed people with accounts of their own are that department's
//     patients: some try to book the same department that day and are
//     refused — their desk-verified self hears the rule's code with
//     made_by_other_account and the event names the account holding it;
//     anyone else hears person_booked_elsewhere. Of the verified, most
//     then cancel it from their own account (the event names their
//     account, by_account_id, and carries no reason) and try to book it
//     for themselves; a few find it in the list without trying.
//   - Genuine: a relative's name mistyped and retried (mistyped); a
//     holder opening an account on a new phone, refused their own self
//     (new_phone); a neighbour or colleague booking, with their consent,
//     for one or two elderly people who have accounts of their own (代挂号,
//     proxy), some of whom, forgetting, try the same session themselves;
//     and the people on the leaked list (victim).
//
// Refusal reasons are spelt as this generator spells the others
// ("ALREADY_BOOKED"); the fields are the service's. Its accounts and
// plans are drawn from a generator of its own, after the tactics' and
// before the play; the play is shared — its bookings take slots like
// anyone's, and what becomes of them is drawn there — so the rest of a
// seed's trace moves a little.
func (g *gen) identities() {
	saved := g.r
	g.r = rand.New(rand.NewPCG(g.p.Seed^0x1d1e57, 11))
	defer func() { g.r = saved }()
	households := g.genuine[:g.p.Households]
	for range max(1, g.p.Households/600) {
		g.leakedList(households)
	}
	for _, a := range households {
		if a.kind != labels.Ordinary || len(a.people) == 0 {
			continue
		}
		switch x := g.f(); {
		case x < 0.025:
			g.mistyped(a)
		case x < 0.033:
			g.newPhone(a)
		case x < 0.045:
			g.proxy(a, households)
		}
	}
}

// claimRefused writes a's add of ident refused for reason ("" ident: the
// 429, which names nobody).
func (g *gen) claimRefused(a *acct, ident, reason string, at time.Time) {
	g.emit(booking.Event{TS: at, Type: booking.EventRejected, AccountID: a.id, IdentityID: ident, Reason: reason,
		DeviceID: g.devOf(a), IP: g.ipOf(a)})
}

// claimer counts an account's refused claims a day, as the service's guard
// does: past three, every add that day is the 429.
type claimer struct {
	g      *gen
	a      *acct
	perDay map[string]int
}

// refused writes a refused claim at t, or the 429 when the day's three
// are spent, and reports whether the number was looked at.
func (c *claimer) refused(ident, reason string, t time.Time) bool {
	d := dayKey(t)
	if c.perDay[d] >= 3 {
		c.g.claimRefused(c.a, "", "IDENTITY_CLAIMS_LIMITED", t)
		return false
	}
	c.perDay[d]++
	c.g.claimRefused(c.a, ident, reason, t)
	return true
}

// leakedList: one operation working from a department's leaked records.
func (g *gen) leakedList(households []*acct) {
	c := choose(g, g.clinics)
	dept := choose(g, c.depts)
	var expert []*sess
	for _, s := range g.sess {
		if s.c == c && s.dept == dept && s.expert {
			expert = append(expert, s)
		}
	}
	if len(expert) == 0 {
		return
	}
	home := g.addr()
	used := map[*acct]bool{}
	listed := func() *acct { // a listed patient with an account of their own
		for range 10 {
			if v := choose(g, households); !used[v] && len(v.people) > 0 && v.kind == labels.Ordinary {
				used[v] = true
				return v
			}
		}
		return nil
	}
	for _, a := range g.scalpers(g.in(2, 5), "squatter") {
		a.devs, a.ips = []string{g.device()}, []string{home}
		if g.yes(0.4) {
			a.ips = []string{g.addr()}
		}
		guard := &claimer{g: g, a: a, perDay: map[string]int{}}
		t := g.t0.Add(g.span(0, 6*24*time.Hour))
		// The account's self: listed people until one has no account.
		for g.yes(0.45) {
			if v := listed(); v != nil {
				guard.refused(v.people[0].ident, "IDENTITY_TAKEN", t)
			}
			t = t.Add(g.span(20*time.Second, 10*time.Hour))
		}
		g.addPerson(a, g.stranger(), t)
		for range g.in(3, 5) {
			t = t.Add(g.span(time.Minute, 20*time.Hour))
			v := listed()
			if v == nil {
				continue
			}
			if g.yes(0.15) && g.yes(0.5) { // a stale name on the list, the true one verified
				guard.refused(v.people[0].ident, "IDENTITY_UNVERIFIED", t)
				continue
			}
			g.relabel(v, "victim")
			p := g.addPerson(a, v.people[0], t)
			g.squat(a, v, p, expert, t)
		}
	}
}

// squat: squatter a books one or two of the department's expert sessions
// for victim v's person p (added at added), and what v does about it.
func (g *gen) squat(a, v *acct, p *person, expert []*sess, added time.Time) {
	verified, tries := g.yes(0.35), g.yes(0.45)
	for range g.in(1, 2) {
		s := choose(g, expert)
		if !s.release.After(added) {
			continue
		}
		at := s.release.Add(a.reaction())
		if g.yes(0.4) {
			at = s.release.Add(g.span(2*time.Minute, 3*time.Hour))
		}
		g.want(&attempt{a: a, p: p, s: s, at: at, retries: g.in(0, 2), fate: func(b *bk) {
			ends := verified && (tries && g.yes(0.8) || !tries && g.yes(0.2))
			if tries {
				tried := b.at.Add(g.span(2*time.Minute, 3*24*time.Hour))
				g.keptOut(v, a, s, tried, verified, g.in(1, 3))
				if ends {
					g.endedBy(b, v, tried.Add(g.span(time.Minute, 40*time.Minute)), true)
					return
				}
			} else if ends {
				g.endedBy(b, v, b.at.Add(g.span(time.Hour, 4*24*time.Hour)), false)
				return
			}
			g.sell(0.45, 0.2)(b)
		}})
	}
}

// keptOut: v tries, n times, to book the department that day — the
// session a holds for them or its other half-day — and is refused as the
// service refuses: to the verified self the rule's code, marked, naming
// the account that holds it; to anyone else person_booked_elsewhere.
func (g *gen) keptOut(v, a *acct, s *sess, at time.Time, verified bool, n int) {
	target, reason := s, "ALREADY_BOOKED"
	if g.yes(0.4) {
		for _, o := range g.byDay[dayKey(s.visit)] {
			if o.dept == s.dept && o != s {
				target, reason = o, "QUOTA_DAY_DEPARTMENT"
				break
			}
		}
	}
	me := v.people[0]
	for range n {
		if !at.Before(target.visit) {
			return
		}
		e := booking.Event{TS: at, Type: booking.EventRejected, AccountID: v.id, PatientID: me.pid, IdentityID: me.ident,
			SessionID: target.id, HospitalID: target.c.id, DepartmentID: target.dept, DoctorID: target.doc,
			Channel: booking.ChannelOnline, ReleaseAt: target.release, DeviceID: g.devOf(v), IP: g.ipOf(v),
			Reason: "PERSON_BOOKED_ELSEWHERE"}
		if verified {
			e.Reason, e.MadeByOtherAccount, e.ByAccountID = reason, true, a.id
		}
		g.emit(e)
		at = at.Add(g.span(4*time.Second, 90*time.Second))
	}
}

// endedBy: v's verified self cancels b, which another account made for
// them, from their own account; rebook: and then tries to book the slot.
func (g *gen) endedBy(b *bk, v *acct, at time.Time, rebook bool) {
	s := b.t.s
	if !at.Before(s.visit.Add(-time.Hour)) {
		g.lapse(b)
		return
	}
	g.later(at, func(now time.Time) {
		e := g.base(b.t, booking.EventCancelled, now)
		e.BookingID, e.IdentityID, e.ByAccountID, e.DeviceID, e.IP = b.id, b.t.p.ident, v.id, g.devOf(v), g.ipOf(v)
		g.emit(e)
		g.slotBack(b, now, nil)
		if rebook {
			g.want(&attempt{a: v, p: v.people[0], s: s, at: now.Add(g.span(5*time.Second, 3*time.Minute)), retries: g.in(0, 3)})
		}
	})
}

// mistyped: a relative's name typed wrong, once or retried the same, then
// right.
func (g *gen) mistyped(a *acct) {
	g.relabel(a, "mistyped")
	rel := g.stranger()
	t := g.t0.Add(g.span(0, 20*24*time.Hour))
	for range g.in(1, 2) {
		g.claimRefused(a, rel.ident, "IDENTITY_UNVERIFIED", t)
		t = t.Add(g.span(20*time.Second, 5*time.Minute))
	}
	p := g.addPerson(a, rel, t.Add(g.span(time.Minute, 2*24*time.Hour)))
	if s := g.some(false); s != nil {
		g.want(&attempt{a: a, p: p, s: s, at: s.release.Add(g.span(time.Hour, 2*24*time.Hour))})
	}
}

// newPhone: a's holder opens an account on a new phone, is refused their
// own self (the old account holds it), and books for a child there.
func (g *gen) newPhone(old *acct) {
	a := g.newAcct("new_phone", false)
	a.devs, a.ips = []string{g.device()}, []string{g.addr()}
	t := g.t0.Add(g.span(0, 15*24*time.Hour))
	g.claimRefused(a, old.people[0].ident, "IDENTITY_TAKEN", t)
	child := g.addPerson(a, g.stranger(), t.Add(g.span(time.Minute, time.Hour)))
	for range g.in(1, 3) {
		if s := g.some(g.yes(0.2)); s != nil {
			g.want(&attempt{a: a, p: child, s: s, at: s.release.Add(g.span(30*time.Minute, 3*24*time.Hour))})
		}
	}
}

// proxy: a neighbour or colleague books, with their consent, for one or
// two elderly people with accounts of their own; one who forgets tries the
// same session and is refused; one who is verified now and then cancels
// it, plans changed.
func (g *gen) proxy(a *acct, households []*acct) {
	g.relabel(a, "proxy")
	for range g.in(1, 2) {
		v := choose(g, households)
		if v == a || len(v.people) == 0 || len(a.people) >= 5 {
			continue
		}
		s := g.some(g.yes(0.25))
		if s == nil {
			continue
		}
		p := g.addPerson(a, v.people[0], s.release.Add(-g.span(time.Hour, 10*24*time.Hour)))
		verified, forgets := g.yes(0.35), g.yes(0.2)
		at := s.release.Add(g.span(20*time.Minute, 2*24*time.Hour))
		g.want(&attempt{a: a, p: p, s: s, at: at, fate: func(b *bk) {
			if forgets {
				g.keptOut(v, a, s, b.at.Add(g.span(time.Hour, 3*24*time.Hour)), verified, 1)
			}
			if verified && g.yes(0.1) {
				g.endedBy(b, v, b.at.Add(g.span(3*time.Hour, 4*24*time.Hour)), false)
				return
			}
			g.checkIn(b)
		}})
	}
}
