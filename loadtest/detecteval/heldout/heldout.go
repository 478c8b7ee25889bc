// Package heldout is a second, independent generator of labelled
// booking-event traces, used only as a held-out check of the scalper
// detector: nothing in the detector was tuned on it. It was written apart
// from synth, from the same press cases, and differs from it on purpose
// wherever a detector could have learnt a habit of its generator instead of
// the tactic:
//
//   - ids: "U0001234" accounts, "pt…" patients, identities named on booking
//     and cancellation events only; devices as "android:…", "ios:…",
//     "web:…"; IPv4 and IPv6 addresses; timestamps in UTC ("Z");
//   - three hospitals releasing 14 days ahead at 07:30, 7 days ahead at
//     15:00 and 10 days ahead at 08:00; one returns a cancelled slot after
//     a delay, two at once; 35 visit days;
//   - human reaction at release 0.6 s + Gamma(2, 1.4 s); quick people
//     0.45–1.0 s; bots 50–250 ms; key macros a 0.33–0.38 s tap with ±8%
//     jitter, a booking attempt every 3–4 taps;
//   - refusals spelt "SOLD_OUT" and "NOT_OPEN", no reason on rate_limited;
//     late cancellations "late_cancel"; half the no-shows leave no event at
//     all (the booking just lapses); waitlist promotions "waitlist_promoted";
//   - other group sizes: rings of 2–8 accounts, farms of 3–12, fake-ID
//     farms of 5–15 accounts with 2–4 IDs each, carers with 8–25
//     residents, kiosks shared by 6–10 accounts;
//   - other people's ID numbers its own way (identities.go): operations
//     working from a department's leaked patient list, whose people are
//     that department's patients; a cancellation by the person names
//     their account and gives no reason.
package heldout

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"fairslot/internal/booking"
	"fairslot/loadtest/detecteval/labels"
)

// Params size a trace.
type Params struct {
	Seed uint64
	// Households is the number of ordinary genuine accounts (default
	// 3500); carers, kiosk users and the others come on top.
	Households int
	// ScalperShare of all accounts (default 0.08).
	ScalperShare float64
}

const visitDays = 35

type clinic struct {
	id       string
	lead     int           // days between release and visit
	at       time.Duration // release time of day, local
	delay    bool          // a returned slot comes back after a delay
	depts    []string
	clerks   []string
	deskIP   string
	kioskDev string
}

type sess struct {
	id, dept, doc string
	c             *clinic
	expert        bool
	visit         time.Time // start, local
	release       time.Time
	slots         int
	free          int
	watchers      []*acct
	waiting       []*attempt
}

type person struct{ pid, ident string }

type acct struct {
	id, phone string
	devs, ips []string
	people    []*person
	kind      string // genuine kind or tactic
	scalper   bool
	// habits of a genuine account
	pCancel, pNoShow float64
	reaction         func() time.Duration
	rotate           bool        // a fresh device and address every day
	grabbed          func(b *bk) // a watcher's plan for a slot it grabbed
}

type attempt struct {
	a       *acct
	p       *person
	s       *sess
	at      time.Time
	retries int
	gap     func() time.Duration
	wait    bool
	fate    func(b *bk) // what becomes of the booking, nil: the account's habits
	sure    bool
	dev, ip string
}

type bk struct {
	id string
	at time.Time
	t  *attempt
}

type gen struct {
	r       *rand.Rand
	p       Params
	t0      time.Time
	loc     *time.Location
	clinics []*clinic
	sess    []*sess
	byDay   map[string][]*sess
	evs     []booking.Event
	l       labels.Labels
	nAcct   int
	genuine []*acct
	q       actions
	seq     int
}

// Generate makes a trace and its labels; a seed always gives the same.
func Generate(p Params) ([]booking.Event, labels.Labels) {
	if p.Households <= 0 {
		p.Households = 3500
	}
	if p.ScalperShare <= 0 {
		p.ScalperShare = 0.08
	}
	loc := time.FixedZone("UTC+8", 8*3600)
	g := &gen{r: rand.New(rand.NewPCG(p.Seed^0x9e3779b97f4a7c15, 42)), p: p, loc: loc,
		t0: time.Date(2027, 3, 1, 0, 0, 0, 0, loc), byDay: map[string][]*sess{},
		l: labels.Labels{Seed: p.Seed, Generator: "heldout", Scalpers: map[string]string{}, FamilyKinds: map[string]string{}}}
	g.build()
	g.people()
	g.tactics()
	g.identities()
	g.play()
	for i := range g.evs {
		g.evs[i].TS = g.evs[i].TS.UTC().Truncate(time.Millisecond)
		if !g.evs[i].ReleaseAt.IsZero() {
			g.evs[i].ReleaseAt = g.evs[i].ReleaseAt.UTC()
		}
	}
	slices.SortStableFunc(g.evs, func(a, b booking.Event) int { return a.TS.Compare(b.TS) })
	slices.Sort(g.l.Families)
	slices.Sort(g.l.GenuineStaff)
	return g.evs, g.l
}

// --- randomness ---

func (g *gen) f() float64         { return g.r.Float64() }
func (g *gen) in(lo, hi int) int  { return lo + g.r.IntN(hi-lo+1) }
func (g *gen) yes(p float64) bool { return g.r.Float64() < p }
func (g *gen) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.r.IntN(16)]
	}
	return string(b)
}
func (g *gen) span(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(g.r.Int64N(int64(hi-lo)))
}

// gamma draws Gamma(k, theta) for a whole k (a sum of exponentials).
func (g *gen) gamma(k int, theta float64) float64 {
	s := 0.0
	for range k {
		s += -math.Log(1 - g.f())
	}
	return s * theta
}

func choose[T any](g *gen, xs []T) T { return xs[g.r.IntN(len(xs))] }

func (g *gen) humanAtRelease() time.Duration {
	return time.Duration((0.6 + g.gamma(2, 1.4)) * float64(time.Second))
}

func (g *gen) accountID() string { g.nAcct++; return fmt.Sprintf("U%07d", 1000+g.nAcct*7+g.r.IntN(7)) }
func (g *gen) phone() string     { return "ph:" + g.hex(24) }
func (g *gen) device() string {
	switch g.r.IntN(3) {
	case 0:
		return "android:" + g.hex(16)
	case 1:
		return fmt.Sprintf("ios:%s-%s-%s", g.hex(8), g.hex(4), g.hex(12))
	}
	return "web:" + g.hex(20)
}
func (g *gen) addr() string {
	if g.yes(0.3) {
		return fmt.Sprintf("2408:%x:%x:%x::%x", g.r.IntN(1<<16), g.r.IntN(1<<16), g.r.IntN(1<<16), 1+g.r.IntN(1<<12))
	}
	return fmt.Sprintf("%d.%d.%d.%d", 36+g.r.IntN(150), g.r.IntN(256), g.r.IntN(256), 2+g.r.IntN(250))
}

// --- the world ---

func (g *gen) build() {
	shapes := []struct {
		lead  int
		at    time.Duration
		delay bool
	}{{14, 7*time.Hour + 30*time.Minute, true}, {7, 15 * time.Hour, false}, {10, 8 * time.Hour, false}}
	n := max(1, min(3, (g.p.Households+1000)/1200))
	for i := range n {
		sh := shapes[i]
		c := &clinic{id: fmt.Sprintf("HOSP-%02d", i+1), lead: sh.lead, at: sh.at, delay: sh.delay, deskIP: g.addr(), kioskDev: g.device()}
		for d := range g.in(4, 7) {
			c.depts = append(c.depts, fmt.Sprintf("%s-D%02d", c.id, d))
		}
		for k := range 5 {
			c.clerks = append(c.clerks, fmt.Sprintf("staff-%s-%d", c.id, k))
			g.l.GenuineStaff = append(g.l.GenuineStaff, c.clerks[k])
		}
		g.clinics = append(g.clinics, c)
		for _, dept := range c.depts {
			for k := range g.in(1, 2) + g.in(2, 4) {
				expert := k < 1 || (k == 1 && g.yes(0.4))
				doc := fmt.Sprintf("%s-dr%02d", dept, k)
				for day := range visitDays {
					v := g.t0.AddDate(0, 0, c.lead+day)
					for _, half := range []time.Duration{8 * time.Hour, 13*time.Hour + 30*time.Minute} {
						if (expert && (half > 9*time.Hour || !g.yes(0.6))) || (!expert && !g.yes(0.65)) {
							continue
						}
						s := &sess{id: fmt.Sprintf("S%s%s", c.id[5:], g.hex(10)), dept: dept, doc: doc, c: c, expert: expert,
							visit: v.Add(half), release: v.AddDate(0, 0, -c.lead).Add(c.at)}
						if expert {
							s.slots = g.in(4, 14)
						} else {
							s.slots = g.in(12, 40)
						}
						s.free = s.slots
						g.sess = append(g.sess, s)
						g.byDay[dayKey(s.visit)] = append(g.byDay[dayKey(s.visit)], s)
					}
				}
			}
		}
	}
}

func dayKey(t time.Time) string { return t.Format("2006-01-02") }

// some is a session visited on a random day of the trace, an expert's or not.
func (g *gen) some(expert bool) *sess {
	for range 20 {
		c := choose(g, g.clinics)
		day := g.t0.AddDate(0, 0, c.lead+g.r.IntN(visitDays))
		var xs []*sess
		for _, s := range g.byDay[dayKey(day)] {
			if s.expert == expert && s.c == c {
				xs = append(xs, s)
			}
		}
		if len(xs) > 0 {
			return choose(g, xs)
		}
	}
	return nil
}

func (g *gen) newAcct(kind string, scalper bool) *acct {
	a := &acct{id: g.accountID(), phone: g.phone(), kind: kind, scalper: scalper}
	if scalper {
		g.l.Scalpers[a.id] = kind
	} else {
		g.l.Families = append(g.l.Families, a.id)
		if kind != labels.Ordinary {
			g.l.FamilyKinds[a.id] = kind
		}
	}
	a.pCancel, a.pNoShow = 0.02+0.08*g.f(), 0.02+0.1*g.f()
	a.reaction = g.humanAtRelease
	// Old accounts made before the trace leave no creation event.
	if g.yes(0.6) {
		t := g.t0.Add(-g.span(0, 20*24*time.Hour))
		g.emit(booking.Event{TS: t, Type: booking.EventAccountCreated, AccountID: a.id, Phone: a.phone})
	}
	return a
}

func (g *gen) addPerson(a *acct, p *person, at time.Time) *person {
	np := &person{pid: "pt" + g.hex(12), ident: p.ident}
	a.people = append(a.people, np)
	if at.After(g.t0.Add(-30 * 24 * time.Hour)) {
		g.emit(booking.Event{TS: at, Type: booking.EventPatientAdded, AccountID: a.id, PatientID: np.pid, IdentityID: np.ident,
			DeviceID: g.devOf(a), IP: g.ipOf(a)})
	}
	return np
}

func (g *gen) stranger() *person { return &person{ident: "ID:" + g.hex(16)} }

func (g *gen) devOf(a *acct) string {
	if len(a.devs) == 0 {
		return ""
	}
	return choose(g, a.devs)
}

func (g *gen) ipOf(a *acct) string {
	if len(a.ips) == 0 || g.yes(0.35) {
		return fmt.Sprintf("117.136.%d.%d", g.r.IntN(8), 1+g.r.IntN(250)) // the carrier's NAT
	}
	return choose(g, a.ips)
}

func (g *gen) emit(e booking.Event) { g.evs = append(g.evs, e) }

// --- genuine people ---

func (g *gen) people() {
	for range g.p.Households {
		a := g.newAcct(labels.Ordinary, false)
		a.devs = []string{g.device()}
		if g.yes(0.2) {
			a.devs = append(a.devs, g.device())
		}
		if g.yes(0.08) {
			a.devs = nil
		}
		a.ips = []string{g.addr()}
		for range g.in(1, 4) + boolInt(g.yes(0.06)) {
			g.addPerson(a, g.stranger(), g.t0.Add(-g.span(time.Hour, 60*24*time.Hour)))
		}
		g.genuine = append(g.genuine, a)
	}
	for i, a := range g.genuine {
		switch x := g.f(); {
		case x < 0.04:
			g.relabel(a, "fast")
			a.reaction = func() time.Duration { return g.span(450*time.Millisecond, time.Second) }
		case x < 0.08:
			g.relabel(a, "chronic")
		case x < 0.11 && i+2 < len(g.genuine):
			g.threeOnOnePhone(a, g.genuine[i+1], g.genuine[i+2])
		}
	}
	for _, a := range g.genuine {
		g.plan(a)
	}
	for range max(1, g.p.Households/250) {
		g.carer()
	}
	for range max(1, g.p.Households/700) {
		g.kiosk()
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (g *gen) relabel(a *acct, kind string) {
	if a.kind != labels.Ordinary {
		return
	}
	a.kind = kind
	g.l.FamilyKinds[a.id] = kind
}

// threeOnOnePhone: a family with three accounts (two parents, a
// grandparent) on one handset and one number, sharing the children.
func (g *gen) threeOnOnePhone(a, b, c *acct) {
	if a.kind != labels.Ordinary || b.kind != labels.Ordinary || c.kind != labels.Ordinary {
		return
	}
	dev := g.device()
	for _, x := range []*acct{a, b, c} {
		g.relabel(x, "three_on_one_phone")
		x.devs, x.phone, x.ips = []string{dev}, a.phone, a.ips
	}
	for _, p := range a.people[:min(2, len(a.people))] {
		g.addPerson(b, p, g.t0.Add(-g.span(time.Hour, 40*24*time.Hour)))
		if g.yes(0.5) {
			g.addPerson(c, p, g.t0.Add(-g.span(time.Hour, 40*24*time.Hour)))
		}
	}
}

// plan gives a genuine account its visits for the trace.
func (g *gen) plan(a *acct) {
	switch a.kind {
	case "chronic":
		// One person sees the same expert every week; at release now and
		// then, else whenever a slot is left.
		p := a.people[0]
		first := g.some(true)
		if first == nil {
			return
		}
		for _, s := range g.sess {
			if s.doc == first.doc && int(s.visit.Sub(first.visit).Hours()/24)%7 == 0 && !s.visit.Before(first.visit) {
				at := s.release.Add(g.span(5*time.Minute, 3*24*time.Hour))
				if g.yes(0.4) {
					at = s.release.Add(a.reaction())
				}
				g.want(&attempt{a: a, p: p, s: s, at: at, wait: true, retries: g.in(0, 2)})
			}
		}
	case "fast":
		for range g.in(2, 5) {
			if s := g.some(true); s != nil {
				g.want(&attempt{a: a, p: choose(g, a.people), s: s, at: s.release.Add(a.reaction()), retries: g.in(0, 3), wait: g.yes(0.4)})
			}
		}
	}
	n := int(g.gamma(2, 0.5+0.4*float64(len(a.people))))
	for range n {
		expert := g.yes(0.2)
		s := g.some(expert)
		if s == nil {
			continue
		}
		at := s.release.Add(g.span(10*time.Minute, s.visit.Sub(s.release)-90*time.Minute))
		if expert && g.yes(0.45) {
			at = s.release.Add(a.reaction())
		}
		g.want(&attempt{a: a, p: choose(g, a.people), s: s, at: at, retries: g.in(0, 2), wait: expert && g.yes(0.3)})
	}
}

// carer: one account for the 8–25 residents of a care home, booked in
// batches on a weekday, ordinary clinics mostly, the residents come.
func (g *gen) carer() {
	a := g.newAcct("carer", false)
	a.devs, a.ips = []string{g.device()}, []string{g.addr()}
	a.pNoShow, a.pCancel = 0.02, 0.04
	for range g.in(8, 25) {
		g.addPerson(a, g.stranger(), g.t0.Add(-g.span(24*time.Hour, 100*24*time.Hour)))
	}
	for _, p := range a.people {
		for range g.in(1, 3) {
			s := g.some(g.yes(0.1))
			if s == nil {
				continue
			}
			day := s.release.Add(g.span(2*time.Hour, 4*24*time.Hour))
			g.want(&attempt{a: a, p: p, s: s, at: day})
		}
	}
}

// kiosk: a community centre's machine that 6–10 old people use, one
// account each for themselves and maybe a spouse.
func (g *gen) kiosk() {
	dev, ip := g.device(), g.addr()
	for range g.in(6, 10) {
		a := g.newAcct("kiosk", false)
		a.devs, a.ips = []string{dev}, []string{ip}
		for range g.in(1, 2) {
			g.addPerson(a, g.stranger(), g.t0.Add(-g.span(24*time.Hour, 100*24*time.Hour)))
		}
		for range g.in(1, 3) {
			if s := g.some(g.yes(0.15)); s != nil {
				g.want(&attempt{a: a, p: choose(g, a.people), s: s, at: s.release.Add(g.span(time.Hour, 5*24*time.Hour))})
			}
		}
	}
}
