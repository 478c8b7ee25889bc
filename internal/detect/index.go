package detect

import (
	"slices"
	"time"
)

// The index: one linear pass over the sorted events files them under their
// account, device, phone, session, person and staff member, and settles what
// became of every booking.

// Outcomes of a booking.
const (
	oOpen      uint8 = iota // nothing known yet
	oUsed                   // checked in
	oCancelled              // cancelled by the account in time
	oLate                   // cancelled after the deadline: a no-show by the rules
	oNoShow                 // a no-show
	oLapsed                 // its session is over and it was never used: a no-show nobody wrote
	oHospital               // cancelled by the hospital (a stopped clinic, a confirmed flag)
	// oByPerson: ended by the verified self of the person the account made
	// it for. Not the account's waste: that the person disowned it is
	// ended_by_person's evidence, counted there once.
	oByPerson
)

// bref is one booking an account made itself (not a clerk's or an
// operator's), or the waitlist handed it.
type bref struct {
	ts       int64
	acct     int32
	sess     int32 // -1 when the event names none
	person   sym
	doct     sym
	react    int64 // booked − release_at; -1 when unknown or not raced for
	outcome  uint8
	waitlist bool // handed over by the waitlist
	outAt    int64
}

type stamp struct {
	ts  int64
	key sym
}

// attempt is a booking attempt: refused or booked, of a session for a
// person.
type attempt struct {
	ts       int64
	key, who sym // the session and the person
}

type account struct {
	id       sym
	bookings []int32   // into detector.bookings, in time order
	persons  []stamp   // every event naming a person, in time order
	added    []stamp   // patient_added events: when each person was put on it
	devices  []stamp   // the devices of its own requests
	attempts []attempt // refused and successful attempts
	refused  []int64   // … the refused ones
	limited  int       // rate_limited events
	// strangers are the check-ins of its bookings the desk refused
	// because the person who showed their card is not on the account.
	strangers []strangerVisit
	cancels   []int64 // its own cancellations of bookings
	// endedBy are the persons whose verified self ended (cancelled,
	// withdrew, left) what this account made for them, from their own
	// account, or who were refused a session from their own account
	// because this account held it for them: the person disowning it
	// (ended_by_person).
	endedBy []stamp
	// claims are its refused identity claims (adding a patient refused
	// identity_taken or identity_unverified), by the person the number is
	// (0 when the stream does not say); claimsLimited the 429s past the
	// day's refusals (claims_refused).
	claims        []stamp
	claimsLimited int
	attrs         []int32 // the devices and phones it used (into detector.attrs)
	ipReqs        int     // its own requests that named an IP
	last          int64
	items         []item
}

// strangerVisit is a refused check-in of one of the account's bookings
// (its id, else its session) by a person not on the account (who; 0 when
// the stream does not name them).
type strangerVisit struct {
	ts      int64
	bk, who sym
}

// attr is a device or a phone.
type attr struct {
	kind     string // "device" or "phone"
	id       sym
	accounts []int32 // sorted, distinct
	persons  []stamp
	bookings []int32 // self-service bookings made from it (devices)
	hub      bool    // more accounts than a household: a hospital's machine, links nobody
	terminal bool    // a shared terminal by its behaviour (a community kiosk): links nobody
	items    []item
}

type session struct {
	id      sym
	rel     int64   // its release time, as the events name it
	reacts  []int64 // reactions of its self-service bookings
	unrel   []int64 // times of its self-service bookings that name no release
	first   int64   // its first self-service booking
	lastUse int64   // its latest check-in or no-show
	scarce  bool
	// relGuessed: no event names its release; for a scarce session its
	// first booking stands for it.
	relGuessed bool
	over       bool // its patients have come: a booking still open has lapsed
}

type staffMember struct {
	id      sym
	acts    []staffAct
	favours []favour
	last    int64
	item    *item
	// more is an operator's evidence from calls (staffcalls.go), scored
	// with item by the rule; suspects the persons it names; flagged
	// whether item and more reach the rule.
	more     []item
	suspects []sym
	flagged  bool
}

type staffAct struct {
	ts      int64
	person  sym
	reissue bool // a reissue, or a booking that followed one by the same staff member
}

type favour struct {
	person   sym
	n, viaRe int
}

type detector struct {
	cfg      Config
	strs     strTable
	evs      []ev
	doctorOf map[sym]sym              // session → its doctor
	checkIns int                      // check-in events: none means no visit is ever known
	givers   map[int32]map[int32]bool // receiver → its distinct givers (handoffGivers), once the hand-offs are found
	// came holds the persons who checked in at least once, on any
	// account or at the desk.
	came     map[sym]bool
	end      int64 // the latest event
	accounts []*account
	acctOf   []int32 // sym → account index, -1
	attrs    []*attr
	attrOf   [2][]int32 // kind → sym → attr index, -1
	sessions []*session
	sessOf   []int32
	staff    []*staffMember
	staffOf  []int32
	bookings []bref
	// personAccounts lists, per person, the accounts that name them.
	personAccounts map[sym][]int32
	handoffs       []handoff
	// ipAccounts lists the accounts behind each IP; ipOwners those for
	// which it is their own line (half their requests or more).
	ipAccounts, ipOwners map[sym][]int32
	// cancelRefs are the accounts' own cancellations of bookings of a
	// session, in time order; waited the (session, account) and
	// (session, -1-person) pairs that joined the session's waitlist.
	cancelRefs []cancelRef
	// pairs are the (giver, receiver) accounts of hand-off pairs that
	// link: the receiver took the slots for buyers' IDs.
	pairs  [][2]int32
	waited map[[2]int32]bool
	// disowned holds the (person, account) pairs where the person's
	// verified self ended what the account made for them: the person is
	// no tie between that account and any other (link).
	disowned map[[2]int32]bool
	// addedAt caches, per receiver of hand-offs, when each person was
	// first put on it (forBuyer).
	addedAt map[*account]map[sym]int64
	// reports are the scalper reports, as added (reports.go).
	reports []report
	// seenPersons is scarceForMany's scratch map, cleared before each use.
	seenPersons map[sym]struct{}
}

type cancelRef struct {
	ts      int64
	booking int32
}

const (
	kindDevice = 0
	kindPhone  = 1
)

func newDetector(in *Input, cfg Config) *detector {
	evs, strs, doctorOf := in.finish()
	d := &detector{cfg: cfg, strs: strs, evs: evs, doctorOf: doctorOf, reports: in.reports,
		ipAccounts: map[sym][]int32{}, ipOwners: map[sym][]int32{}, waited: map[[2]int32]bool{},
		disowned: map[[2]int32]bool{},
		came:     map[sym]bool{}}
	d.acctOf = filled(strs.len())
	d.sessOf = filled(strs.len())
	d.staffOf = filled(strs.len())
	d.attrOf = [2][]int32{filled(strs.len()), filled(strs.len())}
	if len(evs) > 0 {
		d.end = evs[len(evs)-1].ts
	}
	return d
}

func filled(n int) []int32 {
	s := make([]int32, n)
	for i := range s {
		s[i] = -1
	}
	return s
}

func (d *detector) str(s sym) string { return d.strs.at(s) }

func (d *detector) account(id sym) *account {
	i := d.acctOf[id]
	if i < 0 {
		i = int32(len(d.accounts))
		d.acctOf[id] = i
		d.accounts = append(d.accounts, &account{id: id})
	}
	return d.accounts[i]
}

func (d *detector) session(id sym) int32 {
	if id == 0 {
		return -1
	}
	i := d.sessOf[id]
	if i < 0 {
		i = int32(len(d.sessions))
		d.sessOf[id] = i
		d.sessions = append(d.sessions, &session{id: id, first: -1})
	}
	return i
}

func (d *detector) attr(kind int, id sym) int32 {
	i := d.attrOf[kind][id]
	if i < 0 {
		i = int32(len(d.attrs))
		d.attrOf[kind][id] = i
		name := "device"
		if kind == kindPhone {
			name = "phone"
		}
		d.attrs = append(d.attrs, &attr{kind: name, id: id})
	}
	return i
}

func (d *detector) staffMember(id sym) *staffMember {
	i := d.staffOf[id]
	if i < 0 {
		i = int32(len(d.staff))
		d.staffOf[id] = i
		d.staff = append(d.staff, &staffMember{id: id})
	}
	return d.staff[i]
}

// index walks the sorted events once.
func (d *detector) index() {
	type bkKey struct {
		acct int32
		sess int32
		who  sym
	}
	byID := filled(d.strs.len())         // booking id → booking
	byKey := map[bkKey]int32{}           // (account, session, person) → its latest booking
	bySessPerson := map[[2]int32]int32{} // (session, person) → the latest booking, for events that name no account
	// The maps are asked only when an account's request names another
	// handset, number or line than its last one: a few times an account.
	attrSeen := map[[2]int32]bool{}
	ipUse := map[[2]int32]int32{} // (ip, account) → index into ipN
	var ipN []int32               // requests of an (ip, account)
	var ipPairs [][2]int32        // … and the pair
	type last struct {
		attr   [2]int32 // its last device and phone (attr indexes)
		ip     sym      // its last IP
		ipUsed int32    // … its index into ipN
	}
	lastOf := []last{} // by account index
	// personOf lists, per person, the accounts that name them (into
	// persons), made d.personAccounts at the end.
	personOf := filled(d.strs.len())
	var persons [][]int32
	d.bookings = make([]bref, 0, len(d.evs)/4)
	find := func(e *ev, ai int32, si int32) int32 {
		if e.bk != 0 {
			if b := byID[e.bk]; b >= 0 {
				return b
			}
		}
		if ai >= 0 {
			if b, ok := byKey[bkKey{ai, si, e.person}]; ok {
				return b
			}
		}
		if b, ok := bySessPerson[[2]int32{si, e.person}]; ok && e.person != 0 {
			return b
		}
		return -1
	}
	for i := range d.evs {
		e := &d.evs[i]
		if e.typ == tRejected && e.sess == 0 && e.marks&rClaim != 0 {
			// A refused identity claim names a number the account tried
			// to put on it, not one of its people: counted apart, never
			// a person of the account (it would link the account to the
			// number's owner) nor an attempt at a slot.
			if e.acct != 0 && e.staff == 0 {
				a := d.account(e.acct)
				a.last = e.ts
				if e.marks&rClaimLimited != 0 {
					a.claimsLimited++
				} else {
					a.claims = append(a.claims, stamp{e.ts, e.person})
				}
			}
			continue
		}
		si := d.session(e.sess)
		if e.staff != 0 {
			s := d.staffMember(e.staff)
			s.last = e.ts
			if e.marks&cPhone != 0 && e.phone != 0 && e.person != 0 {
				// A caller's phone booking for many people is a farm on
				// the phone channel.
				x := d.attrs[d.attr(kindPhone, e.phone)]
				x.persons = append(x.persons, stamp{e.ts, e.person})
			}
		}
		if si >= 0 && e.rel > 0 && (d.sessions[si].rel == 0 || e.rel < d.sessions[si].rel) {
			d.sessions[si].rel = e.rel
		}
		if si >= 0 && (e.typ == tCheckedIn || e.typ == tNoShow) {
			d.sessions[si].lastUse = max(d.sessions[si].lastUse, e.ts)
		}
		ai := int32(-1)
		var a *account
		if e.acct != 0 {
			a = d.account(e.acct)
			ai = d.acctOf[e.acct]
			for int(ai) >= len(lastOf) {
				lastOf = append(lastOf, last{attr: [2]int32{-1, -1}})
			}
			a.last = e.ts
			if e.person != 0 {
				a.persons = append(a.persons, stamp{e.ts, e.person})
				pi := personOf[e.person]
				if pi < 0 {
					pi = int32(len(persons))
					personOf[e.person] = pi
					persons = append(persons, nil)
				}
				if l := persons[pi]; len(l) == 0 || !slices.Contains(l, ai) {
					persons[pi] = append(l, ai)
				}
			}
		}
		// A cancellation by the person the account made it for was the
		// person's request from their own account: not the account's own
		// (no hand-off of its, no sitting of cancels, not its handset).
		byPerson := e.typ == tCancelled && e.marks&rByPerson != 0
		self := a != nil && e.staff == 0 && !byPerson
		switch e.typ {
		case tPatientAdded:
			if a != nil && e.person != 0 {
				a.added = append(a.added, stamp{e.ts, e.person})
			}
		case tBooked:
			if a == nil || (e.staff != 0 && e.marks&rWaitlist == 0) {
				break
			}
			b := bref{ts: e.ts, acct: ai, sess: si, person: e.person, doct: d.doctorOf[e.sess], react: -1, waitlist: e.marks&rWaitlist != 0}
			if !b.waitlist && e.rel != 0 && e.ts >= e.rel {
				b.react = e.ts - e.rel
			}
			bi := int32(len(d.bookings))
			d.bookings = append(d.bookings, b)
			a.bookings = append(a.bookings, bi)
			if e.bk != 0 {
				byID[e.bk] = bi
			}
			byKey[bkKey{ai, si, e.person}] = bi
			if e.person != 0 && si >= 0 {
				bySessPerson[[2]int32{si, e.person}] = bi
			}
			if si >= 0 && !b.waitlist {
				s := d.sessions[si]
				if b.react >= 0 {
					s.reacts = append(s.reacts, b.react)
				} else if e.rel == 0 {
					s.unrel = append(s.unrel, e.ts)
				}
				if s.first < 0 {
					s.first = e.ts
				}
			}
			if !b.waitlist {
				a.attempts = append(a.attempts, attempt{e.ts, e.sess, e.person})
			}
		case tEntered:
			// A lottery entry is the account's attempt at a slot as much as
			// a booking is (its pace and volume); the draw's booking of a
			// winner is handed over (rWaitlist), not another attempt.
			if self {
				a.attempts = append(a.attempts, attempt{e.ts, e.sess, e.person})
			}
		case tCancelled:
			if byPerson && a != nil && e.person != 0 {
				a.endedBy = append(a.endedBy, stamp{e.ts, e.person})
				d.disowned[[2]int32{e.person, ai}] = true
			}
			if e.marks&rLeftWaitlist != 0 {
				break
			}
			bi := find(e, ai, si)
			if bi < 0 {
				break
			}
			b := &d.bookings[bi]
			switch {
			case e.marks&rByStaff != 0:
				b.outcome = oHospital
			case byPerson:
				b.outcome = oByPerson
			case e.marks&rLate != 0:
				b.outcome = oLate
			default:
				b.outcome = oCancelled
			}
			b.outAt = e.ts
			if self && e.marks&rByStaff == 0 {
				a.cancels = append(a.cancels, e.ts)
				if si >= 0 {
					d.cancelRefs = append(d.cancelRefs, cancelRef{ts: e.ts, booking: bi})
				}
			}
		case tCheckedIn:
			d.checkIns++
			if e.person != 0 {
				d.came[e.person] = true
			}
			if bi := find(e, ai, si); bi >= 0 {
				d.bookings[bi].outcome, d.bookings[bi].outAt = oUsed, e.ts
			}
		case tNoShow:
			if bi := find(e, ai, si); bi >= 0 && d.bookings[bi].outcome != oUsed {
				d.bookings[bi].outcome, d.bookings[bi].outAt = oNoShow, e.ts
			}
		case tWaitlisted:
			if a != nil && si >= 0 {
				d.waited[[2]int32{si, ai}] = true
				if e.person != 0 {
					d.waited[[2]int32{si, -1 - e.person}] = true
				}
			}
		case tRejected, tRateLimited:
			if a != nil && e.marks&pStranger != 0 {
				bk := e.bk
				if bk == 0 {
					bk = e.sess
				}
				a.strangers = append(a.strangers, strangerVisit{e.ts, bk, e.other})
			}
			if e.marks&rByOthers != 0 {
				// Refused for what another account made for the person:
				// not an attempt that says anything of the person. The
				// person tried to book it themselves, so they had not
				// asked that account to: it kept them out.
				if maker := d.keptOutBy(e, si, ai, bySessPerson); maker >= 0 {
					m := d.accounts[maker]
					m.endedBy = append(m.endedBy, stamp{e.ts, e.person})
					d.disowned[[2]int32{e.person, maker}] = true
				}
				break
			}
			if !self {
				break
			}
			a.attempts = append(a.attempts, attempt{e.ts, e.sess, e.person})
			a.refused = append(a.refused, e.ts)
			if e.typ == tRateLimited {
				a.limited++
			}
		}
		if !self {
			continue
		}
		if e.dev != 0 {
			a.devices = append(a.devices, stamp{e.ts, e.dev})
		}
		if e.ip != 0 {
			a.ipReqs++
			if m := &lastOf[ai]; m.ip != e.ip {
				k := [2]int32{e.ip, ai}
				u, ok := ipUse[k]
				if !ok {
					u = int32(len(ipN))
					ipUse[k] = u
					ipN = append(ipN, 0)
					ipPairs = append(ipPairs, k)
					d.ipAccounts[e.ip] = append(d.ipAccounts[e.ip], ai)
				}
				m.ip, m.ipUsed = e.ip, u
			}
			ipN[lastOf[ai].ipUsed]++
		}
		for _, at := range [...]struct {
			kind int
			id   sym
		}{{kindDevice, e.dev}, {kindPhone, e.phone}} {
			if at.id == 0 {
				continue
			}
			xi := d.attr(at.kind, at.id)
			x := d.attrs[xi]
			if m := &lastOf[ai]; m.attr[at.kind] != xi {
				m.attr[at.kind] = xi
				if k := [2]int32{xi, ai}; !attrSeen[k] {
					attrSeen[k] = true
					x.accounts = append(x.accounts, ai)
					a.attrs = append(a.attrs, xi)
				}
			}
			if e.person != 0 {
				x.persons = append(x.persons, stamp{e.ts, e.person})
			}
			if at.kind == kindDevice && e.typ == tBooked && e.marks&rWaitlist == 0 {
				x.bookings = append(x.bookings, int32(len(d.bookings)-1))
			}
		}
	}
	for _, x := range d.attrs {
		slices.Sort(x.accounts)
		x.hub = len(x.accounts) > d.cfg.HubAccounts
	}
	d.personAccounts = make(map[sym][]int32, len(persons))
	for p, i := range personOf {
		if i >= 0 {
			slices.Sort(persons[i])
			d.personAccounts[sym(p)] = persons[i]
		}
	}
	// An IP is an account's own when it carried half its requests or more:
	// its home line, or its own proxy. A carrier's NAT address carries a
	// few requests of thousands of people.
	for u, k := range ipPairs {
		if ip, a := k[0], k[1]; 2*int(ipN[u]) >= d.accounts[a].ipReqs {
			d.ipOwners[ip] = append(d.ipOwners[ip], a)
		}
	}
	for ip, l := range d.ipAccounts {
		slices.Sort(d.ipOwners[ip])
		slices.Sort(l)
	}
	d.settleSessions()
}

// settleSessions finds the scarce sessions and the ones that are over, and
// marks the bookings of sessions that are over and were never used, nor
// cancelled, nor written down as no-shows: they lapsed.
func (d *detector) settleSessions() {
	cfg := d.cfg
	type sellout struct {
		i int
		t int64
	}
	var ss []sellout
	for i, s := range d.sessions {
		s.over = s.lastUse > 0 && d.end-s.lastUse >= cfg.OverAfter.D().Nanoseconds()
		switch {
		case len(s.reacts) >= cfg.ScarceMinBookings:
			slices.Sort(s.reacts)
			k := int(float64(len(s.reacts))*cfg.ScarceQuantile+0.999999) - 1
			ss = append(ss, sellout{i, s.reacts[max(0, k)]})
		case len(s.unrel) >= cfg.ScarceMinBookings && len(s.reacts) == 0:
			// A stream that names no release time: the session's first
			// booking stands for its release, for scarcity and races only
			// (never for reaction times).
			k := int(float64(len(s.unrel))*cfg.ScarceQuantile+0.999999) - 1
			ss = append(ss, sellout{i, s.unrel[max(0, k)] - s.unrel[0]})
			s.relGuessed = true
		}
		s.reacts, s.unrel = nil, nil
	}
	slices.SortFunc(ss, func(a, b sellout) int {
		if a.t != b.t {
			if a.t < b.t {
				return -1
			}
			return 1
		}
		return int(d.sessions[a.i].id - d.sessions[b.i].id)
	})
	n := int(cfg.ScarceDecile*float64(len(ss)) + 0.999999)
	for i, s := range ss {
		if s.t <= cfg.ScarceSellout.D().Nanoseconds() || (i < n && s.t <= cfg.ScarceMaxSellout.D().Nanoseconds()) {
			x := d.sessions[s.i]
			x.scarce = true
			if x.relGuessed && x.rel == 0 {
				x.rel = x.first
			}
		}
	}
	for i := range d.bookings {
		b := &d.bookings[i]
		if b.outcome == oOpen && b.sess >= 0 && d.sessions[b.sess].over {
			b.outcome = oLapsed
		}
	}
}

func (d *detector) scarce(b *bref) bool { return b.sess >= 0 && d.sessions[b.sess].scarce }

// used says whether a booking's slot was used, wasted, or neither (yet).
func (b *bref) used() bool { return b.outcome == oUsed }
func (b *bref) wasted() bool {
	switch b.outcome {
	case oCancelled, oLate, oNoShow, oLapsed:
		return true
	}
	return false
}
func (b *bref) missed() bool {
	return b.outcome == oNoShow || b.outcome == oLapsed || b.outcome == oLate
}

// ns converts a configured duration.
func ns(d Duration) int64 { return time.Duration(d).Nanoseconds() }

// keptOutBy returns the account that kept the person of e, a refusal for
// what another account made for them, out of what they tried: -1 for none.
// The service names it (by_account_id) when it could tell whose booking,
// lottery entry or waitlist place was in the way, for every rule; a
// refusal of the day's, week's or month's quota does not count, named or
// not: what filled it was another visit — a son's booking of the
// cardiologist on Monday is in the way of his mother's own booking of the
// eye clinic that week, and she may well have asked him for it. The
// session's own booking, entry or place, or the department's that day,
// is the visit the person was trying to make. A refusal that names nobody
// (a stream from before the name, or person_booked_elsewhere, what
// anyone but the person's verified self is told) counts for the account
// holding the session's live booking for the person.
func (d *detector) keptOutBy(e *ev, si, ai int32, bySessPerson map[[2]int32]int32) int32 {
	if e.person == 0 {
		return -1
	}
	if e.other != 0 {
		maker := d.acctOf[e.other]
		if maker < 0 || maker == ai || e.marks&rOtherVisit != 0 {
			return -1
		}
		return maker
	}
	if bi, ok := bySessPerson[[2]int32{si, e.person}]; ok && si >= 0 {
		if b := &d.bookings[bi]; b.acct != ai && b.outcome == oOpen {
			return b.acct
		}
	}
	return -1
}
