package synth

import (
	"time"
)

// genuine makes the families and their requests.
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
		case r < 0.16 && i+1 < n:
			kind = "household" // two accounts, one tablet, the same children
			b := g.families[i+1]
			if g.labels.FamilyKinds[b.id] != "" {
				kind = ""
				break
			}
			g.labels.FamilyKinds[b.id] = "household"
			if len(a.devices) == 0 {
				a.devices = []string{g.uuid()}
			}
			b.devices = append(b.devices, a.devices[0])
			b.ips = a.ips
			for _, m := range a.members[:min(2, len(a.members))] {
				if len(b.members) < 5 {
					g.addMember(b, m, b.created.Add(g.dur(time.Hour, 48*time.Hour)))
				}
			}
		case r < 0.18:
			kind = "grandparent" // grandmother is a patient of two children's accounts
			b := pick(g, g.families)
			if b != a && len(b.members) < 5 {
				g.addMember(b, a.members[0], b.created.Add(g.dur(time.Hour, 48*time.Hour)))
			}
		}
		if kind != "" && g.labels.FamilyKinds[a.id] == "" {
			g.labels.FamilyKinds[a.id] = kind
		}
		g.familyRequests(a, kind)
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
	case "release":
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
		m := a.members[0]
		for v := releaseLead + g.r.IntN(7); v < releaseLead+g.p.Days; v += 7 {
			if s := g.sessionOn(v, g.chance(0.3)); s != nil {
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

// request is a family's attempt at s; its timing is human.
func (g *gen) request(s *session, a *account, m *member, atRelease float64) {
	r := &request{acct: a, m: m}
	switch {
	case s.expert && g.chance(atRelease), !s.expert && g.chance(0.03):
		// One person books one thing at a time: a second booking at the
		// same release comes seconds after the first.
		r.at = s.release.Add(g.humanReaction())
		if last, ok := a.atRelease[s.release]; ok && !r.at.After(last.Add(3*time.Second)) {
			r.at = last.Add(g.dur(3*time.Second, 15*time.Second))
		}
		a.atRelease[s.release] = r.at
		r.wait = s.expert && g.chance(0.5)
	case s.expert:
		r.at = s.release.Add(g.dur(time.Minute, s.start.Sub(s.release)-2*time.Hour))
		r.wait = g.chance(0.5)
	case g.chance(0.4):
		r.at = s.release.Add(g.dur(time.Minute, 24*time.Hour))
	default:
		r.at = s.release.Add(g.dur(time.Minute, s.start.Sub(s.release)-time.Hour))
	}
	if !s.expert && g.chance(0.08) {
		r.viaPhone, r.wait = true, false
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
