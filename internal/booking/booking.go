// Package booking is fairslot's domain: hospitals, clinic sessions and their
// slots, accounts, real-name patients, bookings, the policy that governs them,
// and the Service that runs the booking protocol admit → commit → confirm.
//
// It imports no adapter. It states what it needs from the outside as the small
// interfaces Admission (the atomic gate, Redis) and Store (the system of
// record, SQL), which the admission and cockroach packages implement.
package booking

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Role is what an account may do.
type Role string

// The roles. Staff accounts are made with the CLI, never over the API.
const (
	RolePatient  Role = "patient"
	RoleOperator Role = "operator" // call-centre operator booking for callers
	RoleClerk    Role = "clerk"    // registration desk
	RoleAdmin    Role = "admin"
	// RoleReferrer is a community doctor or carer the hospital registers:
	// they book the referral channel for the people in their care (the
	// residents of a nursing home), instead of holding them all as patients
	// of one account.
	RoleReferrer Role = "referrer"
)

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RolePatient, RoleOperator, RoleClerk, RoleAdmin, RoleReferrer:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (want patient, operator, clerk, referrer or admin)", s)
}

// Channel is the route through which a booking is made. Each session splits
// its slots into one pool per channel, each with its own release time.
type Channel string

// The channels.
const (
	ChannelOnline   Channel = "online"
	ChannelPhone    Channel = "phone"
	ChannelOnsite   Channel = "onsite"
	ChannelReferral Channel = "referral"
)

// Channels lists every channel in a fixed order.
var Channels = [...]Channel{ChannelOnline, ChannelPhone, ChannelOnsite, ChannelReferral}

// ParseChannel validates a channel name.
func ParseChannel(s string) (Channel, error) {
	for _, c := range Channels {
		if string(c) == s {
			return c, nil
		}
	}
	return "", Errorf(ErrInvalidChannel, "channel %q is not one of online, phone, onsite, referral", s)
}

// ReleaseMode says how a session's slots are given out at release.
type ReleaseMode string

// The release modes.
const (
	FirstCome ReleaseMode = "first_come"
	Lottery   ReleaseMode = "lottery"
)

// Status is a booking's state.
type Status string

// The booking states. Confirmed and checked-in bookings are "active": they
// hold their slot and count against the patient's quotas.
const (
	StatusConfirmed Status = "confirmed"
	StatusCancelled Status = "cancelled"
	StatusCheckedIn Status = "checked_in"
	StatusNoShow    Status = "no_show"
)

// Active reports whether a booking in this state holds its slot.
func (s Status) Active() bool { return s == StatusConfirmed || s == StatusCheckedIn }

// Policy holds a hospital's rules for booking. One booking per patient per
// visit day per department is not configurable: SQL enforces it with a
// unique index, the last guard against a double booking, so a policy cannot
// raise it (docs/design.md, "Policy per hospital").
type Policy struct {
	PerDay   int // bookings per patient per visit day
	PerWeek  int // active bookings per patient per ISO week of the visit date
	PerMonth int // active bookings per patient per calendar month of the visit date
	// BookAheadDays is the booking window: a session may be booked (or
	// waitlisted, or entered into its draw) at most this many days before
	// its visit date, counted in the hospital's calendar; 0: no window but
	// the pools' release times.
	BookAheadDays int
	// OnsiteShare is the share of each session's slots, in percent, kept
	// for the on-site channel (the desk's walk-ins): a session published
	// while it is in effect gives its on-site pool at least
	// ceil(slots × share / 100) slots, by default when its quotas leave
	// the on-site pool out, else refused (onsite_share_short).
	OnsiteShare int
	// NoShows bar an identity after no-shows at this hospital; none
	// (no steps): the service's rules (--no-show flags; 3 in 12 months bar
	// 90 days, 6 bar 180).
	NoShows NoShowRules
	// ExtraSlotsMax bounds the extra slots (加号) the desk adds to one
	// session, all its requests together; 0: DefaultExtraSlotsMax.
	ExtraSlotsMax int
	// ReleaseNoticeHours is the least notice, in hours from the moment of
	// the change, of a published pool's release time moved earlier (or of
	// a pool added to a published session): patients set alarms for the
	// announced time, and a release moved to "in a minute" hands the pool
	// to whoever polls (review19b H2); 0: DefaultReleaseNoticeHours.
	ReleaseNoticeHours int
	// StopUndoMinutes is how long after a stop (停诊) an administrator may
	// restore the clinic, giving its patients their bookings back
	// (RestoreSession, review19b H1); 0: DefaultStopUndoMinutes.
	StopUndoMinutes int
}

// DefaultStopUndoMinutes is the window to restore a stopped clinic unless
// the hospital's policy says otherwise: long enough to notice a mis-click
// and confirm with the doctor, short enough that the cancelled patients
// have not yet made other plans for the slot (they were told at once).
const DefaultStopUndoMinutes = 30

// MaxStopUndoMinutes bounds a policy's window to restore a stop: a day.
const MaxStopUndoMinutes = 24 * 60

// StopUndo is the window after a stop in which it may be restored.
func (p Policy) StopUndo() time.Duration {
	m := p.StopUndoMinutes
	if m <= 0 {
		m = DefaultStopUndoMinutes
	}
	return time.Duration(m) * time.Minute
}

// DefaultReleaseNoticeHours is the notice of a release moved earlier
// unless the hospital's policy says otherwise: a day, so the change can be
// announced (the public listing shows the new time at once) before it
// takes effect, and nobody who learns of it privately is ahead by more
// than a refresh of the listing a day early.
const DefaultReleaseNoticeHours = 24

// MaxReleaseNoticeHours bounds a policy's notice: 30 days.
const MaxReleaseNoticeHours = 30 * 24

// ReleaseNotice is the least notice of a release moved earlier under p.
func (p Policy) ReleaseNotice() time.Duration {
	h := p.ReleaseNoticeHours
	if h <= 0 {
		h = DefaultReleaseNoticeHours
	}
	return time.Duration(h) * time.Hour
}

// DefaultExtraSlotsMax is how many extra slots one session takes unless its
// hospital's policy says otherwise: one request's most (a clerk's 1 to 20),
// once. review9 added 160 onto a 24-slot clinic in eight requests; a
// doctor who agrees to see more than 20 more patients in one clinic is a
// decision the hospital writes into its policy, not a clerk's repeat.
const DefaultExtraSlotsMax = 20

// ExtraSlotsLimit is the most extra slots one session takes under p.
func (p Policy) ExtraSlotsLimit() int {
	if p.ExtraSlotsMax > 0 {
		return p.ExtraSlotsMax
	}
	return DefaultExtraSlotsMax
}

// DefaultPolicy is modelled on the Beijing unified appointment platform.
var DefaultPolicy = Policy{PerDay: 2, PerWeek: 8, PerMonth: 12}

// Hospital is one tenant. Its keys in Redis share one hash tag.
type Hospital struct {
	ID       string
	Name     string
	TimeZone string
	Policy   Policy
	// CancelDeadline is the local time ("15:00") on the day before the visit
	// after which a cancellation is late and counts as a no-show.
	CancelDeadline string
	// Changes are the administrator's policy changes, by effective time:
	// Policy and CancelDeadline above hold until the first takes effect.
	Changes []PolicyChange
	loc     *time.Location
}

// PolicyChange is a hospital's policy as its administrator set it, for
// bookings and cancellations from EffectiveFrom on. Changes are kept: the
// list is the policy's history.
type PolicyChange struct {
	ID             string
	HospitalID     string
	EffectiveFrom  time.Time
	Policy         Policy
	CancelDeadline string
	Reason         string
	SetBy          string
	SetAt          time.Time
	// Weakens names the guards the change weakened (review25 M2), when
	// it was made: it took effect the notice then in effect after SetAt
	// at the earliest. Not stored: the audit entry says it.
	Weakens []string
}

// PolicyAt is the hospital's policy and cancellation deadline in effect
// at t: the latest change effective by then, else the hospital's own.
func (h *Hospital) PolicyAt(t time.Time) (Policy, string) {
	p, d := h.Policy, h.CancelDeadline
	for _, c := range h.Changes { // ordered by EffectiveFrom
		if c.EffectiveFrom.After(t) {
			break
		}
		p, d = c.Policy, c.CancelDeadline
	}
	return p, d
}

// LateAfter is the moment after which cancelling a visit on visitDate is
// late.
func (h *Hospital) LateAfter(visitDate string) time.Time {
	return h.lateAfter(visitDate, h.CancelDeadline)
}

// LateAfterAt is LateAfter under the deadline in effect at now.
func (h *Hospital) LateAfterAt(visitDate string, now time.Time) time.Time {
	_, deadline := h.PolicyAt(now)
	return h.lateAfter(visitDate, deadline)
}

// CancelLateAfter is the moment after which cancelling a visit on
// visitDate, from now on, is late — what a console promises: Cancel judges
// a cancellation at t by the deadline in effect at t (LateAfterAt), so a
// policy change that takes effect before the deadline moves it, and one
// that takes effect after its own deadline has passed makes cancelling late
// from that change on. In the past when it is late already.
func (h *Hospital) CancelLateAfter(visitDate string, now time.Time) time.Time {
	_, deadline := h.PolicyAt(now)
	start := now
	for _, c := range h.Changes { // ordered by EffectiveFrom
		if !c.EffectiveFrom.After(now) {
			continue // in effect already: PolicyAt's
		}
		if late := h.lateAfter(visitDate, deadline); late.Before(c.EffectiveFrom) {
			return lateFrom(late, start, now)
		}
		start, deadline = c.EffectiveFrom, c.CancelDeadline
	}
	return lateFrom(h.lateAfter(visitDate, deadline), start, now)
}

// AllottedGrace is how long after it was made a booking the service
// allotted (Booking.Allotted: a lottery draw's win, a waitlist place's
// promotion) may be cancelled free of a no-show strike, however late it was
// made. The patient did not choose its moment: a draw or a promotion after
// the hospital's deadline (a same-day clinic's draw, a slot returned the
// evening before) would otherwise leave them no free cancellation at all.
// Two hours is time to read the notice and decide, and a slot cancelled
// within them still goes to the next in line well before the session.
const AllottedGrace = 2 * time.Hour

// FreeCancelUntil is when cancelling b, from now on, starts to count as a
// no-show: the hospital's deadline (CancelLateAfter), or for a booking the
// service allotted, AllottedGrace after it was made when that is later.
// What the consoles and the booked notice promise, and what Cancel judges.
func (h *Hospital) FreeCancelUntil(b Booking, now time.Time) time.Time {
	late := h.CancelLateAfter(b.VisitDate, now)
	if g := b.allottedGraceEnds(); g.After(late) {
		return g
	}
	return late
}

// lateToCancel reports whether a patient's (operator's, referrer's)
// cancellation of b at now is late: after the deadline in effect at now,
// and for an allotted booking also past its grace.
func (h *Hospital) lateToCancel(b Booking, now time.Time) bool {
	return now.After(h.LateAfterAt(b.VisitDate, now)) && now.After(b.allottedGraceEnds())
}

// allottedGraceEnds is the end of an allotted booking's grace; zero for a
// booking the person (or staff for them) chose.
func (b Booking) allottedGraceEnds() time.Time {
	if !b.Allotted {
		return time.Time{}
	}
	return b.CreatedAt.Add(AllottedGrace)
}

// lateFrom is when cancelling becomes late under a deadline late that
// holds from start: late itself, or start when a change brought in a
// deadline already past (now's deadline is never moved).
func lateFrom(late, start, now time.Time) time.Time {
	if late.Before(start) && start.After(now) {
		return start
	}
	return late
}

func (h *Hospital) lateAfter(visitDate, deadline string) time.Time {
	loc := h.Location()
	d, err := time.ParseInLocation(time.DateOnly, visitDate, loc)
	if err != nil {
		return time.Time{}
	}
	clock, err := time.Parse("15:04", deadline)
	if err != nil {
		clock, _ = time.Parse("15:04", "15:00")
	}
	return d.AddDate(0, 0, -1).Add(time.Duration(clock.Hour())*time.Hour + time.Duration(clock.Minute())*time.Minute)
}

// chinaStandardTime stands in when a zone name cannot be loaded.
var chinaStandardTime = time.FixedZone("CST", 8*3600)

// StandInLocation is the zone of a time that belongs to no hospital (a
// platform-wide audit row read by a platform-wide administrator): the zone
// that stands in for a hospital's that cannot be loaded, China Standard
// Time.
func StandInLocation() *time.Location { return chinaStandardTime }

// Location is the hospital's time zone; visit dates are civil dates there.
func (h *Hospital) Location() *time.Location {
	if h.loc != nil {
		return h.loc
	}
	if loc, err := time.LoadLocation(h.TimeZone); err == nil {
		return loc
	}
	return chinaStandardTime
}

// Department is a clinical department of a hospital.
type Department struct {
	ID         string
	HospitalID string
	Name       string
	// RetiredAt, when set, is when the hospital closed the department: it
	// keeps its row (old sessions name it) but takes no new doctor.
	RetiredAt time.Time
}

// Retired says whether the hospital closed the department.
func (d Department) Retired() bool { return !d.RetiredAt.IsZero() }

// Doctor sees patients in clinic sessions.
type Doctor struct {
	ID           string
	HospitalID   string
	DepartmentID string
	Name         string
	Title        string   // 职称 as the hospital writes it: "主任医师 Chief Physician"
	FeeLevel     FeeLevel // the registration fee's level: general, expert or special
	// RetiredAt, when set, is when the doctor left the schedule: the row
	// stays (sessions and bookings name it), nothing new is published.
	RetiredAt time.Time
}

// Retired says whether the doctor left the hospital's schedule.
func (d Doctor) Retired() bool { return !d.RetiredAt.IsZero() }

// SameLevelAs says whether d may stand in for o (替诊): the same
// department, fee level and professional title, a title compared by the
// 职称 it names however the hospital wrote it (professionalTitle).
func (d Doctor) SameLevelAs(o Doctor) bool {
	return d.DepartmentID == o.DepartmentID && d.FeeLevel.OrGeneral() == o.FeeLevel.OrGeneral() &&
		professionalTitle(d.Title) == professionalTitle(o.Title)
}

// professionalTitles are the clinical titles (职称) of China's doctors, of
// Western and of Chinese medicine, each before any title it contains (副主任
// before 主任, 主治 and 住院 before the plain 医师).
var professionalTitles = []string{"副主任中医师", "主任中医师", "主治中医师", "副主任医师", "主任医师", "主治医师", "住院医师", "中医师", "医师"}

// professionalTitle is the 职称 a title as the hospital writes it names
// ("主任医师 Chief Physician": 主任医师), or the title itself, trimmed,
// when it names none.
func professionalTitle(title string) string {
	for _, t := range professionalTitles {
		if strings.Contains(title, t) {
			return t
		}
	}
	return strings.TrimSpace(title)
}

// FeeLevel is the level of a doctor's registration fee (挂号费级别): what a
// patient pays and, with the title and department, what makes another
// doctor a like-for-like substitute.
type FeeLevel string

// The fee levels of a Chinese hospital's outpatient clinics.
const (
	FeeGeneral FeeLevel = "general" // 普通门诊
	FeeExpert  FeeLevel = "expert"  // 专家门诊
	FeeSpecial FeeLevel = "special" // 特需门诊
)

// OrGeneral is the level, or general when none was given.
func (f FeeLevel) OrGeneral() FeeLevel {
	if f == "" {
		return FeeGeneral
	}
	return f
}

// Valid says whether f is one of the fee levels.
func (f FeeLevel) Valid() bool { return f == FeeGeneral || f == FeeExpert || f == FeeSpecial }

// ChannelQuota is one channel's pool in a session.
type ChannelQuota struct {
	Channel   Channel
	Quota     int
	ReleaseAt time.Time
	// Mode is how the pool is given out: first-come from ReleaseAt, or by a
	// lottery among the entries made in [OpensAt, DrawAt), drawn at DrawAt;
	// what the draw leaves is then served first-come.
	Mode    ReleaseMode
	OpensAt time.Time // lottery pools only
	DrawAt  time.Time // lottery pools only
	// PublishedAt is when the pool's rules (mode, release, window) became
	// public: the publish, or the last edit that changed one of them
	// (StampPublished). Zero for pools published before it was kept.
	PublishedAt time.Time
	// Draw is a lottery pool's public record once its seed is committed;
	// nil before.
	Draw *DrawRecord
}

// IsLottery reports whether the pool is given out by a lottery.
func (q ChannelQuota) IsLottery() bool { return q.Mode == Lottery }

// TakesEntries reports whether an attempt on the pool at now is a lottery
// entry rather than a booking: the pool is a lottery and its draw time has
// not come. Before the window opens the entry is refused as not released.
func (q ChannelQuota) TakesEntries(now time.Time) bool {
	return q.Mode == Lottery && now.Before(q.DrawAt)
}

// OpensFor is when the pool first takes attempts: its lottery window's
// opening, or its release time.
func (q ChannelQuota) OpensFor() time.Time {
	if q.Mode == Lottery {
		return q.OpensAt
	}
	return q.ReleaseAt
}

// Released reports whether the pool takes attempts at now: its lottery
// window has opened, or its release time has come. Every view of a pool
// (the API's "released", the consoles') asks this.
func (q ChannelQuota) Released(now time.Time) bool { return !now.Before(q.OpensFor()) }

// Slot is one appointment time in a session, belonging to one channel's pool.
type Slot struct {
	No       int
	Channel  Channel
	StartsAt time.Time
	EndsAt   time.Time
}

// Session is a doctor's clinic session (出诊): a half day with numbered slots.
type Session struct {
	ID           string
	HospitalID   string
	DepartmentID string
	DoctorID     string
	VisitDate    string // civil date in the hospital's zone, YYYY-MM-DD
	Period       string // morning, afternoon or evening
	StartsAt     time.Time
	EndsAt       time.Time
	Mode         ReleaseMode // lottery when any pool is one
	Channels     []ChannelQuota
	Slots        []Slot // ordered by No
	// StoppedAt is when the hospital stopped the clinic (停诊): closed to
	// every channel, its bookings cancelled. Zero while it runs.
	StoppedAt  time.Time
	StopReason string
	// Version is raised by every change of the session's layout (an edit,
	// extra slots, a pool move): an edit names the version it was made
	// from (review19b M2). As the store takes an edit: the version it
	// expects.
	Version int64
	// Room is where the clinic is held (诊室, "门诊楼3层 12诊室"), and
	// DelayMinutes how late it starts, as the hospital announced them
	// (AnnounceSession, review19b M5): on the public record, and told to
	// its patients when changed. Neither moves a slot.
	Room         string
	DelayMinutes int
	// MovedFrom is, for a clinic moved to another time (改期,
	// MoveSession), when it started before its first move, and MovedAt
	// when it was last moved; zero if never moved. Its bookings went with it, and cancel free of a no-show until
	// it starts (MovedAfter).
	MovedFrom, MovedAt time.Time
}

// MovedAfter reports whether the clinic was moved to its time after b was
// booked: b then cancels free until the clinic starts.
func (s *Session) MovedAfter(b Booking) bool {
	return !s.MovedAt.IsZero() && b.CreatedAt.Before(s.MovedAt)
}

// Stopped reports whether the hospital stopped the clinic.
func (s *Session) Stopped() bool { return !s.StoppedAt.IsZero() }

// Closes is when the clinic is over: the end of its last slot, which is
// EndsAt unless the desk added extra slots (加号), laid out after EndsAt. A
// patient is checked in, walked in, reissued to and counted a no-show by it,
// so a patient given an extra slot can be seen at its time.
func (s *Session) Closes() time.Time {
	end := s.EndsAt
	for _, sl := range s.Slots {
		if sl.EndsAt.After(end) {
			end = sl.EndsAt
		}
	}
	return end
}

// Channel returns the session's pool for c.
func (s *Session) Channel(c Channel) (ChannelQuota, bool) {
	for _, q := range s.Channels {
		if q.Channel == c {
			return q, true
		}
	}
	return ChannelQuota{}, false
}

// Slot returns slot number n.
func (s *Session) Slot(n int) (Slot, bool) {
	i := n - 1 // slots are numbered from 1 without gaps
	if i >= 0 && i < len(s.Slots) && s.Slots[i].No == n {
		return s.Slots[i], true
	}
	for _, sl := range s.Slots {
		if sl.No == n {
			return sl, true
		}
	}
	return Slot{}, false
}

// Account is a login: a patient's, or a staff member's.
type Account struct {
	ID           string
	Role         Role
	PhoneHash    []byte
	PhoneSealed  []byte
	PhoneMasked  string
	PasswordHash string
	Blocked      bool
	CreatedAt    time.Time
	// HospitalID is the hospital a staff member works for; empty for
	// patients and for platform-wide administrators.
	HospitalID string
	// Name is a staff member's work name (the audit log shows it to their
	// administrators); empty for patients, whose names live with their
	// identities, masked.
	Name string
	// TokenGeneration is the generation of the account's valid tokens:
	// logging out and changing the password raise it.
	TokenGeneration int
	// Disabled is a staff account an operator disabled (`fairslot staff
	// disable`): its logins are refused.
	Disabled bool
	// Closed is a patient account its holder closed (CloseAccount): it
	// has no login number any more, and no token.
	Closed bool
	// CredentialsChangedAt is when the password or the login number last
	// changed (zero: not since it was recorded); an online closing waits
	// ClosingAfterChange after it.
	CredentialsChangedAt time.Time
	// ConsentVersion is the privacy notice's version the account last
	// agreed to (empty: none recorded); Consent, on creation, is the
	// consent written with the account.
	ConsentVersion string
	Consent        *Consent
	// ClosingDueAt is when the holder's pending online closing completes
	// (zero: none pending); its holder cancels it before then
	// (CancelClosing), as a change of the password or number does.
	ClosingDueAt time.Time
}

// StaffAccount is a staff login as `fairslot staff list` shows it.
type StaffAccount struct {
	ID, HospitalID, Name string
	PhoneMasked          string
	Role                 Role
	CreatedAt            time.Time
	// LastLogin is the latest login still in the events (zero: none).
	LastLogin time.Time
	// DisabledAt is when it was disabled (zero: enabled).
	DisabledAt time.Time
	// PasswordSetAt is when its password was last set after its creation
	// (zero: never): `fairslot staff check` finds a reset a restore undid.
	PasswordSetAt time.Time
	// TimeZone is the hospital's (empty for a platform-wide administrator).
	TimeZone string
}

// Location is the zone the account's times are shown in: its hospital's,
// China Standard Time for a platform-wide administrator (as the audit log
// shows a platform-wide reader's).
func (a StaffAccount) Location() *time.Location {
	if a.TimeZone == "" {
		return chinaStandardTime
	}
	return (&Hospital{TimeZone: a.TimeZone}).Location()
}

// Identity is a real person, known by a validated ID document: quotas and
// bars follow it. It is stored as a keyed hash (for lookup and uniqueness)
// and a sealed copy.
//
// Its name is a claim until verified: several accounts may claim different
// names for one ID number (each patient row keeps its own), and none of them
// locks the others out. Once a real-name provider or the registration desk
// (with the physical card) confirmed a name, NameVerified is set, the name
// fields hold that name, and only claims of that name may book.
type Identity struct {
	ID           string
	IDType       string
	IDHash       []byte
	NumberSealed []byte
	NumberMasked string
	NameHash     []byte
	NameSealed   []byte
	NameMasked   string
	NameVerified bool
	// VerifiedBy says who verified the name: "desk" (a clerk read the card)
	// or "provider" (a real-name check); set on the way in only.
	VerifiedBy string
	// PersonID, read only, is the identity of the person the desk linked
	// this document to (LinkIdentities); empty: the document is a person
	// of its own.
	PersonID string
}

// Person is the id of the person the identity's document belongs to: the
// person key every per-person rule counts by (docs/design.md).
func (i Identity) Person() string { return cmp.Or(i.PersonID, i.ID) }

// Key is the identity's short key in Redis: a prefix of its keyed hash, so
// Redis never holds an ID number.
func (i Identity) Key() string { return IdentityKey(i.IDHash) }

// IdentityKey derives the Redis key of an identity from its keyed hash.
func IdentityKey(idHash []byte) string {
	const n = 12 // 96 bits: collisions are out of reach
	return fmt.Sprintf("%x", idHash[:min(n, len(idHash))])
}

// Patient is an identity on an account's list of people it books for
// (就诊人), under the name the account gave (its claim). A patient row never
// moves to another identity or account.
type Patient struct {
	ID          string
	AccountID   string
	IdentityID  string
	IdentityKey string
	IDType      string
	MaskedID    string
	MaskedName  string // the claimed name, masked
	NameHash    string // the claimed name's keyed hash (raw bytes)
	PhoneMasked string
	IsSelf      bool
	// Relationship is who the member is to the account holder; BirthYear
	// the year of birth the ID document carries (0: none). With the masked
	// name they tell apart members whose masked names collide.
	Relationship Relationship
	BirthYear    int
	// Verified: the identity's name is verified and is this claim's.
	Verified bool
	// SelfVerified: the row is its account's self and the desk bound it to
	// the person (VerifyIdentity with the account holder's phone): the
	// person's verified self, who sees and ends what others made for them.
	// A claim under the true name, even a verified one, is not enough: a
	// squatter who knows the name would pass (docs/security.md).
	SelfVerified bool
	CreatedAt    time.Time
	// Removed: the account holder took the member off the list (a soft
	// delete: the row stays for the bookings and audit that name it, and
	// no longer counts, lists or books).
	Removed bool
	// Namesake: another member of the account has the same name under
	// another type of document — one person with two documents, as far as
	// a draw is concerned (NamesakeEntered).
	Namesake bool
	// ConsentDue is the day (YYYY-MM-DD, China's calendar) the person,
	// listed as a child under 14 on a guardian's consent, turns 14 and
	// consents for themselves (个人信息保护法 art. 31); empty once their own
	// consent is recorded, and for everyone else. From that day on the
	// account's bookings, entries and waitlist places of the person ask
	// for it (Service.ownConsent).
	ConsentDue string
}

// Relationship is who a family member (就诊人) is to the account holder.
type Relationship string

// The relationships an account holder may give a family member.
const (
	RelSelf   Relationship = "self"   // 本人
	RelSpouse Relationship = "spouse" // 配偶
	RelChild  Relationship = "child"  // 子女
	RelParent Relationship = "parent" // 父母
	RelOther  Relationship = "other"  // 其他
)

// Relationships lists the relationships in the order forms offer them.
var Relationships = []Relationship{RelSelf, RelSpouse, RelChild, RelParent, RelOther}

var relationshipLabels = map[Relationship]string{
	RelSelf: "本人", RelSpouse: "配偶", RelChild: "子女", RelParent: "父母", RelOther: "其他",
}

// Label is the relationship's Chinese name, as the consoles show it.
func (r Relationship) Label() string {
	if l, ok := relationshipLabels[r]; ok {
		return l
	}
	return relationshipLabels[RelOther]
}

// Label tells a member apart from the account's others whose masked names
// are alike (陈一 and 陈二 are both 陈*): relationship, masked name and
// birth year (when the ID document carries one), "子女 · 陈* · 2016", as the
// consoles and notifications show it. Never the full name or ID.
func (p Patient) Label() string {
	rel := p.Relationship
	if p.IsSelf {
		rel = RelSelf
	}
	label := rel.Label() + " · " + p.MaskedName
	if p.BirthYear > 0 {
		label += " · " + strconv.Itoa(p.BirthYear)
	}
	return label
}

// relationshipOf checks the relationship a request gives a new member:
// none means self for the account holder, other for anyone else; self
// makes the member the account holder; the account holder is nobody's
// spouse, child or parent.
func relationshipOf(given string, isSelf bool) (Relationship, bool, error) {
	r := Relationship(given)
	switch {
	case given == "" && isSelf:
		return RelSelf, true, nil
	case given == "":
		return RelOther, false, nil
	case relationshipLabels[r] == "":
		return "", false, Errorf(ErrInvalidField, "relationship is one of self, spouse, child, parent, other")
	case isSelf && r != RelSelf:
		return "", false, Errorf(ErrInvalidField, "the account holder (self) has the relationship self")
	}
	return r, r == RelSelf, nil
}

// Booking is a patient's slot in a session.
type Booking struct {
	ID           string
	SessionID    string
	HospitalID   string
	DepartmentID string
	DoctorID     string
	VisitDate    string
	SlotNo       int
	SlotStart    time.Time
	SlotEnd      time.Time
	PatientID    string // empty for a phone or desk booking of an identity no account lists
	IdentityID   string
	IdentityKey  string
	NameHash     string // raw keyed hash of the name the booking was made under (check-in compares the card with it)
	// BookedNameHash is the name the request that made the booking gave,
	// kept when a check-in put the card's name on it (NameHash): a replay
	// of that request is told apart from another by it. Empty: NameHash.
	BookedNameHash string
	AccountID      string // the patient account that booked; empty for staff-made bookings
	BookedBy       string // the staff account behind a phone or desk booking
	BookedByRole   Role   // its role, for the booking's audit entry (not stored)
	// Caller is the number a phone booking's caller rang from, masked and
	// tagged (callerTag), for the booking's audit entry (not stored).
	Caller         string
	Channel        Channel
	Status         Status
	IdempotencyKey string
	CreatedAt      time.Time
	CancelledAt    time.Time
	CheckedInAt    time.Time
	LateCancel     bool // cancelled after the deadline: counts as a no-show
	// Allotted: the service made the booking for the person — a lottery
	// draw's win or a waitlist place's promotion (set by the draw and the
	// promotion, stored with the booking) — so cancelling it is free for
	// AllottedGrace after CreatedAt even past the deadline.
	Allotted bool
	// Replayed is set by Service.Book when the answer repeats an earlier
	// request's booking (same Idempotency-Key) instead of booking anew.
	Replayed bool
}

// Actor is who makes a request: the bearer of a verified token.
type Actor struct {
	AccountID string
	Role      Role
	// HospitalID is the hospital a staff member works for; empty for
	// patients and platform-wide administrators.
	HospitalID string
}

// IsStaff reports whether the actor works for the hospital.
func (a Actor) IsStaff() bool {
	return a.Role == RoleClerk || a.Role == RoleAdmin || a.Role == RoleOperator
}

// PlatformAdmin reports an administrator of the whole platform (of no one
// hospital): only they review scalper flags, which block accounts
// everywhere.
func (a Actor) PlatformAdmin() bool { return a.Role == RoleAdmin && a.HospitalID == "" }

// Covers reports whether a staff actor may act in a hospital: their own,
// or any for a platform-wide administrator. A clerk or operator without a
// hospital (an account from before staff had one) covers none.
func (a Actor) Covers(hospitalID string) bool {
	return a.IsStaff() && (a.PlatformAdmin() || a.HospitalID != "" && a.HospitalID == hospitalID)
}

// WaitlistEntry is an identity waiting for a returned slot of a session.
// Its id becomes the booking's id when a slot reaches it.
type WaitlistEntry struct {
	ID          string
	SessionID   string
	HospitalID  string
	PatientID   string
	IdentityID  string
	IdentityKey string
	AccountID   string // empty for a caller an operator put on it by phone
	// BookedBy is the operator who put a caller on the waitlist; NameHash
	// the name the caller gave, which the booking it turns into is made under.
	BookedBy string
	NameHash string
	Status   string // waiting, served, cancelled, skipped
	Position int    // 1-based place in line while waiting; 0 while its round is open
	// Caller is the number a phone place's caller rang from, masked and
	// tagged (callerTag), for the place's audit entry (not stored).
	Caller    string
	CreatedAt time.Time
	// RoundEndsAt is when the entry's round ends (zero: it has none, as a
	// lottery loser's, who is in line at once); Key is its random key, which
	// orders it within its round. The line is by round, then key.
	RoundEndsAt time.Time
	Key         uint64
	// While the round is open: Ahead is how many wait in earlier rounds
	// (all of them go first), InRound how many have joined this round so
	// far; the order within it is drawn (by key) when it ends.
	Ahead, InRound int
}

// RoundOpen says whether the entry's round is still open at now: its place
// among that round's joins is not known until the round ends.
func (e WaitlistEntry) RoundOpen(now time.Time) bool {
	return e.Status == WaitlistWaiting && e.RoundEndsAt.After(now)
}

// Ref is the entry as Admission keeps it.
func (e WaitlistEntry) Ref() WaitlistRef {
	r := WaitlistRef{ID: e.ID, IdentityKey: e.IdentityKey, Key: e.Key}
	if !e.RoundEndsAt.IsZero() {
		r.RoundEnd = e.RoundEndsAt.UnixMilli()
	}
	return r
}

// The waitlist states.
const (
	WaitlistWaiting   = "waiting"
	WaitlistServed    = "served"
	WaitlistCancelled = "cancelled"
	WaitlistSkipped   = "skipped"
)

// Bar bars an identity from booking.
type Bar struct {
	IdentityID  string
	IdentityKey string
	NoShows     int
	Until       time.Time
	Trigger     string // the booking whose no-show crossed the threshold
}
