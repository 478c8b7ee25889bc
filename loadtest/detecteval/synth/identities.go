package synth

import (
	"math/rand/v2"
	"time"

	"fairslot/internal/booking"
)

// Other people's ID numbers (docs/detection.md, "Other people's
// identities"): what the service refuses and what the people ID numbers
// belong to do about it.
//
//   - Identity farms (farm) work from bought lists of real people: some of
//     the numbers are already the self of the person's own account, or
//     their name is verified otherwise, so adding them is refused
//     (identity_taken, identity_unverified); a list is dirty in places, so
//     most accounts meet one or two, some more, and past three in a day the
//     service answers identity_claims_limited.
//   - Squatters (squatter, a tactic of its own) put real people's numbers on
//     their accounts as family members — people who have accounts of their
//     own — and book the famous experts for them at release, at human
//     speed, to sell. A person who tries to book the
//     same session is refused for what another account made (their
//     verified self hears made_by_other_account, anyone else
//     person_booked_elsewhere); if the desk has verified them, they see it
//     under 他人为您办理, cancel it from their own account
//     (cancelled_by_person) and book for themself. What nobody ended, the
//     squatter hands to a buyer or lets lapse.
//   - Genuine: a family member who mistypes a relative's name once
//     (typo); a person whose older account already holds their self opening
//     a new one, refused once, sometimes with a typo besides — two numbers,
//     an honest account's worst (second_account); a son or daughter who
//     books for one or two parents with accounts of their own, who cancel it
//     themselves (kin_booker); and the squatters' victims (victim).
//
// It runs after everything else on a generator of its own, so the rest of
// a seed's trace is the trace it was before.
func (g *gen) identities() {
	saved := g.r
	g.r = rand.New(rand.NewPCG(g.p.Seed, 0x1d3e7171e5))
	defer func() { g.r = saved }()
	families := g.families[:g.p.Families]
	kind := func(a *account, k string) {
		if g.labels.FamilyKinds[a.id] == "" {
			g.labels.FamilyKinds[a.id] = k
		}
	}
	holder := func() *account { return pick(g, families) } // a person who is their own account's self (members[0])

	for _, a := range g.scalperAccts {
		if a.kind == "farm" && g.chance(0.6) {
			g.claims(a, weighted(g, []float64{0.3, 0.25, 0.2, 0.15, 0.1})+1, a.created.Add(g.dur(time.Hour, 20*24*time.Hour)))
		}
	}
	for range max(1, g.p.Families/700) {
		g.squatters(holder, kind)
	}
	for _, a := range families {
		switch x := g.r.Float64(); {
		case x < 0.03: // a typo in a relative's name, once
			kind(a, "typo")
			g.claimRefused(a, pick(g, a.members).identity, "identity_unverified", a.created.Add(g.dur(time.Minute, 2*time.Hour)))
		case x < 0.04: // the person's older account holds their self
			g.secondAccount(a)
		case x < 0.055: // books for parents with accounts of their own, who cancel it
			kind(a, "kin_booker")
			for range weighted(g, []float64{0.7, 0.3}) + 1 {
				g.forKin(a, holder())
			}
		}
	}
}

// claimRefused writes an add of a patient to a refused for identity.
func (g *gen) claimRefused(a *account, identity, reason string, at time.Time) {
	ip, dev := g.origin(a)
	g.emit(booking.Event{TS: at, Type: booking.EventRejected, AccountID: a.id, IdentityID: identity, Reason: reason, IP: ip, DeviceID: dev})
}

// claims: account a meets n numbers of its list that are other people's,
// over a few days from first; past three refusals in a day, the rest of
// the day's adds are turned away (identity_claims_limited).
func (g *gen) claims(a *account, n int, first time.Time) {
	perDay := map[int]int{}
	t := first
	for range n {
		d := int(t.Sub(g.start) / (24 * time.Hour))
		reason := "identity_unverified"
		if g.chance(0.5) {
			reason = "identity_taken"
		}
		if perDay[d] >= 3 {
			ip, dev := g.origin(a)
			g.emit(booking.Event{TS: t, Type: booking.EventRejected, AccountID: a.id, Reason: "identity_claims_limited", IP: ip, DeviceID: dev})
		} else {
			perDay[d]++
			g.claimRefused(a, g.newPerson().identity, reason, t)
		}
		t = t.Add(g.dur(time.Minute, 36*time.Hour))
	}
}

// squatters: an operation of one to three accounts, each on its own phone
// and home line, each putting three to five real people on it (the quota) and booking
// the famous experts for them at release.
func (g *gen) squatters(holder func() *account, kind func(*account, string)) {
	for range g.between(1, 3) {
		a := g.scalper("squatter")
		a.devices, a.ips = []string{g.uuid()}, []string{g.ip()}
		g.create(a)
		if g.chance(0.5) {
			g.claims(a, g.between(1, 4), a.created.Add(g.dur(time.Hour, 48*time.Hour)))
		}
		for range g.between(3, 5) { // five patients to an account, the service's quota (its own self is none of them)
			victim := holder()
			if len(victim.members) == 0 {
				continue
			}
			d := g.between(3, g.p.Days-1)
			s := g.releasedOn(d, true)
			if s == nil {
				continue
			}
			m := g.addMember(a, victim.members[0], s.release.Add(-g.dur(24*time.Hour, 10*24*time.Hour)))
			r := &request{acct: a, m: m}
			b := &bookingRec{id: g.uuid(), req: r, at: s.release.Add(g.humanReaction())}
			g.bookEvent(s, r, b.id, b.at)
			x := g.r.Float64()
			if x < 0.5 { // the person tries to book the expert themself and is refused for it
				kind(victim, "victim")
				g.keptOut(s, victim, a, x < 0.3, b.at.Add(g.dur(time.Second, 6*time.Hour)))
			}
			switch {
			case x < 0.3: // … and, verified at the desk, sees it and cancels it
				own := &request{acct: victim, m: victim.members[0]}
				ended := b.at.Add(g.dur(6*time.Hour, 12*time.Hour))
				ip, dev := g.origin(victim)
				g.emit(booking.Event{TS: ended, Type: booking.EventCancelled, AccountID: a.id, PatientID: m.patient,
					IdentityID: m.identity, BookingID: b.id, SessionID: s.id, HospitalID: s.h.id, DepartmentID: s.dept,
					DoctorID: s.doctor, Channel: booking.ChannelOnline, Reason: "cancelled_by_person", ByAccountID: victim.id,
					IP: ip, DeviceID: dev})
				rebook := &bookingRec{id: g.uuid(), req: own, at: ended.Add(g.dur(2*time.Second, 60*time.Second))}
				g.bookEvent(s, own, rebook.id, rebook.at)
				g.checkIn(s, rebook)
			case g.chance(0.5): // … or not: sold, cancelled at the agreed second while the buyer books
				at := b.at.Add(g.dur(12*time.Hour, 48*time.Hour))
				g.cancel(s, b, at)
				to := g.buyer()
				sold := &bookingRec{id: g.uuid(), req: to, at: at.Add(g.dur(800*time.Millisecond, 40*time.Second))}
				g.bookEvent(s, to, sold.id, sold.at)
				g.checkIn(s, sold)
			default: // unsold, left to lapse
			}
		}
	}
}

// keptOut: the person, from their own account (victim's self), tries to
// book s from at, once or twice, and is refused for what maker made for
// them. As the service answers (booking/byothers.go): their verified self
// hears already_booked, made_by_other_account, and the event names the
// maker (by_account_id); unverified, they hear person_booked_elsewhere,
// like anyone else, the event with no mark and nobody named, and can do
// no more.
func (g *gen) keptOut(s *session, victim, maker *account, verified bool, at time.Time) {
	me := victim.members[0]
	reason, byOthers, by := "person_booked_elsewhere", false, ""
	if verified {
		reason, byOthers, by = "already_booked", true, maker.id
	}
	for i := range g.between(1, 2) {
		ip, dev := g.origin(victim)
		g.emit(booking.Event{TS: at.Add(time.Duration(i) * g.dur(5*time.Second, time.Minute)), Type: booking.EventRejected,
			AccountID: victim.id, PatientID: me.patient, IdentityID: me.identity, SessionID: s.id, HospitalID: s.h.id,
			DepartmentID: s.dept, DoctorID: s.doctor, Channel: booking.ChannelOnline, ReleaseAt: s.release,
			Reason: reason, MadeByOtherAccount: byOthers, ByAccountID: by, IP: ip, DeviceID: dev})
	}
}

// bookEvent writes a self-service booking of s by r's account for r's
// person, outside the session's simulation.
func (g *gen) bookEvent(s *session, r *request, id string, at time.Time) {
	ip, dev := g.origin(r.acct)
	g.emit(booking.Event{TS: at, Type: booking.EventBooked, AccountID: r.acct.id, PatientID: r.m.patient,
		IdentityID: g.identity(r.m), BookingID: id, SessionID: s.id, HospitalID: s.h.id, DepartmentID: s.dept,
		DoctorID: s.doctor, Channel: booking.ChannelOnline, ReleaseAt: s.release, IP: ip, DeviceID: dev})
}

// secondAccount: the holder of family a opens a new account, is refused
// their own self (the older account holds it), sometimes mistypes a
// child's name besides, and books for the child there, who comes.
func (g *gen) secondAccount(old *account) {
	a := g.newAccount("family", g.start.Add(g.dur(0, 10*24*time.Hour)))
	a.devices, a.ips = []string{g.uuid()}, []string{g.ip()}
	g.labels.Families = append(g.labels.Families, a.id)
	g.labels.FamilyKinds[a.id] = "second_account"
	g.create(a)
	g.claimRefused(a, old.members[0].identity, "identity_taken", a.created.Add(g.dur(time.Minute, 10*time.Minute)))
	child := g.newPerson()
	if g.chance(0.4) {
		g.claimRefused(a, child.identity, "identity_unverified", a.created.Add(g.dur(10*time.Minute, time.Hour)))
	}
	m := g.addMember(a, child, a.created.Add(g.dur(time.Hour, 2*time.Hour)))
	for range g.between(1, 2) {
		s := g.sessionOn(g.between(releaseLead+10, releaseLead+g.p.Days-1), false)
		if s == nil {
			continue
		}
		r := &request{acct: a, m: m}
		b := &bookingRec{id: g.uuid(), req: r, at: s.release.Add(g.dur(time.Hour, 48*time.Hour))}
		g.bookEvent(s, r, b.id, b.at)
		g.checkIn(s, b)
	}
}

// forKin: family a books an ordinary session for a parent who has an
// account of their own (kin's holder); the parent cancels it from there.
func (g *gen) forKin(a, kin *account) {
	if kin == a || len(kin.members) == 0 || len(a.members) >= 5 { // five patients to an account
		return
	}
	s := g.sessionOn(g.visitDay(), false)
	if s == nil {
		return
	}
	m := g.addMember(a, kin.members[0], s.release.Add(-g.dur(time.Hour, 20*24*time.Hour)))
	r := &request{acct: a, m: m}
	b := &bookingRec{id: g.uuid(), req: r, at: s.release.Add(g.dur(time.Hour, 72*time.Hour))}
	g.bookEvent(s, r, b.id, b.at)
	ended := b.at.Add(g.dur(time.Hour, 72*time.Hour))
	if !ended.Before(s.start) {
		return
	}
	if g.chance(0.5) { // the parent, verified (they cancel it next), tries to book it first, not knowing
		g.keptOut(s, kin, a, true, ended.Add(-g.dur(time.Minute, time.Hour)))
	}
	ip, dev := g.origin(kin)
	g.emit(booking.Event{TS: ended, Type: booking.EventCancelled, AccountID: a.id, PatientID: m.patient,
		IdentityID: m.identity, BookingID: b.id, SessionID: s.id, HospitalID: s.h.id, DepartmentID: s.dept,
		DoctorID: s.doctor, Channel: booking.ChannelOnline, Reason: "cancelled_by_person", ByAccountID: kin.id,
		IP: ip, DeviceID: dev})
}
