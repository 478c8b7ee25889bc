package web

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// The patient console: sign-in and account creation, the family list
// (就诊人), browsing hospital → department → date → sessions, booking, and
// the patient's bookings with cancel. Every page shows names, ID numbers and
// phones only in the masked forms the Service returns; a form that failed
// is shown again without what was typed into those fields.

// formFailed shows a form's page again with err on it, with the status of
// the error's kind.
func (c *Console) formFailed(r *request, name string, p page, err error) error {
	pe, status := c.publicError(r, err)
	pe.Form, pe.Reason = p.Form, r.form("reason")
	p.Error = pe
	return c.render(r, status, name, p)
}

type loginData struct {
	FormKey string // for the register form's idempotency key
	// Phone is the number typed into a login or register form that was
	// refused, shown again so that nobody types it twice (never logged).
	Phone string
}

func (c *Console) registerPage(r *request) error {
	return c.render(r, fasthttp.StatusOK, "patient/register", page{Title: "注册 Create account", Data: loginData{FormKey: newFormKey()}})
}

func (c *Console) register(r *request) error {
	phone, password := strings.TrimSpace(r.form("phone")), r.form("password")
	p := page{Title: "注册 Create account", Data: loginData{FormKey: newFormKey(), Phone: phone}}
	if phone == "" || password == "" {
		return c.formFailed(r, "patient/register", p, booking.Errorf(booking.ErrInvalidField, "enter a phone number and a password"))
	}
	if password != r.form("password2") {
		return c.formFailed(r, "patient/register", p, errPasswordsDiffer)
	}
	consent := booking.ConsentRequest{Version: r.form("privacy_consent")}
	if _, err := c.svc.CreateAccount(r.ctx, phone, password, formKey(r), consent, r.origin); err != nil {
		return c.formFailed(r, "patient/register", p, err)
	}
	tok, err := c.svc.Login(r.ctx, phone, password, r.origin)
	if err != nil {
		return c.formFailed(r, "patient/register", p, err)
	}
	if err := c.startSession(r, patientConsole, tok); err != nil {
		return c.formFailed(r, "patient/register", p, err)
	}
	c.redirect(r, "/patient/family?ok=welcome")
	return nil
}

// formKey is the idempotency key a form carries, bounded like the API's.
func formKey(r *request) string {
	k := r.form("idem")
	return k[:min(len(k), 64)]
}

type homeData struct {
	Patients      int
	Upcoming      []bookingRow
	Notifications []notificationRow // the latest (cases.go)
	Unread        int
}

func (c *Console) patientHome(r *request) error {
	ps, err := c.svc.Patients(r.ctx, r.actor)
	if err != nil {
		return err
	}
	bs, err := c.svc.Bookings(r.ctx, r.actor)
	if err != nil {
		return err
	}
	d := homeData{Patients: len(ps)}
	if d.Notifications, d.Unread, err = c.notificationRows(r); err != nil {
		return err
	}
	cat, now, names := c.svc.Catalog(), c.opts.Now(), patientLabels(ps)
	for _, b := range bs {
		if b.Status.Active() && b.SlotEnd.After(now) {
			d.Upcoming = append(d.Upcoming, bookingRowOf(cat, b, names, now, ""))
		}
	}
	// Soonest first; the Service lists newest bookings first.
	slices.SortFunc(d.Upcoming, func(a, b bookingRow) int { return strings.Compare(a.Date+a.Time, b.Date+b.Time) })
	return c.render(r, fasthttp.StatusOK, "patient/home", page{Title: "首页 Home", Nav: "home", Flash: flashes[r.query("ok")], Data: d})
}

// patientLabels maps the account's patients to their labels, for the rows
// of bookings, waitlist places and lottery entries.
func patientLabels(ps []booking.Patient) map[string]string {
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		m[p.ID] = p.Label()
	}
	return m
}

type familyData struct {
	Patients []patientView
	IDTypes  []idType
	// What the failed form keeps, so nobody retypes an 18-character ID:
	// everything the account holder typed, sent back only in the answer to
	// their own POST (no-store), never in a URL or a later page.
	IDType   string
	IDNumber string
	Name     string
	Phone    string
	Self     bool
	HasSelf  bool
	Guardian bool // the guardian's consent box, ticked
	// The relationships a member other than the account holder may have
	// (the holder ticks "this is me": 本人).
	Relationships []relationshipChoice
	Relationship  string
	FormKey       string
	// MemberPhone is the number typed into a member's refused contact
	// number form (pageError.Form names which), shown again in it only.
	MemberPhone string
	// Verified: the account holds its holder as a verified self (the desk
	// bound it), who sees ListedBy: the other accounts listing them.
	Verified bool
	ListedBy []listingView
}

// listingView is another account's listing of the holder: its number
// masked, what it calls them, since when.
type listingView struct {
	ID, Account, Relationship, Since string
}

func (c *Console) familyData(r *request) (familyData, error) {
	ps, err := c.svc.Patients(r.ctx, r.actor)
	if err != nil {
		return familyData{}, err
	}
	d := familyData{Patients: patientViews(ps, c.opts.Now()), IDTypes: idTypes, IDType: "resident_id", FormKey: newFormKey(),
		Relationships: relationshipChoices, Relationship: string(booking.RelOther)}
	d.HasSelf = slices.ContainsFunc(ps, func(p booking.Patient) bool { return p.IsSelf })
	ls, err := c.svc.ListedBy(r.ctx, r.actor)
	if err != nil {
		return familyData{}, err
	}
	d.Verified = slices.ContainsFunc(ps, func(p booking.Patient) bool { return p.IsSelf && p.SelfVerified })
	d.ListedBy = listingViews(ls)
	return d, nil
}

// listingViews are other accounts' listings of a person as the family page
// and the desk's 被列名单 show them.
func listingViews(ls []booking.Listing) []listingView {
	var out []listingView
	for _, l := range ls {
		out = append(out, listingView{ID: l.ID, Account: l.PhoneMasked, Relationship: l.Relationship.Label(),
			Since: l.Since.In(booking.StandInLocation()).Format(time.DateOnly)})
	}
	return out
}

func (c *Console) familyPage(r *request) error {
	d, err := c.familyData(r)
	if err != nil {
		return err
	}
	return c.render(r, fasthttp.StatusOK, "patient/family", page{Title: "就诊人 Family", Nav: "family", Flash: flashes[r.query("ok")], Data: d})
}

func (c *Console) addFamily(r *request) error {
	req := booking.AddPatientRequest{
		IDType: r.form("id_type"), IDNumber: strings.TrimSpace(r.form("id_number")), Name: r.form("name"),
		Phone: strings.TrimSpace(r.form("phone")), IsSelf: r.form("self") != "", IdempotencyKey: formKey(r),
		Relationship: r.form("relationship"),
		Consent:      booking.ConsentRequest{Version: r.form("privacy_consent"), Guardian: r.form("guardian_consent") != ""},
	}
	if req.IsSelf {
		req.Relationship = "" // "this is me" is the relationship: 本人
	}
	var err error
	if req.IDNumber == "" || strings.TrimSpace(req.Name) == "" {
		err = booking.Errorf(booking.ErrInvalidField, "enter the ID number and the name as printed on the document")
	} else {
		_, err = c.svc.AddPatient(r.ctx, r.actor, req, r.origin)
	}
	if err == nil {
		c.redirect(r, "/patient/family?ok=added")
		return nil
	}
	d, lerr := c.familyData(r)
	if lerr != nil {
		return lerr
	}
	if slices.ContainsFunc(idTypes, func(t idType) bool { return t.Value == req.IDType }) {
		d.IDType = req.IDType
	}
	d.Self, d.IDNumber, d.Name, d.Phone, d.Guardian = req.IsSelf, req.IDNumber, req.Name, req.Phone, req.Consent.Guardian
	if slices.ContainsFunc(relationshipChoices, func(c relationshipChoice) bool { return c.Value == req.Relationship }) {
		d.Relationship = req.Relationship
	}
	return c.formFailed(r, "patient/family", page{Title: "就诊人 Family", Nav: "family", Form: "family-form", Data: d}, err)
}

// setMemberPhone changes a member's contact number (联系电话), or clears
// it when the field is left empty: where the hospital rings about their
// bookings, and the number that may ask about them on the phone (with the
// member's ID number and name). The account's password is re-entered, as
// for the login number (review19c L6). A refusal is tied to that member's
// form; a wrong password to its password field.
func (c *Console) setMemberPhone(r *request) error {
	phone := strings.TrimSpace(r.form("phone"))
	var err error
	if current := r.form("current_password"); current == "" {
		err = onFields(booking.Errorf(booking.ErrInvalidField, "enter your current password"), "current_password")
	} else {
		_, err = c.svc.ChangePatient(r.ctx, r.actor, r.param, booking.PatientChange{Phone: &phone, Password: current,
			DeviceToken: r.loginDevice(), Origin: r.origin})
		if errors.Is(err, booking.ErrBadCredentials) {
			err = onFields(errWrongPassword, "current_password")
		}
	}
	if err == nil {
		c.redirect(r, "/patient/family?ok=member_phone")
		return nil
	}
	d, lerr := c.familyData(r)
	if lerr != nil {
		return lerr
	}
	d.MemberPhone = phone
	return c.formFailed(r, "patient/family", page{Title: "就诊人 Family", Nav: "family", Form: "phone-" + r.param, Data: d}, err)
}

// ownConsentOf is the tick of a form for a person 14 now who was listed as
// a child: the holder confirms the person's own consent to the notice.
func ownConsentOf(r *request) booking.ConsentRequest {
	return booking.ConsentRequest{Version: r.form("privacy_consent"), Person: r.form("person_consent") != ""}
}

// confirmOwnConsent answers the family page's prompt for a member 14 now.
func (c *Console) confirmOwnConsent(r *request) error {
	_, err := c.svc.ConfirmOwnConsent(r.ctx, r.actor, r.param, ownConsentOf(r))
	if err == nil {
		c.redirect(r, "/patient/family?ok=own_consent")
		return nil
	}
	d, lerr := c.familyData(r)
	if lerr != nil {
		return lerr
	}
	return c.formFailed(r, "patient/family", page{Title: "就诊人 Family", Nav: "family", Form: "own-" + r.param, Data: d}, err)
}

// leaveListing takes the account's verified self off another account's
// list (the family page's 谁把我列为就诊人).
func (c *Console) leaveListing(r *request) error {
	_, err := c.svc.LeaveListing(r.ctx, r.actor, r.param)
	return c.changeFamily(r, "left_listing", err)
}

// removeFamily takes a member off the list; a member with a booking, an
// entry or a waitlist place is refused with the message that says to cancel
// first, on the family page.
func (c *Console) removeFamily(r *request) error {
	return c.changeFamily(r, "removed", c.svc.RemovePatient(r.ctx, r.actor, r.param))
}

// editFamily changes a member's relationship (the name and ID number are
// verified: remove and add again).
func (c *Console) editFamily(r *request) error {
	_, err := c.svc.EditPatient(r.ctx, r.actor, r.param, r.form("relationship"))
	return c.changeFamily(r, "edited", err)
}

func (c *Console) changeFamily(r *request, ok string, err error) error {
	if err == nil {
		c.redirect(r, "/patient/family?ok="+ok)
		return nil
	}
	d, lerr := c.familyData(r)
	if lerr != nil {
		return lerr
	}
	return c.formFailed(r, "patient/family", page{Title: "就诊人 Family", Nav: "family", Data: d}, err)
}

type sessionsData struct {
	Hospitals    []chip
	Departments  []chip
	Dates        []chip
	Hospital     string // the chosen ids, kept in the booking forms
	Department   string
	Date         string
	HospitalName string
	DeptName     string
	Sessions     []sessionRow
	// OwnConsent: a member is 14 now, listed as a child on a guardian's
	// consent: the booking forms carry the tick of their own consent.
	OwnConsent bool
	Patients   []patientView
	NoShowRule string // the booking confirmation states it
}

// sessionsData builds the filter and, once a department is chosen, its
// sessions with their live remaining slots.
func (c *Console) sessionsData(r *request, hospitalID, deptID, date string) (sessionsData, error) {
	cat := c.svc.Catalog()
	now := c.opts.Now()
	d := sessionsData{}
	hs := cat.Hospitals()
	if hospitalID == "" && len(hs) == 1 {
		hospitalID = hs[0].ID
	}
	var hosp *booking.Hospital
	for _, h := range hs {
		sel := h.ID == hospitalID
		if sel {
			hosp = h
		}
		d.Hospitals = append(d.Hospitals, chip{Label: h.Name, URL: sessionsURL(h.ID, "", ""), Selected: sel})
	}
	if hosp == nil {
		return d, nil
	}
	d.Hospital, d.HospitalName = hosp.ID, hosp.Name
	d.NoShowRule = noShowRule(c.svc.HospitalNoShowRules(hosp.ID))
	depts := cat.Departments(hosp.ID)
	if deptID == "" && len(depts) == 1 {
		deptID = depts[0].ID
	}
	for _, dp := range depts {
		sel := dp.ID == deptID
		if sel {
			d.Department, d.DeptName = dp.ID, dp.Name
		}
		d.Departments = append(d.Departments, chip{Label: dp.Name, URL: sessionsURL(hosp.ID, dp.ID, ""), Selected: sel})
	}
	if d.Department == "" {
		return d, nil
	}
	// The dates that have sessions still to come in this department.
	counts := map[string]int{}
	var dates []string
	for _, s := range cat.Sessions(hosp.ID, "", d.Department) {
		if !s.EndsAt.After(now) {
			continue
		}
		if counts[s.VisitDate] == 0 {
			dates = append(dates, s.VisitDate)
		}
		counts[s.VisitDate]++
	}
	if _, err := time.Parse(time.DateOnly, date); err != nil || counts[date] == 0 {
		date = ""
	}
	d.Date = date
	d.Dates = append(d.Dates, chip{Label: "全部日期 All dates", URL: sessionsURL(hosp.ID, d.Department, ""), Selected: date == ""})
	for _, day := range dates {
		d.Dates = append(d.Dates, chip{Label: day[5:], Sub: weekday(day), URL: sessionsURL(hosp.ID, d.Department, day), Selected: day == date})
	}
	views, err := c.svc.Sessions(r.ctx, hosp.ID, date, d.Department)
	if err == nil {
		err = c.svc.WaitlistHolds(r.ctx, views)
	}
	if err != nil {
		return d, err
	}
	loc := hosp.Location()
	for _, v := range views {
		if v.EndsAt.After(now) {
			d.Sessions = append(d.Sessions, sessionRowOf(cat, v, loc, now))
		}
	}
	ps, err := c.svc.Patients(r.ctx, r.actor)
	if err != nil {
		return d, err
	}
	d.Patients = patientViews(ps, c.opts.Now())
	d.OwnConsent = slices.ContainsFunc(d.Patients, func(p patientView) bool { return p.OwnConsent })
	return d, nil
}

func (c *Console) sessionsPage(r *request) error {
	d, err := c.sessionsData(r, r.query("hospital"), r.query("department"), r.query("date"))
	if err != nil {
		return err
	}
	return c.render(r, fasthttp.StatusOK, "patient/sessions", page{Title: "预约挂号 Book", Nav: "sessions", Data: d})
}

// book books online, or on a lottery pool taking entries enters the draw
// (the same form, whose button says so).
func (c *Console) book(r *request) error {
	sessionID, patientID := r.form("session_id"), r.form("patient_id")
	var res booking.Result
	var err error
	if patientID == "" {
		err = booking.Errorf(booking.ErrInvalidField, "choose who the appointment is for")
	} else {
		res, err = c.svc.Attempt(r.ctx, r.actor, booking.BookRequest{
			SessionID: sessionID, PatientID: patientID, Channel: booking.ChannelOnline,
			IdempotencyKey: formKey(r), Origin: r.origin, Waitlist: r.form("waitlist") != "", Consent: ownConsentOf(r),
		})
	}
	if err == nil && res.Entered {
		c.redirect(r, "/patient/bookings?"+url.Values{"ok": {"entered"}, "id": {res.Entry.ID}}.Encode()+"#l-"+res.Entry.ID)
		return nil
	}
	if err == nil {
		c.redirect(r, "/patient/bookings?"+url.Values{"ok": {"booked"}, "id": {res.Booking.ID}}.Encode())
		return nil
	}
	d, lerr := c.sessionsData(r, r.form("hospital"), r.form("department"), r.form("date"))
	if lerr != nil {
		return lerr
	}
	return c.formFailed(r, "patient/sessions", page{Title: "预约挂号 Book", Nav: "sessions", Data: d}, err)
}

type bookingsData struct {
	Bookings []bookingRow
	Entries  []entryRow
	Waitlist []waitRow
	// Others is what other accounts made for the person the account holds
	// as its verified self (他人为您办理), with each maker's phone masked.
	Others *bookingsData
}

// bookingsData lists the bookings of everyone on the account's list,
// whatever the channel (a phone or desk booking of a family member too),
// and the account's waitlist entries. highlight is a booking's or an
// entry's id.
func (c *Console) bookingsData(r *request, highlight string) (bookingsData, error) {
	ps, err := c.svc.Patients(r.ctx, r.actor)
	if err != nil {
		return bookingsData{}, err
	}
	bs, err := c.svc.Bookings(r.ctx, r.actor)
	if err != nil {
		return bookingsData{}, err
	}
	cat, now, names := c.svc.Catalog(), c.opts.Now(), patientLabels(ps)
	d := bookingsData{Bookings: make([]bookingRow, len(bs))}
	rules := map[string]string{} // each booking's hospital's no-show rules
	sortByVisit(bs, now)
	offers, err := c.svc.Offers(r.ctx, r.actor)
	if err != nil {
		return bookingsData{}, err
	}
	open := map[string]time.Time{}
	for _, o := range offers {
		if o.StateAt(now) == booking.OfferOpen {
			open[o.BookingID] = o.HoldUntil
		}
	}
	for i, b := range bs {
		d.Bookings[i] = bookingRowOf(cat, b, names, now, highlight)
		if _, ok := rules[b.HospitalID]; !ok {
			rules[b.HospitalID] = noShowRule(c.svc.HospitalNoShowRules(b.HospitalID))
		}
		d.Bookings[i].NoShowRule = rules[b.HospitalID]
		if until, ok := open[b.ID]; ok && b.Status == booking.StatusConfirmed {
			row := &d.Bookings[i]
			row.Cancellable, row.Late = false, false
			loc := time.UTC
			if h, ok := cat.Hospital(b.HospitalID); ok {
				loc = h.Location()
			}
			row.OfferUntil = until.In(loc).Format("01-02 15:04")
		}
	}
	es, err := c.svc.Waitlist(r.ctx, r.actor)
	if err != nil {
		return bookingsData{}, err
	}
	for _, e := range es {
		d.Waitlist = append(d.Waitlist, waitRowOf(cat, e, names, highlight))
	}
	entries, err := c.svc.Entries(r.ctx, r.actor)
	if err != nil {
		return bookingsData{}, err
	}
	for _, e := range entries {
		d.Entries = append(d.Entries, entryRowOf(cat, e, names, now, highlight))
	}
	others, err := c.svc.MadeByOthers(r.ctx, r.actor)
	if err != nil {
		return bookingsData{}, err
	}
	if len(others.Bookings)+len(others.Entries)+len(others.Waitlist) > 0 {
		o := &bookingsData{}
		sortByVisit(others.Bookings, now)
		for _, b := range others.Bookings {
			row := bookingRowOf(cat, b, names, now, highlight)
			row.MadeBy = others.Makers[b.AccountID]
			o.Bookings = append(o.Bookings, row)
		}
		for _, e := range others.Entries {
			row := entryRowOf(cat, e, names, now, highlight)
			row.MadeBy = others.Makers[e.AccountID]
			o.Entries = append(o.Entries, row)
		}
		for _, e := range others.Waitlist {
			row := waitRowOf(cat, e, names, highlight)
			row.MadeBy = others.Makers[e.AccountID]
			o.Waitlist = append(o.Waitlist, row)
		}
		d.Others = o
	}
	return d, nil
}

// sortByVisit orders bookings as a patient reads them: the visits still to
// come first, soonest first; then the rest, latest first.
func sortByVisit(bs []booking.Booking, now time.Time) {
	upcoming := func(b booking.Booking) bool { return b.Status.Active() && b.SlotEnd.After(now) }
	slices.SortStableFunc(bs, func(a, b booking.Booking) int {
		ua, ub := upcoming(a), upcoming(b)
		switch {
		case ua != ub:
			if ua {
				return -1
			}
			return 1
		case ua:
			return a.SlotStart.Compare(b.SlotStart)
		}
		return b.SlotStart.Compare(a.SlotStart)
	})
}

// withdrawEntry takes an entry out of its draw, before the draw.
func (c *Console) withdrawEntry(r *request) error {
	_, err := c.svc.WithdrawEntry(r.ctx, r.actor, r.param, r.origin)
	if err == nil {
		c.redirect(r, "/patient/bookings?"+url.Values{"ok": {"withdrawn"}, "id": {r.param}}.Encode())
		return nil
	}
	d, lerr := c.bookingsData(r, r.param)
	if lerr != nil {
		return lerr
	}
	return c.formFailed(r, "patient/bookings", page{Title: "我的预约 My bookings", Nav: "bookings", Data: d}, err)
}

func (c *Console) bookingsPage(r *request) error {
	d, err := c.bookingsData(r, r.query("id"))
	if err != nil {
		return err
	}
	flash := flashes[r.query("ok")]
	if pos, err := strconv.Atoi(r.query("pos")); err == nil && pos > 0 && r.query("ok") == "waitlisted" {
		flash += fmt.Sprintf(" 您排在第 %d 位。 You are number %d in line.", pos, pos)
	}
	return c.render(r, fasthttp.StatusOK, "patient/bookings", page{Title: "我的预约 My bookings", Nav: "bookings", Flash: flash, Data: d})
}

func (c *Console) cancel(r *request) error {
	b, err := c.svc.Cancel(r.ctx, r.actor, r.param, r.origin)
	if err == nil {
		ok := "cancelled"
		if b.LateCancel {
			ok = "cancelled_late"
		}
		c.redirect(r, "/patient/bookings?"+url.Values{"ok": {ok}, "id": {b.ID}}.Encode())
		return nil
	}
	d, lerr := c.bookingsData(r, r.param)
	if lerr != nil {
		return lerr
	}
	return c.formFailed(r, "patient/bookings", page{Title: "我的预约 My bookings", Nav: "bookings", Data: d}, err)
}

// answerOffer accepts or declines a slot held with a substitute doctor.
func (c *Console) answerOffer(r *request, accept bool) error {
	if _, err := c.svc.AnswerOffer(r.ctx, r.actor, r.param, accept, r.origin); err != nil {
		d, lerr := c.bookingsData(r, r.param)
		if lerr != nil {
			return lerr
		}
		return c.formFailed(r, "patient/bookings", page{Title: "我的预约 My bookings", Nav: "bookings", Data: d}, err)
	}
	ok := "offer_declined"
	if accept {
		ok = "offer_accepted"
	}
	c.redirect(r, "/patient/bookings?"+url.Values{"ok": {ok}, "id": {r.param}}.Encode())
	return nil
}

func (c *Console) acceptOffer(r *request) error  { return c.answerOffer(r, true) }
func (c *Console) declineOffer(r *request) error { return c.answerOffer(r, false) }

// joinWaitlist puts a family member on a sold-out session's waitlist (候补).
func (c *Console) joinWaitlist(r *request) error {
	sessionID, patientID := r.form("session_id"), r.form("patient_id")
	var e booking.WaitlistEntry
	var err error
	if patientID == "" {
		err = booking.Errorf(booking.ErrInvalidField, "choose who the waitlist place is for")
	} else {
		e, err = c.svc.JoinWaitlist(r.ctx, r.actor, booking.JoinWaitlistRequest{SessionID: sessionID, PatientID: patientID,
			IdempotencyKey: formKey(r), Origin: r.origin, Consent: ownConsentOf(r)})
	}
	if err == nil {
		v := url.Values{"ok": {"waitlisted"}, "id": {e.ID}}
		if e.Position > 0 {
			v.Set("pos", strconv.Itoa(e.Position))
		}
		c.redirect(r, "/patient/bookings?"+v.Encode())
		return nil
	}
	d, lerr := c.sessionsData(r, r.form("hospital"), r.form("department"), r.form("date"))
	if lerr != nil {
		return lerr
	}
	return c.formFailed(r, "patient/sessions", page{Title: "预约挂号 Book", Nav: "sessions", Data: d}, err)
}

// leaveWaitlist takes an entry off its waitlist.
func (c *Console) leaveWaitlist(r *request) error {
	err := c.svc.LeaveWaitlist(r.ctx, r.actor, r.param, r.origin)
	if err == nil {
		c.redirect(r, "/patient/bookings?"+url.Values{"ok": {"left"}, "id": {r.param}}.Encode())
		return nil
	}
	d, lerr := c.bookingsData(r, r.param)
	if lerr != nil {
		return lerr
	}
	return c.formFailed(r, "patient/bookings", page{Title: "我的预约 My bookings", Nav: "bookings", Data: d}, err)
}
