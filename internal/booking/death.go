package booking

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"time"
)

// ErrIdentityDeceased refuses adding, booking, entering or waitlisting a
// person whose death the registration desk recorded (RecordDeath).
var ErrIdentityDeceased = newErr(KindRule, "identity_deceased",
	"the registration desk recorded this person's death: nothing can be booked for them; if this is a mistake, the hospital's administrator can help")

// ReasonDeceased is the reason of a booking, lottery entry or waitlist
// place withdrawn because the desk recorded the person's death.
const ReasonDeceased = "deceased"

// deceased: the desk recorded the person's death (RecordDeath).
var deceased = voidWhy{ReasonDeceased, "the desk recorded the person's death"}

// The evidence a clerk saw of a death.
const (
	DeathEvidenceCertificate = "death_certificate"   // 死亡医学证明
	DeathEvidenceHousehold   = "household_cancelled" // 户口注销证明
	DeathEvidenceCard        = "card"                // the ID card, with the family's word
)

// DeathRequest is a clerk recording a patient's death (患者已故): the
// person's document (the name as printed: it must be the verified one when
// there is one), the evidence seen, and a reason for the audit.
type DeathRequest struct {
	IdentityRequest
	Evidence string
	Reason   string
}

// DeathResult is what RecordDeath withdrew, and the lottery entries it
// could not because their draw had begun (InDraw): the draw passes the
// person over (identity_deceased), and its record says so.
type DeathResult struct {
	Bookings, Entries, Places int
	InDraw                    int
}

// RecordDeath is the desk's 患者已故 (review24 M2): the person is marked
// deceased (Store.MarkDeceased, audited identity_deceased with the
// evidence and reason, copied to every hospital where they hold
// something), and then every confirmed booking of theirs is cancelled for
// the hospital, every lottery entry still entered withdrawn and every
// waiting waitlist place taken off — whoever made them, never late, no
// strike, their slots and quotas given back — each maker told gently
// (ReasonDeceased). From the mark on, the person is not added and nothing
// is booked, entered or waitlisted for them on any channel
// (ErrIdentityDeceased, in the SQL that writes them). A withdrawal that
// fails answers 503 saying how many are left: the same request again
// withdraws what is still there.
func (s *Service) RecordDeath(ctx context.Context, actor Actor, req DeathRequest) (DeathResult, error) {
	if actor.Role != RoleClerk {
		return DeathResult{}, errDeathClerksOnly
	}
	switch req.Evidence {
	case DeathEvidenceCertificate, DeathEvidenceHousehold, DeathEvidenceCard:
	default:
		return DeathResult{}, FieldErrorf(ErrInvalidField, "evidence", "say what was seen: death_certificate (死亡医学证明), household_cancelled (户口注销证明) or card")
	}
	if err := requireText("reason", req.Reason, 4, ": who came, and what was seen"); err != nil {
		return DeathResult{}, err
	}
	if err := auditText("reason", req.Reason, 500); err != nil {
		return DeathResult{}, err
	}
	fact, err := s.cardOf(ctx, actor, req.IdentityRequest) // the dead person's document, read or typed (review25 H1)
	if err != nil {
		return DeathResult{}, err
	}
	known, err := s.deceasedPerson(ctx, actor, req.IdentityRequest)
	if err != nil {
		return DeathResult{}, err
	}
	now := s.cfg.Now()
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "identity_deceased",
		Target: "identity:" + known.ID, HospitalID: actor.HospitalID,
		Reason: "death recorded (" + req.Evidence + "; " + fact.String() + "): " + strings.TrimSpace(req.Reason)}
	if err := s.store.MarkDeceased(ctx, known.ID, now, audit); err != nil {
		return DeathResult{}, err
	}
	return s.withdrawAll(ctx, actor, known, now)
}

// DeathPreview is what RecordDeath would withdraw now (the desk console's
// confirmation step, before the act): the same checks of the clerk and
// the card, nothing written. Entries counts every entry still entered
// (one whose draw begins before the act is InDraw then).
func (s *Service) DeathPreview(ctx context.Context, actor Actor, req IdentityRequest) (DeathResult, error) {
	known, err := s.deceasedPerson(ctx, actor, req)
	if err != nil {
		return DeathResult{}, err
	}
	h, err := s.heldByPerson(ctx, known, s.cfg.Now())
	if err != nil {
		return DeathResult{}, err
	}
	return DeathResult{Bookings: len(h.bookings), Entries: len(h.entries), Places: len(h.places)}, nil
}

var errDeathClerksOnly = Errorf(ErrForbidden, "only registration clerks record a death, with the evidence in hand")

// deceasedPerson is the person a clerk records the death of: a clerk's
// act; the name must be the verified one, or a former one, when one is
// verified (so a death is never recorded on a number alone).
func (s *Service) deceasedPerson(ctx context.Context, actor Actor, req IdentityRequest) (Identity, error) {
	if actor.Role != RoleClerk {
		return Identity{}, errDeathClerksOnly
	}
	card, err := s.resolve(req)
	if err != nil {
		return Identity{}, err
	}
	known, err := s.store.IdentityByHash(ctx, card.IDHash)
	if errors.Is(err, ErrNotFound) {
		return Identity{}, ErrNothingHere
	}
	if err != nil {
		return Identity{}, err
	}
	if known.NameVerified && string(known.NameHash) != string(card.NameHash) {
		if former, err := s.store.IsFormerName(ctx, known.ID, card.NameHash); err != nil || !former {
			return Identity{}, cmp.Or(err, error(verifiedNameDiffers(known)))
		}
	}
	return known, nil
}

// held is what a person holds that a death withdraws.
type held struct {
	bookings []heldBooking
	entries  []Entry
	places   []WaitlistEntry
}

type heldBooking struct {
	b    Booking
	sess *Session
	ok   bool // sess is in the catalog
}

// heldByPerson lists what the person holds (RecordDeath): every confirmed
// booking from yesterday on whose clinic has not closed, whoever made it,
// every lottery entry still entered and every waiting waitlist place.
func (s *Service) heldByPerson(ctx context.Context, person Identity, now time.Time) (held, error) {
	var h held
	bs, err := s.store.BookingsOfIdentity(ctx, person.ID, now.AddDate(0, 0, -1).Format(time.DateOnly))
	if err != nil {
		return h, err
	}
	cat := s.catalog.Load()
	for _, b := range bs {
		if b.Status != StatusConfirmed {
			continue
		}
		sess, ok := cat.Session(b.SessionID)
		if ok && !now.Before(sess.Closes()) {
			continue
		}
		h.bookings = append(h.bookings, heldBooking{b, sess, ok})
	}
	made, err := s.store.MadeByOthers(ctx, person.ID, noAccount, now.Format(time.DateOnly), now)
	if err != nil {
		return h, err
	}
	for _, e := range made.Entries {
		if e.Status == EntryEntered {
			h.entries = append(h.entries, e)
		}
	}
	for _, w := range made.Waitlist {
		if w.Status == WaitlistWaiting {
			h.places = append(h.places, w)
		}
	}
	return h, nil
}

// withdrawAll withdraws everything the person holds (RecordDeath).
func (s *Service) withdrawAll(ctx context.Context, actor Actor, person Identity, now time.Time) (DeathResult, error) {
	var res DeathResult
	failed, first := 0, error(nil)
	fail := func(err error) {
		failed++
		first = cmp.Or(first, err)
	}
	h, err := s.heldByPerson(ctx, person, now)
	if err != nil {
		return res, err
	}
	for _, hb := range h.bookings {
		how := cancelHow{reason: ReasonDeceased, deskReason: "(" + ReasonDeceased + "): the desk recorded the person's death",
			onsite: hb.ok && !now.Before(hb.sess.StartsAt)}
		if _, err := s.cancel(ctx, actor, hb.b, hb.sess, hb.ok, how, Origin{}); err != nil && !errors.Is(err, ErrBookingNotActive) {
			fail(err)
			continue
		}
		res.Bookings++
	}
	for _, e := range h.entries {
		switch err := s.voidEntry(ctx, actor, e, now, deceased); {
		case errors.Is(err, ErrEntryClosed):
			// Its draw has begun: the draw's booking of it refuses the
			// person (the guard in SQL), and the slot passes on.
			res.InDraw++
		case err != nil:
			fail(err)
		default:
			res.Entries++
		}
	}
	for _, w := range h.places {
		if err := s.voidPlace(ctx, actor, w, now, deceased); err != nil {
			fail(err)
			continue
		}
		res.Places++
	}
	if failed > 0 {
		s.log.Warn("withdraw what a deceased person held; record the death again to finish", "identity_id", person.ID, "err", first)
		return res, Errorf(ErrUnavailable, "the death is recorded, but %d of the person's bookings, lottery entries or waitlist places "+
			"could not be withdrawn yet; record it again to finish", failed)
	}
	return res, nil
}

// NoticeDeathLifted is the kind of the notice to each account listing a
// person whose death record an administrator lifted (LiftDeath).
const NoticeDeathLifted = "death_lifted"

// LiftDeathRequest is an administrator lifting a death the desk recorded in
// error (the wrong person at the desk): the person's identity (the
// identity_deceased audit entry's target) and why, audited.
type LiftDeathRequest struct {
	IdentityID string
	Reason     string
}

// LiftDeathResult is how many accounts listing the person were told.
type LiftDeathResult struct {
	Told int
}

// LiftDeath lifts a death record made in error (review24 M2, session 25):
// an administrator's act — the hospital's administrator where the death
// was recorded or copied (its identity_deceased audit entry), or a
// platform administrator; never a clerk, so the one who recorded it does
// not undo it alone — with a reason, audited identity_death_lifted (copied
// to every hospital the death's entry went to). From then on the person is
// added and booked as anyone; nothing the death withdrew comes back by
// itself (the slots went to others): each account listing the person is
// told, gently, that the record was an error, and books again.
func (s *Service) LiftDeath(ctx context.Context, actor Actor, req LiftDeathRequest) (LiftDeathResult, error) {
	if actor.Role != RoleAdmin {
		return LiftDeathResult{}, Errorf(ErrForbidden, "only an administrator lifts a death record made in error (the clerk who recorded it asks one)")
	}
	if err := requireText("reason", req.Reason, 4, ": what the error was, and who found it"); err != nil {
		return LiftDeathResult{}, err
	}
	if err := auditText("reason", req.Reason, 500); err != nil {
		return LiftDeathResult{}, err
	}
	if !isUUID(req.IdentityID) {
		return LiftDeathResult{}, ErrNothingHere
	}
	if !actor.PlatformAdmin() {
		here, err := s.store.DeathRecordedIn(ctx, req.IdentityID, actor.HospitalID)
		if err != nil {
			return LiftDeathResult{}, err
		}
		if !here {
			return LiftDeathResult{}, Errorf(ErrForbidden, "this death was not recorded at your hospital: its administrator, or a platform administrator, lifts it")
		}
	}
	now := s.cfg.Now()
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "identity_death_lifted",
		Target: "identity:" + req.IdentityID, HospitalID: actor.HospitalID,
		Reason: "death record lifted, recorded in error: " + strings.TrimSpace(req.Reason) + "; nothing withdrawn comes back by itself"}
	notice := Notification{Kind: NoticeDeathLifted, CreatedAt: now,
		Body: "此前窗口登记该就诊人已故，系登记错误，已由医院管理员撤销，我们深表歉意。当时撤销的预约、抽签和候补不会自动恢复，" +
			"如仍需就诊，请重新预约。 The hospital recorded this person's death in error, and its administrator has lifted the " +
			"record: we are sorry. What was withdrawn then does not come back by itself; please book again if they still need a visit."}
	n, err := s.store.LiftDeath(ctx, req.IdentityID, audit, notice)
	if err != nil {
		return LiftDeathResult{}, err
	}
	return LiftDeathResult{Told: n}, nil
}
