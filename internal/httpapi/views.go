package httpapi

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"fairslot/internal/booking"
)

// The JSON shapes of ../shared/API.md. Times are RFC 3339 in the hospital's
// zone; names and ID numbers only ever appear masked.

type patientOut struct {
	PatientID string `json:"patient_id"`
	IDType    string `json:"id_type"`
	MaskedID  string `json:"masked_id"`
	Name      string `json:"name"`
	Phone     string `json:"phone,omitempty"`
	Self      bool   `json:"self"`
	// Verified is the listing account's own fact only: the row is its self
	// and the desk bound it (the person's verified self). A name the desk
	// verified for someone else would tell another account holding the
	// person that the number and name are real and that they came to the
	// hospital (docs/security.md, "What a patient row shows").
	Verified bool `json:"verified"`
	// Relationship to the account holder; BirthYear from the ID document,
	// absent when it carries none.
	Relationship string `json:"relationship"`
	BirthYear    int    `json:"birth_year,omitempty"`
	// OwnConsentDue: the person, listed as a child under 14 on a
	// guardian's consent, turns (or turned) 14 on this day and consents
	// for themselves from then (POST /v1/patients/{id}/privacy-consent, or
	// person_consent with a booking); absent once they have, and for
	// everyone else.
	OwnConsentDue string `json:"own_consent_due,omitempty"`
}

func patientView(p booking.Patient) patientOut {
	return patientOut{PatientID: p.ID, IDType: p.IDType, MaskedID: p.MaskedID, Name: p.MaskedName, Phone: p.PhoneMasked,
		Self: p.IsSelf, Verified: p.SelfVerified, Relationship: string(p.Relationship), BirthYear: p.BirthYear,
		OwnConsentDue: p.ConsentDue}
}

type policyView struct {
	PerDayDepartment int `json:"per_day_department"`
	PerDay           int `json:"per_day"`
	PerWeek          int `json:"per_week"`
	PerMonth         int `json:"per_month"`
	// BookAheadDays is the booking window (0: none but the release times).
	BookAheadDays int `json:"book_ahead_days"`
}

func policyOut(p booking.Policy) policyView {
	return policyView{PerDayDepartment: 1, PerDay: p.PerDay, PerWeek: p.PerWeek, PerMonth: p.PerMonth, BookAheadDays: p.BookAheadDays}
}

type hospitalOut struct {
	ID       string     `json:"hospital_id"`
	Name     string     `json:"name"`
	TimeZone string     `json:"time_zone"`
	Policy   policyView `json:"policy"`
}

type departmentOut struct {
	ID         string `json:"department_id"`
	HospitalID string `json:"hospital_id"`
	Name       string `json:"name"`
}

type channelOut struct {
	Channel   string `json:"channel"`
	Quota     int    `json:"quota"`
	Remaining int    `json:"remaining"`
	ReleaseAt string `json:"release_at"`
	Released  bool   `json:"released"`
	Mode      string `json:"release_mode"`
	// A lottery pool's window, and its draw's commitment (from when the
	// window opens) and seed (once drawn), hex.
	OpensAt        string `json:"opens_at,omitempty"`
	DrawAt         string `json:"draw_at,omitempty"`
	DrawStatus     string `json:"draw_status,omitempty"`
	SeedCommitment string `json:"seed_commitment,omitempty"`
	// CommitmentRecipe is how seed_commitment is made from the seed (1:
	// SHA-256(seed), pools committed before 0061; 2: bound to the pool).
	CommitmentRecipe int    `json:"commitment_recipe,omitempty"`
	Seed             string `json:"seed,omitempty"`
}

type sessionOut struct {
	ID             string       `json:"session_id"`
	HospitalID     string       `json:"hospital_id"`
	DepartmentID   string       `json:"department_id"`
	DepartmentName string       `json:"department_name"`
	DoctorID       string       `json:"doctor_id"`
	DoctorName     string       `json:"doctor_name"`
	DoctorTitle    string       `json:"doctor_title"`
	DoctorFee      string       `json:"doctor_fee_level,omitempty"`
	Date           string       `json:"date"`
	Period         string       `json:"period"`
	StartsAt       string       `json:"starts_at"`
	EndsAt         string       `json:"ends_at"`
	ReleaseMode    string       `json:"release_mode"`
	Channels       []channelOut `json:"channels"`
	// Status is open, or stopped (停诊) with when and why.
	Status     string `json:"status"`
	StoppedAt  string `json:"stopped_at,omitempty"`
	StopReason string `json:"stop_reason,omitempty"`
	// Room is where the clinic is held (诊室), DelayMinutes how late it
	// starts, as the hospital announced them (review19b M5); Version what
	// an announcement or an edit is made from.
	Room         string `json:"room,omitempty"`
	DelayMinutes int    `json:"delay_minutes,omitempty"`
	Version      int64  `json:"version"`
	// MovedFrom is, for a clinic moved to another time (改期), when it
	// started before.
	MovedFrom string `json:"moved_from,omitempty"`
}

func zoneOf(cat *booking.Catalog, hospitalID string) *time.Location {
	if h, ok := cat.Hospital(hospitalID); ok {
		return h.Location()
	}
	return time.UTC
}

// readerZone is the zone of a time that belongs to no one hospital (a
// token, a flag, a platform-wide audit row), told to a reader: the reader's
// hospital's, else the stand-in zone (China Standard Time), never UTC.
func readerZone(cat *booking.Catalog, hospitalID string) *time.Location {
	if h, ok := cat.Hospital(hospitalID); ok {
		return h.Location()
	}
	return booking.StandInLocation()
}

func sessionView(cat *booking.Catalog, v booking.SessionView, now time.Time) sessionOut {
	loc := zoneOf(cat, v.HospitalID)
	dept, _ := cat.Department(v.DepartmentID)
	doc, _ := cat.Doctor(v.DoctorID)
	out := sessionOut{
		ID: v.ID, HospitalID: v.HospitalID, DepartmentID: v.DepartmentID, DepartmentName: dept.Name,
		DoctorID: v.DoctorID, DoctorName: doc.Name, DoctorTitle: doc.Title, DoctorFee: string(doc.FeeLevel), Date: v.VisitDate, Period: v.Period,
		StartsAt: v.StartsAt.In(loc).Format(time.RFC3339), EndsAt: v.EndsAt.In(loc).Format(time.RFC3339),
		ReleaseMode: string(v.Mode), Channels: make([]channelOut, len(v.Channels)), Status: "open",
		Room: v.Room, DelayMinutes: v.DelayMinutes, Version: v.Version,
	}
	if !v.MovedFrom.IsZero() {
		out.MovedFrom = v.MovedFrom.In(loc).Format(time.RFC3339)
	}
	if v.Stopped() {
		out.Status, out.StoppedAt, out.StopReason = "stopped", v.StoppedAt.In(loc).Format(time.RFC3339), v.StopReason
	}
	for i, q := range v.Channels {
		c := channelOut{Channel: string(q.Channel), Quota: q.Quota, Remaining: v.Remaining[q.Channel],
			ReleaseAt: q.ReleaseAt.In(loc).Format(time.RFC3339), Released: q.Released(now), Mode: string(q.Mode)}
		if q.IsLottery() {
			c.OpensAt, c.DrawAt = q.OpensAt.In(loc).Format(time.RFC3339), q.DrawAt.In(loc).Format(time.RFC3339)
			c.DrawStatus = booking.DrawOpen
			if q.Draw != nil {
				c.DrawStatus, c.SeedCommitment, c.Seed = q.Draw.Status, hex.EncodeToString(q.Draw.Commitment), hex.EncodeToString(q.Draw.Seed)
				c.CommitmentRecipe = q.Draw.Recipe
			}
			if v.Stopped() && c.DrawStatus == booking.DrawOpen {
				c.DrawStatus = booking.DrawStopped // never drawn: as the public record says
			}
		}
		out.Channels[i] = c
	}
	return out
}

// EntryOut is a lottery entry as the API answers it.
type EntryOut struct {
	ID         string `json:"request_id"`
	SessionID  string `json:"session_id"`
	PatientID  string `json:"patient_id,omitempty"`
	Channel    string `json:"channel"`
	Status     string `json:"status"`
	DrawAt     string `json:"draw_at,omitempty"`
	Waitlist   bool   `json:"waitlist"`
	BookingID  string `json:"booking_id,omitempty"`
	WaitlistID string `json:"waitlist_id,omitempty"`
	Rank       int    `json:"rank,omitempty"`
	Reason     string `json:"reason,omitempty"`
	CreatedAt  string `json:"created_at,omitempty"`
	// SeedCommitment is the pool's seed commitment when the entry was
	// admitted: the entrant's receipt, to compare with the published draw.
	SeedCommitment string `json:"seed_commitment,omitempty"`
	// WaitlistStatus and WaitlistPosition are a waitlisted entry's place now:
	// waiting at waitlist_position (the line, not the draw's rank), or
	// served, its booking then booking_id.
	WaitlistStatus   string `json:"waitlist_status,omitempty"`
	WaitlistPosition int    `json:"waitlist_position,omitempty"`
}

func entryView(e booking.Entry, loc *time.Location) EntryOut {
	out := EntryOut{ID: e.ID, SessionID: e.SessionID, PatientID: e.PatientID, Channel: string(e.Channel), Status: e.Status,
		Waitlist: e.Waitlist, BookingID: e.BookingID(), WaitlistID: e.WaitlistID(), Rank: e.Rank, Reason: e.Reason}
	if strings.HasPrefix(e.Reason, "flag:") {
		out.Reason = "review" // the entrant's view names no flag (review21 L5)
	}
	if len(e.Commitment) > 0 {
		out.SeedCommitment = hex.EncodeToString(e.Commitment)
	}
	out.WaitlistStatus, out.WaitlistPosition = e.WaitlistStatus, e.WaitlistPosition
	if e.WaitlistStatus == booking.WaitlistServed {
		out.BookingID = e.WaitlistID() // the place became a booking under its id
	}
	if !e.DrawAt.IsZero() {
		out.DrawAt = e.DrawAt.In(loc).Format(time.RFC3339)
	}
	if !e.CreatedAt.IsZero() {
		out.CreatedAt = e.CreatedAt.In(loc).Format(time.RFC3339Nano)
	}
	return out
}

// DrawOut is a lottery pool's published draw: the file an auditor keeps
// (`fairslot lottery entries`) and `fairslot lottery verify` reads.
type DrawOut struct {
	SessionID string `json:"session_id"`
	Channel   string `json:"channel"`
	OpensAt   string `json:"opens_at"`
	DrawAt    string `json:"draw_at"`
	// PublishedAt is when the pool's rules (mode, release, window) became
	// public; opens_at − published_at is the notice the public had.
	// Absent for pools published before it was kept.
	PublishedAt    string `json:"published_at,omitempty"`
	Status         string `json:"status"`
	SeedCommitment string `json:"seed_commitment,omitempty"`
	// CommitmentRecipe is how seed_commitment is made from the seed
	// (booking.CommitV*; docs/design.md "Verifiable by anyone").
	CommitmentRecipe int    `json:"commitment_recipe,omitempty"`
	Seed             string `json:"seed,omitempty"`
	EntriesDigest    string `json:"entries_digest,omitempty"`
	Slots            int    `json:"slots"`
	Entered          int    `json:"entered"`
	Eligible         int    `json:"eligible"`
	HeldOut          int    `json:"held_out"`
	Excluded         int    `json:"excluded"`
	Winners          int    `json:"winners"`
	// Unverified is how many eligible entries were of persons whose name
	// nobody had verified when the draw ranked them; absent before.
	Unverified *int   `json:"unverified,omitempty"`
	DrawnAt    string `json:"drawn_at,omitempty"`
	// StoppedAt is when the clinic was stopped (停诊); before its draw the
	// status reads stopped: no draw is made, nor needed.
	StoppedAt string         `json:"stopped_at,omitempty"`
	Entries   []DrawEntryOut `json:"entries"`
	// EntriesNext is, on a public page (GET /v1/lottery/sessions/{id}),
	// the after of the pool's next page; absent on its last.
	EntriesNext string `json:"entries_next,omitempty"`
}

// DrawEntryOut is an entry as a draw publishes it; staff see who it is.
type DrawEntryOut struct {
	ID         string `json:"request_id"`
	Status     string `json:"status"`
	Rank       int    `json:"rank,omitempty"`
	Reason     string `json:"reason,omitempty"`
	FlagID     string `json:"flag_id,omitempty"`
	AccountID  string `json:"account_id,omitempty"`
	PatientID  string `json:"patient_id,omitempty"`
	BookedBy   string `json:"booked_by,omitempty"`
	MaskedID   string `json:"masked_id,omitempty"`
	MaskedName string `json:"name,omitempty"`
}

// DrawView is d as the API answers it.
func DrawView(d booking.PublishedDraw, loc *time.Location) DrawOut {
	out := DrawOut{SessionID: d.SessionID, Channel: string(d.Channel), OpensAt: d.OpensAt.In(loc).Format(time.RFC3339),
		DrawAt: d.DrawAt.In(loc).Format(time.RFC3339), Status: d.Status, SeedCommitment: hex.EncodeToString(d.Commitment),
		CommitmentRecipe: d.Recipe, Seed: hex.EncodeToString(d.Seed), EntriesDigest: hex.EncodeToString(d.Digest), Slots: d.Slots, Entered: d.Entered,
		Eligible: d.Eligible, HeldOut: d.HeldOut, Excluded: d.Excluded, Winners: d.Winners, Unverified: d.Unverified, Entries: make([]DrawEntryOut, len(d.Entries))}
	if !d.DrawnAt.IsZero() {
		out.DrawnAt = d.DrawnAt.In(loc).Format(time.RFC3339Nano)
	}
	if !d.StoppedAt.IsZero() {
		out.StoppedAt = d.StoppedAt.In(loc).Format(time.RFC3339)
	}
	if !d.PublishedAt.IsZero() {
		out.PublishedAt = d.PublishedAt.In(loc).Format(time.RFC3339)
	}
	for i, e := range d.Entries {
		out.Entries[i] = DrawEntryOut{ID: e.ID, Status: e.Status, Rank: e.Rank, Reason: e.Reason, FlagID: e.FlagID,
			AccountID: e.AccountID, PatientID: e.PatientID, BookedBy: e.BookedBy, MaskedID: e.NumberMasked, MaskedName: e.NameMasked}
	}
	return out
}

// ParseDraw reads a published draw back (the inverse of DrawView, for
// `fairslot lottery verify --entries`).
func ParseDraw(d DrawOut) (booking.PublishedDraw, error) {
	out := booking.PublishedDraw{SessionID: d.SessionID, Channel: booking.Channel(d.Channel), Entries: make([]booking.Entry, len(d.Entries))}
	var errs []error
	decode := func(name, s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		if len(b) == 0 {
			return nil
		}
		return b
	}
	out.Status, out.Commitment, out.Seed, out.Digest = d.Status, decode("seed_commitment", d.SeedCommitment), decode("seed", d.Seed), decode("entries_digest", d.EntriesDigest)
	out.Recipe = d.CommitmentRecipe
	out.Slots, out.Entered, out.Eligible, out.HeldOut, out.Excluded, out.Winners = d.Slots, d.Entered, d.Eligible, d.HeldOut, d.Excluded, d.Winners
	if d.StoppedAt != "" {
		at, err := time.Parse(time.RFC3339, d.StoppedAt)
		if err != nil {
			errs = append(errs, fmt.Errorf("stopped_at: %w", err))
		}
		out.StoppedAt = at
	}
	if d.PublishedAt != "" {
		at, err := time.Parse(time.RFC3339, d.PublishedAt)
		if err != nil {
			errs = append(errs, fmt.Errorf("published_at: %w", err))
		}
		out.PublishedAt = at
	}
	for i, e := range d.Entries {
		out.Entries[i] = booking.Entry{ID: e.ID, SessionID: d.SessionID, Channel: out.Channel, Status: e.Status, Rank: e.Rank, Reason: e.Reason}
	}
	return out, errors.Join(errs...)
}

// BookingOut is a booking as the API answers it.
type BookingOut struct {
	ID           string `json:"booking_id"`
	SessionID    string `json:"session_id"`
	PatientID    string `json:"patient_id,omitempty"` // empty for a phone or desk booking of someone on no list
	HospitalID   string `json:"hospital_id"`
	DepartmentID string `json:"department_id"`
	DoctorID     string `json:"doctor_id"`
	VisitDate    string `json:"visit_date"`
	SlotNo       int    `json:"slot_no"`
	SlotStart    string `json:"slot_start"`
	SlotEnd      string `json:"slot_end"`
	Channel      string `json:"channel"`
	Status       string `json:"status"`
	CreatedAt    string `json:"created_at"`
	CancelledAt  string `json:"cancelled_at,omitempty"`
	CheckedInAt  string `json:"checked_in_at,omitempty"`
	LateCancel   bool   `json:"late_cancel,omitempty"`
	// FreeCancelUntil is, for a confirmed booking, until when cancelling it
	// is free of a no-show (booking.Hospital.FreeCancelUntil: the deadline,
	// or for a booking the service allotted 2 hours after it was made when
	// later): what the consoles and the notices say.
	FreeCancelUntil string `json:"free_cancel_until,omitempty"`
	// Offer is set on a slot a substitute doctor (替诊) holds for the
	// patient: confirmed in SQL, but theirs only once accepted.
	Offer *offerState `json:"offer,omitempty"`
	// StopReason is set on a booking a stopped clinic (停诊) cancelled.
	StopReason string `json:"stop_reason,omitempty"`
}

func (s *Server) bookingView(b booking.Booking) BookingOut {
	cat := s.svc.Catalog()
	loc := zoneOf(cat, b.HospitalID)
	out := BookingView(b, loc)
	out.FreeCancelUntil = freeCancelUntil(cat, b, loc, s.svc.Now())
	return out
}

// freeCancelUntil is when cancelling b starts to count as a no-show, in
// the hospital's zone; empty unless b is confirmed (a cancelled, checked-in
// or missed booking has nothing left to cancel) or its hospital is gone
// from the catalog.
func freeCancelUntil(cat *booking.Catalog, b booking.Booking, loc *time.Location, now time.Time) string {
	free, ok := cat.FreeCancelUntil(b, now) // moved by the hospital (改期): free until it starts
	if !ok || b.Status != booking.StatusConfirmed {
		return ""
	}
	return free.In(loc).Format(time.RFC3339)
}

// bookingViews are bs as a list or a lookup answers them: with the state of
// the substitute's offer of a held slot and the reason of a stopped clinic.
func (s *Server) bookingViews(ctx context.Context, bs []booking.Booking) ([]BookingOut, error) {
	offers, err := s.svc.OffersOf(ctx, bs)
	if err != nil {
		return nil, err
	}
	cat, now := s.svc.Catalog(), s.svc.Now()
	out := make([]BookingOut, len(bs))
	for i, b := range bs {
		loc := zoneOf(cat, b.HospitalID)
		out[i] = BookingView(b, loc)
		out[i].FreeCancelUntil = freeCancelUntil(cat, b, loc, now)
		if off, ok := offers[b.ID]; ok {
			out[i].Offer = offerStateOf(off, loc, now)
			out[i].Offer.BookingID = ""
			if out[i].Offer.Status == booking.OfferOpen {
				out[i].FreeCancelUntil = "" // declining the open offer is never late: offer.hold_until
			}
		}
		if sess, ok := cat.Session(b.SessionID); ok && b.Status == booking.StatusCancelled && sess.Stopped() && !b.CancelledAt.Before(sess.StoppedAt) {
			out[i].StopReason = sess.StopReason
		}
	}
	return out, nil
}

// BookingView is b as the API answers it, its times in the hospital's zone.
func BookingView(b booking.Booking, loc *time.Location) BookingOut {
	out := BookingOut{
		ID: b.ID, SessionID: b.SessionID, PatientID: b.PatientID, HospitalID: b.HospitalID,
		DepartmentID: b.DepartmentID, DoctorID: b.DoctorID, VisitDate: b.VisitDate, SlotNo: b.SlotNo,
		SlotStart: b.SlotStart.In(loc).Format(time.RFC3339), SlotEnd: b.SlotEnd.In(loc).Format(time.RFC3339),
		Channel: string(b.Channel), Status: string(b.Status), CreatedAt: b.CreatedAt.In(loc).Format(time.RFC3339Nano),
	}
	if !b.CancelledAt.IsZero() {
		out.CancelledAt = b.CancelledAt.In(loc).Format(time.RFC3339Nano)
	}
	if !b.CheckedInAt.IsZero() {
		out.CheckedInAt = b.CheckedInAt.In(loc).Format(time.RFC3339)
	}
	out.LateCancel = b.LateCancel
	return out
}

type waitlistOut struct {
	ID        string `json:"waitlist_id"`
	SessionID string `json:"session_id"`
	PatientID string `json:"patient_id"`
	Status    string `json:"status"`
	Position  int    `json:"position,omitempty"`
	CreatedAt string `json:"created_at"`
	// While the entry's round is open (position then absent): when it
	// ends, how many wait ahead in earlier rounds, how many joined it so far.
	RoundEndsAt string `json:"round_ends_at,omitempty"`
	Ahead       *int   `json:"ahead,omitempty"`
	InRound     *int   `json:"in_round,omitempty"`
}

// waitlistView is e as the API answers it, its time in the hospital's
// zone as every other answer's.
func (s *Server) waitlistView(e booking.WaitlistEntry) waitlistOut {
	loc := zoneOf(s.svc.Catalog(), e.HospitalID)
	out := waitlistOut{ID: e.ID, SessionID: e.SessionID, PatientID: e.PatientID, Status: e.Status,
		Position: e.Position, CreatedAt: e.CreatedAt.In(loc).Format(time.RFC3339)}
	if e.Status == booking.WaitlistWaiting && e.Position == 0 && !e.RoundEndsAt.IsZero() {
		out.RoundEndsAt = e.RoundEndsAt.In(loc).Format(time.RFC3339)
		out.Ahead, out.InRound = &e.Ahead, &e.InRound
	}
	return out
}

type lookupOut struct {
	IDType   string       `json:"id_type"`
	MaskedID string       `json:"masked_id"`
	Name     string       `json:"name"`
	Bookings []BookingOut `json:"bookings"`
	// FormerName: the caller gave a former name of the person (曾用名);
	// Name is the one on record now.
	FormerName bool `json:"former_name,omitempty"`
}
