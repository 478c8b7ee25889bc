package httpapi

import (
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// Reports (举报), complaints (投诉) and the patients' notifications.

type reportIn struct {
	Text             string `json:"text"`
	BookingID        string `json:"booking_id"`
	HospitalID       string `json:"hospital_id"`
	OfferedByPhone   string `json:"offered_by_phone"`
	OfferedByAccount string `json:"offered_by_account"`
}

func (in reportIn) check() error {
	return Required("text", in.Text)
}

type complaintIn struct {
	Text               string `json:"text"`
	Category           string `json:"category"`
	BookingID          string `json:"booking_id"`
	HospitalID         string `json:"hospital_id"`
	SeveralDepartments bool   `json:"several_departments"`
}

func (in complaintIn) check() error {
	return Required("text", in.Text, "category", in.Category)
}

// caseOut is a case as its patient and the administrators see it: the
// report's phone number only masked.
type caseOut struct {
	ID                 string `json:"case_id"`
	ReportID           string `json:"report_id,omitempty"`
	ComplaintID        string `json:"complaint_id,omitempty"`
	AppealID           string `json:"appeal_id,omitempty"`
	Kind               string `json:"kind"`
	HospitalID         string `json:"hospital_id"`
	Category           string `json:"category,omitempty"`
	BookingID          string `json:"booking_id,omitempty"`
	OfferedByPhone     string `json:"offered_by_phone,omitempty"`
	OfferedByAccount   string `json:"offered_by_account,omitempty"`
	Text               string `json:"text"`
	SeveralDepartments bool   `json:"several_departments"`
	Status             string `json:"status"`
	CreatedAt          string `json:"created_at"`
	DueAt              string `json:"due_at"`
	Overdue            bool   `json:"overdue"`
	Answer             string `json:"answer,omitempty"`
	AnsweredAt         string `json:"answered_at,omitempty"`
	AnsweredLate       bool   `json:"answered_late"`
	CloseNote          string `json:"close_note,omitempty"`
	ClosedAt           string `json:"closed_at,omitempty"`
	// NumbersMasked, answering a filing, says a phone or ID number in the
	// text or the offered account was masked (never kept in clear).
	NumbersMasked bool `json:"numbers_masked,omitempty"`
	// Staff only.
	AccountID string `json:"account_id,omitempty"`
	FlagID    string `json:"flag_id,omitempty"`
	// PersonID is the person (identity id) a person's appeal is for.
	PersonID string `json:"person_id,omitempty"`
	// FoldedInto is the case a report was folded into; Folded, on the
	// case, the reports folded into it (their reporters), as the
	// administrator reads them (booking.Case.Folded).
	FoldedInto string    `json:"folded_into,omitempty"`
	Folded     []caseOut `json:"folded,omitempty"`
	// Maker, on an administrator's read of one report, is the patient
	// account that made the booking it names, when another one did.
	Maker *makerOut `json:"maker,omitempty"`
	// Filer, on an administrator's read of one appeal, is who filed it:
	// as the admin console's case page says (session 24).
	Filer *filerOut `json:"filer,omitempty"`
}

// filerOut is who filed an appeal (booking.AppealFiler): a person's appeal
// or an account's own; from a patient account or at a registration desk
// (which hospital's); the account's phone masked (the person's own account,
// for one filed at a desk), none for a person without an account; and
// where the answer goes — the account's notifications, or the desk, which
// tells the person when it looks them up with the card.
type filerOut struct {
	Person         bool   `json:"person"`
	AtDesk         bool   `json:"at_desk"`
	DeskHospitalID string `json:"desk_hospital_id,omitempty"`
	Account        string `json:"account,omitempty"`
	AnswerTo       string `json:"answer_to"`
}

// makerOut is the account that made a reported booking: its phone masked.
type makerOut struct {
	Account    string `json:"account"`
	Bookings   int    `json:"bookings"`
	ForOthers  int    `json:"bookings_for_others"`
	FlagID     string `json:"flag_id,omitempty"`
	FlagStatus string `json:"flag_status,omitempty"`
}

func stamp(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(time.RFC3339)
}

func (s *Server) caseView(c booking.Case, staff bool, now time.Time) caseOut {
	loc := zoneOf(s.svc.Catalog(), c.HospitalID)
	out := caseOut{ID: c.ID, Kind: c.Kind, HospitalID: c.HospitalID, Category: c.Category, BookingID: c.BookingID,
		OfferedByPhone: c.OfferedPhoneMasked, OfferedByAccount: c.OfferedAccount, Text: c.Text,
		SeveralDepartments: c.SeveralDepartments, Status: c.Status, CreatedAt: stamp(c.CreatedAt, loc), DueAt: stamp(c.DueAt, loc),
		Overdue: c.Overdue(now), Answer: c.Answer, AnsweredAt: stamp(c.AnsweredAt, loc), AnsweredLate: c.AnsweredLate(),
		CloseNote: c.CloseNote, ClosedAt: stamp(c.ClosedAt, loc), NumbersMasked: c.NumbersMasked}
	if c.OfferedAccountMasked != "" {
		out.OfferedByAccount = c.OfferedAccountMasked // the account's id stays the detector's
	}
	switch c.Kind {
	case booking.CaseReport:
		out.ReportID = c.ID
	case booking.CaseAppeal:
		out.AppealID = c.ID
	default:
		out.ComplaintID = c.ID
	}
	if staff {
		out.AccountID, out.FlagID, out.FoldedInto, out.PersonID = c.AccountID, c.FlagID, c.FoldedInto, c.IdentityID
		for _, f := range c.Folded {
			out.Folded = append(out.Folded, s.caseView(f, true, now))
		}
	}
	return out
}

func (s *Server) fileCase(r *request, req booking.CaseRequest) error {
	req.IdempotencyKey = idempotencyKey(r.rc)
	c, err := s.svc.FileCase(r.context(), r.actor, req, r.origin)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusCreated, s.caseView(c, false, s.svc.Now()))
	return nil
}

func (s *Server) fileReport(r *request) error {
	var in reportIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	return s.fileCase(r, booking.CaseRequest{Kind: booking.CaseReport, Text: in.Text, BookingID: in.BookingID,
		HospitalID: in.HospitalID, OfferedPhone: in.OfferedByPhone, OfferedAccount: in.OfferedByAccount})
}

func (s *Server) fileComplaint(r *request) error {
	var in complaintIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	return s.fileCase(r, booking.CaseRequest{Kind: booking.CaseComplaint, Text: in.Text, Category: in.Category,
		BookingID: in.BookingID, HospitalID: in.HospitalID, SeveralDepartments: in.SeveralDepartments})
}

func (s *Server) myCases(kind string) func(r *request) error {
	return func(r *request) error {
		cs, err := s.svc.MyCases(r.context(), r.actor, kind)
		if err != nil {
			return err
		}
		now := s.svc.Now()
		writeList(r.rc, cs, func(c booking.Case) caseOut { return s.caseView(c, false, now) })
		return nil
	}
}

func (s *Server) caseQueue(r *request) error {
	q := r.rc.QueryArgs()
	cs, err := s.svc.CaseQueue(r.context(), r.actor, string(q.Peek("kind")), string(q.Peek("status")))
	if err != nil {
		return err
	}
	now := s.svc.Now()
	writeList(r.rc, cs, func(c booking.Case) caseOut { return s.caseView(c, true, now) })
	return nil
}

func (s *Server) getCase(r *request) error {
	c, err := s.svc.Case(r.context(), r.actor, r.param)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, s.caseView(c, false, s.svc.Now()))
	return nil
}

func (s *Server) reviewCase(r *request) error {
	c, err := s.svc.ReviewCase(r.context(), r.actor, r.param)
	if err != nil {
		return err
	}
	out := s.caseView(c, true, s.svc.Now())
	m, ok, err := s.svc.CaseMakerOf(r.context(), r.actor, c)
	if err != nil {
		return err
	}
	if ok {
		out.Maker = &makerOut{Account: m.PhoneMasked, Bookings: m.Bookings, ForOthers: m.ForOthers, FlagID: m.FlagID, FlagStatus: m.FlagStatus}
	}
	f, ok, err := s.svc.AppealFilerOf(r.context(), r.actor, c)
	if err != nil {
		return err
	}
	if ok {
		out.Filer = &filerOut{Person: f.Person, AtDesk: f.AtDesk, DeskHospitalID: f.DeskHospitalID, Account: f.AccountMasked, AnswerTo: "account"}
		if f.NoAccount {
			out.Filer.Account, out.Filer.AnswerTo = "", "desk" // the clerk's account filed it; it is not the appellant's
		}
	}
	WriteJSON(r.rc, fasthttp.StatusOK, out)
	return nil
}

type departmentsIn struct {
	SeveralDepartments *bool `json:"several_departments"`
}

// setDepartments is an administrator's say on several departments.
func (s *Server) setDepartments(r *request) error {
	var in departmentsIn
	if err := decode(r.rc, &in); err != nil {
		return err
	}
	if in.SeveralDepartments == nil {
		return booking.FieldErrorf(booking.ErrInvalidField, "several_departments", "several_departments is required: true or false")
	}
	c, err := s.svc.SetSeveralDepartments(r.context(), r.actor, r.param, *in.SeveralDepartments)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, s.caseView(c, true, s.svc.Now()))
	return nil
}

type flagFromCaseIn struct {
	Reason string `json:"reason"`
}

func (in flagFromCaseIn) check() error {
	return Required("reason", in.Reason)
}

// flagFromCase opens a flag for review on the maker of a report's booking:
// 201 with the flag, or 200 with the open flag that already names it.
func (s *Server) flagFromCase(r *request) error {
	var in flagFromCaseIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	f, created, err := s.svc.FlagFromCase(r.context(), r.actor, r.param, in.Reason)
	if err != nil {
		return err
	}
	status := fasthttp.StatusOK
	if created {
		status = fasthttp.StatusCreated
	}
	WriteJSON(r.rc, status, f)
	return nil
}

type answerIn struct {
	Answer string `json:"answer"`
	Close  bool   `json:"close"`
	FlagID string `json:"flag_id"`
	// LiftBlock, answering an appeal, ends the account's block.
	LiftBlock bool `json:"lift_block"`
}

func (in answerIn) check() error {
	return Required("answer", in.Answer)
}

type appealIn struct {
	AppealToken string `json:"appeal_token"`
	Text        string `json:"text"`
}

func (in appealIn) check() error {
	return Required("appeal_token", in.AppealToken, "text", in.Text)
}

// fileAppeal files a blocked account's appeal (申诉), without a login: the
// appeal token its sign-in with the right password got is the credential,
// spent by this request.
func (s *Server) fileAppeal(r *request) error {
	var in appealIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	c, err := s.svc.FileAppeal(r.context(), in.AppealToken, in.Text)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusCreated, s.caseView(c, false, time.Now()))
	return nil
}

type personAppealIn struct {
	PatientID string `json:"patient_id"`
	Text      string `json:"text"`
}

func (in personAppealIn) check() error {
	return Required("patient_id", in.PatientID, "text", in.Text)
}

// filePersonAppeal files an appeal for a person a confirmed flag bars,
// from an account that lists them (review21 H1 c).
func (s *Server) filePersonAppeal(r *request) error {
	var in personAppealIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	c, err := s.svc.AppealForPerson(r.context(), r.actor, in.PatientID, in.Text)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusCreated, s.caseView(c, false, s.svc.Now()))
	return nil
}

type deskAppealIn struct {
	identityIn
	Text string `json:"text"`
}

func (in deskAppealIn) check() error {
	return in.requireWith("text", in.Text)
}

// deskAppeal files a person's appeal at a registration desk, with their
// card (review21 H1 c).
func (s *Server) deskAppeal(r *request) error {
	var in deskAppealIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	c, err := s.svc.DeskAppeal(r.context(), r.actor, booking.IdentityRequest{IDType: in.IDType, IDNumber: in.IDNumber, Name: in.Name}, in.Text)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusCreated, s.caseView(c, false, s.svc.Now()))
	return nil
}

// appealAtDeskOut is a person's latest appeal as the desk tells them.
type appealAtDeskOut struct {
	Status     string `json:"status"`
	Words      string `json:"words"`
	FiledAt    string `json:"filed_at,omitempty"`
	DueAt      string `json:"due_at,omitempty"`
	Overdue    bool   `json:"overdue,omitempty"`
	AnsweredAt string `json:"answered_at,omitempty"`
	Answer     string `json:"answer,omitempty"`
}

// deskAppealAnswer reads a person's latest appeal at a registration desk,
// with their card: how a person without an account learns the answer.
func (s *Server) deskAppealAnswer(r *request) error {
	var in identityIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	a, err := s.svc.DeskAppealAnswer(r.context(), r.actor, booking.IdentityRequest{IDType: in.IDType, IDNumber: in.IDNumber, Name: in.Name})
	if err != nil {
		return err
	}
	loc := zoneOf(s.svc.Catalog(), r.actor.HospitalID)
	WriteJSON(r.rc, fasthttp.StatusOK, appealAtDeskOut{Status: a.Status, Words: a.Words, FiledAt: stamp(a.FiledAt, loc), DueAt: stamp(a.DueAt, loc),
		Overdue: a.Overdue, AnsweredAt: stamp(a.AnsweredAt, loc), Answer: a.Answer})
	return nil
}

func (s *Server) answerCase(r *request) error {
	var in answerIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	c, err := s.svc.AnswerCase(r.context(), r.actor, r.param, booking.CaseAnswer{Answer: in.Answer, Close: in.Close, FlagID: in.FlagID,
		LiftBlock: in.LiftBlock})
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, s.caseView(c, true, s.svc.Now()))
	return nil
}

type closeIn struct {
	Note string `json:"note"`
}

func (in closeIn) check() error {
	return Required("note", in.Note)
}

func (s *Server) closeCase(r *request) error {
	var in closeIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	c, err := s.svc.CloseCase(r.context(), r.actor, r.param, in.Note)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, s.caseView(c, true, s.svc.Now()))
	return nil
}

type myNotificationOut struct {
	ID         string `json:"notification_id"`
	Kind       string `json:"kind"`
	BookingID  string `json:"booking_id,omitempty"`
	WaitlistID string `json:"waitlist_id,omitempty"`
	EntryID    string `json:"request_id,omitempty"`
	CaseID     string `json:"case_id,omitempty"`
	Body       string `json:"body"`
	CreatedAt  string `json:"created_at"`
	Read       bool   `json:"read"`
}

func (s *Server) myNotifications(r *request) error {
	ns, unread, err := s.svc.MyNotifications(r.context(), r.actor)
	if err != nil {
		return err
	}
	out := struct {
		Unread        int                 `json:"unread"`
		Notifications []myNotificationOut `json:"notifications"`
	}{Unread: unread, Notifications: s.notificationViews(ns)}
	WriteJSON(r.rc, fasthttp.StatusOK, out)
	return nil
}

// notificationViews are a patient's notifications as the API answers them,
// each time in its hospital's zone.
func (s *Server) notificationViews(ns []booking.Notification) []myNotificationOut {
	cat := s.svc.Catalog()
	out := make([]myNotificationOut, len(ns))
	for i, n := range ns {
		out[i] = myNotificationOut{ID: n.ID, Kind: n.Kind, BookingID: n.BookingID, WaitlistID: n.WaitlistID,
			EntryID: n.EntryID, CaseID: n.CaseID, Body: n.Body, CreatedAt: stamp(n.CreatedAt, zoneOf(cat, n.HospitalID)), Read: !n.ReadAt.IsZero()}
	}
	return out
}

// readNotification marks one notification read (204).
func (s *Server) readNotification(r *request) error {
	if err := s.svc.MarkNotificationRead(r.context(), r.actor, r.param); err != nil {
		return err
	}
	r.rc.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

func (s *Server) readNotifications(r *request) error {
	n, err := s.svc.MarkNotificationsRead(r.context(), r.actor)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]int{"marked_read": n})
	return nil
}
