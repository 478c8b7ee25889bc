package web

import (
	"net/url"
	"strings"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// The call-back list (回电), on the phone console and the desk's: the people
// no account's console reaches — the callers the call centre booked,
// entered or waitlisted, the walk-ins the desk booked — to be told what
// happened while they were not there: a stopped clinic (停诊), a returned
// slot their waitlist place became a booking with, a draw's result. Each
// row says which clinic, what to tell (a stop's reason too) and, with a
// substitute (替诊), the slot held for them and until when. An
// operator opens a row's number to dial it (Service.CallBackNumber, audited;
// shown on that one answer only, never in a URL or a log); the outcome of
// each call is recorded on the row (told, no answer, or the person's answer
// to the held slot), audited by the Service.

// callBackRow is one person to ring, as the console shows it.
type callBackRow struct {
	ID         string
	Date       string
	Weekday    string
	Time       string
	Department string
	Doctor     string
	Reason     string
	Person     string // masked name
	IDType     string
	MaskedID   string
	Channel    string
	Ended      string // what happened: a stop ended a booking, a waitlist place or an entry; a slot booked; a draw
	EndedClass string // its status colour: confirmed for a slot booked, else cancelled
	Body       string // the notice, as the person is to be told it
	Phone      string // masked; Dial holds it in clear on the one answer that opened it
	Contact    bool   // Phone is a walk-in's contact number, not the one a call came from
	Dial       string // for the tel: link: a landline's extension after a pause (01065123456,8001)
	DialText   string // as the operator reads it (01065123456 转 8001)
	Offer      *offerView
	OfferState string
	Attempts   int
	LastCall   string
	Highlight  bool
	Failed     bool
}

type callBackData struct {
	Hospital string
	Base     string // /phone or /desk
	CanDial  bool   // operators ring; the desk tells people at the window
	Rows     []callBackRow
	// After is the page's start (the previous page's last row; "" on the
	// first), which a row's forms carry back; NextURL the next page's, when
	// this one is full (booking.CallBackPageSize); FirstURL the first
	// page's, on a later one.
	After, NextURL, FirstURL string
}

// callBackAfter is where the list's page starts: ?after= on the list, the
// row form's after on a post from it.
func callBackAfter(r *request) string {
	if v := r.query("after"); v != "" {
		return v
	}
	return r.form("after")
}

var callOutcomeLabels = map[string]string{
	booking.CallTold:     "已告知 Told",
	booking.CallNoAnswer: "无人接听 No answer",
	booking.CallAccepted: "接受替诊 Accepted the substitute",
	booking.CallDeclined: "放弃替诊 Declined the substitute",
}

var offerStateLabels = map[string]string{
	booking.OfferOpen:     "待答复 Awaiting the answer",
	booking.OfferAccepted: "已接受 Accepted",
	booking.OfferDeclined: "已放弃 Declined",
	booking.OfferLapsed:   "已逾期 Lapsed",
	// The substitute's clinic was stopped too: nothing is held; the
	// stop's own row (or notice) tells the person.
	booking.OfferWithdrawn: "替诊亦停诊，号已取消 The substitute's clinic is stopped too",
}

// callBackData builds the list of the staff member's hospital; dial, when
// set, is the row whose number was just opened, shown in clear.
func (c *Console) callBackData(r *request, base, highlight, dialID, dial string, failed bool) (callBackData, error) {
	d := callBackData{Base: base, CanDial: r.actor.Role == booking.RoleOperator, After: callBackAfter(r)}
	cat, now := c.svc.Catalog(), c.opts.Now()
	h, ok := cat.Hospital(r.actor.HospitalID)
	if !ok {
		return d, booking.Errorf(booking.ErrForbidden, "this staff account is bound to no hospital; ask an administrator")
	}
	d.Hospital = h.Name
	loc := h.Location()
	cbs, err := c.svc.CallBacksAfter(r.ctx, r.actor, d.After, 0)
	if err != nil {
		return d, err
	}
	if len(cbs) == booking.CallBackPageSize {
		d.NextURL = base + "/callbacks?" + url.Values{"after": {cbs[len(cbs)-1].NotificationID}}.Encode()
	}
	if d.After != "" {
		d.FirstURL = base + "/callbacks"
	}
	for _, cb := range cbs {
		row := callBackRow{ID: cb.NotificationID, Reason: cb.Reason, Person: cb.NameMasked, IDType: idTypeLabel(cb.IDType),
			MaskedID: cb.NumberMasked, Channel: channelLabels[cb.Channel], Phone: cb.PhoneMasked, Attempts: cb.Attempts,
			Contact:   cb.ContactNumber,
			Highlight: cb.NotificationID == highlight, Failed: failed && cb.NotificationID == highlight}
		row.Ended, row.EndedClass, row.Body = callBackLabel(cb), "cancelled", cb.Body
		if cb.Kind == "booked" {
			row.EndedClass = string(booking.StatusConfirmed)
		}
		if cb.NotificationID == dialID {
			row.Dial, row.DialText = strings.Replace(dial, "-", ",", 1), strings.Replace(dial, "-", " 转 ", 1)
		}
		if s, ok := cat.Session(cb.SessionID); ok {
			doc, _ := cat.Doctor(s.DoctorID)
			dept, _ := cat.Department(s.DepartmentID)
			row.Date, row.Weekday, row.Doctor, row.Department = s.VisitDate, weekday(s.VisitDate), doc.Name, dept.Name
			row.Time = periodLabel(s.Period) + " " + s.StartsAt.In(loc).Format("15:04") + "–" + s.EndsAt.In(loc).Format("15:04")
		}
		if off := cb.Offer; off != nil {
			state := off.StateAt(now)
			row.OfferState = offerStateLabels[state]
			if state == booking.OfferOpen {
				row.Offer = &offerView{Until: off.HoldUntil.In(loc).Format("01-02 15:04")}
				if held, err := c.svc.Booking(r.ctx, r.actor, off.BookingID); err == nil {
					doc, _ := cat.Doctor(held.DoctorID)
					row.Offer.Doctor, row.Offer.When = doc.Name, row.Date+" "+held.SlotStart.In(loc).Format("15:04")
				}
			}
		}
		if cb.Attempts > 0 {
			row.LastCall = cb.LastCallAt.In(loc).Format("01-02 15:04") + " " + callOutcomeLabels[cb.LastOutcome]
		}
		d.Rows = append(d.Rows, row)
	}
	return d, nil
}

// callBackBase is the console the request came through.
func callBackBase(r *request) string {
	if r.actor.Role == booking.RoleClerk {
		return "/desk"
	}
	return "/phone"
}

var callBackFlashes = map[string]string{
	booking.CallTold:     "已记录：已告知，该条已移出回电列表。 Recorded: told, and off the call-back list.",
	"told_held":          "已记录：已告知；替诊号仍为其保留，该条留在列表中，待其答复后记录接受或放弃。 Recorded: told; the substitute's slot is still held for them, so the row stays until their answer.",
	booking.CallNoAnswer: "已记录：无人接听，该条仍在列表中，请稍后再拨。 Recorded: no answer; the row stays on the list, call again later.",
	booking.CallAccepted: "已为患者接受替诊，预约保留，该条已移出列表。 The substitute is accepted for the patient: the booking stays, and the row is off the list.",
	booking.CallDeclined: "已为患者放弃替诊，预约已取消，不计爽约；该条已移出列表。 The substitute is declined for the patient: cancelled, not a no-show; the row is off the list.",
}

func (c *Console) callBacksPage(r *request) error {
	base := callBackBase(r)
	d, err := c.callBackData(r, base, r.query("id"), "", "", false)
	if err != nil {
		return err
	}
	return c.render(r, fasthttp.StatusOK, strings.TrimPrefix(base, "/")+"/callbacks",
		page{Title: "回电 Call backs", Nav: "callbacks", Flash: callBackFlashes[r.query("ok")], Data: d})
}

// callBacksFailed shows the list again with the error of a row's form.
func (c *Console) callBacksFailed(r *request, err error) error {
	base := callBackBase(r)
	d, lerr := c.callBackData(r, base, r.param, "", "", true)
	if lerr != nil {
		return lerr
	}
	return c.formFailed(r, strings.TrimPrefix(base, "/")+"/callbacks", page{Title: "回电 Call backs", Nav: "callbacks",
		Form: "cb-" + r.param, Data: d}, err)
}

// callBackNumber opens a row's number for the operator: the page is
// rendered with it (never redirected to, so it is in no URL or history).
func (c *Console) callBackNumber(r *request) error {
	phone, err := c.svc.CallBackNumber(r.ctx, r.actor, r.param)
	if err != nil {
		return c.callBacksFailed(r, err)
	}
	d, err := c.callBackData(r, "/phone", r.param, r.param, phone, false)
	if err != nil {
		return err
	}
	return c.render(r, fasthttp.StatusOK, "phone/callbacks", page{Title: "回电 Call backs", Nav: "callbacks", Data: d})
}

// markCallBack records a call's outcome on a row.
func (c *Console) markCallBack(r *request) error {
	outcome := r.form("outcome")
	cb, err := c.svc.MarkCallBack(r.ctx, r.actor, r.param, outcome, strings.TrimSpace(r.form("note")), r.origin)
	if err != nil {
		return c.callBacksFailed(r, err)
	}
	done := outcome
	if outcome == booking.CallTold && cb.AwaitsAnswer(c.opts.Now()) {
		done = "told_held" // the row stays for their answer (MarkCallBack)
	}
	base := callBackBase(r)
	v := url.Values{"ok": {done}, "id": {r.param}}
	if after := callBackAfter(r); after != "" {
		v.Set("after", after) // back to the page the row was on
	}
	c.redirect(r, base+"/callbacks?"+v.Encode())
	return nil
}

// callBackLabel says what a row is about, in a word or two: what a stop
// ended, or what happened without the person (the notice says the rest).
func callBackLabel(cb booking.CallBack) string {
	switch cb.Kind {
	case "booked":
		return "已为其预约 Booked for them"
	case "cancelled":
		if cb.WaitlistID != "" {
			return "候补已结束 Waitlist place ended"
		}
		return "预约已取消 Booking cancelled"
	case "lottery_lost":
		return "未中签 Not drawn"
	case "lottery_waitlisted":
		return "未中签·已候补 Not drawn, waitlisted"
	case "lottery_review":
		return "摇号审核中 Entry under review"
	}
	switch {
	case cb.BookingID != "":
		return "预约已取消 Booking cancelled"
	case cb.WaitlistID != "":
		return "候补已结束 Waitlist place ended"
	}
	return "摇号登记已撤销 Lottery entry withdrawn"
}
