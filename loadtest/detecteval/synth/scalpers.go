package synth

import (
	"fmt"
	"math"
	"time"

	"fairslot/internal/booking"
)

// scalpers adds scalper groups until they hold ScalperShare of all accounts.
func (g *gen) scalpers() {
	want := int(math.Ceil(g.p.ScalperShare * float64(g.p.Families) / (1 - g.p.ScalperShare)))
	insiders := 0
	maxInsiders := max(1, min(3, want/40))
	tactics := []float64{0.15, 0.09, 0.09, 0.13, 0.1, 0.1, 0.1, 0.1, 0.07, 0.07}
	for made := 0; made < want; {
		switch k := weighted(g, tactics); {
		case k == 9 && insiders < maxInsiders:
			insiders++
			made += g.insider()
		case k == 0:
			made += g.botRing(want - made)
		case k == 1:
			made += g.macro(want - made)
		case k == 2:
			made += g.ring(want - made)
		case k == 3:
			made += g.farm(want - made)
		case k == 4:
			made += g.fakeFarm(want - made)
		case k == 5:
			made += g.handoffRing(want - made)
		case k == 6:
			made += g.lowSlow()
		case k == 7:
			made += g.hoarders(want - made)
		case k == 8:
			made += g.watchers(want - made)
		}
	}
}

func (g *gen) scalper(kind string) *account {
	a := g.newAccount(kind, g.start.Add(-g.dur(24*time.Hour, 40*24*time.Hour)))
	g.labels.Scalpers[a.id] = kind
	g.scalperAccts = append(g.scalperAccts, a)
	return a
}

// share lets up to three accounts use each phone, as the quota allows.
func share(g *gen, accts []*account) {
	var phone string
	for i, a := range accts {
		if i%3 == 0 {
			phone = g.phoneHash()
		}
		a.phone = phone
	}
}

func (g *gen) releasedOn(d int, expert bool) *session { return g.sessionOn(d+releaseLead, expert) }

// releaseDays picks n distinct release days of the trace.
func (g *gen) releaseDays(lo, hi int) []int {
	return g.r.Perm(g.p.Days)[:g.between(min(lo, g.p.Days), min(hi, g.p.Days))]
}

// buyer is a patient who paid a scalper for a slot: an ordinary family's
// account books it for one of its people when the seller lets go.
func (g *gen) buyer() *request {
	a := pick(g, g.families[:g.p.Families])
	if g.labels.FamilyKinds[a.id] == "" {
		g.labels.FamilyKinds[a.id] = "buyer"
	}
	return &request{acct: a, m: pick(g, a.members)}
}

// sellPlan is what a seller does with the slots it holds: hands a share to
// buyers (cancels at an agreed second, the buyer books it seconds later),
// cancels the unsold ones before the deadline (at cleanup, if set: all of a
// day's at once), lets some lapse, and the rest a relative uses. Of the
// slots that lapse, a share (desk) were sold as they stood, booked under a
// name that is not the buyer's: the buyer comes to the desk with their own
// card and is turned away.
type sellPlan struct {
	hand, unsold, lapse float64
	desk                float64
	cleanup             func(s *session) time.Time
}

func (g *gen) sell(p sellPlan) func(s *session, b *bookingRec) *step {
	return func(s *session, b *bookingRec) *step {
		deadline := g.day(s.visit - 1).Add(15 * time.Hour)
		x := g.r.Float64()
		if x < p.hand {
			latest := s.start.Sub(b.at) - 3*time.Hour
			if latest > 2*time.Hour {
				at := b.at.Add(g.dur(2*time.Hour, latest)).Truncate(time.Minute).Add(g.dur(0, 2*time.Second))
				b.req.handoff = &handoffPlan{cancelAt: at, gap: g.dur(800*time.Millisecond, 40*time.Second), to: g.buyer()}
				return &step{at: at, kind: kCancel, bk: b}
			}
		}
		switch {
		case x < p.hand+p.unsold:
			t := deadline.Add(-g.dur(5*time.Minute, 3*time.Hour))
			if p.cleanup != nil {
				t = p.cleanup(s)
			}
			if t.After(b.at) {
				return &step{at: t, kind: kCancel, bk: b}
			}
			g.noShow(s, b)
		case x < p.hand+p.unsold+p.lapse:
			if g.chance(p.desk) {
				who := g.buyer().m
				g.turnedAway(s, b, who, false)
				if g.chance(0.25) { // and asks the clerk to try again
					g.turnedAway(s, b, who, false)
				}
			}
			g.noShow(s, b)
		default:
			g.checkIn(s, b)
		}
		return nil
	}
}

// botRing: accounts that fire at release. Most are faster than any person;
// some are slowed down to look human and make up for it in numbers. They
// hammer the button before release and a sold-out session after it.
func (g *gen) botRing(room int) int {
	size := min(room, g.between(1, 6))
	fast := g.chance(0.7)
	rotate := g.chance(0.5)
	devMode, ipMode := weighted(g, []float64{0.45, 0.25, 0.3}), weighted(g, []float64{0.55, 0.3, 0.15})
	var ringDevices, ringIPs []string
	for range g.between(1, 2) {
		ringDevices = append(ringDevices, g.uuid())
		ringIPs = append(ringIPs, g.ip())
	}
	var accts []*account
	for range size {
		a := g.scalper("bot")
		switch devMode {
		case 0:
			a.devices = ringDevices
		case 2:
			a.devices = []string{g.uuid()}
		}
		switch ipMode {
		case 0:
			a.ips = ringIPs
		case 1:
			a.mobile = true
		case 2:
			a.rotateIP = true
		}
		a.pCancel, a.pNoShow, a.pLate = g.uniform(0.1, 0.25), g.uniform(0.05, 0.2), 0.5
		accts = append(accts, a)
	}
	if g.chance(0.4) {
		share(g, accts)
	}
	hammer := g.chance(0.6)
	for _, a := range accts {
		g.create(a)
		for range g.between(2, 5) {
			g.addMember(a, g.newPerson(), a.created.Add(g.dur(time.Minute, time.Hour)))
		}
		for _, d := range g.releaseDays(4, 10) {
			release := g.day(d).Add(8 * time.Hour)
			g.login(a, release.Add(-g.dur(5*time.Second, 2*time.Minute)))
			if fast && g.chance(0.4) {
				for range g.between(1, 6) {
					ip, dev := g.origin(a)
					g.emit(booking.Event{TS: release.Add(g.dur(0, 2*time.Second)), Type: booking.EventRateLimited,
						AccountID: a.id, IP: ip, DeviceID: dev, Reason: "rate_limited"})
				}
			}
			reaction := g.dur(20*time.Millisecond, 280*time.Millisecond)
			if !fast {
				reaction = g.dur(300*time.Millisecond, 1100*time.Millisecond)
			}
			for range weighted(g, []float64{0.75, 0.25}) + 1 {
				s := g.releasedOn(d, !g.chance(0.1))
				if s == nil {
					continue
				}
				for range weighted(g, []float64{0.5, 0.35, 0.15}) + 1 {
					m := pick(g, a.members)
					if rotate && g.chance(0.6) {
						// A buyer's ID, sent in the night before.
						m = g.addMember(a, g.newPerson(), release.Add(-g.dur(time.Hour, 20*time.Hour)))
					}
					r := &request{at: release.Add(reaction), acct: a, m: m}
					if hammer {
						r.retry = &retryPlan{left: g.between(5, 40), lo: 30 * time.Millisecond, hi: 250 * time.Millisecond, limited: 0.3}
						if !fast {
							r.retry.lo, r.retry.hi = 300*time.Millisecond, 900*time.Millisecond
						}
						g.clicks(s, r, g.between(3, 15), func() time.Duration { return r.retry.gap(g) })
					}
					s.reqs = append(s.reqs, r)
					if fast {
						reaction += g.dur(5*time.Millisecond, 120*time.Millisecond)
					} else {
						reaction += g.dur(150*time.Millisecond, 900*time.Millisecond)
					}
				}
			}
		}
	}
	return size
}

// macro: key-macro bots (按键精灵, Shenyang 2024): a phone or PC replays the
// taps of refresh, pick, confirm every ~0.35 s, so a booking attempt goes
// out every three or four taps, with the regularity of a timer; before
// release it is refused, after release it books at the first attempt (under
// a second, often), and on a sold-out session it keeps going.
func (g *gen) macro(room int) int {
	size := min(room, g.between(1, 3))
	for range size {
		a := g.scalper("macro")
		a.devices, a.ips, a.mobile = []string{g.uuid()}, []string{g.ip()}, g.chance(0.6)
		a.pCancel, a.pNoShow, a.pLate = g.uniform(0.05, 0.2), g.uniform(0.05, 0.15), 0.3
		g.create(a)
		for range g.between(2, 4) {
			g.addMember(a, g.newPerson(), a.created.Add(g.dur(time.Minute, time.Hour)))
		}
		tap := g.dur(320*time.Millisecond, 380*time.Millisecond)
		taps := time.Duration(g.between(3, 4))
		loop, jitter := taps*tap, g.dur(5*time.Millisecond, 30*time.Millisecond)
		rotate := g.chance(0.4)
		for _, d := range g.releaseDays(5, 14) {
			release := g.day(d).Add(8 * time.Hour)
			s := g.releasedOn(d, !g.chance(0.15))
			if s == nil {
				continue
			}
			m := pick(g, a.members)
			if rotate && g.chance(0.6) {
				m = g.addMember(a, g.newPerson(), release.Add(-g.dur(time.Hour, 20*time.Hour)))
			}
			r := &request{at: release.Add(g.dur(0, loop)), acct: a, m: m,
				retry: &retryPlan{left: g.between(8, 40), cadence: loop, jitter: jitter, limited: 0}}
			g.clicks(s, r, g.between(4, 25), func() time.Duration { return r.retry.gap(g) })
			s.reqs = append(s.reqs, r)
		}
	}
	return size
}

// ring: accounts that change phone and address every day (a fresh device id
// and a fresh IP), slowed down to human-looking speed, booking experts at
// release for buyers' IDs sent the night before.
func (g *gen) ring(room int) int {
	size := min(room, g.between(3, 6))
	var accts []*account
	for range size {
		a := g.scalper("ring")
		a.pCancel, a.pNoShow, a.pLate = g.uniform(0.05, 0.15), g.uniform(0.05, 0.15), 0.3
		a.devices, a.ips = []string{g.uuid()}, []string{g.ip()}
		accts = append(accts, a)
	}
	if g.chance(0.5) {
		share(g, accts)
	}
	days := g.releaseDays(6, 14)
	for _, a := range accts {
		g.create(a)
		for range g.between(1, 2) {
			g.addMember(a, g.newPerson(), a.created.Add(g.dur(time.Minute, time.Hour)))
		}
		for _, d := range days {
			if !g.chance(0.8) {
				continue
			}
			release := g.day(d).Add(8 * time.Hour)
			from := &[2]string{g.ip(), g.uuid()}
			ip, dev := from[0], from[1]
			g.emit(booking.Event{TS: release.Add(-g.dur(10*time.Second, 3*time.Minute)), Type: booking.EventLogin,
				AccountID: a.id, Phone: a.phone, IP: ip, DeviceID: dev})
			s := g.releasedOn(d, !g.chance(0.1))
			if s == nil {
				continue
			}
			m := pick(g, a.members)
			if g.chance(0.7) {
				m = g.addMember(a, g.newPerson(), release.Add(-g.dur(time.Hour, 20*time.Hour)))
			}
			r := &request{at: release.Add(g.dur(350*time.Millisecond, 1300*time.Millisecond)), acct: a, m: m, from: from,
				retry: &retryPlan{left: g.between(3, 20), lo: 200 * time.Millisecond, hi: 800 * time.Millisecond}}
			s.reqs = append(s.reqs, r)
		}
	}
	return size
}

// farm: many real IDs from a few accounts that share devices, phones and
// IPs. Its people book like people, but mostly the famous experts.
func (g *gen) farm(room int) int {
	small := g.chance(0.25)
	size, persons := g.between(2, 5), g.between(10, 35)
	devices := 1 + g.r.IntN(2)
	if small {
		size, persons, devices = 2, g.between(7, 10), 1
	}
	size = min(size, room)
	var ds, ips []string
	for range devices {
		ds = append(ds, g.uuid())
		ips = append(ips, g.ip())
	}
	var accts []*account
	for range size {
		a := g.scalper("farm")
		a.devices, a.ips, a.mobile, a.noDevice = ds, ips, g.chance(0.5), 0.15
		a.pCancel, a.pNoShow, a.pLate = g.uniform(0.05, 0.15), g.uniform(0.05, 0.2), 0.3
		accts = append(accts, a)
	}
	share(g, accts)
	for _, a := range accts {
		g.create(a)
	}
	// IDs come in batches, a few a week; some are put on two of the
	// farm's accounts.
	per := max(1, persons/(len(accts)*3))
	for i := range persons {
		a := accts[i%len(accts)]
		batch := (i / len(accts)) / per
		t := g.start.Add(time.Duration(batch)*7*24*time.Hour - g.dur(0, 7*24*time.Hour))
		p := g.addMember(a, g.newPerson(), t)
		if len(accts) > 1 && g.chance(0.3) {
			b := accts[(i+1)%len(accts)]
			g.addMember(b, p, t.Add(g.dur(time.Minute, 3*time.Hour)))
		}
	}
	expertShare := g.uniform(0.6, 0.9)
	for _, a := range accts {
		for range g.between(10, 25) {
			s := g.sessionOn(g.visitDay(), g.chance(expertShare))
			if s == nil {
				continue
			}
			r := &request{acct: a, m: pick(g, a.members)}
			if g.chance(0.5) {
				r.at = s.release.Add(g.dur(time.Second, 10*time.Second))
			} else {
				r.at = s.release.Add(g.dur(time.Minute, 12*time.Hour))
			}
			s.reqs = append(s.reqs, r)
		}
	}
	return size
}

// fakeFarm: fake ID numbers with valid check digits, three to five on each
// of many accounts, each account on a phone and a home address of its own,
// at human speed. Nobody can come with a fake ID: every slot is handed to a
// buyer, cancelled unsold or left to lapse — half of those that lapse sold
// as they stood, the buyer turned away at the desk.
//
// Half the farms are spread thin, as the second reviewer saw them:
// more accounts with two to four IDs each, each racing at a few releases
// only, so that no account has much to show on its own.
func (g *gen) fakeFarm(room int) int {
	size := min(room, g.between(4, 10))
	ids, days := [2]int{3, 5}, [2]int{8, 20}
	if g.chance(0.5) {
		size = min(room, g.between(6, 12))
		ids, days = [2]int{2, 4}, [2]int{3, 7}
	}
	plan := sellPlan{hand: g.uniform(0.2, 0.5), unsold: 0.45, lapse: 1, desk: 0.5}
	for range size {
		a := g.scalper("fake_farm")
		a.devices, a.ips, a.mobile = []string{g.uuid()}, []string{g.ip()}, false
		g.create(a)
		for range g.between(ids[0], ids[1]) {
			g.addMember(a, g.newPerson(), a.created.Add(g.dur(time.Minute, 3*24*time.Hour)))
		}
		// At release for the experts on most days; and whatever slot is
		// left later on: it sells what it gets.
		for _, d := range g.releaseDays(days[0], days[1]) {
			s := g.releasedOn(d, g.chance(0.85))
			if s == nil {
				continue
			}
			r := &request{acct: a, m: pick(g, a.members), then: g.sell(plan),
				retry: &retryPlan{left: g.between(0, 3), lo: 2 * time.Second, hi: 15 * time.Second}}
			r.at = s.release.Add(g.humanReaction())
			if g.chance(0.35) {
				s = g.sessionOn(g.visitDay(), g.chance(0.5))
				if s == nil {
					continue
				}
				r.at = s.release.Add(g.dur(time.Minute, 30*time.Hour))
			}
			s.reqs = append(s.reqs, r)
		}
	}
	return size
}

// handoffRing: a giver books with a placeholder identity and, at the agreed
// second, cancels while the accomplice (or the giver, with the buyer's ID)
// books the slot again.
func (g *gen) handoffRing(room int) int {
	self := g.chance(0.3)
	givers, receivers := 1, 0
	if g.chance(0.3) {
		givers = 2
	}
	if !self {
		receivers = 1
		if g.chance(0.3) {
			receivers = 2
		}
	}
	for givers+receivers > room && receivers > 0 {
		receivers--
	}
	self = self || receivers == 0
	givers = min(givers, room)
	var gs, rs []*account
	sharedDevice := g.uuid()
	for i := range givers + receivers {
		a := g.scalper("handoff")
		a.devices, a.ips, a.mobile = []string{g.uuid()}, []string{g.ip()}, g.chance(0.5)
		if i >= givers && g.chance(0.4) {
			a.devices = []string{sharedDevice}
			gs[0].devices = append(gs[0].devices, sharedDevice)
		}
		a.pCancel, a.pNoShow, a.pLate = g.uniform(0.03, 0.1), g.uniform(0.02, 0.08), 0.2
		g.create(a)
		for range g.between(2, 4) {
			g.addMember(a, g.newPerson(), a.created.Add(g.dur(time.Minute, time.Hour)))
		}
		if i < givers {
			gs = append(gs, a)
		} else {
			rs = append(rs, a)
		}
	}
	fast := g.chance(0.4)
	for _, giver := range gs {
		for range g.between(2, 6) {
			s := g.releasedOn(g.r.IntN(g.p.Days), !g.chance(0.1))
			if s == nil {
				continue
			}
			at := s.release.Add(g.humanReaction())
			if fast {
				at = s.release.Add(g.dur(30*time.Millisecond, 280*time.Millisecond))
			}
			to := giver
			if !self {
				to = pick(g, rs)
			}
			// The agreed second: some day before the visit, on the minute.
			cancelAt := at.Add(g.dur(2*time.Hour, s.start.Sub(at)-3*time.Hour)).Truncate(time.Minute).
				Add(g.dur(0, 500*time.Millisecond))
			buyer := g.addMember(to, g.newPerson(), cancelAt.Add(-g.dur(10*time.Minute, 20*time.Hour)))
			r := &request{at: at, acct: giver, m: pick(g, giver.members[:2]), sure: true,
				handoff: &handoffPlan{cancelAt: cancelAt, gap: g.dur(300*time.Millisecond, 12*time.Second),
					to: &request{acct: to, m: buyer}}}
			s.reqs = append(s.reqs, r)
		}
		// And some bookings of their own, like anybody's.
		for _, a := range append([]*account{giver}, rs...) {
			for range g.between(1, 3) {
				if s := g.sessionOn(g.visitDay(), false); s != nil {
					g.request(s, a, pick(g, a.members), 0.3)
				}
			}
		}
	}
	return givers + receivers
}

// lowSlow: one account with two to four people that books the scarcest
// expert at (nearly) every release, at human speed, and sells 30–60% of the
// slots: cancelled at the agreed second for the buyer, who books it from
// their own account. What it cannot sell it cancels before the deadline or
// lets lapse; half of what lapses it sold as it stood, under one of its
// people's names, and the buyer is turned away at the desk.
func (g *gen) lowSlow() int {
	a := g.scalper("low_slow")
	a.devices, a.ips, a.mobile = []string{g.uuid()}, []string{g.ip()}, g.chance(0.5)
	g.create(a)
	for range g.between(2, 4) {
		g.addMember(a, g.newPerson(), a.created.Add(g.dur(time.Minute, time.Hour)))
	}
	// The expert with the most sessions, or another expert of its choice.
	var experts []string
	count := map[string]int{}
	for _, s := range g.sessions {
		if s.expert {
			if count[s.doctor] == 0 {
				experts = append(experts, s.doctor)
			}
			count[s.doctor]++
		}
	}
	doctor := pick(g, experts)
	if g.chance(0.5) {
		for _, d := range experts {
			if count[d] > count[doctor] {
				doctor = d
			}
		}
	}
	plan := sellPlan{hand: g.uniform(0.3, 0.6), unsold: 0.55, lapse: 0.3, desk: 0.5}
	for v := releaseLead; v < releaseLead+g.p.Days; v++ {
		s := g.doctorOn(v, doctor)
		if s == nil || !g.chance(0.85) {
			continue
		}
		r := &request{acct: a, m: pick(g, a.members), at: s.release.Add(g.humanReaction()), then: g.sell(plan),
			retry: &retryPlan{left: g.between(0, 2), lo: 2 * time.Second, hi: 12 * time.Second}}
		s.reqs = append(s.reqs, r)
	}
	return 1
}

// hoarders book far more than they use: every day a few sessions for the
// next week, for up to five people. What they do not sell lapses, or is
// cancelled in one go just before the no-penalty deadline.
func (g *gen) hoarders(room int) int {
	size := min(room, 1)
	if room > 1 && g.chance(0.3) {
		size = 2
	}
	device := g.uuid()
	bulk := g.chance(0.6)
	for range size {
		a := g.scalper("hoarder")
		a.devices, a.ips, a.mobile = []string{device}, []string{g.ip()}, g.chance(0.5)
		g.create(a)
		for range g.between(3, 5) {
			g.addMember(a, g.newPerson(), a.created.Add(g.dur(time.Minute, time.Hour)))
		}
		// The day's clean-up, some minutes before 15:00 the day before.
		cleanup := map[int]time.Time{}
		plan := sellPlan{hand: 0, unsold: 0.9, lapse: 1}
		if bulk {
			plan.cleanup = func(s *session) time.Time {
				t, ok := cleanup[s.visit]
				if !ok {
					t = g.day(s.visit - 1).Add(15*time.Hour - g.dur(10*time.Minute, 90*time.Minute))
					cleanup[s.visit] = t
				}
				return t.Add(g.dur(0, 3*time.Minute))
			}
		} else {
			plan.unsold = g.uniform(0.1, 0.3)
		}
		use := g.uniform(0.15, 0.4) // what the buyers of the moment take up
		for range g.between(25, 50) {
			s := g.sessionOn(g.visitDay(), g.chance(0.4))
			if s == nil {
				continue
			}
			r := &request{acct: a, m: pick(g, a.members), at: s.release.Add(g.dur(time.Minute, 20*time.Hour))}
			if s.expert && g.chance(0.5) {
				r.at = s.release.Add(g.humanReaction())
			}
			if !g.chance(use) {
				r.then = g.sell(plan)
			}
			s.reqs = append(s.reqs, r)
		}
	}
	return size
}

// watchers poll the sold-out sessions of a few experts every few seconds
// (守号) and take a slot the moment somebody's cancellation brings it back,
// for a buyer's ID sent the night before.
func (g *gen) watchers(room int) int {
	size := min(room, g.between(1, 2))
	var targets []*session
	doctors := map[string]bool{}
	for _, s := range g.sessions {
		if s.expert && s.h.instant && (len(doctors) < 6 || doctors[s.doctor]) && g.chance(0.7) {
			doctors[s.doctor] = true
			targets = append(targets, s)
		}
	}
	for range size {
		a := g.scalper("watcher")
		a.devices, a.ips, a.mobile = []string{g.uuid()}, []string{g.ip()}, g.chance(0.5)
		a.pCancel, a.pNoShow, a.pLate = 0.05, 0.08, 0.2
		g.create(a)
		for range g.between(1, 3) {
			g.addMember(a, g.newPerson(), a.created.Add(g.dur(time.Minute, time.Hour)))
		}
		for _, s := range targets {
			s.watchers = append(s.watchers, a)
		}
		// Polling, for a few minutes at a time.
		every := g.dur(3*time.Second, 10*time.Second)
		for d := range g.p.Days {
			if !g.chance(0.6) || len(targets) == 0 {
				continue
			}
			for range g.between(1, 2) {
				s := pick(g, targets)
				t := g.day(d).Add(g.dur(9*time.Hour, 22*time.Hour))
				if !t.After(s.release) || !t.Before(s.start) {
					continue
				}
				r := &request{acct: a, m: pick(g, a.members)}
				for end := t.Add(g.dur(4*time.Minute, 10*time.Minute)); t.Before(end); t = t.Add(every + g.dur(-every/5, every/5)) {
					g.refuse(s, r, t, "sold_out")
				}
			}
		}
	}
	return size
}

// grab is watcher w's request for a slot of s that came back.
func (g *gen) grab(w *account, s *session) *request {
	m := pick(g, w.members)
	if g.chance(0.6) {
		m = g.addMember(w, g.newPerson(), s.release.Add(g.dur(time.Hour, 20*time.Hour)))
	}
	return &request{acct: w, m: m}
}

// insider: a clerk who works the desk like the others, and now and then
// reissues a returned slot, adds an extra slot or books a walk-in for the
// same few people. Sometimes those people are an account's patients.
func (g *gen) insider() int {
	h := pick(g, g.hospitals)
	clerk := g.uuid()
	h.clerks = append(h.clerks, clerk)
	g.labels.Scalpers[clerk] = "insider"
	made := 1
	var favoured []*member
	for range g.between(3, 5) {
		favoured = append(favoured, g.newPerson())
	}
	if g.chance(0.4) {
		a := g.scalper("insider")
		a.devices, a.ips, a.mobile = []string{g.uuid()}, []string{g.ip()}, true
		a.pCancel, a.pNoShow = 0.05, 0.05
		g.create(a)
		for i, p := range favoured[:min(5, len(favoured))] {
			favoured[i] = g.addMember(a, p, a.created.Add(g.dur(time.Minute, time.Hour)))
		}
		g.families = append(g.families, a) // its people also walk up for returned slots
		made++
	}
	var expertSessions []*session
	for _, s := range g.sessions {
		if s.h == h && s.expert {
			expertSessions = append(expertSessions, s)
		}
	}
	if len(expertSessions) == 0 {
		return made
	}
	for range g.between(12, 30) {
		s := pick(g, expertSessions)
		m := pick(g, favoured)
		t := s.start.Add(g.dur(10*time.Minute, 2*time.Hour))
		switch weighted(g, []float64{0.45, 0.25, 0.3}) {
		case 0: // a no-show's slot, reissued to a favourite
			orig := pick(g, g.walkins)
			e := booking.Event{TS: t, Type: booking.EventNoShow, SessionID: s.id, HospitalID: s.h.id,
				DepartmentID: s.dept, DoctorID: s.doctor, Channel: booking.ChannelOnsite, StaffID: clerk,
				IdentityID: orig.identity, BookingID: g.uuid(), IP: h.deskIP, DeviceID: pick(g, h.deskPCs),
				Reason: "reissued at the desk"}
			g.emit(e)
			e.Type, e.Reason = booking.EventReissued, "no-show; patient waiting"
			g.emit(e)
		case 1:
			g.extraSlot(s, clerk, t)
		}
		g.walkIn(s, clerk, m, t.Add(g.dur(time.Minute, 8*time.Minute)))
	}
	return made
}

func (g *gen) extraSlot(s *session, clerk string, t time.Time) {
	g.emit(booking.Event{TS: t, Type: booking.EventReissued, SessionID: s.id, HospitalID: s.h.id,
		DepartmentID: s.dept, DoctorID: s.doctor, Channel: booking.ChannelOnsite, StaffID: clerk,
		IP: s.h.deskIP, DeviceID: pick(g, s.h.deskPCs),
		Reason: fmt.Sprintf("extra_slots:1; urgent case; authorised by %s", s.doctor)})
}
