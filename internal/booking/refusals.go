package booking

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Refused attempts as events.
//
// A booking attempt the service refuses (sold_out, not_released, a quota, a
// bar…) and a request the rate limits turn away become `rejected` and
// `rate_limited` events, so that scalper detection online sees what the
// offline detector sees: the retries against sold-out sessions, the clicks
// before release, the cadence of a macro. In the release minute these come
// at ~20,000 a second, most of them answered from memory (the fast reject
// path), so the request never waits for them: it appends the event to a
// bounded buffer in memory, and one writer drains the buffer every
// RefusalFlush and writes it to SQL in one COPY. When the buffer is full the
// event is dropped and counted — a request is never blocked for detection.
//
// Before writing, the writer thins what no detector needs: of one account's
// (or clerk's) refusals of one kind on one session for one person within
// one second, it keeps the first RefusalsPerSecond (a person clicks a few
// times a second at most; beyond that the count is the evidence, and it
// stays visible in rate_limited events). It writes at most RefusalRate
// events a second on average, keeping whole accounts when there are more
// (the same accounts batch after batch, so their retries stay whole); the
// rest are dropped and counted. The writes are COPYs that compete for the
// same cores as the requests, hence the budget.

// refused is a refused attempt as the request hands it to the buffer: what
// the request knew, no more (the session's details come from the catalog
// when the writer makes the event).
type refused struct {
	ts                                       int64
	typ                                      EventType
	sess                                     *Session
	ch                                       Channel
	account, patient, identity, staff, phone string
	reason, ip, device                       string
	byOthers                                 bool   // made_by_other_account
	maker                                    string // by_account_id: the account that made what was in the way
}

// refusalLog is the bounded buffer between the requests and the writer:
// two refusalBufs, one filled by the requests while the writer drains the
// other. Both are allocated once, at their full size: a request never
// grows them.
type refusalLog struct {
	mu    sync.Mutex
	buf   *refusalBuf
	spare *refusalBuf
	max   int
	// flushing is held by the one who drains the buffer (take, thin,
	// write), who alone uses spare and seen; seen is thinRefusals' map,
	// kept from flush to flush: made anew, it was a fifth of the bytes the
	// service allocated in the release minute's refusals (one entry per
	// refusal, four flushes a second).
	flushing sync.Mutex
	seen     map[thinKey]int
	wake     chan struct{}
	dropped  atomic.Uint64 // no room in the buffer, over the write rate, or a failed write
	thinned  atomic.Uint64 // more than RefusalsPerSecond alike in a second
	written  atomic.Uint64
}

func newRefusalLog(max int) *refusalLog {
	return &refusalLog{buf: newRefusalBuf(max), spare: newRefusalBuf(max), max: max, wake: make(chan struct{}, 1)}
}

// add appends e, or drops it when the buffer is full. It never blocks but
// on the buffer's own lock, held for an append.
func (l *refusalLog) add(e refused) {
	l.mu.Lock()
	ok := l.buf.put(&e)
	half := len(l.buf.recs) == l.max/2
	l.mu.Unlock()
	if !ok {
		l.dropped.Add(1)
		return
	}
	if half {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// take empties the buffer and returns what it held; the buffer is the
// writer's until its next take, and the strings read from it are valid
// until then.
func (l *refusalLog) take() *refusalBuf {
	next := l.spare
	next.reset()
	l.mu.Lock()
	out := l.buf
	l.buf = next
	l.mu.Unlock()
	l.spare = out
	return out
}

// A refusalBuf holds refused attempts without pointers for the collector
// to trace but its few sessions. Refusals come at ~20,000 a second in the
// release minute, and as refused values (eleven strings and a *Session
// each, 32,768 of them twice over) the buffers were the largest
// structure every collection of the minute scanned, ~11 MB whether used or
// not (docs/performance.md, "What the collector scans"). Here an attempt's
// strings are copied one after the other into text, and its record holds
// where they end; the sessions the records name are listed once each.
type refusalBuf struct {
	recs      []refusedRec
	text      []byte
	sessions  []*Session
	sessionAt map[*Session]int32
}

// refusedFields is how many of refused's fields are strings (refusedRec.ends).
const refusedFields = 11

// refusalText is the room for one refused attempt's strings, on average:
// about 130 bytes for a patient's (two ids, an address, a device, the type,
// channel and reason), a staff member's with an identity and a phone a
// little more. A buffer whose text is full drops what comes next, as when
// its records are.
const refusalText = 192

// A refusedRec is a refused attempt without pointers: its strings are
// text[at:at+ends[0]], text[at+ends[0]:at+ends[1]], … in the order of
// refusedRec.strings; sess indexes the buffer's sessions, -1 for none.
type refusedRec struct {
	ts       int64
	at       uint32
	sess     int32
	ends     [refusedFields]uint16
	byOthers bool
}

// strings lists r's string fields in a record's order.
func (r *refused) strings() [refusedFields]*string {
	return [refusedFields]*string{(*string)(&r.typ), (*string)(&r.ch), &r.account, &r.patient, &r.identity,
		&r.staff, &r.phone, &r.reason, &r.ip, &r.device, &r.maker}
}

func newRefusalBuf(max int) *refusalBuf {
	return &refusalBuf{recs: make([]refusedRec, 0, max), text: make([]byte, 0, max*refusalText),
		sessionAt: make(map[*Session]int32)}
}

// put appends r, or reports that the buffer has no room for it.
func (b *refusalBuf) put(r *refused) bool {
	if len(b.recs) == cap(b.recs) {
		return false
	}
	// Appended to a local copy of text and stored once: the string that
	// does not fit leaves the buffer as it was.
	text, at := b.text, len(b.text)
	rec := refusedRec{ts: r.ts, at: uint32(at), sess: -1, byOthers: r.byOthers}
	for i, f := range r.strings() {
		end := len(text) + len(*f)
		if end > cap(text) || end-at > math.MaxUint16 {
			return false
		}
		text = append(text, *f...)
		rec.ends[i] = uint16(end - at)
	}
	if r.sess != nil {
		i, ok := b.sessionAt[r.sess]
		if !ok {
			i = int32(len(b.sessions))
			b.sessions = append(b.sessions, r.sess)
			b.sessionAt[r.sess] = i
		}
		rec.sess = i
	}
	b.text = text
	b.recs = append(b.recs, rec)
	return true
}

// at returns the i-th refused attempt. Its strings point into the buffer's
// text (unsafe.String: no copy), so they are valid only until the buffer
// is reset; what outlives the flush takes owned's.
func (b *refusalBuf) at(i int) refused {
	rec := &b.recs[i]
	n := int(rec.ends[refusedFields-1])
	if n == 0 {
		return b.view(rec, "")
	}
	return b.view(rec, unsafe.String(&b.text[rec.at], n))
}

// owned returns the i-th refused attempt with strings of its own, all in
// one allocation.
func (b *refusalBuf) owned(i int) refused {
	rec := &b.recs[i]
	return b.view(rec, string(b.text[rec.at:int(rec.at)+int(rec.ends[refusedFields-1])]))
}

// view is rec with its strings sliced from text, its strings' bytes.
func (b *refusalBuf) view(rec *refusedRec, text string) refused {
	r := refused{ts: rec.ts, byOthers: rec.byOthers}
	if rec.sess >= 0 {
		r.sess = b.sessions[rec.sess]
	}
	from := 0
	for j, f := range r.strings() {
		*f = text[from:rec.ends[j]]
		from = int(rec.ends[j])
	}
	return r
}

// reset empties the buffer for reuse, keeping its room.
func (b *refusalBuf) reset() {
	b.recs, b.text = b.recs[:0], b.text[:0]
	clear(b.sessions) // let sessions gone from the catalog go
	b.sessions = b.sessions[:0]
	clear(b.sessionAt)
}

// RefusalStats counts refused attempts written as events, thinned (more
// than RefusalsPerSecond alike in one second) and dropped (no room in the
// buffer, over the write rate, or lost with a failed write).
func (s *Service) RefusalStats() (written, thinned, dropped uint64) {
	if s.refusals == nil {
		return 0, 0, 0
	}
	return s.refusals.written.Load(), s.refusals.thinned.Load(), s.refusals.dropped.Load()
}

// refusalKind says whether err is a refusal worth an event: the service's
// rules and conflicts (sold out, not released, quotas, bars, already
// booked), not bad input or a failure.
func refusalKind(err error) (*Error, bool) {
	e, ok := err.(*Error) // what the fast path answers: no allocation
	if !ok {
		if e, ok = AsError(err); !ok {
			return nil, false
		}
	}
	return e, e.Kind == KindRule || e.Kind == KindConflict
}

// noteRefusal counts a refused booking attempt (Metrics) and records it as
// an event, by actor on a session the catalog knows. patientID is kept only
// when it is a well-formed id (the fast path has not looked it up); staff
// attempts name the staff member, and the identity and the caller's phone
// when known.
func (s *Service) noteRefusal(actor Actor, sessionID, patientID, identityID, phone string, ch Channel, o Origin, err error) {
	e, ok := refusalKind(err)
	if !ok {
		return
	}
	s.cfg.Metrics.Refused(e.Code)
	if s.refusals == nil {
		return
	}
	sess, ok := s.catalog.Load().Session(sessionID)
	if !ok {
		return
	}
	r := refused{ts: s.cfg.Now().UnixNano(), typ: EventRejected, sess: sess, ch: ch, reason: e.Code,
		ip: o.IP, device: o.DeviceID, identity: identityID, phone: phone, byOthers: e.MadeElsewhere, maker: e.MadeBy}
	if actor.Role != RolePatient {
		r.staff = actor.AccountID
	} else {
		r.account = actor.AccountID
		if isUUID(patientID) {
			r.patient = patientID
		}
	}
	s.refusals.add(r)
}

// event is the refused attempt as an event of the stream, sharing its
// strings (of a buffer, take refusalBuf.owned's).
func (r *refused) event() Event {
	e := Event{TS: time.Unix(0, r.ts), Type: r.typ, AccountID: r.account, PatientID: r.patient, IdentityID: r.identity,
		StaffID: r.staff, Channel: r.ch, Reason: r.reason, IP: r.ip, DeviceID: r.device, Phone: r.phone,
		MadeByOtherAccount: r.byOthers, ByAccountID: r.maker}
	if s := r.sess; s != nil {
		e.SessionID, e.HospitalID, e.DepartmentID, e.DoctorID = s.ID, s.HospitalID, s.DepartmentID, s.DoctorID
		if q, ok := s.Channel(r.ch); ok {
			e.ReleaseAt = q.ReleaseAt
		}
	}
	return e
}

// NoteRateLimited records a request of actor (an account or a staff
// member) that a rate limit turned away. The HTTP layer calls it; requests
// refused before anyone is known (by address only) are not recorded.
func (s *Service) NoteRateLimited(actor Actor, o Origin) {
	if s.refusals == nil || actor.AccountID == "" {
		return
	}
	r := refused{ts: s.cfg.Now().UnixNano(), typ: EventRateLimited, reason: ErrRateLimited.Code, ip: o.IP, device: o.DeviceID}
	if actor.Role != RolePatient {
		r.staff = actor.AccountID
	} else {
		r.account = actor.AccountID
	}
	s.refusals.add(r)
}

// WriteRefusals drains the refused attempts into SQL until ctx ends, then
// writes what is left (within RefusalFlush×10). Run it on its own goroutine
// and wait for it at shutdown.
func (s *Service) WriteRefusals(ctx context.Context) {
	if s.refusals == nil {
		<-ctx.Done()
		return
	}
	t := time.NewTicker(s.cfg.RefusalFlush)
	defer t.Stop()
	budget := float64(s.cfg.RefusalRate) // events that may still be written, refilled at RefusalRate a second
	last := s.cfg.Now()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*s.cfg.RefusalFlush)
			s.flushRefusals(fctx, -1)
			cancel()
			return
		case <-t.C:
		case <-s.refusals.wake:
		}
		now := s.cfg.Now()
		budget = min(float64(s.cfg.RefusalRate), budget+now.Sub(last).Seconds()*float64(s.cfg.RefusalRate))
		last = now
		budget -= float64(s.flushRefusals(ctx, int(budget)))
	}
}

// FlushRefusals writes the refused attempts buffered so far, now; tests and
// the shutdown path use it.
func (s *Service) FlushRefusals(ctx context.Context) {
	if s.refusals != nil {
		s.flushRefusals(ctx, -1)
	}
}

// flushRefusals writes the buffer, thinned, at most limit events (no limit
// when negative), and returns how many it wrote.
func (s *Service) flushRefusals(ctx context.Context, limit int) int {
	l := s.refusals
	l.flushing.Lock()
	defer l.flushing.Unlock()
	if l.seen == nil {
		l.seen = make(map[thinKey]int)
	}
	b := l.take()
	thinRefusals(b, s.cfg.RefusalsPerSecond, &l.thinned, l.seen)
	if len(b.recs) == 0 {
		return 0
	}
	if limit >= 0 && len(b.recs) > limit {
		// Over the budget, keep whole accounts rather than the first
		// comers: an account kept is kept in every batch, so its retries
		// and its cadence stay whole for detection.
		n := len(b.recs)
		sampleAccounts(b, float64(limit)/float64(n))
		if len(b.recs) > limit {
			b.recs = b.recs[:limit]
		}
		l.dropped.Add(uint64(n - len(b.recs)))
	}
	evs := make([]Event, len(b.recs))
	for i := range b.recs {
		r := b.owned(i)
		evs[i] = r.event()
		evs[i].ID = newID()
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.store.RecordEvents(wctx, evs); err != nil {
		l.dropped.Add(uint64(len(evs)))
		s.log.Warn("write refused attempts; dropped", "events", len(evs), "err", err)
		return 0
	}
	l.written.Add(uint64(len(evs)))
	return len(evs)
}

// sampleAccounts keeps, in place, the refused attempts of the accounts (or
// staff members) whose hash falls in the first share of the range: the same
// accounts in every batch.
func sampleAccounts(b *refusalBuf, share float64) {
	cut := uint32(share * (1 << 32))
	if share >= 1 {
		return
	}
	out := b.recs[:0]
	for i := range b.recs {
		r := b.at(i)
		who := r.account + r.staff
		h := uint32(2166136261) // FNV-1a
		for i := 0; i < len(who); i++ {
			h ^= uint32(who[i])
			h *= 16777619
		}
		if h < cut {
			out = append(out, b.recs[i])
		}
	}
	b.recs = out
}

// thinKey is what makes refused attempts alike for thinRefusals.
type thinKey struct {
	typ                                    EventType
	sess                                   *Session
	account, staff, patient, identity, why string
	second                                 int64
}

// thinRefusals keeps, of the events in b with the same type, actor,
// session, person and reason within one second, the first perSecond, in
// place. seen is its scratch map, emptied first: one batch's counts never
// carry into the next (as when it was made anew for each), and no key of a
// past batch, whose strings point into a buffer since reused, is read again.
func thinRefusals(b *refusalBuf, perSecond int, thinned *atomic.Uint64, seen map[thinKey]int) {
	clear(seen)
	out := b.recs[:0]
	for i := range b.recs {
		e := b.at(i)
		k := thinKey{e.typ, e.sess, e.account, e.staff, e.patient, e.identity, e.reason, e.ts / int64(time.Second)}
		if seen[k]++; seen[k] > perSecond {
			thinned.Add(1)
			continue
		}
		out = append(out, b.recs[i])
	}
	b.recs = out
}
