package httpapi

import (
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// The call-back list (booking/callback.go): the call centre's and the
// desk's people to ring — about a stopped clinic, a waitlist place served,
// a draw — who have no account to be told in.

type callBackOut struct {
	ID          string      `json:"callback_id"`
	Kind        string      `json:"kind"`
	SessionID   string      `json:"session_id"`
	BookingID   string      `json:"booking_id,omitempty"`
	WaitlistID  string      `json:"waitlist_id,omitempty"`
	EntryID     string      `json:"request_id,omitempty"`
	Channel     string      `json:"channel,omitempty"`
	IDType      string      `json:"id_type,omitempty"`
	MaskedID    string      `json:"masked_id,omitempty"`
	Name        string      `json:"name,omitempty"`
	Reason      string      `json:"reason,omitempty"`
	Body        string      `json:"body"`
	PhoneMasked string      `json:"phone_masked,omitempty"`
	PhoneSource string      `json:"phone_source,omitempty"`
	Offer       *offerState `json:"offer,omitempty"`
	Attempts    int         `json:"attempts"`
	LastCallAt  string      `json:"last_call_at,omitempty"`
	LastOutcome string      `json:"last_outcome,omitempty"`
	CreatedAt   string      `json:"created_at"`
}

// offerState is a substitute offer as a booking or a call back shows it:
// a slot held for the patient, not yet theirs until accepted.
type offerState struct {
	BookingID string `json:"booking_id,omitempty"`
	Status    string `json:"status"`
	HoldUntil string `json:"hold_until"`
}

func offerStateOf(o booking.SubstituteOffer, loc *time.Location, now time.Time) *offerState {
	return &offerState{BookingID: o.BookingID, Status: o.StateAt(now), HoldUntil: o.HoldUntil.In(loc).Format(time.RFC3339)}
}

func callBackView(cat *booking.Catalog, c booking.CallBack, now time.Time) callBackOut {
	loc := zoneOf(cat, c.HospitalID)
	out := callBackOut{ID: c.NotificationID, Kind: c.Kind, SessionID: c.SessionID, BookingID: c.BookingID, WaitlistID: c.WaitlistID,
		EntryID: c.EntryID, Channel: string(c.Channel), IDType: c.IDType, MaskedID: c.NumberMasked, Name: c.NameMasked,
		Reason: c.Reason, Body: c.Body, PhoneMasked: c.PhoneMasked, Attempts: c.Attempts, LastOutcome: c.LastOutcome,
		CreatedAt: c.CreatedAt.In(loc).Format(time.RFC3339)}
	if c.PhoneMasked != "" {
		out.PhoneSource = "caller"
		if c.ContactNumber {
			out.PhoneSource = "contact"
		}
	}
	if c.Offer != nil {
		out.Offer = offerStateOf(*c.Offer, loc, now)
	}
	if !c.LastCallAt.IsZero() {
		out.LastCallAt = c.LastCallAt.In(loc).Format(time.RFC3339)
	}
	return out
}

func (s *Server) listCallBacks(r *request) error {
	// A page: limit rows (booking.CallBackPageSize unless given) after the
	// row of id after (the previous page's last); a full page may have
	// more behind it.
	args := r.rc.QueryArgs()
	limit := 0
	if v := args.Peek("limit"); len(v) > 0 {
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 1 {
			return booking.FieldErrorf(booking.ErrInvalidField, "limit", "limit is a number of rows, from 1 to %d", booking.CallBackPageMax)
		}
		limit = n
	}
	cbs, err := s.svc.CallBacksAfter(r.context(), r.actor, string(args.Peek("after")), limit)
	if err != nil {
		return err
	}
	cat, now := s.svc.Catalog(), time.Now()
	writeList(r.rc, cbs, func(c booking.CallBack) callBackOut { return callBackView(cat, c, now) })
	return nil
}

func (s *Server) callBackNumber(r *request) error {
	phone, err := s.svc.CallBackNumber(r.context(), r.actor, r.param)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]string{"phone": phone})
	return nil
}

type callBackIn struct {
	Outcome string `json:"outcome"`
	Note    string `json:"note"`
}

func (in callBackIn) check() error {
	return Required("outcome", in.Outcome)
}

func (s *Server) markCallBack(r *request) error {
	var in callBackIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	c, err := s.svc.MarkCallBack(r.context(), r.actor, r.param, in.Outcome, in.Note, r.origin)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, callBackView(s.svc.Catalog(), c, time.Now()))
	return nil
}
