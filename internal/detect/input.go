package detect

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"fairslot/internal/booking"
)

// The detector's own copy of the events: compact and interned, so that half
// a million events take a few tens of megabytes and the work is a sort and
// a few linear passes.
//
// Every string of an event (ids, addresses, reasons) becomes a sym, an index
// into one table of the distinct strings. Once every event is in, the table
// is sorted and the syms renumbered in that order, so that comparing two
// syms compares their strings: the result does not depend on the order the
// events came in.

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
)

var typeCodes = map[booking.EventType]uint8{
	booking.EventAccountCreated: tAccountCreated, booking.EventLogin: tLogin, booking.EventPatientAdded: tPatientAdded,
	booking.EventBooked: tBooked, booking.EventCancelled: tCancelled, booking.EventCheckedIn: tCheckedIn,
	booking.EventNoShow: tNoShow, booking.EventWaitlisted: tWaitlisted, booking.EventReissued: tReissued,
	booking.EventRateLimited: tRateLimited, booking.EventRejected: tRejected,
}

// Reason marks, read from the reason text once (and loosely, so that
// another system's spelling — "waitlist_promoted", "late_cancel" — reads
// the same as the service's).
const (
	rWaitlist     uint8 = 1 << iota // booked: handed over by the waitlist
	rLate                           // cancelled after the deadline: counts as a no-show
	rLeftWaitlist                   // cancelled: a waitlist entry, not a booking
	rByStaff                        // cancelled by the hospital (a stopped clinic, a confirmed flag)
)

func reasonMarks(typ uint8, reason string) uint8 {
	if reason == "" {
		return 0
	}
	r := strings.ToLower(reason)
	var m uint8
	switch typ {
	case tBooked:
		if strings.Contains(r, "waitlist") || strings.Contains(r, "wait_list") {
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
	}
	return m
}

// ev is one event, compact. Times are Unix nanoseconds; rel is 0 when the
// event names no release time.
type ev struct {
	ts, rel                                                 int64
	acct, pat, ident, bk, sess, ip, dev, phone, staff, doct sym
	ch, reason                                              sym
	person                                                  sym // the identity, resolved (see resolve)
	typ, marks                                              uint8
}

// Input collects events for Detect. Add them in any order, then call
// Detect; an Input is used once.
type Input struct {
	index map[string]sym
	strs  []string
	evs   []ev
}

// NewInput makes an empty input.
func NewInput() *Input {
	return &Input{index: map[string]sym{"": 0}, strs: []string{""}}
}

// Len is the number of events added.
func (in *Input) Len() int { return len(in.evs) }

func (in *Input) sym(s string) sym {
	if s == "" {
		return 0
	}
	if i, ok := in.index[s]; ok {
		return i
	}
	i := sym(len(in.strs))
	in.index[s] = i
	in.strs = append(in.strs, s)
	return i
}

// symBytes interns b without allocating when it is known already.
func (in *Input) symBytes(b []byte) sym {
	if len(b) == 0 {
		return 0
	}
	if i, ok := in.index[string(b)]; ok {
		return i
	}
	return in.sym(string(b))
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Add adds one event.
func (in *Input) Add(e *booking.Event) {
	typ := typeCodes[e.Type]
	in.evs = append(in.evs, ev{
		ts: unixNano(e.TS), rel: unixNano(e.ReleaseAt),
		acct: in.sym(e.AccountID), pat: in.sym(e.PatientID), ident: in.sym(e.IdentityID), bk: in.sym(e.BookingID),
		sess: in.sym(e.SessionID), ip: in.sym(e.IP), dev: in.sym(e.DeviceID), phone: in.sym(e.Phone),
		staff: in.sym(e.StaffID), doct: in.sym(e.DoctorID), ch: in.sym(string(e.Channel)), reason: in.sym(e.Reason),
		typ: typ, marks: reasonMarks(typ, e.Reason),
	})
}

// ReadInput reads the booking-event format of ../shared/API.md into an
// Input: one JSON object a line, blank lines skipped, unknown fields
// ignored, any order. It reads a line at a time, so a file of millions of
// events never exists as Go values at once.
func ReadInput(r io.Reader) (*Input, error) {
	in := NewInput()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	var e booking.Event
	for n := 1; sc.Scan(); n++ {
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
			return nil, fmt.Errorf("events line %d: %w", n, err)
		}
		in.Add(&e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return in, nil
}

// addFlat reads a line that is a flat JSON object of string values without
// escapes — every line the service and the generators write — straight into
// syms, and reports whether it could. It allocates only for strings it has
// not seen.
func (in *Input) addFlat(line []byte) bool {
	var e ev
	var typ, reason []byte
	var ts, rel []byte
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
		val, ok := str()
		if !ok {
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
		case "doctor_id":
			e.doct = in.symBytes(val)
		case "channel":
			e.ch = in.symBytes(val)
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
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return false
	}
	e.ts = t.UnixNano()
	if len(rel) > 0 {
		r, err := time.Parse(time.RFC3339Nano, string(rel))
		if err != nil {
			return false
		}
		e.rel = r.UnixNano()
	}
	e.typ = typeCodes[booking.EventType(typ)]
	e.reason = in.symBytes(reason)
	e.marks = reasonMarks(e.typ, string(reason))
	in.evs = append(in.evs, e)
	return true
}

// finish renumbers the syms in string order, resolves persons and sorts
// the events by time, ties broken on every field: a shuffled input gives
// the same sequence.
func (in *Input) finish() (evs []ev, strs []string) {
	order := make([]sym, len(in.strs))
	for i := range order {
		order[i] = sym(i)
	}
	slices.SortFunc(order, func(a, b sym) int { return strings.Compare(in.strs[a], in.strs[b]) })
	rank := make([]sym, len(in.strs))
	strs = make([]string, len(in.strs))
	for r, s := range order {
		rank[s] = sym(r)
		strs[r] = in.strs[s]
	}
	in.index, in.strs = nil, nil
	evs = in.evs
	in.evs = nil
	for i := range evs {
		e := &evs[i]
		for _, f := range [...]*sym{&e.acct, &e.pat, &e.ident, &e.bk, &e.sess, &e.ip, &e.dev, &e.phone, &e.staff, &e.doct, &e.ch, &e.reason} {
			*f = rank[*f]
		}
	}
	resolvePersons(evs, len(strs))
	slices.SortFunc(evs, compareEv)
	return evs, strs
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
		cmp.Compare(a.reason, b.reason),
		cmp.Compare(a.ch, b.ch),
		cmp.Compare(a.doct, b.doct),
		cmp.Compare(a.rel, b.rel),
	)
}
