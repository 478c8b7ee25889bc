// Package detect finds scalpers in the booking-event stream. It owns the
// signals (persons per account, device, phone and IP; persons shared by
// accounts; cancel-then-rebook hand-offs; sub-human reaction times after
// release; cancellation bursts; no-show rates; booking volume; concentration
// on scarce sessions; desk staff favouring the same persons), the linking of
// accounts, persons, devices, phones and IPs into groups, the score of each
// group and the flags with their reasons.
//
// Detect is a pure function of the events and the Config: the service runs it
// over its event table and `fairslot detect` over a file, and both get the
// same flags. docs/detection.md explains the signals and their defaults.
package detect

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"fairslot/internal/booking"
)

// StatusOpen is the status of a flag nobody has decided on; the detector
// only makes open flags.
const StatusOpen = "open"

// Reason is one piece of a flag's evidence, with its numbers.
type Reason struct {
	Signal string `json:"signal"`
	Detail string `json:"detail"`
}

// Flag is a group of accounts and persons that looks like scalping, in the
// shape of GET /v1/admin/flags. FlagID is derived from the accounts (or, with
// none, the persons), so every run over the same events names it the same.
// AccountIDs holds staff ids too when a clerk is part of the group.
type Flag struct {
	FlagID     string    `json:"flag_id"`
	Score      float64   `json:"score"`
	Status     string    `json:"status"`
	Reasons    []Reason  `json:"reasons"`
	AccountIDs []string  `json:"account_ids"`
	PatientIDs []string  `json:"patient_ids"`
	CreatedAt  time.Time `json:"created_at"`
}

// event is an input event with its person resolved: the identity when the
// stream names one (on this event or on another with the same patient id),
// the patient id otherwise.
type event struct {
	booking.Event
	person string
}

// selfService tells an account's own request from a staff member's action
// and from the system's (waitlist promotion, no-show sweeper).
func (e *event) selfService() bool {
	return e.AccountID != "" && e.StaffID == "" && !e.fromWaitlist()
}

// fromWaitlist is a booking the waitlist or a lottery draw handed over, not
// one the account raced for (a draw's booking and waitlist place come from
// the service at draw time, with no request of the account behind them).
func (e *event) fromWaitlist() bool { return e.Reason == reasonWaitlist || e.Reason == reasonLottery }

// Reasons the service writes on events that the detector reads.
const (
	reasonWaitlist     = "waitlist"      // booked: promoted from the waitlist
	reasonLate         = "late"          // cancelled after the deadline: counts as a no-show
	reasonLeftWaitlist = "left_waitlist" // cancelled: a waitlist entry, not a booking
	reasonLottery      = "lottery"       // booked or waitlisted by a lottery draw
)

// Detect runs every signal over events, links what they share into groups
// and returns the groups whose score reaches cfg.Threshold, highest score
// first. The input is not modified and may be in any order.
func Detect(events []booking.Event, cfg Config) []Flag {
	d := newDetector(events, cfg)
	d.index()
	d.accountSignals()
	d.attributeSignals()
	d.findHandoffs()
	d.insiders()
	d.link()
	return d.flags()
}

// normalize resolves persons and sorts by time; ties are broken on every
// field so that a shuffled input sorts to the same sequence.
func normalize(in []booking.Event) []event {
	identityOf := map[string]string{}
	for i := range in {
		if e := &in[i]; e.PatientID != "" && e.IdentityID != "" {
			identityOf[e.PatientID] = e.IdentityID
		}
	}
	evs := make([]event, len(in))
	for i, e := range in {
		p := e.IdentityID
		if p == "" {
			p = identityOf[e.PatientID]
		}
		if p == "" {
			p = e.PatientID
		}
		evs[i] = event{Event: e, person: p}
	}
	slices.SortFunc(evs, compareEvents)
	return evs
}

func compareEvents(a, b event) int {
	if c := a.TS.Compare(b.TS); c != 0 {
		return c
	}
	return cmp.Or(
		cmp.Compare(a.Type, b.Type),
		cmp.Compare(a.AccountID, b.AccountID),
		cmp.Compare(a.person, b.person),
		cmp.Compare(a.SessionID, b.SessionID),
		cmp.Compare(a.BookingID, b.BookingID),
		cmp.Compare(a.StaffID, b.StaffID),
		cmp.Compare(a.PatientID, b.PatientID),
		cmp.Compare(a.IP, b.IP),
		cmp.Compare(a.DeviceID, b.DeviceID),
		cmp.Compare(a.Phone, b.Phone),
		cmp.Compare(a.Reason, b.Reason),
		cmp.Compare(a.Channel, b.Channel),
		a.ReleaseAt.Compare(b.ReleaseAt),
	)
}

// flagID names a group by its members.
func flagID(accounts, persons []string) string {
	members := accounts
	if len(members) == 0 {
		members = persons
	}
	h := sha256.Sum256([]byte(strings.Join(members, "\n")))
	return "flg_" + hex.EncodeToString(h[:10])
}
