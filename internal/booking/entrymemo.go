package booking

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// The entry memo: repeat attempts answered from memory. In a lottery's
// release minute most attempts are repeats of a person who has entered
// already (a patient pressing again, a family's second phone, a bot's
// loop); admission refuses each with already_entered, after the shared rate
// limits: three Redis scripts for an answer this instance already gave. So
// once an instance has answered an entry 202, or admission has refused one
// already_entered, it remembers (session, identity) and answers the next
// repeat 409 already_entered itself, before the shared limits and
// admission, as the fast reject path answers sold_out.
//
// It only ever refuses, and only with the answer admission gave for the
// same person and session, so it cannot make an entry (every 202 is still
// admission's and SQL's) nor a second one. What it may do is refuse for a
// while a person who could enter again: one whose entry was withdrawn, or
// whose racing entry's commit failed, on another instance. So an answer is
// kept at most ttl (Config.EntryMemoFor, 30 s: the same as HoldFor, for
// which admission itself already refuses a person whose entry's instance
// crashed before its commit; docs/design.md), and:
//   - never at or past the pool's draw time (then the attempt is a booking
//     attempt, answered first-come after the draw);
//   - forgotten at once when this instance gives an entry back to Redis
//     (ReleaseEntries: a withdrawal, a failed commit, the sweeper's drop);
//   - not kept at all if anything was forgotten while admission answered
//     (a withdrawal racing the refusal it would remember);
//   - not asked by attempts with an Idempotency-Key: one of them may be the
//     retry of the entry itself, and must get its 202 back;
//   - answering only the account whose entry it answered 202, or whose
//     already_entered was explained as its own (ownEntry). Asked before
//     the shared limits (knownEntryOf) its answer is not explained
//     (explainRefusal), and to another account holding the person the
//     plain already_entered would tell that the person entered this draw
//     (docs/security.md, "Refusals tell nothing of what others made"); in
//     enter it would be explained, but answered without admission's round
//     trip, faster than the other refusals that explanation makes alike.
//     So another account's attempt asks admission, as anyone's did before
//     this instance answered.
//
// A crash loses the memory, which is only ever a shortcut: the next attempt
// asks admission again.
type entryMemo struct {
	ttl   time.Duration
	mu    sync.RWMutex
	known map[entrant]entered // until when to answer already_entered
	// gen counts forgets; an answer is remembered only if no forget came
	// between the call to admission and its answer.
	gen  atomic.Uint64
	hits atomic.Uint64
}

// entrant is a person in a session: one entry each, whatever the channel.
type entrant struct {
	session  string
	identity string // IdentityKey
}

// entered is what the memo keeps of an entrant: until when, and the
// account whose entry it answered 202 ("" when it remembers admission's
// refusal).
type entered struct {
	until time.Time
	by    string
}

func newEntryMemo(ttl time.Duration) *entryMemo {
	return &entryMemo{ttl: ttl, known: make(map[entrant]entered)}
}

// entered says whether the person is remembered as entered in the session
// at now as by's (an account), and counts the answer it saves.
func (m *entryMemo) entered(sessionID, identityKey, by string, now time.Time) bool {
	m.mu.RLock()
	k, ok := m.known[entrant{sessionID, identityKey}]
	m.mu.RUnlock()
	if !ok || !now.Before(k.until) || by == "" || k.by != by {
		return false
	}
	m.hits.Add(1)
	return true
}

// generation is read before asking admission, and handed to remember.
func (m *entryMemo) generation() uint64 { return m.gen.Load() }

// remember keeps the person as entered for the ttl, never past drawAt,
// unless a forget came since gen was read; by is the account answered 202,
// "" after admission's refusal (which keeps the account of a 202 still
// remembered).
func (m *entryMemo) remember(sessionID, identityKey, by string, gen uint64, now, drawAt time.Time) {
	until := now.Add(m.ttl)
	if drawAt.Before(until) {
		until = drawAt
	}
	if !now.Before(until) {
		return
	}
	m.mu.Lock()
	if m.gen.Load() == gen {
		k := entrant{sessionID, identityKey}
		if prev, ok := m.known[k]; by == "" && ok && now.Before(prev.until) {
			by = prev.by
		}
		m.known[k] = entered{until, by}
	}
	m.mu.Unlock()
}

// own marks the answer kept for an entrant, remembered from admission's
// refusal, as by's: explainRefusal showed the entry to be that account's.
func (m *entryMemo) own(sessionID, identityKey, by string) {
	m.mu.Lock()
	k := entrant{sessionID, identityKey}
	if v, ok := m.known[k]; ok && v.by == "" {
		v.by = by
		m.known[k] = v
	}
	m.mu.Unlock()
}

// forget drops the people of refs: their entries were given back.
func (m *entryMemo) forget(refs []EntryRef) {
	m.mu.Lock()
	m.gen.Add(1)
	for _, r := range refs {
		delete(m.known, entrant{r.SessionID, r.IdentityKey})
	}
	m.mu.Unlock()
}

// prune drops what expired before now (the catalog refresh calls it).
func (m *entryMemo) prune(now time.Time) {
	m.mu.Lock()
	for k, v := range m.known {
		if !now.Before(v.until) {
			delete(m.known, k)
		}
	}
	m.mu.Unlock()
}

// entryGate is the Admission the Service uses when the entry memo is on:
// every entry given back to Redis through this instance is forgotten first,
// and the forget is counted before Redis answers, so an already_entered
// read before it is not remembered after it.
type entryGate struct {
	Admission
	memo *entryMemo
}

func (g entryGate) ReleaseEntries(ctx context.Context, refs []EntryRef, keepHold, onlyIfExpired bool) ([]string, error) {
	g.memo.forget(refs)
	skipped, err := g.Admission.ReleaseEntries(ctx, refs, keepHold, onlyIfExpired)
	g.memo.forget(refs) // and an answer remembered while Redis ran
	return skipped, err
}

// knownEntry is the entry memo's answer for an attempt of p on q at now:
// ErrAlreadyEntered, or nil to ask admission; only for the account (by)
// whose entry it is.
func (s *Service) knownEntry(sess *Session, q ChannelQuota, identityKey, by, idemKey string, now time.Time) error {
	if s.entryMemo == nil || idemKey != "" || identityKey == "" || !q.TakesEntries(now) {
		return nil
	}
	if s.entryMemo.entered(sess.ID, identityKey, by, now) {
		return ErrAlreadyEntered
	}
	return nil
}

// rememberEntry keeps the person as entered in sess after admission's 202
// (by: the account answered) or already_entered (by ""); gen is the memo's
// generation read before admission.
func (s *Service) rememberEntry(sess *Session, q ChannelQuota, identityKey, by string, gen uint64, now time.Time) {
	if s.entryMemo != nil && identityKey != "" {
		s.entryMemo.remember(sess.ID, identityKey, by, gen, now, q.DrawAt)
	}
}

// ownEntry tells the entry memo that an attempt's already_entered,
// explained (explainRefusal), was answered plain: the entry is the
// account's own (or the person's, to their verified self), so the memo may
// answer the account's next repeats before the shared limits.
func (s *Service) ownEntry(actor Actor, sess *Session, p Patient, err error) {
	if e, ok := AsError(err); s.entryMemo != nil && sess != nil && ok && e != nil && e.Code == ErrAlreadyEntered.Code && !e.MadeElsewhere {
		s.entryMemo.own(sess.ID, p.IdentityKey, actor.AccountID)
	}
}

// entryGeneration is the memo's generation, 0 when it is off.
func (s *Service) entryGeneration() uint64 {
	if s.entryMemo == nil {
		return 0
	}
	return s.entryMemo.generation()
}

// knownEntryOf is the entry memo asked before the shared rate limits
// (KnownRefusalOf): only for a patient this instance has cached, whose
// account is the caller's; anything else goes on to Attempt, which asks
// again once it has looked the patient up.
// It also marks such an attempt, an entry or a booking attempt, as one
// whose shared limits admission may count in the attempt's own round trip
// (BookRequest.LimitsAtAdmission): nothing but memory comes before it.
func (s *Service) knownEntryOf(actor Actor, req *BookRequest, now time.Time) error {
	if req.IdempotencyKey != "" || actor.Role != RolePatient || !mayBookOn(actor.Role, req.Channel) {
		return nil
	}
	sess, _, err := s.bookableSession(req.SessionID, req.Channel)
	if err != nil {
		return nil // Attempt answers it
	}
	q, ok := sess.Channel(req.Channel)
	if !ok {
		return nil
	}
	p, ok := s.patients.get(req.PatientID)
	if !ok || p.AccountID != actor.AccountID || p.Removed {
		return nil
	}
	req.atAdmission = true
	if !q.TakesEntries(now) {
		return nil
	}
	if err := s.knownEntry(sess, q, p.IdentityKey, actor.AccountID, "", now); err != nil {
		s.noteRefusal(actor, req.SessionID, req.PatientID, p.IdentityID, "", req.Channel, req.Origin, err)
		return err
	}
	return nil
}

// KnownEntries counts the repeat entries answered from memory.
func (s *Service) KnownEntries() uint64 {
	if s.entryMemo == nil {
		return 0
	}
	return s.entryMemo.hits.Load()
}
