// Package synth is the project's own generator of labelled booking-event
// traces for measuring the scalper detector: genuine families (repeat
// visits, ordinary cancellations and no-shows, human reaction times, shared
// hospital Wi-Fi and carrier NAT, missing device ids, desk walk-ins) and the
// genuine people who look a little like scalpers (carers booking for a
// nursing home's residents, households on one phone, quick users on a fast
// network, community kiosks, chronic patients of one expert, families that
// pick the wrong member and are turned away at the desk), mixed with the
// scalper tactics of the press reports — bots and key-macro bots at release,
// rings that change phone and address every day, identity farms (real IDs on
// shared devices, or fake IDs one account each), hand-offs, low-and-slow
// sellers, hoarders, return watchers and insiders — each in several variants
// that overlap with genuine behaviour. docs/detection.md cites the cases.
//
// Sessions are simulated one by one: requests race for a session's slots in
// time order, refused attempts are written as `rejected` (and `rate_limited`)
// events as the service writes them — check-ins the desk refuses too, with
// who came (a seller's buyer, a family's other member) — a cancelled slot goes to the waitlist
// first and otherwise returns after a random delay — or at once, in the
// hospital that has not turned the delay on, where return watchers can grab
// it. Everything is drawn from one seeded generator, so a seed always gives
// the same trace.
package synth

import (
	"cmp"
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
	// Families is the number of genuine family accounts (default 3500,
	// about 70,000 events with the rest).
	Families int
	// ScalperShare is the share of all accounts that are scalpers (default
	// 0.08); insiders' staff ids count as accounts.
	ScalperShare float64
	// Days is the number of visit days (default 28); releases start 7
	// days before the first.
	Days int
}

func (p Params) withDefaults() Params {
	if p.Families <= 0 {
		p.Families = 3500
	}
	if p.ScalperShare <= 0 {
		p.ScalperShare = 0.08
	}
	if p.Days <= 0 {
		p.Days = 28
	}
	return p
}

// Trace is a generated event stream with its labels.
type Trace struct {
	Events []booking.Event
	Labels labels.Labels
}

// zone is the hospitals' offset; events carry it as the service writes them.
var zone = time.FixedZone("CST", 8*3600)

const releaseLead = 7 // days between release and visit

type hospital struct {
	id string
	// instant: a cancelled slot nobody waits for is back in the pool at
	// once, as in a hospital that has not turned the random delay on;
	// return watchers grab it within seconds there.
	instant bool
	wifi    []string
	deskIP  string
	deskPCs []string
	clerks  []string
	depts   []string
}

type session struct {
	id, dept, doctor string
	h                *hospital
	expert           bool
	visit            int
	start, end       time.Time
	release          time.Time
	onsiteRelease    time.Time
	cap, onsite      int
	reqs             []*request
	booked           []*bookingRec
	watchers         []*account // return watchers polling this session
}

type member struct {
	identity, patient string
}

type account struct {
	id, phone string
	kind      string // "family" or a scalper kind
	members   []*member
	devices   []string
	ips       []string
	mobile    bool    // also uses a carrier's NAT
	rotateIP  bool    // a fresh IP on every request (proxies)
	wifi      float64 // share of requests from hospital Wi-Fi
	noDevice  float64 // share of requests without a device id
	pCancel   float64
	pNoShow   float64
	pLate     float64 // share of cancellations after the deadline
	cleanups  []time.Time
	created   time.Time
	atRelease map[time.Time]time.Time // release → when this account last booked at it
	// wrongMember: bookings still to come for which the holder picked the
	// wrong family member: another of its people comes to the desk and is
	// turned away (a genuine family's slip).
	wrongMember int
}

type request struct {
	at       time.Time
	acct     *account
	m        *member
	viaPhone bool // an operator books it on the phone channel
	wait     bool // joins the waitlist when sold out
	handoff  *handoffPlan
	sure     bool       // books even when sold out: the scalper got the slot somehow
	retry    *retryPlan // tries again when refused
	// from overrides the account's device and address for this request:
	// a ring that changes both every day.
	from *[2]string
	// then runs when the booking is made, to decide what becomes of it
	// instead of the account's habits (a seller's plans for the slot).
	then func(s *session, b *bookingRec) *step
}

// retryPlan is how a requester tries again after a sold_out: a person a few
// times, seconds apart and irregularly; a bot or a key macro many times, at
// its own pace.
type retryPlan struct {
	left    int
	lo, hi  time.Duration // the gap, uniform in [lo, hi)
	cadence time.Duration // a macro's fixed interval (lo, hi unused) …
	jitter  time.Duration // … give or take this
	limited float64       // share of retries the rate limit answers
}

func (p *retryPlan) gap(g *gen) time.Duration {
	if p.cadence > 0 {
		return p.cadence + g.dur(-p.jitter, p.jitter)
	}
	return g.dur(p.lo, p.hi)
}

// handoffPlan: the booking is cancelled at cancelAt and to is booked gap later.
type handoffPlan struct {
	cancelAt time.Time
	gap      time.Duration
	to       *request
}

type bookingRec struct {
	id  string
	req *request
	at  time.Time
}

type gen struct {
	p         Params
	r         *rand.Rand
	start     time.Time
	events    []booking.Event
	hospitals []*hospital
	sessions  []*session
	byDay     map[int][]*session
	cgnat     []string
	operators []string
	families  []*account
	walkins   []*member
	labels    labels.Labels
	seq       int // orders simultaneous steps of the session simulation
	// lastCanceller of a session whose slot came back at once, for the
	// labels: a watcher that grabs it makes them a "canceller".
	lastCanceller map[*session]*account
	// scalperAccts are the scalpers' accounts, in the order made.
	scalperAccts []*account
}

// Generate makes a trace. The same Params always give the same trace.
func Generate(p Params) Trace {
	p = p.withDefaults()
	g := &gen{
		p:             p,
		r:             rand.New(rand.NewPCG(p.Seed, 0x5ca1fe75)),
		start:         time.Date(2026, 11, 2, 0, 0, 0, 0, zone),
		byDay:         map[int][]*session{},
		lastCanceller: map[*session]*account{},
		labels: labels.Labels{Seed: p.Seed, Generator: "synth", Scalpers: map[string]string{},
			FamilyKinds: map[string]string{}},
	}
	g.world()
	g.genuine()
	g.scalpers()
	for _, s := range g.sessions {
		g.simulate(s)
	}
	g.desk()
	g.identities()
	slices.SortStableFunc(g.events, func(a, b booking.Event) int { return a.TS.Compare(b.TS) })
	slices.Sort(g.labels.Families)
	slices.Sort(g.labels.GenuineStaff)
	return Trace{Events: g.events, Labels: g.labels}
}

// --- random helpers ---

func (g *gen) uuid() string {
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", g.r.Uint32(), g.r.IntN(1<<16), g.r.IntN(1<<12),
		0x8000|g.r.IntN(1<<14), g.r.Uint64()&(1<<48-1))
}

func (g *gen) phoneHash() string { return fmt.Sprintf("hash:%016x%08x", g.r.Uint64(), g.r.Uint32()) }

func (g *gen) ip() string {
	for {
		a := 1 + g.r.IntN(222)
		if a != 10 && a != 127 && a != 172 && a != 192 && a != 100 {
			return fmt.Sprintf("%d.%d.%d.%d", a, g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
		}
	}
}

func (g *gen) chance(p float64) bool  { return g.r.Float64() < p }
func (g *gen) between(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }
func (g *gen) uniform(lo, hi float64) float64 {
	return lo + g.r.Float64()*(hi-lo)
}
func (g *gen) dur(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(g.r.Int64N(int64(hi-lo)))
}

func (g *gen) poisson(lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= g.r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func pick[T any](g *gen, xs []T) T { return xs[g.r.IntN(len(xs))] }

// humanReaction is how long after release a person at the keyboard books:
// a second at the very least, a few seconds typically.
func (g *gen) humanReaction() time.Duration {
	s := 1.0 + math.Exp(math.Log(1.6)+0.8*g.r.NormFloat64())
	return time.Duration(min(s, 90) * float64(time.Second))
}

func (g *gen) day(d int) time.Time { return g.start.AddDate(0, 0, d) }

// --- the world: hospitals, departments, doctors, sessions ---

func (g *gen) world() {
	// Two hospitals for the default 3,500 families: demand and supply grow
	// together.
	nh := max(1, (g.p.Families+875)/1750)
	for i := range nh {
		// Every other hospital (and a lone one) gives a returned slot
		// back at once.
		h := &hospital{id: g.uuid(), deskIP: g.ip(), instant: i%2 == 1 || nh == 1}
		for range 2 {
			h.wifi = append(h.wifi, g.ip())
			h.deskPCs = append(h.deskPCs, g.uuid())
		}
		for range 4 {
			c := g.uuid()
			h.clerks = append(h.clerks, c)
			g.labels.GenuineStaff = append(g.labels.GenuineStaff, c)
		}
		for range 6 {
			h.depts = append(h.depts, g.uuid())
		}
		g.hospitals = append(g.hospitals, h)
	}
	for range 4 {
		o := g.uuid()
		g.operators = append(g.operators, o)
		g.labels.GenuineStaff = append(g.labels.GenuineStaff, o)
	}
	for range 60 {
		g.cgnat = append(g.cgnat, g.ip())
	}
	for _, h := range g.hospitals {
		for _, dept := range h.depts {
			for i := range 4 {
				doctor, expert := g.uuid(), i == 0
				for v := releaseLead; v < releaseLead+g.p.Days; v++ {
					for half := range 2 {
						if (expert && !g.chance(0.5)) || (!expert && !g.chance(0.8)) {
							continue
						}
						start := g.day(v).Add(8 * time.Hour)
						if half == 1 {
							start = g.day(v).Add(13*time.Hour + 30*time.Minute)
						}
						s := &session{id: g.uuid(), dept: dept, doctor: doctor, h: h, expert: expert, visit: v,
							start: start, end: start.Add(3*time.Hour + 30*time.Minute),
							release:       g.day(v - releaseLead).Add(8 * time.Hour),
							onsiteRelease: g.day(v).Add(7 * time.Hour)}
						if expert {
							s.cap, s.onsite = g.between(6, 12), g.between(2, 3)
						} else {
							s.cap, s.onsite = g.between(15, 35), g.between(8, 15)
						}
						g.sessions = append(g.sessions, s)
						g.byDay[v] = append(g.byDay[v], s)
					}
				}
			}
		}
	}
	for range 6000 * len(g.hospitals) {
		g.walkins = append(g.walkins, &member{identity: g.uuid()})
	}
}

// sessionOn picks a session of visit day v, an expert's or not; nil if none.
func (g *gen) sessionOn(v int, expert bool) *session {
	var xs []*session
	for _, s := range g.byDay[v] {
		if s.expert == expert {
			xs = append(xs, s)
		}
	}
	if len(xs) == 0 {
		return nil
	}
	return pick(g, xs)
}

func (g *gen) visitDay() int { return releaseLead + g.r.IntN(g.p.Days) }

// --- accounts ---

func (g *gen) newAccount(kind string, created time.Time) *account {
	a := &account{id: g.uuid(), phone: g.phoneHash(), kind: kind, created: created, atRelease: map[time.Time]time.Time{}}
	return a
}

// create writes the account's creation (and a login) events.
func (g *gen) create(a *account) {
	ip, dev := g.origin(a)
	g.emit(booking.Event{TS: a.created, Type: booking.EventAccountCreated, AccountID: a.id, Phone: a.phone, IP: ip, DeviceID: dev})
}

// addMember makes m a patient of a at t.
func (g *gen) addMember(a *account, m *member, t time.Time) *member {
	am := &member{identity: m.identity, patient: g.uuid()}
	a.members = append(a.members, am)
	ip, dev := g.origin(a)
	g.emit(booking.Event{TS: t, Type: booking.EventPatientAdded, AccountID: a.id, PatientID: am.patient,
		IdentityID: am.identity, IP: ip, DeviceID: dev})
	return am
}

func (g *gen) newPerson() *member { return &member{identity: g.uuid()} }

// origin is where one request of a comes from.
func (g *gen) origin(a *account) (ip, device string) {
	if len(a.devices) > 0 && !g.chance(a.noDevice) {
		device = pick(g, a.devices)
	}
	switch {
	case a.rotateIP:
		ip = g.ip()
	case g.chance(a.wifi):
		ip = pick(g, pick(g, g.hospitals).wifi)
	case a.mobile && g.chance(0.4):
		ip = pick(g, g.cgnat)
	case len(a.ips) > 0:
		ip = pick(g, a.ips)
	default:
		ip = pick(g, g.cgnat)
	}
	return ip, device
}

// originOf is where a request (and what follows from it) comes from.
func (g *gen) originOf(r *request) (ip, device string) {
	if r.from != nil {
		return r.from[0], r.from[1]
	}
	return g.origin(r.acct)
}

func (g *gen) login(a *account, t time.Time) {
	ip, dev := g.origin(a)
	g.emit(booking.Event{TS: t, Type: booking.EventLogin, AccountID: a.id, Phone: a.phone, IP: ip, DeviceID: dev})
}

func (g *gen) emit(e booking.Event) {
	e.TS = e.TS.Truncate(time.Microsecond)
	g.events = append(g.events, e)
}

// identity puts the identity on most events only, as a stream that names
// it on some event types and not on others would.
func (g *gen) identity(m *member) string {
	if m.patient == "" || g.chance(0.7) {
		return m.identity
	}
	return ""
}

// --- the simulation of one session ---

const (
	kRequest = iota
	kCancel
	kReturn
	kDirect // a booking that does not go through the pool: a hand-off's rebook
	kGrab   // a return watcher's attempt at a slot that just came back
)

type step struct {
	at   time.Time
	seq  int
	kind int
	req  *request
	bk   *bookingRec
}

func (g *gen) simulate(s *session) {
	var queue []step
	push := func(st step) {
		g.seq++
		st.seq = g.seq
		i, _ := slices.BinarySearchFunc(queue, st, func(a, b step) int {
			return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.seq, b.seq))
		})
		queue = slices.Insert(queue, i, st)
	}
	for _, r := range s.reqs {
		push(step{at: r.at, kind: kRequest, req: r})
	}
	free := s.cap
	var waitlist []*request
	for len(queue) > 0 {
		st := queue[0]
		queue = queue[1:]
		switch st.kind {
		case kRequest:
			if !st.at.Before(s.start) {
				continue
			}
			if free > 0 || st.req.sure {
				free = max(0, free-1)
				if c := g.book(s, st.req, st.at, false); c != nil {
					push(*c)
				}
				continue
			}
			if st.req.viaPhone || st.req.acct == nil {
				continue // the operator tells the caller; nothing of the account's
			}
			if rp := st.req.retry; rp != nil && rp.left > 0 {
				rp.left--
				reason := "sold_out"
				if g.chance(rp.limited) {
					reason = ""
				}
				g.refuse(s, st.req, st.at, reason)
				push(step{at: st.at.Add(rp.gap(g)), kind: kRequest, req: st.req})
				continue
			}
			g.refuse(s, st.req, st.at, "sold_out")
			if st.req.wait && len(waitlist) < 15 {
				waitlist = append(waitlist, st.req)
				ip, dev := g.origin(st.req.acct)
				g.emit(booking.Event{TS: st.at.Add(g.dur(2*time.Second, 40*time.Second)), Type: booking.EventWaitlisted,
					AccountID: st.req.acct.id, PatientID: st.req.m.patient, IdentityID: st.req.m.identity, SessionID: s.id,
					HospitalID: s.h.id, DepartmentID: s.dept, DoctorID: s.doctor, Channel: booking.ChannelOnline, IP: ip, DeviceID: dev})
			}
		case kCancel:
			b, plan := st.bk, st.bk.req.handoff
			g.cancel(s, b, st.at)
			switch {
			case plan != nil:
				push(step{at: st.at.Add(plan.gap), kind: kDirect, req: plan.to})
			case len(waitlist) > 0:
				w := waitlist[0]
				waitlist = waitlist[1:]
				if c := g.book(s, w, st.at.Add(g.dur(30*time.Millisecond, 400*time.Millisecond)), true); c != nil {
					push(*c)
				}
			case g.chance(0.015) && len(g.families) > 0:
				// Someone happened to look at the right second.
				push(step{at: st.at.Add(g.dur(2*time.Second, 20*time.Second)), kind: kDirect, req: g.walkUp(s)})
			case s.h.instant:
				g.lastCanceller[s] = b.req.acct
				push(step{at: st.at, kind: kReturn})
			default:
				push(step{at: st.at.Add(g.dur(5*time.Minute, 60*time.Minute)), kind: kReturn})
			}
		case kReturn:
			free++
			for _, w := range s.watchers {
				// The watcher polls every few seconds and is on it first.
				push(step{at: st.at.Add(g.dur(400*time.Millisecond, 6*time.Second)), kind: kGrab, req: g.grab(w, s)})
			}
			if g.chance(0.5) {
				if at := st.at.Add(g.dur(time.Minute, 3*time.Hour)); at.Before(s.start) {
					r := g.walkUp(s)
					r.at = at
					push(step{at: at, kind: kRequest, req: r})
				}
			}
		case kGrab:
			if free == 0 || !st.at.Before(s.start) {
				continue
			}
			free--
			if c := g.book(s, st.req, st.at, false); c != nil {
				push(*c)
			}
			if a := g.lastCanceller[s]; a != nil && a.kind == "family" && g.labels.FamilyKinds[a.id] == "" {
				// An ordinary patient whose cancelled slot a watcher took.
				g.labels.FamilyKinds[a.id] = "canceller"
			}
			delete(g.lastCanceller, s)
		case kDirect:
			if st.at.Before(s.start) {
				if c := g.book(s, st.req, st.at, false); c != nil {
					push(*c)
				}
			}
		}
	}
}

// refuse writes a refused attempt: `rejected` with the refusal's code, or
// `rate_limited` when reason is empty.
func (g *gen) refuse(s *session, r *request, at time.Time, reason string) {
	a := r.acct
	e := booking.Event{TS: at, Type: booking.EventRejected, AccountID: a.id, PatientID: r.m.patient, SessionID: s.id,
		HospitalID: s.h.id, DepartmentID: s.dept, DoctorID: s.doctor, Channel: booking.ChannelOnline,
		ReleaseAt: s.release, Reason: reason}
	if reason == "" {
		e = booking.Event{TS: at, Type: booking.EventRateLimited, AccountID: a.id, Reason: "rate_limited"}
	}
	e.IP, e.DeviceID = g.originOf(r)
	g.emit(e)
}

// clicks writes the refused attempts of someone clicking before release:
// n clicks ending just before it, gaps from gap.
func (g *gen) clicks(s *session, r *request, n int, gap func() time.Duration) {
	t := s.release
	var ts []time.Time
	for range n {
		t = t.Add(-gap())
		ts = append(ts, t)
	}
	for i := len(ts) - 1; i >= 0; i-- {
		e := booking.Event{TS: ts[i], Type: booking.EventRejected, AccountID: r.acct.id, PatientID: r.m.patient,
			SessionID: s.id, HospitalID: s.h.id, DepartmentID: s.dept, DoctorID: s.doctor, Channel: booking.ChannelOnline,
			ReleaseAt: s.release, Reason: "not_released"}
		e.IP, e.DeviceID = g.originOf(r)
		g.emit(e)
	}
}

// walkUp is a random family booking a returned slot.
func (g *gen) walkUp(s *session) *request {
	a := pick(g, g.families)
	return &request{acct: a, m: pick(g, a.members)}
}

// book writes a booking and decides what becomes of it; a cancellation comes
// back as a step for the simulation.
func (g *gen) book(s *session, r *request, at time.Time, fromWaitlist bool) *step {
	a := r.acct
	b := &bookingRec{id: g.uuid(), req: r, at: at}
	s.booked = append(s.booked, b)
	e := booking.Event{TS: at, Type: booking.EventBooked, BookingID: b.id, SessionID: s.id, HospitalID: s.h.id,
		DepartmentID: s.dept, DoctorID: s.doctor, Channel: booking.ChannelOnline}
	switch {
	case r.viaPhone:
		e.Channel, e.StaffID, e.Phone, e.IdentityID = booking.ChannelPhone, pick(g, g.operators), a.phone, r.m.identity
		e.ReleaseAt = s.release
	case fromWaitlist:
		e.AccountID, e.PatientID, e.IdentityID, e.Reason = a.id, r.m.patient, r.m.identity, "waitlist"
	default:
		e.AccountID, e.PatientID, e.IdentityID = a.id, r.m.patient, g.identity(r.m)
		e.IP, e.DeviceID = g.originOf(r)
		e.ReleaseAt = s.release
		if g.chance(0.3) {
			e.Phone = a.phone
		}
		if g.chance(0.5) && r.from == nil {
			g.login(a, at.Add(-g.dur(5*time.Second, 10*time.Minute)))
		}
	}
	g.emit(e)

	if r.then != nil {
		return r.then(s, b)
	}
	if r.handoff != nil && r.handoff.cancelAt.After(at) && r.handoff.cancelAt.Before(s.start) {
		return &step{at: r.handoff.cancelAt, kind: kCancel, bk: b}
	}
	r.handoff = nil
	if g.chance(a.pCancel) {
		var t time.Time
		if len(a.cleanups) > 0 && g.chance(0.85) {
			for _, c := range a.cleanups {
				if c.After(at) && c.Before(s.start) {
					t = c.Add(g.dur(0, 20*time.Minute))
					break
				}
			}
		}
		deadline := g.day(s.visit - 1).Add(15 * time.Hour)
		if t.IsZero() {
			lo, hi := at.Add(10*time.Minute), deadline
			if g.chance(a.pLate) {
				lo, hi = deadline, s.start.Add(-10*time.Minute)
			}
			if lo.Before(hi) {
				t = lo.Add(g.dur(0, hi.Sub(lo)))
			}
		}
		if !t.IsZero() && t.After(at) && t.Before(s.start) {
			return &step{at: t, kind: kCancel, bk: b}
		}
	}
	if a.wrongMember > 0 && !r.viaPhone && len(a.members) > 1 && g.chance(0.5) {
		// The holder picked the wrong name in the list: the one who came
		// is on the account too, and goes home; the slot goes unused.
		a.wrongMember--
		other := a.members[0]
		if other == r.m {
			other = a.members[1]
		}
		g.turnedAway(s, b, other, true)
		g.noShow(s, b)
		return nil
	}
	if g.chance(a.pNoShow) {
		g.noShow(s, b)
		return nil
	}
	g.checkIn(s, b)
	return nil
}

// turnedAway: before the session, somebody shows the desk their own card
// for booking b and the clerk refuses the check-in (identity_mismatch), as
// the service records it: the booking's fields, the clerk, and who came —
// their identity and whether they are on the booking's account.
func (g *gen) turnedAway(s *session, b *bookingRec, who *member, onAccount bool) {
	e := booking.Event{TS: s.start.Add(-g.dur(0, 30*time.Minute)), Type: booking.EventRejected, BookingID: b.id,
		SessionID: s.id, HospitalID: s.h.id, DepartmentID: s.dept, DoctorID: s.doctor, Channel: booking.ChannelOnline,
		StaffID: pick(g, s.h.clerks), IP: s.h.deskIP, DeviceID: pick(g, s.h.deskPCs), Reason: "identity_mismatch",
		PresentedIdentityID: who.identity, PresentedOnAccount: &onAccount}
	g.holder(b.req, &e)
	g.emit(e)
}

func (g *gen) cancel(s *session, b *bookingRec, at time.Time) {
	r := b.req
	e := booking.Event{TS: at, Type: booking.EventCancelled, BookingID: b.id, SessionID: s.id, HospitalID: s.h.id,
		DepartmentID: s.dept, DoctorID: s.doctor, Channel: booking.ChannelOnline}
	if r.viaPhone {
		e.Channel, e.StaffID, e.IdentityID = booking.ChannelPhone, pick(g, g.operators), r.m.identity
	} else {
		e.AccountID, e.PatientID, e.IdentityID = r.acct.id, r.m.patient, g.identity(r.m)
		e.IP, e.DeviceID = g.originOf(r)
	}
	if at.After(g.day(s.visit - 1).Add(15 * time.Hour)) {
		e.Reason = "late"
	}
	g.emit(e)
}

func (g *gen) holder(r *request, e *booking.Event) {
	e.IdentityID = g.identity(r.m)
	if !r.viaPhone {
		e.AccountID, e.PatientID = r.acct.id, r.m.patient
	} else {
		e.IdentityID = r.m.identity
	}
}

func (g *gen) slotTime(s *session) time.Time {
	return s.start.Add(g.dur(0, s.end.Sub(s.start)-30*time.Minute))
}

func (g *gen) checkIn(s *session, b *bookingRec) {
	e := booking.Event{TS: g.slotTime(s).Add(-g.dur(0, 40*time.Minute)), Type: booking.EventCheckedIn, BookingID: b.id,
		SessionID: s.id, HospitalID: s.h.id, DepartmentID: s.dept, DoctorID: s.doctor, Channel: booking.ChannelOnline,
		StaffID: pick(g, s.h.clerks), IP: s.h.deskIP, DeviceID: pick(g, s.h.deskPCs)}
	g.holder(b.req, &e)
	g.emit(e)
}

// noShow: the session ends without the patient; sometimes a clerk reissues
// the slot to the next walk-in before that.
func (g *gen) noShow(s *session, b *bookingRec) {
	e := booking.Event{Type: booking.EventNoShow, BookingID: b.id, SessionID: s.id, HospitalID: s.h.id,
		DepartmentID: s.dept, DoctorID: s.doctor, Channel: booking.ChannelOnline}
	g.holder(b.req, &e)
	if !g.chance(0.3) {
		e.TS = s.end.Add(g.dur(time.Minute, 30*time.Minute))
		g.emit(e)
		return
	}
	clerk, t := pick(g, s.h.clerks), g.slotTime(s).Add(15*time.Minute)
	e.TS, e.StaffID, e.Reason, e.IP, e.DeviceID = t, clerk, "reissued at the desk", s.h.deskIP, pick(g, s.h.deskPCs)
	g.emit(e)
	re := e
	re.Type, re.Reason, re.Channel = booking.EventReissued, "no-show; next in line", booking.ChannelOnsite
	g.emit(re)
	g.walkIn(s, clerk, pick(g, g.walkins), t.Add(g.dur(time.Minute, 10*time.Minute)))
}

// walkIn is a desk booking by clerk for m, checked in at once or later.
func (g *gen) walkIn(s *session, clerk string, m *member, at time.Time) {
	id := g.uuid()
	e := booking.Event{TS: at, Type: booking.EventBooked, BookingID: id, SessionID: s.id, HospitalID: s.h.id,
		DepartmentID: s.dept, DoctorID: s.doctor, Channel: booking.ChannelOnsite, StaffID: clerk, IdentityID: m.identity,
		IP: s.h.deskIP, DeviceID: pick(g, s.h.deskPCs), ReleaseAt: s.onsiteRelease}
	if m.patient != "" {
		e.PatientID = m.patient
	}
	g.emit(e)
	c := e
	c.Type, c.TS, c.ReleaseAt = booking.EventCheckedIn, at.Add(g.dur(time.Minute, 20*time.Minute)), time.Time{}
	c.StaffID = pick(g, s.h.clerks)
	if g.chance(0.06) {
		c.Type, c.TS, c.StaffID, c.IP, c.DeviceID = booking.EventNoShow, s.end.Add(10*time.Minute), "", "", ""
	}
	g.emit(c)
}
