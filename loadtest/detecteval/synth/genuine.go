package synth

import (
	"time"

	"fairslot/internal/booking"
)

// genuine makes the families and their requests, and the genuine people who
// look a little like scalpers: carers, kiosks, referrers.
func (g *gen) genuine() {
	for range g.p.Families {
		a := g.newAccount("family", g.start.Add(-g.dur(24*time.Hour, 90*24*time.Hour)))
		a.ips = []string{g.ip()}
		a.mobile = g.chance(0.45)
		a.wifi = 0
		if g.chance(0.25) {
			a.wifi = g.uniform(0.05, 0.3) // books from the waiting room too
		}
		switch {
		case g.chance(0.1): // an old app or the web page: no device header
		case g.chance(0.25):
			a.devices = []string{g.uuid(), g.uuid()}
		default:
			a.devices = []string{g.uuid()}
		}
		a.noDevice = 0.03
		a.pCancel = g.uniform(0.03, 0.12)
		a.pNoShow = g.uniform(0.01, 0.09)
		a.pLate = 0.2
		g.create(a)
		size := weighted(g, []float64{0.3, 0.25, 0.2, 0.15, 0.1}) + 1
		for range size {
			g.addMember(a, g.newPerson(), a.created.Add(g.dur(time.Minute, 2*time.Hour)))
		}
		g.families = append(g.families, a)
		g.labels.Families = append(g.labels.Families, a.id)
	}
	// Families that look a little like scalpers, on purpose.
	n := len(g.families)
	for i, a := range g.families {
		kind := ""
		switch r := g.r.Float64(); {
		case r < 0.05:
			kind = "release" // books an expert at release, again and again
		case r < 0.07:
			kind = "careless"
			a.pNoShow = g.uniform(0.15, 0.3)
		case r < 0.09:
			kind = "trip"
		case r < 0.13:
			kind = "chronic"
		case r < 0.16 && i+2 < n && g.labels.FamilyKinds[a.id] == "":
			kind = "household"
			g.household(a, g.families[i+1:i+2+g.r.IntN(2)])
		case r < 0.18:
			kind = "grandparent" // grandmother is a patient of two children's accounts
			b := pick(g, g.families)
			if b != a && len(b.members) < 5 {
				g.addMember(b, a.members[0], b.created.Add(g.dur(time.Hour, 48*time.Hour)))
			}
		case r < 0.21:
			kind = "fast" // quick at the keyboard on a fast network
		case r < 0.23 && len(a.members) > 1:
			kind = "wrong_member" // picks the wrong family member now and then: turned away at the desk
			a.wrongMember = g.between(1, 3)
		}
		if kind != "" && g.labels.FamilyKinds[a.id] == "" {
			g.labels.FamilyKinds[a.id] = kind
		}
		g.familyRequests(a, g.labels.FamilyKinds[a.id])
	}
	for range max(1, g.p.Families/300) {
		g.carer()
	}
	for range max(1, g.p.Families/600) {
		g.kiosk()
	}
	for range max(1, g.p.Families/1500) {
		g.referrer()
	}
}

// household: two or three accounts of one family (parents, a grown-up
// child) on one tablet and often one phone number, sharing the children.
func (g *gen) household(a *account, others []*account) {
	if len(a.devices) == 0 {
		a.devices = []string{g.uuid()}
	}
	samePhone := g.chance(0.5)
	for _, b := range others {
		if g.labels.FamilyKinds[b.id] != "" {
			continue
		}
		g.labels.FamilyKinds[b.id] = "household"
		b.devices = append(b.devices, a.devices[0])
		b.ips = a.ips
		if samePhone {
			b.phone = a.phone
		}
		for _, m := range a.members[:min(2, len(a.members))] {
			if len(b.members) < 5 {
				g.addMember(b, m, b.created.Add(g.dur(time.Hour, 48*time.Hour)))
			}
		}
	}
}

func weighted(g *gen, ws []float64) int {
	x := g.r.Float64()
	for i, w := range ws {
		if x < w {
			return i
		}
		x -= w
	}
	return len(ws) - 1
}

func (g *gen) familyRequests(a *account, kind string) {
	n := g.poisson(0.9 + 0.6*float64(len(a.members)))
	atRelease := 0.4
	switch kind {
	case "release", "fast":
		// One or two members see a famous expert every week or two, and
		// are at the keyboard at release for it.
		atRelease = 0.95
		for v := releaseLead + g.r.IntN(7); v < releaseLead+g.p.Days; v += g.between(7, 12) {
			for _, m := range a.members[:min(len(a.members), g.between(1, 2))] {
				if s := g.sessionOn(v, true); s != nil {
					g.request(s, a, m, atRelease)
				}
			}
		}
	case "chronic":
		// The same expert (or the same ordinary doctor) every week.
		m := a.members[0]
		var doctor string
		expert := g.chance(0.6)
		for v := releaseLead + g.r.IntN(7); v < releaseLead+g.p.Days; v += 7 {
			s := g.doctorOn(v, doctor)
			if s == nil {
				s = g.sessionOn(v, expert)
			}
			if s != nil {
				doctor = s.doctor
				g.request(s, a, m, atRelease)
			}
		}
	case "trip":
		n += 4
		// Everything booked for the trip's days is cancelled in one go.
		a.cleanups = []time.Time{g.day(g.visitDay() - 2).Add(g.dur(19*time.Hour, 23*time.Hour))}
		a.pCancel = 0.5
	}
	for range n {
		s := g.sessionOn(g.visitDay(), g.chance(0.22))
		if s == nil {
			continue
		}
		g.request(s, a, pick(g, a.members), atRelease)
	}
}

// doctorOn is the doctor's session on visit day v, if any.
func (g *gen) doctorOn(v int, doctor string) *session {
	if doctor == "" {
		return nil
	}
	for _, s := range g.byDay[v] {
		if s.doctor == doctor {
			return s
		}
	}
	return nil
}

// request is a family's attempt at s; its timing is human.
func (g *gen) request(s *session, a *account, m *member, atRelease float64) {
	r := &request{acct: a, m: m}
	fast := g.labels.FamilyKinds[a.id] == "fast"
	switch {
	case s.expert && g.chance(atRelease), !s.expert && g.chance(0.03):
		// One person books one thing at a time: a second booking at the
		// same release comes seconds after the first.
		r.at = s.release.Add(g.humanReaction())
		if fast {
			r.at = s.release.Add(g.dur(500*time.Millisecond, time.Second))
		}
		if last, ok := a.atRelease[s.release]; ok && !r.at.After(last.Add(3*time.Second)) {
			r.at = last.Add(g.dur(3*time.Second, 15*time.Second))
		}
		a.atRelease[s.release] = r.at
		r.wait = s.expert && g.chance(0.5)
		// Sold out: try again a few times, seconds apart, then give up or
		// join the waitlist.
		r.retry = &retryPlan{left: weighted(g, []float64{0.35, 0.3, 0.2, 0.1, 0.05}), lo: 1500 * time.Millisecond, hi: 20 * time.Second}
		if s.expert && g.chance(0.3) {
			// Clicked once or twice before the minute was up.
			g.clicks(s, r, g.between(1, 2), func() time.Duration { return g.dur(400*time.Millisecond, 3*time.Second) })
		}
	case s.expert:
		r.at = s.release.Add(g.dur(time.Minute, s.start.Sub(s.release)-2*time.Hour))
		r.wait = g.chance(0.5)
	case g.chance(0.4):
		r.at = s.release.Add(g.dur(time.Minute, 24*time.Hour))
	default:
		r.at = s.release.Add(g.dur(time.Minute, s.start.Sub(s.release)-time.Hour))
	}
	if !s.expert && g.chance(0.08) {
		r.viaPhone, r.wait, r.retry = true, false, nil
	}
	// Now and then the wrong family member was picked: cancel and rebook
	// for the right one within the minute.
	if !r.viaPhone && len(a.members) > 1 && g.chance(0.01) {
		other := a.members[0]
		if other == m {
			other = a.members[1]
		}
		r.handoff = &handoffPlan{cancelAt: r.at.Add(g.dur(10*time.Second, 60*time.Second)),
			gap: g.dur(5*time.Second, 40*time.Second), to: &request{acct: a, m: other}}
	}
	s.reqs = append(s.reqs, r)
}

// carer: a community health worker or a nursing-home carer with one account
// for 10–20 elderly residents, booking their follow-ups in one sitting on a
// weekday morning: mostly ordinary doctors, the same ones again, hardly ever
// at release; the residents come and check in.
func (g *gen) carer() {
	a := g.newAccount("family", g.start.Add(-g.dur(30*24*time.Hour, 200*24*time.Hour)))
	a.devices, a.ips = []string{g.uuid()}, []string{g.ip()}
	a.pCancel, a.pNoShow, a.pLate = 0.05, 0.03, 0.2
	g.create(a)
	for range g.between(10, 20) {
		g.addMember(a, g.newPerson(), a.created.Add(g.dur(time.Minute, 20*24*time.Hour)))
	}
	g.families = append(g.families, a)
	g.labels.Families = append(g.labels.Families, a.id)
	g.labels.FamilyKinds[a.id] = "carer"
	doctor := map[*member]string{}
	for week := 0; week*7 < g.p.Days; week++ {
		sitting := g.day(week*7 + g.r.IntN(5)).Add(g.dur(9*time.Hour, 11*time.Hour))
		for _, m := range a.members {
			if !g.chance(0.45) {
				continue
			}
			v := week*7 + releaseLead + g.between(0, 6)
			if v >= releaseLead+g.p.Days {
				continue
			}
			s := g.doctorOn(v, doctor[m])
			if s == nil {
				s = g.sessionOn(v, g.chance(0.12))
			}
			if s == nil {
				continue
			}
			doctor[m] = s.doctor
			r := &request{acct: a, m: m, at: sitting}
			if r.at.Before(s.release) {
				r.at = s.release.Add(g.dur(time.Hour, 30*time.Hour))
			}
			sitting = sitting.Add(g.dur(40*time.Second, 4*time.Minute))
			s.reqs = append(s.reqs, r)
		}
	}
}

// kiosk: a self-service machine in a community centre where 5–12 elderly
// people, each with an account of their own for one or two persons, book
// with a volunteer's help: one device and one address for all of them,
// human timing, and they come.
func (g *gen) kiosk() {
	device, ip := g.uuid(), g.ip()
	for range g.between(5, 12) {
		a := g.newAccount("family", g.start.Add(-g.dur(24*time.Hour, 90*24*time.Hour)))
		a.devices, a.ips = []string{device}, []string{ip}
		a.pCancel, a.pNoShow, a.pLate = 0.05, 0.04, 0.2
		g.create(a)
		for range g.between(1, 2) {
			g.addMember(a, g.newPerson(), a.created.Add(g.dur(time.Minute, 30*time.Minute)))
		}
		g.families = append(g.families, a)
		g.labels.Families = append(g.labels.Families, a.id)
		g.labels.FamilyKinds[a.id] = "kiosk"
		for range g.between(1, 4) {
			s := g.sessionOn(g.visitDay(), g.chance(0.15))
			if s == nil {
				continue
			}
			day := s.release.Truncate(24 * time.Hour).Add(g.dur(9*time.Hour, 16*time.Hour))
			if day.Before(s.release) {
				day = day.Add(24 * time.Hour)
			}
			s.reqs = append(s.reqs, &request{acct: a, m: pick(g, a.members), at: day})
		}
	}
}

// referrer: a community doctor's account of the referral role, booking
// referral slots for 10–25 residents of the community, weekly, on the
// referral channel: the legitimate route for carers. Its bookings carry the
// referrer as staff_id and the resident's identity.
func (g *gen) referrer() {
	ref := g.uuid()
	g.labels.GenuineStaff = append(g.labels.GenuineStaff, ref)
	residents := make([]*member, g.between(10, 25))
	for i := range residents {
		residents[i] = g.newPerson()
	}
	ip, device := g.ip(), g.uuid()
	for week := 0; week*7 < g.p.Days; week++ {
		t := g.day(week*7 + g.r.IntN(5)).Add(g.dur(8*time.Hour, 10*time.Hour))
		for _, m := range residents {
			if !g.chance(0.5) {
				continue
			}
			v := week*7 + releaseLead + g.between(0, 6)
			s := g.sessionOn(min(v, releaseLead+g.p.Days-1), g.chance(0.2))
			if s == nil {
				continue
			}
			t = t.Add(g.dur(30*time.Second, 3*time.Minute))
			id := g.uuid()
			e := booking.Event{TS: t, Type: booking.EventBooked, BookingID: id, SessionID: s.id, HospitalID: s.h.id,
				DepartmentID: s.dept, DoctorID: s.doctor, Channel: booking.ChannelReferral, StaffID: ref,
				IdentityID: m.identity, IP: ip, DeviceID: device, ReleaseAt: s.release}
			g.emit(e)
			c := e
			c.Type, c.TS, c.ReleaseAt, c.IP, c.DeviceID = booking.EventCheckedIn, g.slotTime(s), time.Time{}, s.h.deskIP, pick(g, s.h.deskPCs)
			c.StaffID = pick(g, s.h.clerks)
			if g.chance(0.04) {
				c.Type, c.TS, c.StaffID, c.IP, c.DeviceID = booking.EventNoShow, s.end.Add(10*time.Minute), "", "", ""
			}
			g.emit(c)
		}
	}
}

// desk makes the walk-ins: each session's on-site pool, partly used, by the
// clerks on duty; a few patients come every week.
func (g *gen) desk() {
	chronic := g.walkins[:80]
	weekday := map[*member]int{}
	doctor := map[*member]string{}
	for _, m := range chronic {
		weekday[m] = g.r.IntN(7)
	}
	for _, s := range g.sessions {
		n := 0
		for range s.onsite {
			if g.chance(0.45) {
				n++
			}
		}
		for range n {
			m := pick(g, g.walkins[80:])
			g.walkIn(s, pick(g, s.h.clerks), m, s.start.Add(-g.dur(0, time.Hour)).Add(g.dur(0, 2*time.Hour)))
		}
		if g.chance(0.03) {
			// The doctor authorised an extra slot.
			clerk, t := pick(g, s.h.clerks), s.start.Add(g.dur(30*time.Minute, 2*time.Hour))
			g.extraSlot(s, clerk, t)
			g.walkIn(s, clerk, pick(g, g.walkins[80:]), t.Add(g.dur(time.Minute, 5*time.Minute)))
		}
	}
	for _, m := range chronic {
		for v := releaseLead; v < releaseLead+g.p.Days; v++ {
			if v%7 != weekday[m] {
				continue
			}
			ss := g.byDay[v]
			var s *session
			for _, x := range ss {
				if x.doctor == doctor[m] {
					s = x
					break
				}
			}
			if s == nil {
				s = pick(g, ss)
				doctor[m] = s.doctor
			}
			g.walkIn(s, pick(g, s.h.clerks), m, s.start.Add(g.dur(0, time.Hour)))
		}
	}
}
