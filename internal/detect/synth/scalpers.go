package synth

import (
	"fmt"
	"math"
	"slices"
	"time"

	"fairslot/internal/booking"
)

// scalpers adds scalper groups until they hold ScalperShare of all accounts.
func (g *gen) scalpers() {
	want := int(math.Ceil(g.p.ScalperShare * float64(g.p.Families) / (1 - g.p.ScalperShare)))
	insiders := 0
	maxInsiders := max(1, min(3, want/40))
	for made := 0; made < want; {
		switch k := weighted(g, []float64{0.32, 0.26, 0.22, 0.14, 0.06}); {
		case k == 4 && insiders < maxInsiders:
			insiders++
			made += g.insider()
		case k == 0:
			made += g.botRing(want - made)
		case k == 1:
			made += g.farm(want - made)
		case k == 2:
			made += g.handoffRing(want - made)
		case k == 3:
			made += g.hoarders(want - made)
		}
	}
}

func (g *gen) scalper(kind string) *account {
	a := g.newAccount(kind, g.start.Add(-g.dur(24*time.Hour, 40*24*time.Hour)))
	g.labels.Scalpers[a.id] = kind
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

// botRing: accounts that fire at release. Most are faster than any person;
// some are slowed down to look human and make up for it in numbers.
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
	for _, a := range accts {
		g.create(a)
		for range g.between(2, 5) {
			g.addMember(a, g.newPerson(), a.created.Add(g.dur(time.Minute, time.Hour)))
		}
		days := g.r.Perm(g.p.Days)[:g.between(min(4, g.p.Days), min(10, g.p.Days))]
		for _, d := range days {
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
					s.reqs = append(s.reqs, &request{at: release.Add(reaction), acct: a, m: m})
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

// hoarders book far more than they use and let the rest lapse or cancel it
// late, in batches.
func (g *gen) hoarders(room int) int {
	size := min(room, 1)
	if room > 1 && g.chance(0.3) {
		size = 2
	}
	device := g.uuid()
	for range size {
		a := g.scalper("hoarder")
		a.devices, a.ips, a.mobile = []string{device}, []string{g.ip()}, g.chance(0.5)
		a.pCancel, a.pNoShow, a.pLate = g.uniform(0.25, 0.4), g.uniform(0.25, 0.5), 0.6
		for range 2 {
			a.cleanups = append(a.cleanups, g.day(g.visitDay()-g.between(1, 3)).Add(g.dur(20*time.Hour, 23*time.Hour)))
		}
		slices.SortFunc(a.cleanups, func(x, y time.Time) int { return x.Compare(y) })
		g.create(a)
		for range g.between(3, 5) {
			g.addMember(a, g.newPerson(), a.created.Add(g.dur(time.Minute, time.Hour)))
		}
		for range g.between(20, 50) {
			if s := g.sessionOn(g.visitDay(), g.chance(0.2)); s != nil {
				g.request(s, a, pick(g, a.members), 0.25)
			}
		}
	}
	return size
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
