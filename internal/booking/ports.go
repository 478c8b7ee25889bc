package booking

import (
	"context"
	"time"
)

// Reservation asks Admission for one slot of a session's channel pool for one
// identity, under the hospital's policy.
type Reservation struct {
	BookingID string
	// Nonce is fresh for every HTTP request. A second Reserve with the same
	// BookingID and Nonce is a client-library retry of this very call and
	// gets the same slot; with another Nonce it is a replayed request.
	Nonce        string
	HospitalID   string
	SessionID    string
	Channel      Channel
	IdentityKey  string
	VisitDate    string // YYYY-MM-DD
	DepartmentID string
	Week         string // ISO week of VisitDate, e.g. 2026-W48
	Month        string // e.g. 2026-11
	Today        string // the hospital's current civil date: older holds no longer count
	Policy       Policy
	// HoldFor is how long the hold stays "pending" before the sweeper may
	// release it if SQL has no booking for it.
	HoldFor time.Duration
	// KeepUntil is when the record of this booking id may be forgotten.
	KeepUntil time.Time
}

// Hold is a slot that Admission has handed to a booking id.
type Hold struct {
	HospitalID  string
	SessionID   string
	BookingID   string
	SlotNo      int
	Channel     Channel
	IdentityKey string
}

// HoldOf returns the hold a booking has in Admission.
func HoldOf(b Booking) Hold {
	return Hold{HospitalID: b.HospitalID, SessionID: b.SessionID, BookingID: b.ID,
		SlotNo: b.SlotNo, Channel: b.Channel, IdentityKey: b.IdentityKey}
}

// StaleHold is a hold SQL has no active booking for.
type StaleHold struct {
	Hold
	Forget bool // SQL has no row at all: forget the booking id so a retry runs again
}

// Release says how a hold is given back.
type Release struct {
	ReturnSlot bool // put the slot back in its free pool (false when SQL says it is taken)
	Forget     bool // forget the booking id, so a retry of a failed request runs again
	// OnlyIfExpired skips a hold whose pending deadline has not passed: the
	// sweeper and reconciliation must never free a slot whose commit may
	// still be in flight.
	OnlyIfExpired bool
}

// Admission is the atomic gate in front of SQL: it decides in one round trip
// whether a booking attempt may proceed and, if so, which slot it gets.
// Losers stop here and never reach SQL.
type Admission interface {
	// Reserve checks release time, bar, quotas and a free slot, in that order
	// and before writing anything, then takes the slot. replay is true when
	// the booking id was already admitted by an earlier request.
	Reserve(ctx context.Context, r Reservation) (slotNo int, replay bool, err error)
	// Confirm marks a hold durable once its SQL row is committed.
	Confirm(ctx context.Context, hospitalID, bookingID string) error
	// Release gives a hold back.
	Release(ctx context.Context, h Hold, how Release) error
	// Holds lists the holds of the given sessions.
	Holds(ctx context.Context, hospitalID string, sessionIDs []string) ([]Hold, error)
	// Load makes a session's state match SQL: active are its SQL-active
	// bookings, stale are holds that SQL does not know (released unless
	// their commit may still be in flight).
	Load(ctx context.Context, s *Session, active []Booking, stale []StaleHold) error
	// Expired lists holds whose pending deadline passed before now.
	Expired(ctx context.Context, hospitalID string, now time.Time, limit int) ([]Hold, error)
	// Remaining counts the free slots of each session, per channel.
	Remaining(ctx context.Context, sessions []*Session) ([]map[Channel]int, error)
	Ping(ctx context.Context) error
}

// Schedule is a set of hospitals and their clinic sessions, as stored.
type Schedule struct {
	Hospitals   []Hospital
	Departments []Department
	Doctors     []Doctor
	Sessions    []Session
}

// NewPatient is a patient to add, with the identity already validated,
// hashed and sealed.
type NewPatient struct {
	ID          string
	AccountID   string
	Identity    Identity // ID is used when the identity is new
	IsSelf      bool
	PhoneHash   []byte
	PhoneSealed []byte
	PhoneMasked string
}

// AccountLimits are the platform's rules on accounts and their patients.
type AccountLimits struct {
	MaxPatients        int // patients per account
	MaxAccountsOnPhone int // accounts whose patients share one phone number
}

// AuditEntry is one staff action.
type AuditEntry struct {
	ID        string
	TS        time.Time
	ActorID   string
	ActorRole Role
	Action    string
	Target    string
	Reason    string
}

// Store is the system of record (CockroachDB, or PostgreSQL on one machine).
// Unique constraints in it are the final guard against double booking.
type Store interface {
	Ping(ctx context.Context) error

	LoadSchedule(ctx context.Context, fromDate string) (Schedule, error)
	SaveSchedule(ctx context.Context, s Schedule) error

	CreateAccount(ctx context.Context, a Account, ev Event) error
	AccountByPhone(ctx context.Context, phoneHash []byte) (Account, error)
	RecordEvent(ctx context.Context, ev Event) error
	RecordAudit(ctx context.Context, a AuditEntry) error

	AddPatient(ctx context.Context, p NewPatient, limits AccountLimits, ev Event) (Patient, error)
	Patient(ctx context.Context, id string) (Patient, error)
	Patients(ctx context.Context, accountID string) ([]Patient, error)

	// InsertBooking commits a booking and its event. It returns ErrSlotTaken,
	// ErrAlreadyBooked or ErrQuotaDayDept when a unique constraint refuses,
	// and ErrOutcomeUnknown when the commit may or may not have happened.
	InsertBooking(ctx context.Context, b Booking, ev Event) error
	Booking(ctx context.Context, id string) (Booking, error)
	Bookings(ctx context.Context, accountID string) ([]Booking, error)
	// CancelBooking moves a confirmed booking to cancelled, or returns
	// ErrBookingNotActive.
	CancelBooking(ctx context.Context, id string, ev Event) (Booking, error)
	ActiveBookings(ctx context.Context, hospitalID, fromDate string) ([]Booking, error)
	BookingStatuses(ctx context.Context, ids []string) (map[string]Status, error)
}
