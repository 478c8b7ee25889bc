package booking

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"fairslot/internal/identity"
)

// Scalper reports (举报) and complaints (投诉): a patient's case for the
// administrators of a hospital.
//
// A report says "I think this is a scalper": free text, and optionally the
// booking it is about, the phone number that offered a slot for money, or
// the account name the offer came from. A complaint is about a booking or
// the service. Both go to the administrators of one hospital (the
// booking's, or the one the patient names), who read them in a queue sorted
// by deadline, answer them (the patient is notified), close them, and link a
// report to the scalper flag it supports. Every staff action is audited.
//
// Deadlines follow the 2024 national notice on complaint handling: feedback
// within 5 working days, 10 when several departments are involved. We hold
// reports to the same clock (the 2016 notice that asks hospitals to take
// reports of scalpers names none). Working days are the hospital's
// (Calendar, in its zone): Monday to Friday, less the days off of its
// calendar, with its make-up working days (调休); a hospital that keeps no
// calendar gets deadlines across a public holiday earlier than the law's,
// never later. A platform appeal counts Monday to Friday in China.

// Case kinds.
const (
	CaseReport    = "report"
	CaseComplaint = "complaint"
)

// Case states: open until an administrator answers, answered (the patient
// has the answer; a further answer may follow) until closed.
const (
	CaseOpen     = "open"
	CaseAnswered = "answered"
	CaseClosed   = "closed"
)

// Complaint categories, for the queue and the hospital's statistics.
var complaintCategories = []string{"booking", "service", "fees", "environment", "other"}

// ComplaintCategories lists the categories a complaint may have.
func ComplaintCategories() []string { return slices.Clone(complaintCategories) }

// The limits of a case.
const (
	caseTextMax     = 2000 // runes of the patient's text
	caseAnswerMax   = 2000 // runes of an answer
	caseNoteMax     = 500  // runes of a closing note
	caseAccountMax  = 64   // runes of an account name the offer came from
	maxOpenCases    = 10   // open (unanswered) cases one account may have at once
	caseDueDays     = 5    // working days
	caseDueDaysMany = 10   // working days when several departments are involved
)

// Case is a report or a complaint.
type Case struct {
	ID         string
	Kind       string // report or complaint
	AccountID  string
	HospitalID string
	Category   string // complaints: one of ComplaintCategories
	BookingID  string
	// OfferedPhoneHash is the keyed hash of the phone a report names (the
	// detector's phone reference); OfferedPhoneMasked is what staff see
	// (138****5678). The number itself is never stored.
	OfferedPhoneHash   []byte
	OfferedPhoneMasked string
	// OfferedAccount is the account a report names: its id when the
	// patient gave its phone (a patient's account name is its phone), and
	// then OfferedAccountMasked is that phone's mask, what everyone sees;
	// otherwise the name as typed, any number in it masked.
	OfferedAccount       string
	OfferedAccountMasked string
	Text                 string
	SeveralDepartments   bool
	Status               string
	CreatedAt, DueAt     time.Time
	Answer               string
	AnsweredBy           string
	AnsweredAt           time.Time
	CloseNote            string
	ClosedBy             string
	ClosedAt             time.Time
	FlagID               string // the scalper flag a report was linked to
	// IdentityID is the person a person's appeal is for (AppealForPerson):
	// empty on every other case.
	IdentityID string
	// FoldedInto is the case a report was folded into: a report of a
	// target (account, phone, booking) that had a report waiting for its
	// first answer at the hospital when it was filed. The administrators
	// see and answer that case; each folded report is answered and closed
	// with it, its reporter told as for a case of their own. Empty: a case
	// of its own.
	FoldedInto string
	// Folded, on a case an administrator reads (CaseQueue, ReviewCase),
	// are the reports folded into it: its other reporters. Not stored.
	Folded []Case
	// NumbersMasked, on a case just filed, says a phone or ID number in
	// its text or offered account was masked (maskNumbers): the patient
	// is told so. It is not stored.
	NumbersMasked bool
}

// Overdue reports whether a case still waits for its first answer past its
// deadline.
func (c Case) Overdue(now time.Time) bool {
	return c.Status == CaseOpen && now.After(c.DueAt)
}

// AnsweredLate reports whether the first answer came after the deadline. A
// case closed without an answer was answered by its closing (the patient is
// told the note): its time is judged, so a close past the deadline is late.
func (c Case) AnsweredLate() bool {
	first := c.AnsweredAt
	if first.IsZero() {
		first = c.ClosedAt
	}
	return !first.IsZero() && first.After(c.DueAt)
}

// CaseRequest is what a patient files.
type CaseRequest struct {
	Kind               string
	Text               string
	Category           string
	BookingID          string
	HospitalID         string
	OfferedPhone       string
	OfferedAccount     string
	SeveralDepartments bool
	// IdempotencyKey makes a repeat return the first case.
	IdempotencyKey string
}

var caseKindZH = map[string]string{CaseReport: "举报", CaseComplaint: "投诉", CaseAppeal: "申诉"}

// AddWorkingDays is the time n working days (Monday to Friday in loc) after
// t, at t's clock time: Calendar.AddWorkingDays without a calendar.
func AddWorkingDays(t time.Time, n int, loc *time.Location) time.Time {
	return Calendar(nil).AddWorkingDays(t, n, loc)
}

// caseDue is a hospital case's deadline, n working days of the hospital's
// calendar after it was filed.
func (s *Service) caseDue(ctx context.Context, hospitalID string, filed time.Time, n int) (time.Time, error) {
	loc := hospitalZone(s.catalog.Load(), hospitalID)
	from := filed.In(loc)
	// Ten working days fit in the longest holiday's four weeks.
	cal, err := s.calendar(ctx, hospitalID, from.Format(time.DateOnly), from.AddDate(0, 0, 60).Format(time.DateOnly))
	if err != nil {
		return time.Time{}, err
	}
	return cal.AddWorkingDays(filed, n, loc), nil
}

// FileCase records a patient's report or complaint, filed from o, for the
// hospital it concerns: the booking's, or the one named.
func (s *Service) FileCase(ctx context.Context, actor Actor, req CaseRequest, o Origin) (Case, error) {
	if actor.Role != RolePatient {
		return Case{}, Errorf(ErrForbidden, "reports and complaints are filed by patients from their own account")
	}
	id := newID()
	if req.IdempotencyKey != "" {
		id = s.idempotentID(actor.AccountID, "case\x00"+req.Kind+"\x00"+req.IdempotencyKey)
		if prev, err := s.store.Case(ctx, id); err == nil && prev.AccountID == actor.AccountID {
			if !sameFiling(prev, req) {
				// Another filing under the key: refused, not answered
				// with the first while the second is dropped (review19a L7).
				return Case{}, ErrIdempotencyReuse
			}
			return prev, nil // the first answer
		}
	}
	if err := s.reportsAllowed(ctx, o); err != nil {
		return Case{}, err
	}
	c := Case{ID: id, Kind: req.Kind, AccountID: actor.AccountID, Status: CaseOpen, Text: strings.TrimSpace(req.Text),
		SeveralDepartments: req.SeveralDepartments}
	switch req.Kind {
	case CaseReport:
		if req.Category != "" || req.SeveralDepartments {
			return Case{}, Errorf(ErrInvalidField, "a report has no category or departments")
		}
	case CaseComplaint:
		if !slices.Contains(complaintCategories, req.Category) {
			return Case{}, Errorf(ErrInvalidField, "category is one of %s", strings.Join(complaintCategories, ", "))
		}
		if req.OfferedPhone != "" || req.OfferedAccount != "" {
			return Case{}, Errorf(ErrInvalidField, "a complaint names no offer: file a report (举报) for a scalper's offer")
		}
		c.Category = req.Category
	default:
		return Case{}, Errorf(ErrInvalidField, "kind is report or complaint")
	}
	if utf8.RuneCountInString(c.Text) < 5 {
		return Case{}, Errorf(ErrInvalidField, "say in a few words (at least 5 characters) what happened")
	}
	if err := checkCaseText("text", c.Text, caseTextMax); err != nil {
		return Case{}, err
	}
	c.Text, c.NumbersMasked = maskNumbers(c.Text)
	if err := checkText("offered_by_account", req.OfferedAccount, caseAccountMax); err != nil {
		return Case{}, err
	}
	offeredPhone := req.OfferedPhone
	if acct := strings.TrimSpace(req.OfferedAccount); acct != "" {
		if p, err := identity.NormalizePhone(acct); err == nil {
			// A patient's account name is its phone: kept as the account
			// it names (the detector's reference) and the phone's mask.
			a, err := s.store.AccountByPhone(ctx, s.keys.Hash("phone", p))
			switch {
			case err == nil:
				c.OfferedAccount, c.OfferedAccountMasked = a.ID, identity.MaskPhone(p)
			case !errors.Is(err, ErrNotFound):
				return Case{}, err
			case offeredPhone == "" || sameNumber(offeredPhone, p):
				offeredPhone = p // no account's: the phone the offer came from
			default:
				return Case{}, FieldErrorf(ErrInvalidField, "offered_by_account",
					"offered_by_account is a phone number no account here has: give the one number the offer came from as offered_by_phone")
			}
		} else if isUUID(acct) {
			// An account's id names nobody: kept whole, as the detector
			// looks it up (its digits across a dash can read as a phone).
			c.OfferedAccount = strings.ToLower(acct)
		} else {
			var m bool
			c.OfferedAccount, m = maskNumbers(acct)
			c.NumbersMasked = c.NumbersMasked || m
		}
	}
	if offeredPhone != "" {
		p, err := identity.NormalizePhone(offeredPhone)
		if err != nil {
			return Case{}, Errorf(ErrInvalidPhone, "offered_by_phone is not a valid mainland mobile number")
		}
		c.OfferedPhoneHash, c.OfferedPhoneMasked = s.keys.Hash("phone", p), identity.MaskPhone(p)
	}
	cat := s.catalog.Load()
	switch {
	case req.BookingID != "":
		b, err := s.Booking(ctx, actor, req.BookingID)
		if err != nil {
			return Case{}, err // booking_not_found: not this account's
		}
		if req.HospitalID != "" && req.HospitalID != b.HospitalID {
			return Case{}, Errorf(ErrInvalidField, "the booking is at another hospital than hospital_id")
		}
		c.BookingID, c.HospitalID = b.ID, b.HospitalID
	case req.HospitalID != "":
		if _, ok := cat.Hospital(req.HospitalID); !ok {
			return Case{}, ErrHospitalNotFound
		}
		c.HospitalID = req.HospitalID
	case len(cat.Hospitals()) == 1:
		// API.md's shape names neither (a tout's number, the booking
		// system itself): on a platform of one hospital it is that
		// hospital's to answer. With several, nothing says which must
		// answer within the notice's deadline, so the filer names it.
		c.HospitalID = cat.Hospitals()[0].ID
	default:
		return Case{}, Errorf(ErrInvalidField, "name the booking (booking_id) or the hospital (hospital_id) it concerns")
	}
	open, err := s.store.OpenCases(ctx, actor.AccountID)
	if err != nil {
		return Case{}, err
	}
	if open >= maxOpenCases {
		return Case{}, Errorf(ErrTooManyCases, "you have %d reports and complaints waiting for an answer", open)
	}
	if c.Kind == CaseReport && (c.OfferedAccount != "" || len(c.OfferedPhoneHash) > 0 || c.BookingID != "") {
		mine, err := s.store.CasesOfAccount(ctx, actor.AccountID)
		if err != nil {
			return Case{}, err
		}
		for _, x := range mine {
			if x.Kind == CaseReport && x.Status == CaseOpen && sameTarget(x, c) {
				return Case{}, Errorf(ErrReportPending, "your report %s of the same account, phone or booking waits for the hospital's answer (by %s)",
					x.ID, x.DueAt.In(hospitalZone(cat, x.HospitalID)).Format("2006-01-02 15:04"))
			}
		}
	}
	if err := s.foldReport(ctx, &c); err != nil {
		return Case{}, err
	}
	c.CreatedAt = s.cfg.Now()
	days := caseDueDays
	if c.SeveralDepartments {
		days = caseDueDaysMany
	}
	if c.DueAt, err = s.caseDue(ctx, c.HospitalID, c.CreatedAt, days); err != nil {
		return Case{}, err
	}
	if err := s.store.InsertCase(ctx, c); err != nil {
		return Case{}, err
	}
	s.reportFiled(ctx, o)
	s.log.Info("case filed", "case_id", c.ID, "kind", c.Kind, "hospital_id", c.HospitalID)
	return c, nil
}

// foldReport folds a report into the hospital's case of the same target
// that waits for its first answer, the one due first, if there is one:
// thirty patients reporting one scalper are one case for the
// administrators, not thirty. Only a case still open: an answered one has
// told its reporters what it found, and a new report may bring news. The
// report keeps its reporter, text and deadline (the detector reads one per
// reporter, and each reporter is owed an answer by their own clock).
func (s *Service) foldReport(ctx context.Context, c *Case) error {
	if c.Kind != CaseReport || c.OfferedAccount == "" && len(c.OfferedPhoneHash) == 0 && c.BookingID == "" {
		return nil
	}
	waiting, err := s.store.CasesOfHospital(ctx, c.HospitalID, []string{CaseOpen})
	if err != nil {
		return err
	}
	for _, x := range waiting { // soonest deadline first
		if x.Kind == CaseReport && x.FoldedInto == "" && x.HospitalID == c.HospitalID && sameTarget(x, *c) {
			c.FoldedInto = x.ID
			return nil
		}
	}
	return nil
}

// reportsAllowed refuses a report or complaint once the client address has
// filed its day's (Config.ReportIPGuard): accounts cost nothing, so the
// address is what a flood of reports meets. An honest household files one
// or two; a hospital's Wi-Fi shares an address among its patients, hence a
// generous bound. A guard that fails lets the report through, as the
// login guard does.
func (s *Service) reportsAllowed(ctx context.Context, o Origin) error {
	if s.cfg.ReportIPGuard == nil || o.IP == "" {
		return nil
	}
	wait, err := s.cfg.ReportIPGuard.Wait(ctx, "ip:"+o.IP)
	if err != nil {
		s.log.Warn("report limit unavailable; report let through", "err", err)
		return nil
	}
	if wait > 0 {
		return &LimitError{Wait: wait, Err: ErrReportsLimited}
	}
	return nil
}

// reportFiled counts a report or complaint stored, for its address.
func (s *Service) reportFiled(ctx context.Context, o Origin) {
	if s.cfg.ReportIPGuard == nil || o.IP == "" {
		return
	}
	if err := s.cfg.ReportIPGuard.Failed(context.WithoutCancel(ctx), "ip:"+o.IP); err != nil {
		s.log.Warn("count a report for its address", "err", err)
	}
}

// sameFiling reports whether req files what c is, as far as c keeps it:
// its text (kept masked), category, departments, and the booking or
// hospital it names when req names one.
func sameFiling(c Case, req CaseRequest) bool {
	text, _ := maskNumbers(strings.TrimSpace(req.Text))
	return text == c.Text && req.Category == c.Category && req.SeveralDepartments == c.SeveralDepartments &&
		req.BookingID == c.BookingID && (req.HospitalID == "" || req.HospitalID == c.HospitalID)
}

// sameTarget reports whether two reports point at one target: the same
// account, phone or booking (one waiting report per reporter per target).
func sameTarget(a, b Case) bool {
	return a.OfferedAccount != "" && a.OfferedAccount == b.OfferedAccount ||
		len(a.OfferedPhoneHash) > 0 && string(a.OfferedPhoneHash) == string(b.OfferedPhoneHash) ||
		a.BookingID != "" && a.BookingID == b.BookingID
}

// hospitalZone is a hospital's zone, China's for one not in the catalog.
func hospitalZone(cat *Catalog, hospitalID string) *time.Location {
	if h, ok := cat.Hospital(hospitalID); ok {
		return h.Location()
	}
	return chinaStandardTime
}

// sameNumber reports whether a typed phone is the normalized one p.
func sameNumber(typed, p string) bool {
	n, err := identity.NormalizePhone(typed)
	return err == nil && n == p
}

// checkCaseText is checkText for text of several lines: line breaks and
// tabs are fine, other control characters are not.
func checkCaseText(field, v string, max int) error {
	return checkText(field, strings.NewReplacer("\r\n", " ", "\n", " ", "\t", " ").Replace(v), max)
}

// MyCases lists a patient's own reports and complaints, newest first.
func (s *Service) MyCases(ctx context.Context, actor Actor, kind string) ([]Case, error) {
	if actor.Role != RolePatient {
		return nil, Errorf(ErrForbidden, "only patients have reports and complaints of their own")
	}
	cs, err := s.store.CasesOfAccount(ctx, actor.AccountID)
	if err != nil {
		return nil, err
	}
	if kind != "" {
		cs = slices.DeleteFunc(cs, func(c Case) bool { return c.Kind != kind })
	}
	return cs, nil
}

// mustReviewCases lets through administrators; which cases they see is
// their hospital's (Covers).
func mustReviewCases(actor Actor) error {
	if actor.Role != RoleAdmin {
		return Errorf(ErrForbidden, "only administrators review reports and complaints")
	}
	return nil
}

// CaseQueue lists the cases of the administrator's hospital (every
// hospital's for a platform-wide one) in a state ("" for those waiting:
// open and answered), soonest deadline first; kind "" is both.
func (s *Service) CaseQueue(ctx context.Context, actor Actor, kind, status string) ([]Case, error) {
	if err := mustReviewCases(actor); err != nil {
		return nil, err
	}
	var states []string
	switch status {
	case "":
		states = []string{CaseOpen, CaseAnswered}
	case CaseOpen, CaseAnswered, CaseClosed:
		states = []string{status}
	case "all":
		states = []string{CaseOpen, CaseAnswered, CaseClosed}
	default:
		return nil, Errorf(ErrInvalidField, "status is open, answered, closed or all")
	}
	switch kind {
	case "", CaseReport, CaseComplaint, CaseAppeal:
	default:
		return nil, Errorf(ErrInvalidField, "kind is report, complaint or appeal")
	}
	hospital := actor.HospitalID // "" for a platform-wide administrator: all
	cs, err := s.store.CasesOfHospital(ctx, hospital, states)
	if err != nil {
		return nil, err
	}
	cs = slices.DeleteFunc(cs, func(c Case) bool { return kind != "" && c.Kind != kind || !actor.Covers(c.HospitalID) })
	slices.SortStableFunc(cs, func(a, b Case) int { return a.DueAt.Compare(b.DueAt) })
	return foldQueue(cs), nil
}

// foldQueue lists each folded report under its case (Folded) instead of
// on its own, where the case is in the list in the same state: a report
// that did not follow its case (an answer that reached the case but not
// it) stays in the queue on its own, so nothing waits unseen.
func foldQueue(cs []Case) []Case {
	at := map[string]int{}
	for i, c := range cs {
		if c.FoldedInto == "" {
			at[c.ID] = i
		}
	}
	folded := map[string]bool{}
	for _, c := range cs {
		if i, ok := at[c.FoldedInto]; ok && cs[i].Status == c.Status {
			cs[i].Folded = append(cs[i].Folded, c)
			folded[c.ID] = true
		}
	}
	return slices.DeleteFunc(cs, func(c Case) bool { return folded[c.ID] })
}

// Case returns one case: to the patient who filed it, or to an
// administrator of its hospital. Anyone else is told it does not exist.
func (s *Service) Case(ctx context.Context, actor Actor, id string) (Case, error) {
	if !isUUID(id) {
		return Case{}, ErrCaseNotFound
	}
	c, err := s.store.Case(ctx, id)
	if err != nil {
		return Case{}, err
	}
	switch {
	case actor.Role == RolePatient && c.AccountID == actor.AccountID:
		return c, nil
	case actor.Role == RoleAdmin && actor.Covers(c.HospitalID):
		return c, nil
	case actor.Role == RoleAdmin:
		return Case{}, Errorf(ErrForbidden, "this case is another hospital's")
	}
	return Case{}, ErrCaseNotFound
}

// ReviewCase is Case for the admin console, with the reports folded into
// it: administrators only.
func (s *Service) ReviewCase(ctx context.Context, actor Actor, id string) (Case, error) {
	if err := mustReviewCases(actor); err != nil {
		return Case{}, err
	}
	c, err := s.Case(ctx, actor, id)
	if err != nil || c.Kind != CaseReport {
		return c, err
	}
	c.Folded, err = s.store.CasesFoldedInto(ctx, c.ID)
	return c, err
}

// caseToChange checks an administrator's answer or note (the patient is
// told it: required, at most max characters, no phone or ID number, as
// noNumbers) and returns the case it is
// for, still not closed.
func (s *Service) caseToChange(ctx context.Context, actor Actor, id, field, text string, max int) (Case, string, error) {
	if err := mustReviewCases(actor); err != nil {
		return Case{}, "", err
	}
	text = strings.TrimSpace(text)
	if err := requireText(field, text, 2, "; the patient is told it"); err != nil {
		return Case{}, "", err
	}
	if err := checkCaseText(field, text, max); err != nil {
		return Case{}, "", err
	}
	if err := noNumbers(field, text); err != nil {
		return Case{}, "", err
	}
	c, err := s.Case(ctx, actor, id)
	if err != nil {
		return Case{}, "", err
	}
	if c.Status == CaseClosed {
		return Case{}, "", ErrCaseClosed
	}
	return c, text, nil
}

// CaseAnswer is an administrator's answer to a case.
type CaseAnswer struct {
	Answer string
	// Close closes the case with the answer (nothing further to do).
	Close bool
	// FlagID links a report to the scalper flag it is evidence for
	// (platform-wide administrators, who review flags).
	FlagID string
	// LiftBlock, answering an appeal, ends the account's block.
	LiftBlock bool
}

// AnswerCase records an administrator's answer: the patient is notified
// (a durable notification in the same transaction), the answer audited.
// An answered case may be answered again until it is closed.
func (s *Service) AnswerCase(ctx context.Context, actor Actor, id string, ans CaseAnswer) (Case, error) {
	c, answer, err := s.caseToChange(ctx, actor, id, "answer", ans.Answer, caseAnswerMax)
	if err != nil {
		return Case{}, err
	}
	ans.Answer = answer
	if ans.FlagID != "" {
		if c.Kind != CaseReport {
			return Case{}, Errorf(ErrInvalidField, "only a report is linked to a scalper flag")
		}
		if err := mustBeAdmin(actor); err != nil {
			return Case{}, err
		}
		if !validFlagID(ans.FlagID) {
			return Case{}, ErrFlagNotFound
		}
		if _, err := s.store.Flag(ctx, ans.FlagID); err != nil {
			return Case{}, err
		}
	}
	now := s.cfg.Now()
	if ans.LiftBlock {
		if c.Kind != CaseAppeal {
			return Case{}, Errorf(ErrInvalidField, "only an appeal lifts a block")
		}
		if err := mustBeAdmin(actor); err != nil {
			return Case{}, err
		}
		told, err := s.liftBlock(ctx, actor, c, now)
		if err != nil {
			return Case{}, err
		}
		ans.Answer += told
	}
	answerOne := func(c Case, of string) (Case, error) {
		kindZH := caseKindZH[c.Kind]
		to, err := s.caseTold(ctx, c)
		if err != nil {
			return Case{}, err
		}
		note := Notification{ID: newID(), Kind: NotifyCaseAnswered, AccountID: to, CaseID: c.ID, HospitalID: c.HospitalID,
			Body: fmt.Sprintf("您的%s已有答复 / Your %s has an answer: %s", kindZH, c.Kind, ans.Answer), CreatedAt: now}
		action := "case_answer"
		if ans.Close {
			action = "case_answer_close"
		}
		reason := fmt.Sprintf("%s answered (%d characters)", c.Kind, utf8.RuneCountInString(ans.Answer))
		if c.Overdue(now) {
			reason += fmt.Sprintf(", %s after its deadline", now.Sub(c.DueAt).Round(time.Minute))
		}
		if ans.FlagID != "" {
			reason += ", linked to flag " + ans.FlagID
		}
		if of != "" {
			reason += ", with the case it is folded into, " + of
		}
		audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: action,
			Target: "case:" + c.ID, HospitalID: c.HospitalID, Reason: reason}
		return s.store.AnswerCase(ctx, c.ID, ans.Answer, ans.FlagID, ans.Close, actor.AccountID, now, note, audit)
	}
	out, err := answerOne(c, "")
	if err == nil {
		s.withFolded(ctx, c, answerOne)
	}
	return out, err
}

// caseTold is the account a case's answer or closing is told to: the
// account that filed it — for an appeal a desk filed, the person's own
// account. An appeal a desk filed for a person without one is in the
// clerk's name (DeskAppeal): nobody is told, the person learns the answer
// at a desk (DeskAppealAnswer), and the clerk, who is not the appellant,
// never reads it in their own notices (session 24, admin23's leftover).
func (s *Service) caseTold(ctx context.Context, c Case) (string, error) {
	if c.Kind != CaseAppeal {
		return c.AccountID, nil
	}
	a, err := s.store.AccountByID(ctx, c.AccountID)
	if errors.Is(err, ErrNotFound) {
		return c.AccountID, nil // closed since: its notices are kept as for any closed account
	}
	if err != nil {
		return "", err
	}
	if a.Role != RolePatient {
		return "", nil
	}
	return c.AccountID, nil
}

// withFolded gives what was done to case c (an answer, a close) to each
// report folded into it and not closed, each its own notification and
// audit entry. A report it fails for is logged and stays in the queue on
// its own (foldQueue), for the administrator to answer.
func (s *Service) withFolded(ctx context.Context, c Case, do func(Case, string) (Case, error)) {
	if c.Kind != CaseReport || c.FoldedInto != "" {
		return
	}
	folded, err := s.store.CasesFoldedInto(context.WithoutCancel(ctx), c.ID)
	if err != nil {
		s.log.Warn("the reports folded into a case were not read; they stay in the queue on their own", "case_id", c.ID, "err", err)
		return
	}
	for _, f := range folded {
		if f.Status == CaseClosed {
			continue
		}
		if _, err := do(f, c.ID); err != nil {
			s.log.Warn("a report folded into a case did not follow it; it stays in the queue on its own", "case_id", f.ID, "folded_into", c.ID, "err", err)
		}
	}
}

// CloseCase closes a case with a note for the record (a duplicate, nothing
// to answer, the answer given by phone); the patient is told it is closed.
func (s *Service) CloseCase(ctx context.Context, actor Actor, id, note string) (Case, error) {
	c, note, err := s.caseToChange(ctx, actor, id, "note", note, caseNoteMax)
	if err != nil {
		return Case{}, err
	}
	now := s.cfg.Now()
	closeOne := func(c Case, of string) (Case, error) {
		kindZH := caseKindZH[c.Kind]
		to, err := s.caseTold(ctx, c)
		if err != nil {
			return Case{}, err
		}
		n := Notification{ID: newID(), Kind: NotifyCaseClosed, AccountID: to, CaseID: c.ID, HospitalID: c.HospitalID,
			Body: fmt.Sprintf("您的%s已办结 / Your %s is closed: %s", kindZH, c.Kind, note), CreatedAt: now}
		reason := note
		if of != "" {
			reason += " (closed with the case it is folded into, " + of + ")"
		}
		audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "case_close",
			Target: "case:" + c.ID, HospitalID: c.HospitalID, Reason: reason}
		return s.store.CloseCase(ctx, c.ID, note, actor.AccountID, now, n, audit)
	}
	out, err := closeOne(c, "")
	if err == nil {
		s.withFolded(ctx, c, closeOne)
	}
	return out, err
}

// SetSeveralDepartments is the hospital's say on whether several
// departments are involved in a complaint (10 working days to answer
// instead of 5): its administrator sets or clears it on a case not closed,
// the deadline recomputed from the filing, audited (case_departments). The
// patient's own tick when filing stands until an administrator says
// otherwise (review18b L4).
func (s *Service) SetSeveralDepartments(ctx context.Context, actor Actor, id string, several bool) (Case, error) {
	if err := mustReviewCases(actor); err != nil {
		return Case{}, err
	}
	c, err := s.Case(ctx, actor, id)
	if err != nil {
		return Case{}, err
	}
	if c.Kind != CaseComplaint {
		return Case{}, Errorf(ErrInvalidField, "only a complaint involves several departments")
	}
	if c.Status == CaseClosed {
		return Case{}, ErrCaseClosed
	}
	days := caseDueDays
	if several {
		days = caseDueDaysMany
	}
	due, err := s.caseDue(ctx, c.HospitalID, c.CreatedAt, days)
	if err != nil {
		return Case{}, err
	}
	audit := AuditEntry{ID: newID(), TS: s.cfg.Now(), ActorID: actor.AccountID, ActorRole: actor.Role, Action: "case_departments",
		Target: "case:" + c.ID, HospitalID: c.HospitalID,
		Reason: fmt.Sprintf("several departments %v (was %v): due %s (was %s)", several, c.SeveralDepartments,
			due.Format(time.RFC3339), c.DueAt.Format(time.RFC3339))}
	return s.store.SetCaseDepartments(ctx, c.ID, several, due, audit)
}

// FlagReport is a report on a flag's page: linked to the flag by an
// administrator, attached to the group's accounts by the detector, or both.
type FlagReport struct {
	Case
	Linked, Attached bool
}

// CasesOfFlag lists the reports of a flag, for its review page: those an
// administrator linked to it and those the detector attached to its
// group's accounts, oldest first.
func (s *Service) CasesOfFlag(ctx context.Context, actor Actor, flagID string) ([]FlagReport, error) {
	if err := mustBeAdmin(actor); err != nil {
		return nil, err
	}
	if !validFlagID(flagID) {
		return nil, nil
	}
	linked, err := s.store.CasesOfFlag(ctx, flagID)
	if err != nil {
		return nil, err
	}
	f, err := s.store.Flag(ctx, flagID)
	if err != nil && !errors.Is(err, ErrFlagNotFound) {
		return nil, err
	}
	attached, err := s.store.CasesByID(ctx, f.CaseIDs)
	if err != nil {
		return nil, err
	}
	out := make([]FlagReport, 0, len(linked)+len(attached))
	at := map[string]int{}
	for _, c := range linked {
		at[c.ID] = len(out)
		out = append(out, FlagReport{Case: c, Linked: true})
	}
	for _, c := range attached {
		if i, ok := at[c.ID]; ok {
			out[i].Attached = true
			continue
		}
		out = append(out, FlagReport{Case: c, Attached: true})
	}
	slices.SortStableFunc(out, func(a, b FlagReport) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// reportOf is a report as the detector sees it: the offered account as
// typed (it matches an account of the events only if it is that account's
// id), the phone as the keyed reference the events carry.
func (s *Service) reportOf(c Case) Report { return ReportOf(c) }

// ReportOf is a scalper report as the detector reads it: the phone named
// only as the keyed hash the events carry. `fairslot events --reports`
// writes the same, so `fairslot detect` offline sees what the detection
// job sees.
func ReportOf(c Case) Report {
	r := Report{CaseID: c.ID, TS: c.CreatedAt, Reporter: c.AccountID, AccountID: c.OfferedAccount, BookingID: c.BookingID}
	if len(c.OfferedPhoneHash) > 0 {
		r.Phone = phoneRefOf(c.OfferedPhoneHash)
	}
	return r
}

// The notification kinds.
const (
	NotifySessionStopped = "session_stopped"
	NotifyCaseAnswered   = "case_answered"
	NotifyCaseClosed     = "case_closed"
)

// MyNotifications lists a patient's notifications, newest first, and how
// many are unread.
func (s *Service) MyNotifications(ctx context.Context, actor Actor) ([]Notification, int, error) {
	if actor.Role != RolePatient {
		return nil, 0, Errorf(ErrForbidden, "only patients have notifications of their own")
	}
	ns, err := s.store.AccountNotifications(ctx, actor.AccountID, 100)
	if err != nil {
		return nil, 0, err
	}
	unread := 0
	for _, n := range ns {
		if n.ReadAt.IsZero() {
			unread++
		}
	}
	return ns, unread, nil
}

// MarkNotificationRead marks one notification of the patient read; another
// account's is not found.
func (s *Service) MarkNotificationRead(ctx context.Context, actor Actor, id string) error {
	if actor.Role != RolePatient {
		return Errorf(ErrForbidden, "only patients have notifications of their own")
	}
	if !isUUID(id) {
		return ErrNotificationNotFound
	}
	return s.store.MarkNotificationRead(ctx, actor.AccountID, id, s.cfg.Now())
}

// MarkNotificationsRead marks every notification of the patient read.
func (s *Service) MarkNotificationsRead(ctx context.Context, actor Actor) (int, error) {
	if actor.Role != RolePatient {
		return 0, Errorf(ErrForbidden, "only patients have notifications of their own")
	}
	return s.store.MarkNotificationsRead(ctx, actor.AccountID, s.cfg.Now())
}

// CaseStore keeps reports, complaints and the notifications of patients.
type CaseStore interface {
	InsertCase(ctx context.Context, c Case) error
	// OpenCases counts an account's cases that wait for a first answer.
	OpenCases(ctx context.Context, accountID string) (int, error)
	CasesOfAccount(ctx context.Context, accountID string) ([]Case, error)
	// CasesOfHospital lists a hospital's cases ("" every hospital's) in
	// the given states.
	CasesOfHospital(ctx context.Context, hospitalID string, states []string) ([]Case, error)
	CasesOfFlag(ctx context.Context, flagID string) ([]Case, error)
	// CasesByID returns the cases of the ids that exist.
	CasesByID(ctx context.Context, ids []string) ([]Case, error)
	// CasesFoldedInto lists the reports folded into a case.
	CasesFoldedInto(ctx context.Context, id string) ([]Case, error)
	// ReportsSince lists the scalper reports filed since a time, for
	// detection.
	ReportsSince(ctx context.Context, since time.Time) ([]Case, error)
	// Case returns a case or ErrCaseNotFound.
	Case(ctx context.Context, id string) (Case, error)
	// AnswerCase records an answer (and closes the case when close is
	// set), the notification (none when its AccountID is empty) and the
	// audit entry in one transaction; ErrCaseClosed if the case was closed
	// meanwhile.
	AnswerCase(ctx context.Context, id, answer, flagID string, close bool, by string, at time.Time, n Notification, a AuditEntry) (Case, error)
	// SetCaseDepartments sets whether several departments are involved and
	// the deadline, with the audit entry, in one transaction;
	// ErrCaseClosed if the case is closed.
	SetCaseDepartments(ctx context.Context, id string, several bool, dueAt time.Time, a AuditEntry) (Case, error)
	// CloseCase closes a case with a note, the notification (none when its
	// AccountID is empty) and the audit entry in one transaction;
	// ErrCaseClosed if it already was.
	CloseCase(ctx context.Context, id, note, by string, at time.Time, n Notification, a AuditEntry) (Case, error)
	// AccountNotifications lists an account's notifications, newest first.
	AccountNotifications(ctx context.Context, accountID string, limit int) ([]Notification, error)
	MarkNotificationsRead(ctx context.Context, accountID string, at time.Time) (int, error)
	// BlockedUntil is when an account's block ends (zero: until lifted).
	BlockedUntil(ctx context.Context, accountID string) (time.Time, error)
	// BlockingFlag is the confirmed flag that blocks an account, or
	// ErrFlagNotFound.
	BlockingFlag(ctx context.Context, accountID string) (string, error)
	// LiftBlock ends an account's block and its people's blocks, with the
	// audit entry, in one transaction. When flagID is not empty and no
	// account of that flag is blocked any more, the flag is overturned
	// (status overturned, by and at), every person's block of it ends
	// too, and overturn is audited with it. The catalog's version is
	// raised (every instance reloads its blocked accounts at its catalog
	// watch). It returns the keys of the persons whose blocks ended and
	// whether the flag was overturned.
	LiftBlock(ctx context.Context, accountID, flagID, by string, at time.Time, a, overturn AuditEntry) ([]string, bool, error)
	// LiftPersonBlock ends one person's block by a flag, naming the
	// appeal caseID, with the audit entry, in one transaction; it returns
	// the person's key, or ErrNotBarredByReview when no block was in force.
	LiftPersonBlock(ctx context.Context, flagID, identityID, caseID string, at time.Time, a AuditEntry) (string, error)
	// ReviewBlock is the confirmed flag whose block of a person is in
	// force at now, the latest ending, and its end; ErrFlagNotFound when
	// none is.
	ReviewBlock(ctx context.Context, identityID string, now time.Time) (string, time.Time, error)
	// PersonAppealPending is whether an appeal for the person waits for
	// its first answer.
	PersonAppealPending(ctx context.Context, identityID string) (bool, error)
	// PersonAppeals lists the appeals filed for a person, newest first
	// (the desk tells the latest: DeskAppealAnswer).
	PersonAppeals(ctx context.Context, identityID string) ([]Case, error)
	// MarkNotificationRead marks one of an account's notifications read
	// (a read one stays as it was); ErrNotificationNotFound when the
	// account has no such notification.
	MarkNotificationRead(ctx context.Context, accountID, id string, at time.Time) error
}
