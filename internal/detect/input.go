package detect

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"fairslot/internal/booking"
)

// The detector's own copy of the events: compact and interned, so that half
// a million events take a few tens of megabytes and the work is a sort and
// a few linear passes.
//
// Every string of an event (ids, addresses, reasons) becomes a sym, an index
// into a table of the distinct strings (strtable.go). Once every event is
// in, the strings are sorted and the syms renumbered in that order, so that
// comparing two syms compares their strings: the result does not depend on
// the order the events came in.

// sym names an interned string; 0 is the empty string.
type sym = int32

// Event types, as small numbers.
const (
	tOther uint8 = iota
	tAccountCreated
	tLogin
	tPatientAdded
	tBooked
	tCancelled
	tCheckedIn
	tNoShow
	tWaitlisted
	tReissued
	tRateLimited
	tRejected
	tEntered // a lottery entry: an attempt at a slot, not a booking
)

var typeCodes = map[booking.EventType]uint8{
	booking.EventAccountCreated: tAccountCreated, booking.EventLogin: tLogin, booking.EventPatientAdded: tPatientAdded,
	booking.EventBooked: tBooked, booking.EventCancelled: tCancelled, booking.EventCheckedIn: tCheckedIn,
	booking.EventNoShow: tNoShow, booking.EventWaitlisted: tWaitlisted, booking.EventReissued: tReissued,
	booking.EventRateLimited: tRateLimited, booking.EventRejected: tRejected,
	booking.EventLotteryEntered: tEntered,
}

// Marks, read from the reason (loosely, so that another system's spelling
// — "waitlist_promoted", "late_cancel" — reads the same as the service's)
// and the channel, once: the detector needs no more of either.
const (
	rWaitlist     uint16 = 1 << iota // booked: handed over by the waitlist or a lottery draw (no race behind it)
	rLate                            // cancelled after the deadline: counts as a no-show
	rLeftWaitlist                    // cancelled: a waitlist entry, not a booking
	rByStaff                         // cancelled by the hospital (a stopped clinic, a confirmed flag)
	cPhone                           // on the phone channel
	cReferral                        // on the referral channel
	// A check-in the desk refused for a mismatch (rejected,
	// identity_mismatch) by a person who showed their own card:
	pStranger // … who is not on the booking's account
	pKin      // … who is (the booked person, or a family member picked by mistake)
	// rByPerson: cancelled (a booking, an entry, a waitlist place) by the
	// verified self of the person another account made it for — reason
	// …_by_person, or by_account_id naming an account other than the
	// event's. The event's account is the maker's; the request was the
	// person's.
	rByPerson
	// rByOthers: a refused attempt of the person for something another
	// patient account made for them (made_by_other_account).
	rByOthers
	// rClaim: a refused identity claim — adding a patient refused
	// identity_taken or identity_unverified — or the 429
	// identity_claims_limited past the day's refusals (a rejected event
	// with no session).
	rClaim
	rClaimLimited // … the 429
	// rOtherVisit: a refusal for the day's, week's or month's quota (not
	// the department's for the day): what filled it was another visit.
	rOtherVisit
)

func channelMarks(ch string) uint16 {
	switch ch {
	case string(booking.ChannelPhone):
		return cPhone
	case string(booking.ChannelReferral):
		return cReferral
	}
	return 0
}

// presentedMarks reads who showed the card at a refused check-in: a
// mismatch's rejected event with presented_on_account. A stream that does
// not say (another system, or the service before it recorded it) says
// nothing.
func presentedMarks(typ uint8, reason string, onAccount *bool) uint16 {
	if typ != tRejected || onAccount == nil || !strings.Contains(strings.ToLower(reason), "mismatch") {
		return 0
	}
	if *onAccount {
		return pKin
	}
	return pStranger
}

func reasonMarks(typ uint8, reason string) uint16 {
	if reason == "" || (typ != tBooked && typ != tCancelled && typ != tRejected) {
		return 0
	}
	r := strings.ToLower(reason)
	var m uint16
	switch typ {
	case tRejected:
		switch {
		case r == "person_booked_elsewhere":
			// What anyone but the person's verified self is told of a
			// booking, entry or place it cannot be shown to have made
			// (docs/security.md): like made_by_other_account, not the
			// asker's own attempt; whose booking was in the way the
			// detector reads from its own events (index.go).
			m |= rByOthers
		case strings.Contains(r, "claims_limited"):
			m |= rClaim | rClaimLimited
		case strings.Contains(r, "identity_taken") || strings.Contains(r, "identity_unverified"):
			m |= rClaim
		case strings.HasPrefix(r, "quota") && !strings.Contains(r, "dep"):
			m |= rOtherVisit
		}
	case tBooked:
		if strings.Contains(r, "waitlist") || strings.Contains(r, "wait_list") || strings.Contains(r, "lottery") {
			m |= rWaitlist
		}
	case tCancelled:
		switch {
		case strings.Contains(r, "left_waitlist") || strings.Contains(r, "waitlist_left"):
			m |= rLeftWaitlist
		case strings.Contains(r, "late"):
			m |= rLate
		case strings.HasPrefix(r, "flag_confirmed") || strings.Contains(r, "clinic_stopped") || strings.Contains(r, "stopped"):
			m |= rByStaff
		}
		if strings.Contains(r, "by_person") {
			m |= rByPerson
		}
	}
	return m
}

// actorMarks reads who acted on an event beside its account: a
// cancellation naming another account that ended it (by_account_id) was
// the person's, and a refusal made_by_other_account was for something
// another account made.
func actorMarks(typ uint8, acct, by sym, byOthers bool) uint16 {
	var m uint16
	if typ == tCancelled && by != 0 && by != acct {
		m |= rByPerson
	}
	if typ == tRejected && byOthers {
		m |= rByOthers
	}
	return m
}

// ev is one event, compact (64 bytes). Times are Unix nanoseconds; rel is 0
// when the event names no release time. A session's doctor is kept once, in
// Input.doctorOf.
type ev struct {
	ts, rel                                           int64
	acct, pat, ident, bk, sess, ip, dev, phone, staff sym
	person                                            sym // the identity, resolved (see resolvePersons)
	// other is who else an event names: at a refused check-in, who showed
	// their card (presented_identity_id); on a cancellation by the person
	// it was made for, the person's account (by_account_id).
	other sym
	typ   uint8
	marks uint16
}

// Input collects events for Detect. Add them in any order, then call
// Detect; an Input is used once.
type Input struct {
	// parts are read apart (a file's parts, one a core), each with its
	// own strings; Add adds to the first.
	parts []*part
	// reports are the scalper reports (reports.go).
	reports []report
}

// part is events with their own table of strings.
type part struct {
	strs     *interner
	doctorOf map[sym]sym // session → its doctor
	// evs fill chunks of chunkSize, joined into one slice once all are in:
	// a growing slice would hold up to three times the events at its
	// copies.
	chunks [][]ev
	evs    []ev
	n      int
}

const chunkSize = 1 << 16

func newPart() *part { return &part{strs: newInterner(), doctorOf: map[sym]sym{}} }

func (in *part) push(e ev) {
	if len(in.evs) == cap(in.evs) {
		if in.evs != nil {
			in.chunks = append(in.chunks, in.evs)
		}
		in.evs = make([]ev, 0, chunkSize)
	}
	in.evs = append(in.evs, e)
	in.n++
}

// NewInput makes an empty input.
func NewInput() *Input { return &Input{parts: []*part{newPart()}} }

func (in *part) doctor(sess, doct sym) {
	if sess != 0 && doct != 0 {
		// The first doctor in string order, whatever the order of the
		// events (a session has one doctor; a stream that disagrees with
		// itself still gives one answer).
		if cur, ok := in.doctorOf[sess]; !ok || bytes.Compare(in.strs.bytes(doct), in.strs.bytes(cur)) < 0 {
			in.doctorOf[sess] = doct
		}
	}
}

// Len is the number of events added.
func (in *Input) Len() int {
	n := 0
	for _, p := range in.parts {
		n += p.n
	}
	return n
}

func (in *part) sym(s string) sym      { return in.strs.internString(s) }
func (in *part) symBytes(b []byte) sym { return in.strs.intern(b) }

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Add adds one event.
func (in *Input) Add(e *booking.Event) { in.parts[0].add(e) }

func (in *part) add(e *booking.Event) {
	typ := typeCodes[e.Type]
	x := ev{
		ts: unixNano(e.TS), rel: unixNano(e.ReleaseAt),
		acct: in.sym(e.AccountID), pat: in.sym(e.PatientID), ident: in.sym(e.IdentityID), bk: in.sym(e.BookingID),
		sess: in.sym(e.SessionID), ip: in.sym(e.IP), dev: in.sym(e.DeviceID), phone: in.sym(e.Phone),
		staff: in.sym(e.StaffID), other: in.sym(cmp.Or(e.PresentedIdentityID, e.ByAccountID)), typ: typ,
		marks: reasonMarks(typ, e.Reason) | channelMarks(string(e.Channel)) | presentedMarks(typ, e.Reason, e.PresentedOnAccount),
	}
	x.marks |= actorMarks(typ, x.acct, in.sym(e.ByAccountID), e.MadeByOtherAccount)
	if e.DoctorID != "" {
		in.doctor(x.sess, in.sym(e.DoctorID))
	}
	in.push(x)
}

// ReadInput reads the booking-event format of ../shared/API.md into an
// Input: one JSON object a line, blank lines skipped, unknown fields
// ignored, any order. It reads a line at a time, so a file of millions of
// events never exists as Go values at once. A large regular file is read in
// parts, one a core, each with its own table of strings, merged at the end.
func ReadInput(r io.Reader) (*Input, error) {
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			if start, err := f.Seek(0, io.SeekCurrent); err == nil && st.Size()-start >= parallelFrom {
				return readParts(f, start, st.Size())
			}
		}
	}
	p := newPart()
	if _, err := p.read(r, 0); err != nil {
		return nil, err
	}
	return &Input{parts: []*part{p}}, nil
}

// parallelFrom is the size of a file worth reading in parts.
const parallelFrom = 8 << 20

// read adds the lines of r; their numbers start after skipped lines. It
// returns the lines read.
func (in *part) read(r io.Reader, skipped int) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256*1024), 16<<20)
	var e booking.Event
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if in.addFlat(line) {
			continue
		}
		// Anything the quick reader does not know (escapes, numbers,
		// nested values) goes through encoding/json.
		e = booking.Event{}
		if err := json.Unmarshal(line, &e); err != nil {
			return n, &lineError{line: skipped + n, err: err}
		}
		in.add(&e)
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("read events: %w", err)
	}
	return n, nil
}

// lineError is a line of events that does not read.
type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return fmt.Sprintf("events line %d: %v", e.line, e.err) }
func (e *lineError) Unwrap() error { return e.err }

// readParts reads [start, end) of f in one part per core, each cut at a line
// end and read through a buffer of its own, and keeps the parts in order.
func readParts(f *os.File, start, end int64) (*Input, error) {
	k := int64(max(1, min(runtime.GOMAXPROCS(0), 8)))
	cuts := []int64{start}
	buf := make([]byte, 64*1024)
	for i := int64(1); i < k; i++ {
		at := max(cuts[len(cuts)-1], start+(end-start)*i/k)
		for at < end { // move to just past the next line end
			m, err := f.ReadAt(buf, at)
			if j := bytes.IndexByte(buf[:m], '\n'); j >= 0 {
				at += int64(j) + 1
				break
			}
			at += int64(m)
			if err != nil {
				break
			}
		}
		cuts = append(cuts, min(at, end))
	}
	cuts = append(cuts, end)
	parts := make([]*part, len(cuts)-1)
	lines := make([]int, len(parts))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i := range parts {
		wg.Go(func() {
			parts[i] = newPart()
			lines[i], errs[i] = parts[i].read(io.NewSectionReader(f, cuts[i], cuts[i+1]-cuts[i]), 0)
		})
	}
	wg.Wait()
	skipped := 0
	for i, err := range errs {
		if le, ok := err.(*lineError); ok {
			le.line += skipped // the line in the whole file, not in its part
			return nil, le
		}
		if err != nil {
			return nil, err
		}
		skipped += lines[i]
	}
	return &Input{parts: parts}, nil
}

// addFlat reads a line that is a flat JSON object of string values without
// escapes — every line the service and the generators write — straight into
// syms, and reports whether it could. It allocates only for strings it has
// not seen.
func (in *part) addFlat(line []byte) bool {
	var e ev
	var typ, reason, ch []byte
	var ts, rel []byte
	var doct sym
	var onAccount *bool
	var by sym
	byOthers := false
	yes, no := true, false
	i := 0
	skip := func() {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
	}
	str := func() ([]byte, bool) {
		if i >= len(line) || line[i] != '"' {
			return nil, false
		}
		j := i + 1
		for j < len(line) && line[j] != '"' {
			if line[j] == '\\' {
				return nil, false
			}
			j++
		}
		if j >= len(line) {
			return nil, false
		}
		s := line[i+1 : j]
		i = j + 1
		return s, true
	}
	skip()
	if i >= len(line) || line[i] != '{' {
		return false
	}
	i++
	for {
		skip()
		if i < len(line) && line[i] == '}' {
			i++
			break
		}
		key, ok := str()
		if !ok {
			return false
		}
		skip()
		if i >= len(line) || line[i] != ':' {
			return false
		}
		i++
		skip()
		var val []byte
		if k := string(key); k == "presented_on_account" || k == "made_by_other_account" {
			// The values that are not strings: JSON booleans.
			var b *bool
			switch {
			case bytes.HasPrefix(line[i:], []byte("true")):
				b, i = &yes, i+4
			case bytes.HasPrefix(line[i:], []byte("false")):
				b, i = &no, i+5
			default:
				return false
			}
			if k == "presented_on_account" {
				onAccount = b
			} else {
				byOthers = *b
			}
		} else if val, ok = str(); !ok {
			return false
		}
		switch string(key) {
		case "ts":
			ts = val
		case "release_at":
			rel = val
		case "type":
			typ = val
		case "reason":
			reason = val
		case "account_id":
			e.acct = in.symBytes(val)
		case "patient_id":
			e.pat = in.symBytes(val)
		case "identity_id":
			e.ident = in.symBytes(val)
		case "booking_id":
			e.bk = in.symBytes(val)
		case "session_id":
			e.sess = in.symBytes(val)
		case "ip":
			e.ip = in.symBytes(val)
		case "device_id":
			e.dev = in.symBytes(val)
		case "phone":
			e.phone = in.symBytes(val)
		case "staff_id":
			e.staff = in.symBytes(val)
		case "presented_identity_id":
			e.other = in.symBytes(val)
		case "by_account_id":
			by = in.symBytes(val)
		case "doctor_id":
			doct = in.symBytes(val)
		case "channel":
			ch = val
		}
		skip()
		if i < len(line) && line[i] == ',' {
			i++
			continue
		}
		if i < len(line) && line[i] == '}' {
			i++
			break
		}
		return false
	}
	skip()
	if i != len(line) || ts == nil || typ == nil {
		return false
	}
	var ok bool
	if e.ts, ok = parseTime(ts); !ok {
		return false
	}
	if len(rel) > 0 {
		if e.rel, ok = parseTime(rel); !ok {
			return false
		}
	}
	e.typ = typeCodes[booking.EventType(typ)]
	e.marks = channelMarks(string(ch))
	if len(reason) > 0 && (e.typ == tBooked || e.typ == tCancelled || e.typ == tRejected) {
		e.marks |= reasonMarks(e.typ, string(reason))
	}
	if by != 0 && e.other == 0 {
		e.other = by
	}
	e.marks |= actorMarks(e.typ, e.acct, by, byOthers)
	if onAccount != nil {
		e.marks |= presentedMarks(e.typ, string(reason), onAccount)
	}
	in.doctor(e.sess, doct)
	in.push(e)
	return true
}

// parseTime reads an RFC 3339 time ("2026-11-02T08:00:00.412+08:00",
// "…Z") as Unix nanoseconds without allocating, and falls back to
// time.Parse for anything else it is not sure of.
func parseTime(b []byte) (int64, bool) {
	num := func(i, n int) (int, bool) {
		v := 0
		for _, c := range b[i : i+n] {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	slow := func() (int64, bool) {
		t, err := time.Parse(time.RFC3339Nano, string(b))
		return t.UnixNano(), err == nil
	}
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return slow()
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 2)
	d, ok3 := num(8, 2)
	h, ok4 := num(11, 2)
	mi, ok5 := num(14, 2)
	s, ok6 := num(17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59 {
		return slow()
	}
	i, frac := 19, 0
	if i < len(b) && b[i] == '.' {
		j := i + 1
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == i+1 || j-i-1 > 9 {
			return slow()
		}
		f, _ := num(i+1, j-i-1)
		for k := j - i - 1; k < 9; k++ {
			f *= 10
		}
		frac, i = f, j
	}
	off := 0
	switch {
	case i == len(b)-1 && b[i] == 'Z':
	case i == len(b)-6 && (b[i] == '+' || b[i] == '-') && b[i+3] == ':':
		oh, ok1 := num(i+1, 2)
		om, ok2 := num(i+4, 2)
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return slow()
		}
		off = (oh*60 + om) * 60
		if b[i] == '-' {
			off = -off
		}
	default:
		return slow()
	}
	secs := daysFromCivil(y, mo, d)*86400 + int64(h*3600+mi*60+s) - int64(off)
	return secs*1e9 + int64(frac), true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the days since 1970-01-01 of a date of the proleptic
// Gregorian calendar (H. Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// finish renumbers the syms in string order, resolves persons and sorts
// the events by time, ties broken on every field: a shuffled input gives
// the same sequence. It returns the sessions' doctors too.
//
// The two sorts are the most of it at millions of events, so they avoid
// touching what they need not: the strings are sorted by their first eight
// bytes, compared in full only when those are equal; the events by time
// alone, in a slice of (time, index) pairs, at the same time as the strings
// on another core, and only runs of equal times are sorted again on every
// field once the strings have their ranks.
func (in *Input) finish() (evs []ev, strs strTable, doctorOf map[sym]sym) {
	evs = make([]ev, 0, in.Len())
	from := make([]int, len(in.parts)+1) // part p's events are evs[from[p]:from[p+1]]
	for p, x := range in.parts {
		for _, c := range append(x.chunks, x.evs) {
			evs = append(evs, c...)
		}
		x.chunks, x.evs = nil, nil
		from[p+1] = len(evs)
	}

	type keyed struct {
		key uint64
		i   int32
	}
	byTime := make([]keyed, len(evs))
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range evs {
			byTime[i] = keyed{uint64(evs[i].ts) ^ 1<<63, int32(i)} // the sign bit flipped: unsigned order is signed order
		}
		slices.SortFunc(byTime, func(a, b keyed) int { return cmp.Compare(a.key, b.key) })
	})
	tables := make([]*interner, len(in.parts))
	for p, x := range in.parts {
		tables[p] = x.strs
		x.strs.slots = nil
	}
	strs, ranks := sortStrings(tables)
	doctorOf = map[sym]sym{}
	for p, x := range in.parts {
		rank := ranks[p]
		for i := range evs[from[p]:from[p+1]] {
			e := &evs[from[p]+i]
			for _, f := range [...]*sym{&e.acct, &e.pat, &e.ident, &e.bk, &e.sess, &e.ip, &e.dev, &e.phone, &e.staff, &e.other} {
				*f = rank[*f]
			}
		}
		for s, d := range x.doctorOf {
			// The first doctor in string order: the least rank.
			if cur, ok := doctorOf[rank[s]]; !ok || rank[d] < cur {
				doctorOf[rank[s]] = rank[d]
			}
		}
		x.strs, x.doctorOf = nil, nil
	}
	ranks = nil
	wg.Wait()
	resolvePersons(evs, strs.len())

	// Put the events in time order in place, following the permutation's
	// cycles, then sort each run of equal times on every field.
	perm := make([]int32, len(evs))
	for r, k := range byTime {
		perm[r] = k.i
	}
	byTime = nil
	for start := range perm {
		if perm[start] < 0 || int(perm[start]) == start {
			continue
		}
		tmp := evs[start]
		at := start
		for {
			from := int(perm[at])
			perm[at] = -1
			if from == start {
				evs[at] = tmp
				break
			}
			evs[at] = evs[from]
			at = from
		}
	}
	for lo := 0; lo < len(evs); {
		hi := lo + 1
		for hi < len(evs) && evs[hi].ts == evs[lo].ts {
			hi++
		}
		if hi-lo > 1 {
			slices.SortFunc(evs[lo:hi], compareEv)
		}
		lo = hi
	}
	return evs, strs, doctorOf
}

// resolvePersons names the person behind each event: its identity, else
// the identity another event gives its patient id, else the patient id. The
// service puts the identity on some events only, and one person must not
// count twice.
func resolvePersons(evs []ev, nsyms int) {
	identityOf := make([]sym, nsyms)
	for i := range evs {
		if e := &evs[i]; e.pat != 0 && e.ident != 0 {
			// The smallest identity wins when a stream disagrees with
			// itself, whatever the order of the events.
			if cur := identityOf[e.pat]; cur == 0 || e.ident < cur {
				identityOf[e.pat] = e.ident
			}
		}
	}
	for i := range evs {
		e := &evs[i]
		e.person = e.ident
		if e.person == 0 && e.pat != 0 {
			e.person = identityOf[e.pat]
			if e.person == 0 {
				e.person = e.pat
			}
		}
	}
}

func compareEv(a, b ev) int {
	return cmp.Or(
		cmp.Compare(a.ts, b.ts),
		cmp.Compare(a.typ, b.typ),
		cmp.Compare(a.acct, b.acct),
		cmp.Compare(a.person, b.person),
		cmp.Compare(a.sess, b.sess),
		cmp.Compare(a.bk, b.bk),
		cmp.Compare(a.staff, b.staff),
		cmp.Compare(a.pat, b.pat),
		cmp.Compare(a.ip, b.ip),
		cmp.Compare(a.dev, b.dev),
		cmp.Compare(a.phone, b.phone),
		cmp.Compare(a.marks, b.marks),
		cmp.Compare(a.rel, b.rel),
		cmp.Compare(a.other, b.other),
	)
}
