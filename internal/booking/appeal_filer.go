package booking

import (
	"context"
	"errors"
	"time"
)

// AppealFiler is who filed an appeal, as the administrator answering it
// reads it beside the case: a person's appeal (for the person a flag bars)
// or a blocked account's own; from a patient account (its phone masked)
// or at a registration desk (which hospital's); and, of one a desk filed
// for a person without an account, that the answer is given at the desk.
// FlagConfirmedBy is the administrator who confirmed the flag it
// contests: another one upholds it (ErrSecondAdminRequired).
type AppealFiler struct {
	Person         bool
	AccountMasked  string // the filing (or, at a desk, the person's own) account's phone, masked
	AtDesk         bool
	DeskHospitalID string
	// NoAccount: the desk filed it in the clerk's name, the person
	// having no account; the answer waits at the desk (DeskAppeals).
	NoAccount       bool
	FlagStatus      string
	FlagConfirmedBy string
}

// deskAppealAuditID names the audit entry of an appeal a desk filed, so
// that who filed it is read back by the case's id (AppealFilerOf).
func deskAppealAuditID(caseID string) string { return NameID("appeal filed at desk", caseID) }

// AppealFilerOf tells an administrator who filed an appeal (c, as
// ReviewCase or CaseQueue returned it). ok is false for a case that is no
// appeal.
func (s *Service) AppealFilerOf(ctx context.Context, actor Actor, c Case) (f AppealFiler, ok bool, err error) {
	if err := mustReviewCases(actor); err != nil || !actor.Covers(c.HospitalID) {
		return AppealFiler{}, false, Errorf(ErrForbidden, "this case is another hospital's")
	}
	if c.Kind != CaseAppeal {
		return AppealFiler{}, false, nil
	}
	f.Person = c.IdentityID != ""
	a, err := s.store.AccountByID(ctx, c.AccountID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return AppealFiler{}, false, err
	}
	if a.Role == RoleClerk {
		f.AtDesk, f.NoAccount, f.DeskHospitalID = true, true, a.HospitalID
	} else {
		f.AccountMasked = a.PhoneMasked
		au, err := s.store.KeyedAudit(ctx, deskAppealAuditID(c.ID))
		if err != nil && !errors.Is(err, ErrNotFound) {
			return AppealFiler{}, false, err
		}
		if err == nil {
			f.AtDesk, f.DeskHospitalID = true, au.HospitalID
		}
	}
	if c.FlagID != "" {
		fl, err := s.store.Flag(ctx, c.FlagID)
		if err != nil && !errors.Is(err, ErrFlagNotFound) {
			return AppealFiler{}, false, err
		}
		f.FlagStatus, f.FlagConfirmedBy = fl.Status, fl.DecidedBy
	}
	return f, true, nil
}

// AppealAtDesk is a person's latest appeal as a registration desk tells
// the person, card in hand: its state (AppealNone when they filed none),
// when it was filed, by when it is answered, and the answer — in a
// patient's words, naming no flag, evidence or account (Words: Chinese,
// then English).
type AppealAtDesk struct {
	Status                     string // AppealNone or a case status: open, answered, closed
	FiledAt, DueAt, AnsweredAt time.Time
	Overdue                    bool
	// Answer is the administrators' answer (or, closed without one, the
	// closing note): written for the patient, who is told it as written.
	Answer string
	Words  string
}

// AppealNone is the state of a person who filed no appeal.
const AppealNone = "none"

// DeskAppealAnswer tells a registration desk clerk the latest appeal of
// the person whose card they hold (its name checked as DeskAppeal does):
// how a person without an account, whose appeal the desk filed, learns
// the answer. A number nobody registered is answered as a person with no
// appeal. Audited (identity_lookup): the desk read a person's data.
func (s *Service) DeskAppealAnswer(ctx context.Context, actor Actor, req IdentityRequest) (AppealAtDesk, error) {
	if actor.Role != RoleClerk {
		return AppealAtDesk{}, Errorf(ErrForbidden, "a registration desk clerk reads a person's appeal with their card")
	}
	known, err := s.personOfCard(ctx, req)
	if errors.Is(err, ErrNotFound) {
		return appealAtDesk(nil, s.cfg.Now()), nil
	}
	if err != nil {
		return AppealAtDesk{}, err
	}
	cs, err := s.store.PersonAppeals(ctx, known.ID)
	if err != nil {
		return AppealAtDesk{}, err
	}
	a := AuditEntry{ID: newID(), TS: s.cfg.Now(), ActorID: actor.AccountID, ActorRole: actor.Role, Action: "identity_lookup",
		Target: "identity:" + known.ID, HospitalID: actor.HospitalID, Reason: "the person's appeal, with their card"}
	if err := s.store.RecordAudit(ctx, a); err != nil {
		return AppealAtDesk{}, err
	}
	var latest *Case
	if len(cs) > 0 {
		latest = &cs[0]
	}
	return appealAtDesk(latest, s.cfg.Now()), nil
}

// appealAtDesk words an appeal (nil: none) for the person at the desk.
func appealAtDesk(c *Case, now time.Time) AppealAtDesk {
	if c == nil {
		return AppealAtDesk{Status: AppealNone, Words: "没有您的申诉记录。 We have no appeal of yours."}
	}
	out := AppealAtDesk{Status: c.Status, FiledAt: c.CreatedAt, DueAt: c.DueAt, AnsweredAt: c.AnsweredAt, Overdue: c.Overdue(now), Answer: c.Answer}
	if out.Answer == "" {
		out.Answer = c.CloseNote
	}
	due := c.DueAt.In(chinaStandardTime).Format(time.DateOnly)
	switch {
	case c.Status == CaseOpen && out.Overdue:
		out.Words = "您的申诉已收到，正在复核，已超过答复期限（" + due + "），我们会尽快答复。" +
			" Your appeal is received and under review; it is past its answer date (" + due + "): we will answer as soon as we can."
	case c.Status == CaseOpen:
		out.Words = "您的申诉已收到，正在复核，将在 " + due + " 前答复。 Your appeal is received and under review: expect the answer by " + due + "."
	default:
		out.Words = "您的申诉已有答复，内容如下。 Your appeal is answered; the answer follows."
	}
	return out
}
