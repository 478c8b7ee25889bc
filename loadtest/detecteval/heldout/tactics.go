package heldout

import (
	"math"
	"time"

	"fairslot/internal/booking"
)

// tactics adds scalpers until they are ScalperShare of the accounts.
func (g *gen) tactics() {
	genuine := len(g.l.Families)
	want := int(math.Ceil(g.p.ScalperShare * float64(genuine) / (1 - g.p.ScalperShare)))
	made := 0
	for made < want {
		room := want - made
		switch x := g.f(); {
		case x < 0.14:
			made += g.bots(room)
		case x < 0.25:
			made += g.macros(room)
		case x < 0.36:
			made += g.rotators(room)
		case x < 0.48:
			made += g.sharedFarm(room)
		case x < 0.61:
			made += g.fakeIDs(room)
		case x < 0.71:
			made += g.pair(room)
		case x < 0.82:
			made += g.slow()
		case x < 0.92:
			made += g.hoard(room)
		default:
			made += g.watch(room)
		}
	}
}

func (g *gen) scalpers(n int, kind string) []*acct {
	var out []*acct
	for range n {
		out = append(out, g.newAcct(kind, true))
	}
	return out
}

// releases is a random set of n session-release moments of experts.
func (g *gen) experts(n int) []*sess {
	var out []*sess
	for range n {
		if s := g.some(true); s != nil {
			out = append(out, s)
		}
	}
	return out
}

// sell is a seller's fate for a slot: hand it over, cancel it unsold
// before the deadline, or let it lapse.
func (g *gen) sell(hand, unsold float64) func(b *bk) {
	return func(b *bk) {
		switch x := g.f(); {
		case x < hand:
			a := choose(g, g.genuine[:g.p.Households])
			g.relabel(a, "buyer")
			g.handOver(b, &attempt{a: a, p: choose(g, a.people)})
		case x < hand+unsold:
			deadline := b.t.s.visit.Truncate(24 * time.Hour).Add(-9 * time.Hour)
			at := deadline.Add(-g.span(20*time.Minute, 20*time.Hour))
			if !at.After(b.at) {
				at = b.at.Add(time.Hour)
			}
			g.later(at, func(n time.Time) { g.cancel(b, n, false, nil) })
		default:
			g.lapse(b)
		}
	}
}

// bots: 1–5 accounts firing at release in 50–250 ms, hammering before and
// after, rate-limited now and then.
func (g *gen) bots(room int) int {
	accts := g.scalpers(min(room, g.in(1, 5)), "bot")
	dev := g.device()
	for _, a := range accts {
		if g.yes(0.5) {
			a.devs = []string{dev}
		}
		for range g.in(2, 4) {
			g.addPerson(a, g.stranger(), g.t0.Add(-g.span(time.Hour, 20*24*time.Hour)))
		}
		for _, s := range g.experts(g.in(4, 12)) {
			p := choose(g, a.people)
			if g.yes(0.4) {
				p = g.addPerson(a, g.stranger(), s.release.Add(-g.span(time.Hour, 12*time.Hour)))
			}
			gap := func() time.Duration { return g.span(60*time.Millisecond, 200*time.Millisecond) }
			for k := g.in(5, 30); k > 0; k-- {
				g.want(&attempt{a: a, p: p, s: s, at: s.release.Add(-time.Duration(k) * gap())})
			}
			g.want(&attempt{a: a, p: p, s: s, at: s.release.Add(g.span(50*time.Millisecond, 250*time.Millisecond)),
				retries: g.in(10, 60), gap: gap})
		}
	}
	return len(accts)
}

// macros: a key macro taps every 0.33–0.38 s (±8%), a booking attempt
// every 3–4 taps, from well before release until it books or gives up.
func (g *gen) macros(room int) int {
	accts := g.scalpers(min(room, g.in(1, 2)), "macro")
	for _, a := range accts {
		a.devs, a.ips = []string{g.device()}, []string{g.addr()}
		for range g.in(2, 4) {
			g.addPerson(a, g.stranger(), g.t0.Add(-g.span(time.Hour, 20*24*time.Hour)))
		}
		tap := g.span(330*time.Millisecond, 380*time.Millisecond)
		every := tap * time.Duration(g.in(3, 4))
		gap := func() time.Duration { return every + time.Duration((g.f()*2-1)*0.08*float64(every)) }
		for _, s := range g.experts(g.in(6, 15)) {
			p := choose(g, a.people)
			t := s.release.Add(-time.Duration(g.in(8, 40)) * every)
			g.macroLoop(&attempt{a: a, p: p, s: s, at: t, gap: gap}, g.in(15, 80))
		}
	}
	return len(accts)
}

// macroLoop runs a macro's attempts: refused before release, then until
// it books or has made n more.
func (g *gen) macroLoop(t *attempt, n int) {
	var step func(now time.Time)
	booked := false
	step = func(now time.Time) {
		if booked || n <= 0 || !now.Before(t.s.visit) {
			return
		}
		n--
		if !now.Before(t.s.release) && (t.s.free > 0) {
			t.s.free--
			booked = true
			g.book(t, now, "")
			return
		}
		e := g.base(t, booking.EventRejected, now)
		e.Reason = "NOT_OPEN"
		if !now.Before(t.s.release) {
			e.Reason = "SOLD_OUT"
		}
		g.emit(e)
		g.later(now.Add(t.gap()), step)
	}
	g.later(t.at, step)
}

// rotators: rings of 2–8 accounts on a fresh device and address every day,
// booking at a quick but possible 0.4–1.5 s, for buyers' IDs.
func (g *gen) rotators(room int) int {
	accts := g.scalpers(min(room, g.in(2, 8)), "ring")
	for _, a := range accts {
		a.rotate = true
		g.addPerson(a, g.stranger(), g.t0.Add(-g.span(time.Hour, 20*24*time.Hour)))
		for _, s := range g.experts(g.in(5, 14)) {
			p := choose(g, a.people)
			if g.yes(0.8) {
				p = g.addPerson(a, g.stranger(), s.release.Add(-g.span(time.Hour, 15*time.Hour)))
			}
			t := &attempt{a: a, p: p, s: s, at: s.release.Add(g.span(400*time.Millisecond, 1500*time.Millisecond)),
				retries: g.in(0, 6), gap: func() time.Duration { return g.span(300*time.Millisecond, 2*time.Second) },
				dev: g.device(), ip: g.addr()}
			g.emit(booking.Event{TS: s.release.Add(-g.span(20*time.Second, 5*time.Minute)), Type: booking.EventLogin,
				AccountID: a.id, DeviceID: t.dev, IP: t.ip})
			g.want(t)
		}
	}
	return len(accts)
}

// sharedFarm: 3–12 accounts on one or two handsets and a few numbers,
// 15–50 real IDs; buyers come and check in; experts mostly, human timing.
func (g *gen) sharedFarm(room int) int {
	accts := g.scalpers(min(room, g.in(3, 12)), "farm")
	devs := []string{g.device(), g.device()}[:g.in(1, 2)]
	phones := []string{g.phone(), g.phone(), g.phone(), g.phone()}
	for i, a := range accts {
		a.devs, a.phone, a.ips = devs, phones[i/3%len(phones)], []string{g.addr()}
	}
	for range g.in(15, 50) {
		a := choose(g, accts)
		g.addPerson(a, g.stranger(), g.t0.Add(g.span(-10*24*time.Hour, 30*24*time.Hour)))
	}
	for _, a := range accts {
		if len(a.people) == 0 {
			g.addPerson(a, g.stranger(), g.t0)
		}
		for range g.in(6, 18) {
			s := g.some(g.yes(0.7))
			if s == nil {
				continue
			}
			at := s.release.Add(a.reaction())
			if g.yes(0.4) {
				at = s.release.Add(g.span(time.Minute, 8*time.Hour))
			}
			g.want(&attempt{a: a, p: choose(g, a.people), s: s, at: at, retries: g.in(0, 2)})
		}
	}
	return len(accts)
}

// fakeIDs: 5–15 accounts, each on its own phone and home address with 2–4
// fake IDs; human speed; nobody ever comes with those IDs.
func (g *gen) fakeIDs(room int) int {
	accts := g.scalpers(min(room, g.in(5, 15)), "fake_farm")
	for _, a := range accts {
		a.devs, a.ips = []string{g.device()}, []string{g.addr()}
		for range g.in(2, 4) {
			g.addPerson(a, g.stranger(), g.t0.Add(-g.span(time.Hour, 25*24*time.Hour)))
		}
		for range g.in(4, 12) {
			s := g.some(g.yes(0.8))
			if s == nil {
				continue
			}
			at := s.release.Add(a.reaction())
			if g.yes(0.25) {
				at = s.release.Add(g.span(time.Minute, 4*time.Hour))
			}
			g.want(&attempt{a: a, p: choose(g, a.people), s: s, at: at, retries: g.in(0, 2), fate: g.sell(0.3, 0.4)})
		}
	}
	return len(accts)
}

// pair: a seller and one or two accomplices; the seller books experts at
// release and at the agreed second cancels while an accomplice books.
func (g *gen) pair(room int) int {
	n := min(room, g.in(2, 3))
	accts := g.scalpers(n, "handoff")
	seller := accts[0]
	for _, a := range accts {
		a.devs, a.ips = []string{g.device()}, []string{g.addr()}
		g.addPerson(a, g.stranger(), g.t0.Add(-g.span(time.Hour, 25*24*time.Hour)))
	}
	for _, s := range g.experts(g.in(3, 8)) {
		to := accts[len(accts)-1]
		if len(accts) > 2 {
			to = accts[1+g.r.IntN(len(accts)-1)]
		}
		p := g.addPerson(to, g.stranger(), s.release.Add(g.span(time.Hour, 48*time.Hour)))
		g.want(&attempt{a: seller, p: seller.people[0], s: s, at: s.release.Add(seller.reaction()), sure: true,
			fate: func(b *bk) { g.handOver(b, &attempt{a: to, p: p}) }})
	}
	return n
}

// slow: one account with 2–4 placeholder people that books the most
// sought-after expert at every release, at human speed, and sells 30–60%
// of the slots to buyers who book from their own accounts.
func (g *gen) slow() int {
	a := g.scalpers(1, "low_slow")[0]
	a.devs, a.ips = []string{g.device()}, []string{g.addr()}
	for range g.in(2, 4) {
		g.addPerson(a, g.stranger(), g.t0.Add(-g.span(time.Hour, 25*24*time.Hour)))
	}
	best := g.some(true)
	if best == nil {
		return 1
	}
	hand := 0.3 + 0.3*g.f()
	seen := map[string]bool{}
	for _, s := range g.sess {
		if s.doc != best.doc || seen[dayKey(s.release)] || !g.yes(0.9) {
			continue
		}
		seen[dayKey(s.release)] = true
		g.want(&attempt{a: a, p: choose(g, a.people), s: s, at: s.release.Add(a.reaction()), retries: g.in(0, 3),
			fate: g.sell(hand, 0.5)})
	}
	return 1
}

// hoard: 1–3 accounts booking 20–60 slots over the month and using a fifth
// of them; the rest lapse, or are cancelled together before the deadline.
func (g *gen) hoard(room int) int {
	accts := g.scalpers(min(room, g.in(1, 3)), "hoarder")
	bulk := g.yes(0.5)
	for _, a := range accts {
		a.devs, a.ips = []string{g.device()}, []string{g.addr()}
		for range g.in(2, 5) {
			g.addPerson(a, g.stranger(), g.t0.Add(-g.span(time.Hour, 25*24*time.Hour)))
		}
		batch := map[string]time.Time{}
		for range g.in(20, 60) {
			s := g.some(g.yes(0.35))
			if s == nil {
				continue
			}
			at := s.release.Add(g.span(time.Minute, 30*time.Hour))
			if s.expert && g.yes(0.5) {
				at = s.release.Add(a.reaction())
			}
			fate := func(b *bk) {
				switch {
				case g.yes(0.2):
					g.checkIn(b)
				case bulk:
					// Everything of the coming days at once, an hour or two
					// before the first deadline.
					k := dayKey(b.t.s.visit.AddDate(0, 0, -int(b.t.s.visit.Weekday())%3))
					t, ok := batch[k]
					if !ok {
						t = b.t.s.visit.Truncate(24 * time.Hour).Add(-9*time.Hour - g.span(time.Hour, 30*time.Hour))
						batch[k] = t
					}
					t = t.Add(g.span(0, 90*time.Second))
					if !t.After(b.at) {
						g.lapse(b)
						return
					}
					g.later(t, func(n time.Time) { g.cancel(b, n, false, nil) })
				default:
					g.lapse(b)
				}
			}
			g.want(&attempt{a: a, p: choose(g, a.people), s: s, at: at, fate: fate})
		}
	}
	return len(accts)
}

// watch: accounts that poll sold-out expert sessions and grab returned
// slots within seconds (守号), for buyers' IDs; they resell now and then.
func (g *gen) watch(room int) int {
	accts := g.scalpers(min(room, g.in(1, 3)), "watcher")
	var targets []*sess
	for _, s := range g.sess {
		if s.expert && !s.c.delay && g.yes(0.5) {
			targets = append(targets, s)
		}
	}
	for _, a := range accts {
		a.devs, a.ips = []string{g.device()}, []string{g.addr()}
		g.addPerson(a, g.stranger(), g.t0.Add(-g.span(time.Hour, 25*24*time.Hour)))
		a.grabbed = func(b *bk) {
			if g.yes(0.25) {
				g.sell(1, 0)(b)
				return
			}
			g.checkIn(b)
		}
		for _, s := range targets {
			s.watchers = append(s.watchers, a)
		}
		every := g.span(2*time.Second, 20*time.Second)
		for range g.in(15, 40) {
			if len(targets) == 0 {
				break
			}
			s := choose(g, targets)
			t := s.release.Add(g.span(time.Hour, s.visit.Sub(s.release)-time.Hour))
			for range g.in(20, 80) {
				e := booking.Event{TS: t, Type: booking.EventRejected, AccountID: a.id, PatientID: a.people[0].pid,
					SessionID: s.id, HospitalID: s.c.id, DepartmentID: s.dept, DoctorID: s.doc, Channel: booking.ChannelOnline,
					Reason: "SOLD_OUT", DeviceID: a.devs[0], IP: a.ips[0]}
				g.emit(e)
				t = t.Add(every + g.span(-every/4, every/4))
			}
		}
	}
	return len(accts)
}
