package booking

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"
)

// LinkRequest is a clerk linking a person's second ID document to the
// person already known under another: both cards in hand (their names as
// the cards read).
type LinkRequest struct {
	// Person is the document the person is known under (the link keeps
	// its identity as the person's).
	Person IdentityRequest
	// Document is the second document (a passport, a permit, the resident
	// ID that follows a birth certificate).
	Document IdentityRequest
}

// reasonDocumentsLinked is the reason of a booking, lottery entry or
// waitlist place the desk voided because its person's two documents were
// linked and together they held more than one person may (voidLinked).
const reasonDocumentsLinked = "documents_linked"

var linked = voidWhy{reasonDocumentsLinked, "the desk linked the person's two ID documents, and one person holds it already"}

// LinkIdentities makes a second ID document count as the person already
// known under the first (review17 M4: one person entered one draw twice,
// once by resident ID and once by passport; a passport number carries no
// birth date to link it by). From the link on, every per-person rule counts
// both documents as one person: the quotas, one entry per draw, one
// waitlist place per session, the no-shows and their bars. Both names must
// be verified at the desk and equal (link_unverified, link_names_differ).
//
// What the two documents hold together beyond one person's due is voided
// first, the earliest kept: a later entry in the same undrawn draw, a later
// waiting place in the same session, a later booking that breaks a quota
// (one a visit day and department, the per-day, per-week and per-month
// counts of the hospital's policy). Each is cancelled, withdrawn or taken
// off as the clerk's (reason documents_linked, never late, no strike), its
// maker told. Then the link commits with its audit entry (copied to every
// other hospital where the person holds something), and the document's
// holds and bar in Redis move to the person's key. A failure after some of
// it is 503 with what to do: the same link again finishes it (each step
// finds what is left).
func (s *Service) LinkIdentities(ctx context.Context, actor Actor, req LinkRequest) (Identity, error) {
	if actor.Role != RoleClerk {
		return Identity{}, Errorf(ErrForbidden, "only registration clerks link ID documents, with the cards in hand")
	}
	pc, err := s.resolve(req.Person)
	if err != nil {
		return Identity{}, err
	}
	dc, err := s.resolve(req.Document)
	if err != nil {
		return Identity{}, err
	}
	// Each card as the clerk read it (review25 H1).
	pf, err := s.cardOf(ctx, actor, req.Person)
	if err != nil {
		return Identity{}, err
	}
	df, err := s.cardOf(ctx, actor, req.Document)
	if err != nil {
		return Identity{}, err
	}
	if string(pc.IDHash) == string(dc.IDHash) {
		return Identity{}, ErrLinkSameDocument
	}
	known := func(c person) (Identity, error) {
		i, err := s.store.IdentityByHash(ctx, c.IDHash)
		if errors.Is(err, ErrNotFound) {
			return Identity{}, Errorf(ErrPatientNotFound, "no patient with this ID number is registered")
		}
		if err != nil {
			return Identity{}, err
		}
		if !i.NameVerified || string(i.NameHash) != string(c.NameHash) {
			return Identity{}, ErrLinkUnverified
		}
		return i, nil
	}
	pk, err := known(pc)
	if err != nil {
		return Identity{}, err
	}
	doc, err := known(dc)
	if err != nil {
		return Identity{}, err
	}
	if string(pk.NameHash) != string(doc.NameHash) {
		return Identity{}, ErrLinkNamesDiffer
	}
	root := pk
	if pk.PersonID != "" {
		if root, err = s.store.IdentityOf(ctx, pk.PersonID); err != nil {
			return Identity{}, err
		}
	}
	if doc.ID == root.ID {
		return Identity{}, ErrLinkSameDocument // the person's own document, linked the other way before
	}
	if doc.PersonID != "" && doc.PersonID != root.ID {
		return Identity{}, ErrLinkedElsewhere
	}
	if n, err := s.voidLinked(ctx, actor, root, doc); err != nil {
		return Identity{}, Errorf(ErrUnavailable, "%d of the bookings, lottery entries or waitlist places the two documents "+
			"hold beyond one person's could not be voided yet, and the documents are not linked; link them again", n)
	}
	now := s.cfg.Now()
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "identity_linked",
		Target: "identity:" + doc.ID, HospitalID: actor.HospitalID,
		Reason: "ID document (" + doc.IDType + ") linked to the person identity:" + root.ID + " (" + root.IDType +
			"): both cards at the desk (the person's: " + pf.String() + "; the document's: " + df.String() + "), both names verified and equal"}
	if doc.PersonID == root.ID {
		// Linked before: the transaction again moves what was made under
		// the document since — by an instance that had not yet seen the
		// link (WatchLinks), or after a link_conflict.
		audit.Reason += "; linked again, what was made under the document since moved to the person"
	}
	if err := s.store.LinkIdentity(ctx, doc.ID, root.ID, audit); err != nil {
		return Identity{}, err
	}
	// This instance's cached patients read their person again now; the
	// others' within a second (WatchLinks).
	s.patients.clear()
	if err := s.adm.MovePerson(ctx, s.hospitalIDs(s.catalog.Load()), doc.Key(), root.Key()); err != nil {
		s.log.Warn("move a linked document's holds to the person; link again to finish", "identity_id", doc.ID, "err", err)
		return Identity{}, Errorf(ErrUnavailable, "the documents are linked, but their admission state could not be joined yet; link them again to finish")
	}
	return root, nil
}

// voidLinked voids what the person's two documents hold beyond one
// person's due, the earliest kept (LinkIdentities). It returns how many it
// could not void and the first error.
func (s *Service) voidLinked(ctx context.Context, actor Actor, root, doc Identity) (int, error) {
	now := s.cfg.Now()
	cat := s.catalog.Load()
	failed, first := 0, error(nil)
	fail := func(what, id string, err error) {
		s.log.Warn("void a "+what+" beyond one person's after a link; link again to finish", "id", id, "err", err)
		failed++
		if first == nil {
			first = err
		}
	}
	var bs []Booking
	var es []Entry
	var ws []WaitlistEntry
	for _, id := range []string{root.ID, doc.ID} {
		b, err := s.store.BookingsOfIdentity(ctx, id, now.AddDate(0, 0, -1).Format(time.DateOnly))
		if err != nil {
			return 1, err
		}
		bs = append(bs, b...)
		made, err := s.store.MadeByOthers(ctx, id, noAccount, now.Format(time.DateOnly), now)
		if err != nil {
			return 1, err
		}
		es = append(es, made.Entries...)
		ws = append(ws, made.Waitlist...)
	}

	slices.SortFunc(bs, func(a, b Booking) int { return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID)) })
	type count struct{ dayDept, day, week, month map[string]int }
	counts := map[string]*count{} // by hospital: quotas are a hospital's
	for _, b := range bs {
		if b.Status != StatusConfirmed {
			continue
		}
		sess, ok := cat.Session(b.SessionID)
		h, _ := cat.Hospital(b.HospitalID)
		if !ok || h == nil || !now.Before(sess.Closes()) {
			continue // over, or unknown: nothing it holds any more
		}
		c := counts[b.HospitalID]
		if c == nil {
			c = &count{map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}}
			counts[b.HospitalID] = c
		}
		week, month := cat.periods(b.SessionID)
		p := policyAt(h, now)
		dd := b.VisitDate + "|" + b.DepartmentID
		if c.dayDept[dd] < 1 && under(c.day[b.VisitDate], p.PerDay) && under(c.week[week], p.PerWeek) && under(c.month[month], p.PerMonth) {
			c.dayDept[dd]++
			c.day[b.VisitDate]++
			c.week[week]++
			c.month[month]++
			continue
		}
		how := cancelHow{reason: reasonDocumentsLinked, deskReason: "(" + reasonDocumentsLinked + "): " + linked.because,
			onsite: !now.Before(sess.StartsAt)}
		if _, err := s.cancel(ctx, actor, b, sess, ok, how, Origin{}); err != nil && !errors.Is(err, ErrBookingNotActive) {
			fail("booking", b.ID, err)
		}
	}

	slices.SortFunc(es, func(a, b Entry) int { return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID)) })
	entered := map[string]bool{}
	for _, e := range es {
		if e.Status != EntryEntered {
			continue
		}
		if !entered[e.SessionID] {
			entered[e.SessionID] = true
			continue
		}
		if err := s.voidEntry(ctx, actor, e, now, linked); err != nil && !errors.Is(err, ErrEntryClosed) {
			fail("lottery entry", e.ID, err)
		}
	}

	slices.SortFunc(ws, func(a, b WaitlistEntry) int { return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID)) })
	waiting := map[string]bool{}
	for _, w := range ws {
		if w.Status != WaitlistWaiting {
			continue
		}
		if !waiting[w.SessionID] {
			waiting[w.SessionID] = true
			continue
		}
		if err := s.voidPlace(ctx, actor, w, now, linked); err != nil {
			fail("waitlist place", w.ID, err)
		}
	}
	return failed, first
}

// personOf is the identity every per-person rule counts document i by:
// the person the desk linked it to (LinkIdentities), else i itself. Where a
// card becomes the identity of a booking, entry or waiting place (the
// desk's walk-in, the phone channel) its rows and Redis holds are the
// person's; online, a patient reads its person (patient_rows).
func (s *Service) personOf(ctx context.Context, i Identity) (Identity, error) {
	if i.PersonID == "" || i.PersonID == i.ID {
		return i, nil
	}
	return s.store.IdentityOf(ctx, i.PersonID)
}

// under says whether n more of a count is within a limit (0: no limit).
func under(n, limit int) bool { return limit <= 0 || n < limit }

// WatchLinks forgets this instance's cached patients once the desk linked
// a document anywhere since it last looked (Store.PersonLinks: a link adds
// one): a patient is cached with its person (patient_rows), and a member
// read before a link on another instance counted as a person of its own —
// its own quotas, its own entry in a draw — until evicted. It runs every
// second with the catalog's watch (Jobs, "person links"), so a link holds
// on every instance within about a second of its commit (docs/design.md,
// "Person key"). Links are rare; the cache refills from SQL as patients
// book, a point read each. It reports whether it forgot them.
func (s *Service) WatchLinks(ctx context.Context) (bool, error) {
	n, err := s.store.PersonLinks(ctx)
	if err != nil {
		return false, err
	}
	if prev := s.personLinks.Swap(n); prev == n {
		return false, nil
	}
	s.patients.clear()
	return true, nil
}
