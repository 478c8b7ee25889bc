package booking

import "time"

// EventType names a state change. The set is part of the booking-event format
// in ../shared/API.md, which the offline detector and outside tools read.
type EventType string

// The event types.
const (
	EventAccountCreated EventType = "account_created"
	EventLogin          EventType = "login"
	EventPatientAdded   EventType = "patient_added"
	EventBooked         EventType = "booked"
	EventCancelled      EventType = "cancelled"
	EventCheckedIn      EventType = "checked_in"
	EventNoShow         EventType = "no_show"
	EventWaitlisted     EventType = "waitlisted"
	EventReissued       EventType = "reissued"
	EventRateLimited    EventType = "rate_limited"
	EventRejected       EventType = "rejected"
	// EventLotteryEntered is an entry in a lottery pool's draw. Its outcome
	// follows as a booked event (reason "lottery") for a winner, a
	// waitlisted event for a loser who asked for the waitlist.
	EventLotteryEntered EventType = "lottery_entered"
)

// StampLayout is the one layout of an exported event's time and an audit
// row's: RFC 3339 with six fractional digits, always (SQL keeps
// microseconds), so that a fixed-width reader can read them (review19a L3:
// Go's RFC3339Nano drops trailing zeros, and lines had 4 to 9 digits).
const StampLayout = "2006-01-02T15:04:05.000000Z07:00"

// Event is one line of the booking-event stream. Fields that do not apply are
// left empty and omitted from JSON. Phone is the keyed hash ("hash:…"), never
// the number.
type Event struct {
	ID        string    `json:"-"`
	TS        time.Time `json:"ts"`
	Type      EventType `json:"type"`
	AccountID string    `json:"account_id,omitempty"`
	PatientID string    `json:"patient_id,omitempty"`
	// IdentityID is the person behind the patient: one identity may be a
	// patient of several accounts (with a patient id on each), and it is the
	// identity that quotas, bars and scalper detection follow.
	IdentityID   string    `json:"identity_id,omitempty"`
	BookingID    string    `json:"booking_id,omitempty"`
	SessionID    string    `json:"session_id,omitempty"`
	HospitalID   string    `json:"hospital_id,omitempty"`
	DepartmentID string    `json:"department_id,omitempty"`
	DoctorID     string    `json:"doctor_id,omitempty"`
	Channel      Channel   `json:"channel,omitempty"`
	IP           string    `json:"ip,omitempty"`
	DeviceID     string    `json:"device_id,omitempty"`
	Phone        string    `json:"phone,omitempty"`
	ReleaseAt    time.Time `json:"release_at,omitzero"`
	Reason       string    `json:"reason,omitempty"`
	StaffID      string    `json:"staff_id,omitempty"` // the clerk or operator behind a phone, desk or reissue event
	// PresentedIdentityID and PresentedOnAccount say, on a check-in the
	// desk refused with identity_mismatch, who showed the card: the
	// identity id of the card's person (for a card nobody registered, a
	// keyed id derived from its number's keyed hash: stable, never the
	// number) and whether that person is on the booking's account (the
	// booked person themself, or a member of its family list). A family
	// member picked by mistake is on the account; a buyer is a stranger.
	PresentedIdentityID string `json:"presented_identity_id,omitempty"`
	PresentedOnAccount  *bool  `json:"presented_on_account,omitempty"`
	// ByAccountID, on an event of a person's verified self ending what
	// another account made for them (reason cancelled_by_person,
	// late_cancelled_by_person, lottery_withdrawn_by_person,
	// left_waitlist_by_person), is the account of that verified self:
	// AccountID stays the maker's, and IP and DeviceID are the request's
	// of the person who ended it, not the maker's.
	ByAccountID string `json:"by_account_id,omitempty"`
	// MadeByOtherAccount, on a rejected attempt, says it was refused for
	// something another patient account made for the person (a booking,
	// entry or place in the way, or one that fills a quota): the answer's
	// made_by_other_account. The attempt's account is the one refused.
	MadeByOtherAccount bool `json:"made_by_other_account,omitempty"`
	// CardSource, on a check-in or a walk-in's booking (or its refusal),
	// is how the desk read the person's document (review25 H1): "reader"
	// (a registered reader's signed read) or "typed" (the clerk typed the
	// number, whatever the reason), for the detector to count typed acts.
	CardSource string `json:"card_source,omitempty"`
}

// Origin is where a request came from, as the HTTP layer saw it; it goes
// into events for scalper detection.
type Origin struct {
	IP       string
	DeviceID string
	// deskClosing is the clerk closing the account at the desk: the
	// closing's cancellations are in their name (closedAtDesk).
	deskClosing string
	// takenAtDesk: the clerk said the login was taken; the desk closing's
	// cancellations are then never late ("account_closed_at_desk:taken").
	takenAtDesk bool
	// patientCall is the patient on the line, ringing from the contact
	// number an account gave for them, for whom an operator cancels what
	// that account made for them (cancelForPatient): the cancellation is
	// the person's, its event carries the number's reference.
	patientCall *patientCall
}

// ReasonClosedAtDesk heads the reason of every cancellation a closing at
// the desk makes ("account_closed_at_desk", or with the cancellation's own
// reason after a colon: ":late", ":left_waitlist", ":lottery_withdrawn"),
// and the clerk is its staff_id: not the patient's own cancellations, so
// detection links the clerk to the slots the closing freed (review19c M5).
const ReasonClosedAtDesk = "account_closed_at_desk"

// closedAtDesk puts a desk closing's clerk and reason on its cancellation
// event; other events are left as they are.
func (o Origin) closedAtDesk(e Event) Event {
	if o.deskClosing == "" {
		return e
	}
	e.StaffID = o.deskClosing
	if o.takenAtDesk && e.Reason == "" {
		e.Reason = "taken"
	}
	if e.Reason == "" {
		e.Reason = ReasonClosedAtDesk
	} else {
		e.Reason = ReasonClosedAtDesk + ":" + e.Reason
	}
	return e
}

func (o Origin) stamp(e Event) Event {
	e.IP, e.DeviceID = o.IP, o.DeviceID
	return e
}
