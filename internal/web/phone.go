package web

import (
	"crypto/subtle"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
)

// The phone console (电话预约), for call-centre operators of one hospital:
// the caller states the number they ring from and, to book, their ID
// document and name (real-name registration: an operator books for the
// person the document names). The console then shows that person's bookings
// in the hospital, with a cancel button on phone bookings (the caller's
// late cancellation counts as a no-show, and the page says so first), and
// the hospital's sessions of a chosen day on the phone pool: book, enter
// the draw of a lottery pool, or join the waitlist of a sold-out one. The
// number alone shows nobody (at most that it is on file: numbers are
// recycled and shared, caller ID is a hint); the person's bookings, and
// any action on them, need their ID document and name. Only a booking made
// on a call from the number the caller rings from has a Cancel button.
//
// As at the desk, the caller is kept in a cookie sealed to the operator's
// session (never in a URL), and the pages show only masked values. Every
// lookup, booking, entry, waitlist place and cancellation goes through the
// Service, which audits it as it does for the API.

const callerCookie = "fairslot_phone_caller"

// callerRef is what the operator was told: the number the caller rings
// from and, when given, their document and name. Call is a random mark of
// this call (set when the caller form is sent): every form that acts for
// the caller carries the mark of the call its page was rendered for
// (callerField), and is refused when another call has been set since —
// in another tab of the same session, whose caller cookie is shared
// (review23 M3).
type callerRef struct {
	Phone, IDType, IDNumber, Name string
	// Consent is the privacy notice's version the operator read out and
	// the caller agreed to (empty: none taken this call); Guardian, that a
	// parent or guardian agreed for a child under 14 (review21 H3).
	Consent  string
	Guardian bool
	Call     string
}

// callerField is the hidden field of the forms that act for a caller: the
// mark of the call the page was rendered for.
const callerField = "call"

func (c callerRef) hasID() bool { return c.IDNumber != "" }

func (c *Console) rememberCaller(r *request, ref callerRef) {
	guardian := ""
	if ref.Guardian {
		guardian = "1"
	}
	c.seal(r, phoneConsole, callerCookie, "phone", strings.Join([]string{ref.Phone, ref.IDType, ref.IDNumber, ref.Name, ref.Consent, guardian, ref.Call}, "\x00"))
}

func (c *Console) currentCaller(r *request) (callerRef, bool) {
	plain, ok := c.unseal(r, callerCookie, "phone")
	if !ok {
		return callerRef{}, false
	}
	f := strings.Split(plain, "\x00")
	switch len(f) {
	case 4: // a call started before consents were taken: none, and no mark
		f = append(f, "", "", "")
	case 6: // a call started before calls were marked
		f = append(f, "")
	}
	if len(f) != 7 {
		return callerRef{}, false
	}
	return callerRef{Phone: f[0], IDType: f[1], IDNumber: f[2], Name: f[3], Consent: f[4], Guardian: f[5] != "", Call: f[6]}, true
}

func (c *Console) forgetCaller(r *request) { c.unsetSealed(r, phoneConsole, callerCookie) }

var phoneFlashes = map[string]string{
	"booked":         "电话预约成功，请告知来电者就诊时间和号序。 Booked: tell the caller the time and the number.",
	"entered":        "已为来电者报名摇号；开奖后结果可在此查询。 The caller is entered in the draw; the result shows here after the draw.",
	"waitlisted":     "已为来电者加入候补；有人退号时自动分配：先到更早轮次，同一轮内顺序随机抽定。 The caller is on the waitlist: returned slots go to it automatically, earlier rounds first, in an order drawn within each round.",
	"cancelled":      "已取消该预约。 Booking cancelled.",
	"late":           "已取消该预约。已过取消截止时间，本次计为一次爽约。 Booking cancelled. It was past the cancellation deadline, so it counts as a no-show for the caller.",
	"cleared":        "已结束本次来电，可接听下一位。 Call ended: ready for the next caller.",
	"offer_accepted": "已为来电者确认替诊，预约保留。 Substitute accepted for the caller: the booking stays.",
	"offer_declined": "已为来电者放弃替诊，预约已取消，不计爽约。 Substitute declined for the caller: the booking is cancelled, not a no-show.",
}

// phoneFlash is the confirmation after a POST; a waitlist place says where
// in line it is.
func phoneFlash(r *request) string {
	f := phoneFlashes[r.query("ok")]
	if pos, err := strconv.Atoi(r.query("pos")); err == nil && pos > 0 && r.query("ok") == "waitlisted" {
		f += " 第 " + strconv.Itoa(pos) + " 位 Number " + strconv.Itoa(pos) + " in line."
	}
	if round := r.query("round"); round != "" && r.query("ok") == "waitlisted" {
		f += " 本轮 " + round + " 截止后随机抽定轮内顺序。 The order within the round is drawn when it closes at " + round + "."
	}
	return f
}

// personView is a person the console found, masked, with their bookings.
type personView struct {
	Name     string
	Family   string // 子女 · 2016: who they are to an account of the number
	IDType   string
	MaskedID string
	Bookings []phoneBooking
}

// phoneBooking is a booking as the operator sees it.
type phoneBooking struct {
	bookingRow
	Cancel bool // the operator may cancel it (a phone booking, before its session)
	// ForPatient: an account's booking the caller may cancel as the
	// patient (Lookup.ForPatient); the page says the account is told.
	ForPatient bool
	CancelWhy  string     // why not, for a confirmed booking
	Offer      *offerView // a slot held with a substitute, awaiting the answer
	Failed     bool
}

// phoneSession is a session on the phone pool, with what the operator can
// do for the caller.
type phoneSession struct {
	ID         string
	Time       string
	Period     string
	Department string
	Doctor     string
	Title      string
	Remaining  int
	Quota      int
	Lottery    bool
	DrawAt     string
	Action     string // book, enter, waitlist, or "" (Why says why not)
	Held       string // for the waitlist: how many slots are held for it, and when they go
	Why        string
	FormKey    string
	Highlight  bool
}

type callerView struct {
	Call        string // the call's mark, which the forms acting for the caller carry
	PhoneMasked string
	// Landline: the caller rings from a landline, which receives no text
	// message; the console tells the operator where notices go instead.
	Landline    bool
	HasID       bool
	IDType      string
	MaskedID    string
	NameMasked  string
	Known       bool // the document is on file
	NumberKnown bool // without a document: the number is on file (of whom, never)
	Consented   bool // the operator recorded the caller's oral consent this call
}

type phoneData struct {
	IDTypes  []idType
	IDType   string // the document type the caller form selects
	Caller   *callerView
	People   []personView
	CanBook  bool
	Hospital string
	Date     string
	Dates    []chip
	Sessions []phoneSession
}

// phoneData builds the caller page: the current caller, the people found
// and their bookings, and the sessions of date on the phone pool.
func (c *Console) phoneData(r *request, date, highlight string, failed bool) (phoneData, error) {
	d := phoneData{IDTypes: idTypes, IDType: "resident_id"}
	cat, now := c.svc.Catalog(), c.opts.Now()
	h, ok := cat.Hospital(r.actor.HospitalID)
	if !ok {
		return d, booking.Errorf(booking.ErrForbidden, "this operator account is bound to no hospital; ask an administrator")
	}
	loc := h.Location()
	d.Hospital = h.Name
	today := now.In(loc).Format(time.DateOnly)
	if _, err := time.Parse(time.DateOnly, date); err != nil || date < today {
		date = today
	}
	d.Date = date
	for i := range 8 {
		day := now.In(loc).AddDate(0, 0, i).Format(time.DateOnly)
		d.Dates = append(d.Dates, chip{Label: day[5:], Sub: weekday(day), URL: "/phone?" + url.Values{"date": {day}}.Encode(), Selected: day == date})
	}

	if ref, ok := c.currentCaller(r); ok {
		cv := &callerView{Call: ref.Call, PhoneMasked: identity.MaskPhone(identity.CallerLine(ref.Phone)), Landline: identity.IsLandline(ref.Phone),
			HasID: ref.hasID(), IDType: ref.IDType, Consented: ref.Consent != ""}
		d.Caller = cv
		var found []booking.Lookup
		if ref.hasID() {
			d.IDType = ref.IDType
			if id, err := identity.Parse(ref.IDType, ref.IDNumber); err == nil {
				cv.MaskedID = id.Masked()
			}
			cv.NameMasked = identity.MaskName(ref.Name)
			// Only the bookings made under the name the caller gave, and of
			// those an account made only the ones the number has a say in:
			// an ID number and a name prove nothing on the phone.
			// One audit entry of the lookup per call, not per page (review23 L2).
			l, err := c.svc.LookupCallerOnCall(r.ctx, r.actor, booking.IdentityRequest{IDType: ref.IDType, IDNumber: ref.IDNumber, Name: ref.Name}, ref.Phone, ref.Call)
			switch {
			case err == nil:
				cv.Known, found = true, []booking.Lookup{l}
			case !errors.Is(err, booking.ErrPatientNotFound):
				return d, err
			}
			d.CanBook = true
		} else {
			// A number alone shows nobody: at most that it is on file.
			err := c.svc.CallerKnownOnCall(r.ctx, r.actor, ref.Phone, ref.Call)
			switch {
			case err == nil:
				cv.NumberKnown = true
			case !errors.Is(err, booking.ErrPatientNotFound):
				return d, err
			}
		}
		var ids []string
		for _, l := range found {
			for _, b := range l.Bookings {
				ids = append(ids, b.ID)
			}
		}
		offers, err := c.openOffers(r, ids)
		if err != nil {
			return d, err
		}
		for _, l := range found {
			p := c.personView(l, now, highlight, failed)
			for i := range p.Bookings {
				if off := offers[p.Bookings[i].ID]; off != nil {
					// Answered, not cancelled: declining is never late.
					p.Bookings[i].Offer, p.Bookings[i].Cancel, p.Bookings[i].CancelWhy = off, false, ""
				}
			}
			d.People = append(d.People, p)
		}
	}

	views, err := c.svc.Sessions(r.ctx, h.ID, date, "")
	if err == nil {
		err = c.svc.WaitlistHolds(r.ctx, views)
	}
	if err != nil {
		return d, err
	}
	for _, v := range views {
		if s, ok := phoneSessionOf(cat, v, loc, now, highlight); ok {
			d.Sessions = append(d.Sessions, s)
		}
	}
	return d, nil
}

func (c *Console) personView(l booking.Lookup, now time.Time, highlight string, failed bool) personView {
	cat := c.svc.Catalog()
	p := personView{Name: l.Identity.NameMasked, Family: kinLabel(l.Kin), IDType: idTypeLabel(l.Identity.IDType), MaskedID: l.Identity.NumberMasked}
	for _, b := range l.Bookings {
		row := phoneBooking{bookingRow: bookingRowOf(cat, b, nil, now, highlight)}
		row.Patient = l.Identity.NameMasked
		row.Failed = failed && b.ID == highlight
		switch {
		case !row.Cancellable:
		case l.ForPatient[b.ID]:
			// An account's booking for the caller, who rings from the
			// contact number that account gave for them (review23 M2).
			row.Cancel, row.ForPatient = true, true
		case b.Channel != booking.ChannelPhone:
			row.CancelWhy = "非电话预约：由预约账号取消；就诊人本人可用该账号为其登记的联系电话来电取消，或持证件到窗口办理 Not a phone booking: the account that made it cancels it; the patient may ring from the contact number that account gave for them, or come to the desk with the ID card"
		case !l.FromCaller[b.ID]:
			row.CancelWhy = "此预约不是在本号码的来电中办理的：请来电者用预约时的号码来电，或持证件到窗口办理 Not booked on a call from this number: the caller rings from the number it was booked from, or comes to the desk with the ID card"
		default:
			row.Cancel = true
		}
		p.Bookings = append(p.Bookings, row)
	}
	return p
}

// phoneSessionOf describes a session's phone pool; false when it has none.
func phoneSessionOf(cat *booking.Catalog, v booking.SessionView, loc *time.Location, now time.Time, highlight string) (phoneSession, bool) {
	q, ok := v.Channel(booking.ChannelPhone)
	if !ok || q.Quota == 0 {
		return phoneSession{}, false
	}
	doc, _ := cat.Doctor(v.DoctorID)
	dept, _ := cat.Department(v.DepartmentID)
	s := phoneSession{ID: v.ID, Period: periodLabel(v.Period), Department: dept.Name, Doctor: doc.Name, Title: doc.Title,
		Time:      v.StartsAt.In(loc).Format("15:04") + "–" + v.EndsAt.In(loc).Format("15:04"),
		Remaining: v.Remaining[booking.ChannelPhone], Quota: q.Quota, Lottery: q.IsLottery(), FormKey: newFormKey(),
		Highlight: v.ID == highlight}
	if q.IsLottery() {
		s.DrawAt = q.DrawAt.In(loc).Format("01-02 15:04:05")
	}
	var act poolAction
	act, s.Why = poolActionOf(v, q, loc, now)
	switch act {
	case poolBook, poolEnter, poolWaitlist:
		if act == poolWaitlist && v.Held > 0 {
			s.Held = s.Why
		}
		s.Action, s.Why = string(act), ""
	}
	return s, true
}

func (c *Console) phonePage(r *request) error {
	d, err := c.phoneData(r, r.query("date"), r.query("id"), false)
	if err != nil {
		return err
	}
	return c.render(r, fasthttp.StatusOK, "phone/caller", page{Title: "来电 Caller", Nav: "caller", Flash: phoneFlash(r), Data: d})
}

// callerForm is the id of the form that finds the caller.
const callerForm = "caller-form"

// phoneFailed shows the caller page again with the error of a form (its
// id); the caller form keeps the document type chosen, never the number,
// name or phone typed (no page shows them in clear).
func (c *Console) phoneFailed(r *request, form string, err error) error {
	d, lerr := c.phoneData(r, r.form("date"), r.param, true)
	if lerr != nil {
		return lerr
	}
	if form == callerForm {
		if t := r.form("id_type"); knownIDType(t) {
			d.IDType = t
		}
	}
	return c.formFailed(r, "phone/caller", page{Title: "来电 Caller", Nav: "caller", Form: form, Data: d}, err)
}

// setCaller starts a call: the number the caller rings from, and their
// document and name when they gave them. An unknown document is a caller
// with no record yet, who can still be booked for; a number alone shows
// nobody (at most that it is on file).
func (c *Console) setCaller(r *request) error {
	consent := staffConsentForm(r)
	ref := callerRef{Phone: strings.TrimSpace(r.form("phone")), IDType: r.form("id_type"),
		IDNumber: strings.TrimSpace(r.form("id_number")), Name: strings.TrimSpace(r.form("name")),
		Consent: consent.Version, Guardian: consent.Guardian}
	// The call's mark first: the lookup below is the call's, and the pages
	// of the call write no other audit entry of it (review23 L2).
	ref.Call = newFormKey()
	err := func() error {
		if strings.ContainsRune(ref.Phone+ref.IDType+ref.IDNumber+ref.Name+ref.Consent, 0) {
			return booking.ErrInvalidText
		}
		// A mobile or a landline with its area code (review23 M1); an
		// extension is kept for ringing back.
		p, err := identity.NormalizeCallerPhone(ref.Phone)
		if err != nil {
			return booking.Errorf(booking.ErrInvalidPhone, "enter the number the caller rings from: a mobile, or a landline with its area code (010-65123456)")
		}
		ref.Phone = p
		if !ref.hasID() {
			ref.IDType, ref.Name = "", ""
			return nil
		}
		if ref.Name == "" {
			return onFields(booking.Errorf(booking.ErrInvalidField, "enter the caller's name as printed on the document, with the ID number"), "name")
		}
		if _, err := identity.NormalizeName(ref.Name); err != nil {
			return booking.ErrInvalidName
		}
		_, err = c.svc.LookupCallerOnCall(r.ctx, r.actor, booking.IdentityRequest{IDType: ref.IDType, IDNumber: ref.IDNumber, Name: ref.Name}, ref.Phone, ref.Call)
		if errors.Is(err, booking.ErrPatientNotFound) {
			return nil // a first call: booking makes the record
		}
		return err
	}()
	if err != nil {
		c.forgetCaller(r)
		return c.phoneFailed(r, callerForm, err)
	}
	c.rememberCaller(r, ref)
	c.redirect(r, "/phone?"+url.Values{"date": {r.form("date")}}.Encode())
	return nil
}

func (c *Console) clearCaller(r *request) error {
	c.forgetCaller(r)
	c.redirect(r, "/phone?ok=cleared")
	return nil
}

// callerForBooking is the current caller with a document and name, which
// booking, entering, waitlisting, cancelling and answering an offer need:
// the caller of the form's page (its callerField), or the form is refused
// with caller_changed — another caller was set since, in another tab, and
// acting for the current one would book, cancel or answer for a person the
// page did not show.
func (c *Console) callerForBooking(r *request) (callerRef, error) {
	ref, ok := c.currentCaller(r)
	if !ok || !ref.hasID() {
		if r.form(callerField) != "" {
			return ref, booking.Errorf(booking.ErrCallerChanged, "the call this page was for has ended (in another tab): open the current caller's page")
		}
		return ref, onFields(booking.Errorf(booking.ErrInvalidField, "enter the caller's ID number and name first, in the form at the top"), "id_number", "name")
	}
	if subtle.ConstantTimeCompare([]byte(r.form(callerField)), []byte(ref.Call)) != 1 {
		return ref, booking.ErrCallerChanged
	}
	return ref, nil
}

// sessionFormFailed shows the error of a session's form (book, enter the
// draw, waitlist): about the caller form when the caller's document is
// missing.
func (c *Console) sessionFormFailed(r *request, err error) error {
	r.param = r.form("session_id")
	form := "session-" + r.param
	var fe *fieldsError
	if errors.As(err, &fe) || errors.Is(err, booking.ErrConsentRequired) || errors.Is(err, booking.ErrNoticeOutdated) ||
		errors.Is(err, booking.ErrGuardianConsent) {
		// The consent is taken with the caller (the caller form's boxes).
		form = callerForm
	}
	return c.phoneFailed(r, form, err)
}

// phoneBook books the caller on a session's phone pool, or enters them in
// its draw when it is a lottery pool taking entries.
func (c *Console) phoneBook(r *request) error {
	ref, err := c.callerForBooking(r)
	var res booking.Result
	if err == nil {
		res, err = c.svc.AttemptFor(r.ctx, r.actor, booking.StaffBookRequest{
			IdentityRequest: booking.IdentityRequest{IDType: ref.IDType, IDNumber: ref.IDNumber, Name: ref.Name},
			SessionID:       r.form("session_id"), Channel: booking.ChannelPhone, CallerPhone: ref.Phone,
			Consent:        booking.ConsentRequest{Version: ref.Consent, Guardian: ref.Guardian},
			IdempotencyKey: formKey(r), Origin: r.origin})
	}
	if err != nil {
		return c.sessionFormFailed(r, err)
	}
	v := url.Values{"ok": {"booked"}, "id": {res.Booking.ID}, "date": {r.form("date")}}
	if res.Entered {
		v = url.Values{"ok": {"entered"}, "id": {r.form("session_id")}, "date": {r.form("date")}}
	}
	c.redirect(r, "/phone?"+v.Encode())
	return nil
}

// phoneWaitlist puts the caller on a sold-out session's waitlist.
func (c *Console) phoneWaitlist(r *request) error {
	ref, err := c.callerForBooking(r)
	var e booking.WaitlistEntry
	if err == nil {
		e, err = c.svc.JoinWaitlistFor(r.ctx, r.actor, booking.StaffWaitlistRequest{
			IdentityRequest: booking.IdentityRequest{IDType: ref.IDType, IDNumber: ref.IDNumber, Name: ref.Name},
			SessionID:       r.form("session_id"), CallerPhone: ref.Phone, IdempotencyKey: formKey(r), Origin: r.origin,
			Consent: booking.ConsentRequest{Version: ref.Consent, Guardian: ref.Guardian}})
	}
	if err != nil {
		return c.sessionFormFailed(r, err)
	}
	v := url.Values{"ok": {"waitlisted"}, "id": {r.form("session_id")}, "pos": {strconv.Itoa(e.Position)}, "date": {r.form("date")}}
	if e.Position == 0 && !e.RoundEndsAt.IsZero() {
		v.Set("round", roundEnd(c.svc.Catalog(), e))
	}
	c.redirect(r, "/phone?"+v.Encode())
	return nil
}

// phoneCancel cancels one of the caller's phone bookings: one made on a
// call from the number they ring from, for a caller who gave the person's
// ID number and name (CancelForCaller).
func (c *Console) phoneCancel(r *request) error {
	ref, err := c.callerForBooking(r)
	var b booking.Booking
	if err == nil {
		b, err = c.svc.CancelForCaller(r.ctx, r.actor, r.param,
			booking.IdentityRequest{IDType: ref.IDType, IDNumber: ref.IDNumber, Name: ref.Name}, ref.Phone, r.origin)
	}
	if err != nil {
		return c.phoneFailed(r, "cancel-"+r.param, err)
	}
	ok := "cancelled"
	if b.LateCancel {
		ok = "late"
	}
	c.redirect(r, "/phone?"+url.Values{"ok": {ok}, "id": {b.ID}, "date": {r.form("date")}}.Encode())
	return nil
}
