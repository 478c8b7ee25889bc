package booking

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"
)

// What an administrator needs to judge a report of a booking (review18b
// M4): who made the booking, and a way to put that account before the
// platform's flag review from the case.

// ErrNoMaker: the case names no booking another patient account made (the
// patient's own, one staff made, or none).
var ErrNoMaker = newErr(KindRule, "no_maker", "this case names no booking another patient account made: there is no account to flag from it")

// CaseMaker is the patient account that made a reported booking, as the
// case's administrator sees it: its phone masked, never in clear.
type CaseMaker struct {
	AccountID   string
	PhoneMasked string
	// Bookings is how many bookings the account holds; ForOthers, how many
	// of them are for a person other than its holder (a scalper books for
	// the people it sells to).
	Bookings, ForOthers int
	// FlagID and FlagStatus name a flag that names the account (an open
	// one first), if any.
	FlagID, FlagStatus string
}

// CaseMakerOf returns the maker of a report's booking for the case view of
// an administrator of the case's hospital (ReviewCase's rule); ok is false
// when the case names no booking another patient account made.
func (s *Service) CaseMakerOf(ctx context.Context, actor Actor, c Case) (CaseMaker, bool, error) {
	if err := mustReviewCases(actor); err != nil || !actor.Covers(c.HospitalID) {
		return CaseMaker{}, false, Errorf(ErrForbidden, "this case is another hospital's")
	}
	if c.Kind != CaseReport || c.BookingID == "" {
		return CaseMaker{}, false, nil
	}
	b, err := s.store.Booking(ctx, c.BookingID)
	if errors.Is(err, ErrBookingNotFound) || errors.Is(err, ErrNotFound) {
		return CaseMaker{}, false, nil
	}
	if err != nil {
		return CaseMaker{}, false, err
	}
	if b.AccountID == "" || b.AccountID == c.AccountID || b.HospitalID != c.HospitalID {
		return CaseMaker{}, false, nil
	}
	a, err := s.store.AccountByID(ctx, b.AccountID)
	if err != nil {
		return CaseMaker{}, false, err
	}
	m := CaseMaker{AccountID: a.ID, PhoneMasked: a.PhoneMasked}
	ps, err := s.store.Patients(ctx, a.ID)
	if err != nil {
		return CaseMaker{}, false, err
	}
	self := map[string]bool{}
	for _, p := range ps {
		if p.IsSelf {
			self[p.IdentityID] = true
		}
	}
	bs, err := s.store.Bookings(ctx, a.ID, Page{})
	if err != nil {
		return CaseMaker{}, false, err
	}
	for _, x := range bs {
		m.Bookings++
		if !self[x.IdentityID] {
			m.ForOthers++
		}
	}
	for _, status := range []string{FlagOpen, FlagConfirmed} {
		// The account's own flags, not a page of the status's (session 23).
		fs, err := s.store.FlagsOfAccounts(ctx, status, []string{a.ID}, 0)
		if err != nil {
			return CaseMaker{}, false, err
		}
		if len(fs) > 0 {
			m.FlagID, m.FlagStatus = fs[0].ID, status
			break
		}
	}
	return m, true, nil
}

// FlagFromCase opens a scalper flag for review on the maker of a report's
// booking: an administrator of the case's hospital puts the account before
// the platform's review (Flags, DecideFlag), the report attached as its
// evidence, audited (flag_opened_from_case). An open flag that already
// names the account is returned as it is (created false). The flag scores
// nothing: the reviewer decides on the account's events and the report.
func (s *Service) FlagFromCase(ctx context.Context, actor Actor, caseID, reason string) (Flag, bool, error) {
	c, err := s.ReviewCase(ctx, actor, caseID)
	if err != nil {
		return Flag{}, false, err
	}
	if err := requireText("reason", reason, 2, "; it goes into the audit log and the flag"); err != nil {
		return Flag{}, false, err
	}
	if err := auditText("reason", reason, 500); err != nil {
		return Flag{}, false, err
	}
	m, ok, err := s.CaseMakerOf(ctx, actor, c)
	if err != nil {
		return Flag{}, false, err
	}
	if !ok {
		return Flag{}, false, ErrNoMaker
	}
	if m.FlagID != "" && m.FlagStatus == FlagOpen {
		f, err := s.store.Flag(ctx, m.FlagID)
		return f, false, err
	}
	now := s.cfg.Now()
	f := Flag{ID: "case-" + c.ID, Status: FlagOpen, AccountIDs: []string{m.AccountID}, CaseIDs: []string{c.ID}, CreatedAt: now,
		Reasons: []FlagReason{{Signal: "reported_to_hospital", Kind: "reported",
			Detail: fmt.Sprintf("opened for review by a hospital administrator from report %s: %s (%d bookings, %d for other people)",
				shortCaseID(c.ID), reason, m.Bookings, m.ForOthers),
			DetailZH: fmt.Sprintf("医院管理员据举报 %s 提交审核：%s（%d 个预约，其中 %d 个为他人预约）", shortCaseID(c.ID), reason, m.Bookings, m.ForOthers)}},
		Explanation:   "Opened by hand from a patient's report; no score: decide on the account's events and the report.",
		ExplanationZH: "由医院管理员根据患者举报手动提交；无评分：请结合账号事件与举报判断。"}
	if _, err := s.store.SaveFlags(ctx, []Flag{f}, now, s.cfg.ReopenAt); err != nil {
		return Flag{}, false, err
	}
	if err := s.store.RecordAudit(ctx, AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role,
		Action: "flag_opened_from_case", Target: "account:" + m.AccountID, HospitalID: c.HospitalID,
		Reason: fmt.Sprintf("flag %s from case %s (%d characters)", f.ID, c.ID, utf8.RuneCountInString(reason))}); err != nil {
		return Flag{}, false, err
	}
	saved, err := s.store.Flag(ctx, f.ID)
	return saved, true, err
}

func shortCaseID(id string) string { return id[:min(8, len(id))] }
