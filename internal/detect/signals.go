package detect

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"fairslot/internal/booking"
)

// stamped is a key seen at a time: a person on an account, device, phone or IP.
type stamped struct {
	ts  time.Time
	key string
}

// bookingRef is one self-service booking of an account.
type bookingRef struct {
	ts       time.Time
	session  string
	reaction time.Duration // booked − release_at; -1 when unknown
}

type account struct {
	id          string
	persons     []stamped // every event naming a person
	personSet   map[string]bool
	bookings    []bookingRef
	cancels     []time.Time
	late        int
	noShows     int
	selfEvents  int // self-service requests
	noDevice    int // … of which without a device id
	rateLimited int
	last        time.Time
	own         float64 // the sum of the account's own signal scores
}

// attr is a device, phone or IP.
type attr struct {
	kind     string // "device", "phone", "ip"
	id       string
	accounts map[string]bool
	persons  []stamped
}

func (a *attr) hub(cfg Config) bool { return len(a.accounts) > cfg.HubAccounts }

// staffAct is a booking or reissue by a staff member for a person.
type staffAct struct {
	ts      time.Time
	person  string
	reissue bool // a reissue, or a booking that followed one by the same staff member
}

type staff struct {
	id      string
	acts    []staffAct
	favours map[string][2]int // favoured person → (actions, via reissue)
	last    time.Time
}

// handoff is a cancel followed within the window by another account's or
// person's booking of the same session.
type handoff struct {
	giver, receiver             string // accounts
	giverPerson, receiverPerson string
	session                     string
	at                          time.Time
	gap                         time.Duration
}

// item is one fired signal: its evidence and score, on a node of the graph.
type item struct {
	signal string
	family string // the group scores the strongest item of each family
	node   string
	value  float64
	score  float64
	detail string
}

type detector struct {
	cfg      Config
	evs      []event
	accounts map[string]*account
	attrs    map[string]*attr // by node key
	persons  map[string]map[string]bool
	staff    map[string]*staff
	handoffs []handoff
	items    []item
	uf       *unionFind
	scarce   map[string]bool // sessions in the scarcest decile
}

func newDetector(events []booking.Event, cfg Config) *detector {
	return &detector{
		cfg:      cfg,
		evs:      normalize(events),
		accounts: map[string]*account{},
		attrs:    map[string]*attr{},
		persons:  map[string]map[string]bool{},
		staff:    map[string]*staff{},
		uf:       newUnionFind(),
	}
}

// Node keys of the graph: one namespace per kind of member.
func accountNode(id string) string { return "a\x00" + id }
func staffNode(id string) string   { return "s\x00" + id }
func personNode(id string) string  { return "p\x00" + id }
func attrNode(kind, id string) string {
	return kind + "\x00" + id
}

func (d *detector) account(id string) *account {
	a := d.accounts[id]
	if a == nil {
		a = &account{id: id, personSet: map[string]bool{}}
		d.accounts[id] = a
	}
	return a
}

func (d *detector) attr(kind, id string) *attr {
	k := attrNode(kind, id)
	a := d.attrs[k]
	if a == nil {
		a = &attr{kind: kind, id: id, accounts: map[string]bool{}}
		d.attrs[k] = a
	}
	return a
}

// index walks the sorted events once and files them under their account,
// attributes, person and staff member.
func (d *detector) index() {
	for i := range d.evs {
		e := &d.evs[i]
		if e.StaffID != "" {
			s := d.staff[e.StaffID]
			if s == nil {
				s = &staff{id: e.StaffID}
				d.staff[e.StaffID] = s
			}
			s.last = e.TS
			if e.Channel == booking.ChannelPhone && e.Phone != "" && e.person != "" {
				// A caller's phone booking for many people is a farm on
				// the phone channel.
				ph := d.attr("phone", e.Phone)
				ph.persons = append(ph.persons, stamped{e.TS, e.person})
			}
		}
		if e.AccountID == "" {
			continue
		}
		a := d.account(e.AccountID)
		a.last = e.TS
		if e.person != "" {
			a.persons = append(a.persons, stamped{e.TS, e.person})
			a.personSet[e.person] = true
			if d.persons[e.person] == nil {
				d.persons[e.person] = map[string]bool{}
			}
			d.persons[e.person][e.AccountID] = true
		}
		switch e.Type {
		case booking.EventBooked, booking.EventLotteryEntered:
			// A lottery entry is the account's attempt at a slot as much as a
			// booking is: its reaction to the window's opening, its pace and
			// its volume are the same evidence. The draw's booking of a
			// winner is not another attempt (its entry counted).
			if e.StaffID == "" && e.Reason != reasonLottery {
				r := time.Duration(-1)
				if !e.ReleaseAt.IsZero() && !e.fromWaitlist() && !e.TS.Before(e.ReleaseAt) {
					r = e.TS.Sub(e.ReleaseAt)
				}
				a.bookings = append(a.bookings, bookingRef{e.TS, e.SessionID, r})
			}
		case booking.EventCancelled:
			if e.StaffID == "" && e.Reason != reasonLeftWaitlist {
				a.cancels = append(a.cancels, e.TS)
				if e.Reason == reasonLate {
					a.late++
				}
			}
		case booking.EventNoShow:
			a.noShows++
		case booking.EventRateLimited:
			a.rateLimited++
		}
		if !e.selfService() {
			continue
		}
		switch e.Type {
		case booking.EventAccountCreated, booking.EventLogin, booking.EventPatientAdded, booking.EventBooked,
			booking.EventCancelled, booking.EventWaitlisted, booking.EventLotteryEntered:
			a.selfEvents++
			if e.DeviceID == "" {
				a.noDevice++
			}
		}
		for _, at := range [...]struct{ kind, id string }{{"device", e.DeviceID}, {"phone", e.Phone}, {"ip", e.IP}} {
			if at.id == "" {
				continue
			}
			x := d.attr(at.kind, at.id)
			x.accounts[e.AccountID] = true
			if e.person != "" {
				x.persons = append(x.persons, stamped{e.TS, e.person})
			}
		}
	}
}

// maxDistinct is the most distinct keys within any span of w (xs sorted by
// time).
func maxDistinct(xs []stamped, w time.Duration) int {
	count := map[string]int{}
	best, lo := 0, 0
	for hi := range xs {
		count[xs[hi].key]++
		for xs[hi].ts.Sub(xs[lo].ts) > w {
			if count[xs[lo].key]--; count[xs[lo].key] == 0 {
				delete(count, xs[lo].key)
			}
			lo++
		}
		best = max(best, len(count))
	}
	return best
}

// personCount scores the distinct persons seen on one account, device, phone or
// IP: the stronger of Window against rule and LongWindow against long; long
// is the zero Rule to skip the latter.
func (d *detector) personCount(signal, who, node string, xs []stamped, rule, long Rule, suffix string) float64 {
	cfg := d.cfg
	n := maxDistinct(xs, cfg.Window.D())
	s, w := rule.score(float64(n)), cfg.Window.D()
	if long.Weight > 0 {
		nl := maxDistinct(xs, cfg.LongWindow.D())
		if sl := long.score(float64(nl)); sl > s {
			n, s, w = nl, sl, cfg.LongWindow.D()
		}
	}
	if s <= 0 {
		return 0
	}
	d.items = append(d.items, item{signal: signal, family: "persons", node: node, value: float64(n), score: s,
		detail: fmt.Sprintf("%s: %d distinct patients in %s%s", who, n, window(w), suffix)})
	return s
}

// maxWithin is the most timestamps within any span of w (ts sorted).
func maxWithin(ts []time.Time, w time.Duration) int {
	best, lo := 0, 0
	for hi := range ts {
		for ts[hi].Sub(ts[lo]) > w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

func (d *detector) add(signal, family, node string, r Rule, value float64, detail string) float64 {
	s := r.score(value)
	if s <= 0 {
		return 0
	}
	d.items = append(d.items, item{signal: signal, family: family, node: node, value: value, score: s, detail: detail})
	return s
}

// window names a duration the way the reasons read ("7 days", "48 h").
func window(w time.Duration) string {
	switch {
	case w%(24*time.Hour) == 0:
		if n := w / (24 * time.Hour); n != 1 {
			return fmt.Sprintf("%d days", n)
		}
		return "1 day"
	case w%time.Hour == 0:
		return fmt.Sprintf("%d h", w/time.Hour)
	}
	return w.String()
}

func ms(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// accountSignals computes the signals of each account on its own.
func (d *detector) accountSignals() {
	cfg, r := d.cfg, d.cfg.Rules
	d.scarce = d.scarceSessions()
	scarce := d.scarce
	manual := d.manualPercentile()
	for _, id := range sortedKeys(d.accounts) {
		a := d.accounts[id]
		node := accountNode(id)
		var own float64
		own += d.personCount("persons_per_account", "account "+id, node, a.persons, r.PersonsPerAccount, r.PersonsPerAccount, "")
		var fast, nearFast, nScarce, nRelease int
		var times []time.Time
		for _, b := range a.bookings {
			times = append(times, b.ts)
			if b.reaction < 0 {
				continue
			}
			nRelease++
			switch {
			case b.reaction < cfg.FastReaction.D():
				fast++
			case b.reaction < manual:
				nearFast++
			}
			if scarce[b.session] {
				nScarce++
			}
		}
		own += d.add("fast_reaction", "fast_reaction", node, r.FastReaction, float64(fast),
			fmt.Sprintf("account %s: %d bookings within %s of release", id, fast, ms(cfg.FastReaction.D())))
		own += d.add("fast_percentile", "fast_percentile", node, r.FastPercentile, float64(nearFast),
			fmt.Sprintf("account %s: %d more bookings faster than %.0f%% of manual bookings (under %s after release)",
				id, nearFast, 100*(1-cfg.ReactionPercentile), ms(manual)))
		if n := maxWithin(times, cfg.BurstWindow.D()); n > 1 {
			own += d.add("burst", "burst", node, r.Burst, float64(n),
				fmt.Sprintf("account %s: %d bookings within %s", id, n, ms(cfg.BurstWindow.D())))
		}
		if n := maxWithin(times, cfg.Window.D()); n > 0 {
			own += d.add("booking_volume", "booking_volume", node, r.Volume, float64(n),
				fmt.Sprintf("account %s: %d bookings in %s", id, n, window(cfg.Window.D())))
		}
		if n := maxWithin(a.cancels, cfg.CancelWindow.D()); n > 0 {
			own += d.add("cancellations", "cancellations", node, r.Cancellations, float64(n),
				fmt.Sprintf("account %s: %d cancellations within %s", id, n, window(cfg.CancelWindow.D())))
		}
		if ns, nb := a.noShows+a.late, max(len(a.bookings), a.noShows); nb > 0 && float64(ns) >= cfg.NoShowMinRate*float64(nb) {
			own += d.add("no_shows", "no_shows", node, r.NoShows, float64(ns),
				fmt.Sprintf("account %s: %d no-shows or late cancellations in %d bookings (%.0f%%)", id, ns, nb, 100*float64(ns)/float64(nb)))
		}
		if nRelease > 0 && float64(nScarce) >= cfg.ScarceMinShare*float64(nRelease) {
			own += d.add("scarce_concentration", "scarce_concentration", node, r.Scarce, float64(nScarce),
				fmt.Sprintf("account %s: %d of %d bookings (%.0f%%) on the scarcest %.0f%% of sessions",
					id, nScarce, nRelease, 100*float64(nScarce)/float64(nRelease), 100*cfg.ScarceDecile))
		}
		if a.selfEvents >= cfg.MissingDeviceMinEvents {
			share := float64(a.noDevice) / float64(a.selfEvents)
			own += d.add("missing_device", "missing_device", node, r.MissingDevice, share,
				fmt.Sprintf("account %s: no device id on %d of %d requests", id, a.noDevice, a.selfEvents))
		}
		own += d.add("rate_limited", "rate_limited", node, r.RateLimited, float64(a.rateLimited),
			fmt.Sprintf("account %s: %d rate-limited requests", id, a.rateLimited))
		a.own = own
	}
}

// scarceSessions estimates which sessions sell out fastest: a session's
// sell-out time is the reaction of its ScarceQuantile-th self-service
// booking, and the fastest ScarceDecile of sessions are scarce (if they sold
// out within ScarceMaxSellout at all).
func (d *detector) scarceSessions() map[string]bool {
	reactions := map[string][]time.Duration{}
	for _, a := range d.accounts {
		for _, b := range a.bookings {
			if b.reaction >= 0 && b.session != "" {
				reactions[b.session] = append(reactions[b.session], b.reaction)
			}
		}
	}
	type sellout struct {
		session string
		t       time.Duration
	}
	var ss []sellout
	for s, rs := range reactions {
		if len(rs) < d.cfg.ScarceMinBookings {
			continue
		}
		slices.Sort(rs)
		k := int(math.Ceil(d.cfg.ScarceQuantile*float64(len(rs)))) - 1
		ss = append(ss, sellout{s, rs[max(0, k)]})
	}
	slices.SortFunc(ss, func(a, b sellout) int {
		return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(a.session, b.session))
	})
	n := int(math.Ceil(d.cfg.ScarceDecile * float64(len(ss))))
	scarce := map[string]bool{}
	for i, s := range ss {
		if s.t <= d.cfg.ScarceSellout.D() || (i < n && s.t <= d.cfg.ScarceMaxSellout.D()) {
			scarce[s.session] = true
		}
	}
	return scarce
}

// manualPercentile is the reaction time faster than which only
// ReactionPercentile of the bookings of accounts without a sub-human booking
// were made, clamped to [PercentileFloor, PercentileCap] (and never under
// FastReaction).
func (d *detector) manualPercentile() time.Duration {
	var rs []time.Duration
	for _, a := range d.accounts {
		human := true
		for _, b := range a.bookings {
			if b.reaction >= 0 && b.reaction < d.cfg.FastReaction.D() {
				human = false
				break
			}
		}
		if !human {
			continue
		}
		for _, b := range a.bookings {
			if b.reaction >= 0 {
				rs = append(rs, b.reaction)
			}
		}
	}
	lo := max(d.cfg.FastReaction.D(), d.cfg.PercentileFloor.D())
	hi := max(lo, d.cfg.PercentileCap.D())
	if len(rs) == 0 {
		return lo
	}
	slices.Sort(rs)
	p := rs[min(len(rs)-1, int(d.cfg.ReactionPercentile*float64(len(rs))))]
	return min(hi, max(lo, p))
}

// attributeSignals counts persons and accounts per device, phone and IP.
// Hubs (more than HubAccounts accounts) say nothing: a hospital's Wi-Fi or a
// kiosk serves thousands.
func (d *detector) attributeSignals() {
	r := d.cfg.Rules
	for _, k := range sortedKeys(d.attrs) {
		x := d.attrs[k]
		if x.hub(d.cfg) {
			continue
		}
		slices.SortStableFunc(x.persons, func(a, b stamped) int { return a.ts.Compare(b.ts) })
		var rule, accRule Rule
		switch x.kind {
		case "device":
			rule, accRule = r.PersonsPerDevice, r.AccountsPerDevice
		case "phone":
			rule, accRule = r.PersonsPerPhone, r.AccountsPerPhone
		default:
			rule = r.PersonsPerIP
		}
		long := rule
		long.Min = d.cfg.LongMinPersons
		if x.kind == "ip" {
			long = Rule{} // a NAT's many people come and go over a month
		}
		d.personCount("persons_per_"+x.kind, fmt.Sprintf("%s %s", x.kind, x.id), k, x.persons, rule, long,
			fmt.Sprintf(" across %d accounts", len(x.accounts)))
		if n := len(x.accounts); n > 1 {
			d.add("accounts_per_"+x.kind, "accounts_per_"+x.kind, k, accRule, float64(n),
				fmt.Sprintf("%s %s: used by %d accounts", x.kind, x.id, n))
		}
	}
}

// findHandoffs pairs each cancel with the first booking of the same session by
// another account or person within HandoffWindow. Bookings the waitlist
// handed over, or by someone who waited for the session, are not hand-offs:
// that is the waitlist working; nor are cancellations of a booking made less
// than HandoffMinHeld before: that is a correction.
func (d *detector) findHandoffs() {
	type sessionEvents struct {
		cancels, books []*event
	}
	bySession := map[string]*sessionEvents{}
	waited := map[[2]string]bool{}     // (session, account or person) that joined its waitlist
	bookedAt := map[string]time.Time{} // booking id, or session+account+person → when booked
	heldKey := func(e *event) string { return e.SessionID + "\x00" + e.AccountID + "\x00" + e.person }
	for i := range d.evs {
		e := &d.evs[i]
		if e.SessionID == "" || e.AccountID == "" {
			continue
		}
		if e.Type == booking.EventBooked {
			if e.BookingID != "" {
				bookedAt[e.BookingID] = e.TS
			}
			bookedAt[heldKey(e)] = e.TS
		}
		se := bySession[e.SessionID]
		if se == nil {
			se = &sessionEvents{}
			bySession[e.SessionID] = se
		}
		switch e.Type {
		case booking.EventWaitlisted:
			waited[[2]string{e.SessionID, e.AccountID}] = true
			if e.person != "" {
				waited[[2]string{e.SessionID, "p\x00" + e.person}] = true
			}
		case booking.EventCancelled:
			t, ok := bookedAt[e.BookingID]
			if !ok {
				t, ok = bookedAt[heldKey(e)]
			}
			if e.Reason != reasonLeftWaitlist && (!ok || e.TS.Sub(t) >= d.cfg.HandoffMinHeld.D()) {
				se.cancels = append(se.cancels, e)
			}
		case booking.EventBooked:
			if e.StaffID == "" && !e.fromWaitlist() && !waited[[2]string{e.SessionID, e.AccountID}] &&
				(e.person == "" || !waited[[2]string{e.SessionID, "p\x00" + e.person}]) {
				se.books = append(se.books, e)
			}
		}
	}
	w := d.cfg.HandoffWindow.D()
	for _, s := range sortedKeys(bySession) {
		se := bySession[s]
		used := make([]bool, len(se.books))
		start := 0
		for _, c := range se.cancels {
			for start < len(se.books) && se.books[start].TS.Before(c.TS) {
				start++
			}
			for j := start; j < len(se.books) && se.books[j].TS.Sub(c.TS) <= w; j++ {
				b := se.books[j]
				if used[j] || (b.AccountID == c.AccountID && b.person == c.person) {
					continue
				}
				used[j] = true
				d.handoffs = append(d.handoffs, handoff{giver: c.AccountID, receiver: b.AccountID,
					giverPerson: c.person, receiverPerson: b.person, session: s, at: c.TS, gap: b.TS.Sub(c.TS)})
				break
			}
		}
	}
}

// insiders finds staff members who book or reissue for the same persons
// again and again. A reissue that names the person who lost the slot (their
// no-show or cancellation of the session came first, as the service writes
// it) is not a favour to them; one that names anyone else is.
func (d *detector) insiders() {
	lastReissue := map[[2]string]time.Time{} // (staff, session) → its latest reissue or extra slots
	lost := map[[2]string]bool{}             // (session, person) whose booking was cancelled or not used
	for i := range d.evs {
		e := &d.evs[i]
		if e.person != "" && e.SessionID != "" && (e.Type == booking.EventNoShow || e.Type == booking.EventCancelled) {
			lost[[2]string{e.SessionID, e.person}] = true
		}
		if e.StaffID == "" {
			continue
		}
		s := d.staff[e.StaffID]
		switch e.Type {
		case booking.EventReissued:
			lastReissue[[2]string{e.StaffID, e.SessionID}] = e.TS
			if e.person != "" && !lost[[2]string{e.SessionID, e.person}] {
				s.acts = append(s.acts, staffAct{e.TS, e.person, true})
			}
		case booking.EventBooked:
			if e.person == "" {
				continue
			}
			// One reissue gives one slot: the first booking that follows it.
			k := [2]string{e.StaffID, e.SessionID}
			t, ok := lastReissue[k]
			follows := ok && e.SessionID != "" && e.TS.Sub(t) <= d.cfg.InsiderFollow.D()
			if follows {
				delete(lastReissue, k)
			}
			s.acts = append(s.acts, staffAct{e.TS, e.person, follows})
		}
	}
	r, w := d.cfg.Rules, d.cfg.InsiderWindow.D()
	for _, id := range sortedKeys(d.staff) {
		s := d.staff[id]
		byPerson := map[string][]staffAct{}
		for _, a := range s.acts {
			byPerson[a.person] = append(byPerson[a.person], a)
		}
		s.favours = map[string][2]int{}
		for p, acts := range byPerson {
			var all, re []time.Time
			for _, a := range acts {
				all = append(all, a.ts)
				if a.reissue {
					re = append(re, a.ts)
				}
			}
			n, nr := maxWithin(all, w), maxWithin(re, w)
			if n >= d.cfg.InsiderRepeat || nr >= d.cfg.InsiderReissueRepeat {
				s.favours[p] = [2]int{n, nr}
			}
		}
		if len(s.favours) == 0 {
			continue
		}
		ps := sortedKeys(s.favours)
		slices.SortStableFunc(ps, func(a, b string) int { return s.favours[b][0] - s.favours[a][0] })
		detail := fmt.Sprintf("staff %s: %d persons booked or reissued for repeatedly within %s (", id, len(ps), window(w))
		for i, p := range ps[:min(len(ps), 5)] {
			if i > 0 {
				detail += ", "
			}
			f := s.favours[p]
			detail += fmt.Sprintf("%s ×%d, %d via reissue or extra slots", p, f[0], f[1])
		}
		if len(ps) > 5 {
			detail += fmt.Sprintf(", and %d more", len(ps)-5)
		}
		detail += ")"
		if d.add("insider", "insider", staffNode(id), r.Insider, float64(len(ps)), detail) == 0 {
			s.favours = nil // not enough to link the clerk to anyone
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
