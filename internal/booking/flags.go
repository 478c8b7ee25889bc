package booking

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Scalper flags and their review.
//
// A detector (internal/detect, wired in by cmd/fairslot) reads the event
// stream and returns flags: groups of accounts and identities linked by what
// they share, scored, with reasons that carry numbers. Detection runs inside
// the service on a timer and offline on a file of events; both call the same
// code on the same events, so they find the same flags. An administrator
// confirms a flag (its accounts are blocked, the persons who are the group's
// own barred, the bookings the accounts made cancelled and the slots handed
// to the waitlist) or dismisses it (the group is allow-listed until clearly
// stronger evidence appears).
//
// A person is the group's own when no account outside the group lists them.
// Anyone who knows an ID number and a name can add that person to their
// list (security.md, Threat model), so a person another account lists —
// their own verified self above all — is not barred by a confirmation
// unless the administrator names them (Decision.AlsoBar), having read the
// flag page, which shows them apart (FlagEvidence.Elsewhere); and bookings
// another account, or staff at the desk or on the phone, made for a
// person are never cancelled by a confirmation (review21 H1).

// Flag is a group that looks like scalpers, with the evidence. Threshold is
// the score a flag needs; Explanation (ExplanationZH in Chinese) says how its
// score was made up, in an administrator's words.
type Flag struct {
	ID            string       `json:"flag_id"`
	Score         float64      `json:"score"`
	Status        string       `json:"status"`
	Reasons       []FlagReason `json:"reasons"`
	AccountIDs    []string     `json:"account_ids"`
	PatientIDs    []string     `json:"patient_ids"` // the persons: identity ids
	CreatedAt     time.Time    `json:"created_at"`
	Threshold     float64      `json:"threshold,omitempty"`
	Explanation   string       `json:"explanation,omitempty"`
	ExplanationZH string       `json:"explanation_zh,omitempty"`
	// CaseIDs are the scalper reports the detector attached to the
	// group's accounts as evidence (see Report).
	CaseIDs   []string  `json:"case_ids,omitempty"`
	UpdatedAt time.Time `json:"-"`
	// DecidedAt and DecidedBy: when and by which administrator the flag
	// was confirmed or dismissed (review25 M1: shown on the list).
	DecidedAt    time.Time `json:"decided_at,omitzero"`
	DecidedBy    string    `json:"decided_by,omitempty"`
	DecidedScore float64   `json:"-"`
	Note         string    `json:"-"`
	// Dismissal: the dismissal's reason code and, for a flag that wants
	// two administrators to dismiss it, the first one's request. On an
	// open flag it is pending (DismissPending).
	Dismissal *Dismissal `json:"dismissal,omitempty"`
	// DismissPending: open, one administrator has dismissed it, a second
	// one's decision is awaited; the group stays held meanwhile.
	DismissPending bool `json:"dismiss_pending,omitempty"`
	// SecondAdminToDismiss: the flag's evidence is of a kind a family does
	// not produce by chance, or its score is well past the bar, so
	// dismissing it is two administrators' act (NeedsSecondAdminToDismiss).
	SecondAdminToDismiss bool `json:"second_admin_to_dismiss,omitempty"`
	// OpenedAt is when the flag last opened (new, or a dismissed one
	// reopened): its decision deadline runs from here.
	OpenedAt time.Time `json:"-"`
	// DueAt, on an open flag an administrator reads, is its decision
	// deadline (Config.FlagDecisionWithin after it opened); Overdue says
	// it passed, and the flag's hold on lottery entries has lapsed.
	DueAt   *time.Time `json:"due_at,omitempty"`
	Overdue bool       `json:"overdue,omitempty"`
	// OverturnedBy and OverturnedAt: the administrator whose upheld
	// appeal overturned a confirmed flag, and when (status overturned).
	OverturnedBy string     `json:"overturned_by,omitempty"`
	OverturnedAt *time.Time `json:"overturned_at,omitempty"`
}

// due sets an open flag's deadline and whether it passed at now, and what
// its dismissal wants (review25 M1).
func (f *Flag) due(within time.Duration, now time.Time) {
	f.SecondAdminToDismiss = f.NeedsSecondAdminToDismiss()
	if f.Status != FlagOpen {
		return
	}
	f.DismissPending = f.Dismissal != nil
	at := f.OpenedAt.Add(within)
	f.DueAt, f.Overdue = &at, now.After(at)
}

// Dismissal is the record of a flag's dismissal: why (ReasonCode, one of
// DismissReasons, and the first administrator's Note), and, for a flag
// that wants two administrators, who asked first and when.
type Dismissal struct {
	ReasonCode  string    `json:"reason_code"`
	Note        string    `json:"note,omitempty"`
	RequestedBy string    `json:"requested_by,omitempty"`
	RequestedAt time.Time `json:"requested_at,omitzero"`
}

// DismissReasons are the reason codes of a dismissal: the innocent
// explanations a reviewer finds, so a report can count them per
// administrator. "other" wants a note of DismissOtherNote characters.
var DismissReasons = []string{"family", "shared_place", "staff_made", "detector_error", "other"}

// DismissOtherNote is the shortest note a dismissal for "other" takes.
const DismissOtherNote = 10

// secondLookKinds are the kinds of evidence a family does not produce by
// chance (docs/detection.md, "Kinds of evidence"): a slot passed on to a
// stranger (transfer), a staff member's favours (insider), ID numbers that
// are other people's (claims), people who undo what it booked for them
// (disowned). A big family, a fast hand, a chronic patient racing for one
// expert or a family's trip produce scale, automation, targeting and
// non-use; those are what a reviewer rightly dismisses alone.
var secondLookKinds = []string{"transfer", "insider", "claims", "disowned"}

// secondLookMargin: a flag scoring this many times its threshold wants two
// administrators whatever its kinds: 1.5 is two kinds at their cap
// (kind_cap 0.75), two strong answers, not one strong and one weak.
const secondLookMargin = 1.5

// NeedsSecondAdminToDismiss says dismissing f is two administrators' act
// (review25 M1): it carries evidence of a kind in secondLookKinds that
// adds points, or scores secondLookMargin times its threshold.
func (f Flag) NeedsSecondAdminToDismiss() bool {
	for _, r := range f.Reasons {
		if r.Points > 0 && slices.Contains(secondLookKinds, r.Kind) {
			return true
		}
	}
	return f.Threshold > 0 && f.Score >= f.Threshold*secondLookMargin
}

// secondAdmin is the one rule of a decision that relieves a flagged group
// (upholding an appeal against a flag, review21 M3; dismissing a flag of
// strong evidence, review25 M1): it is made by another administrator than
// first, the one who confirmed the flag or first dismissed it.
func secondAdmin(first string, actor Actor) error {
	if first != "" && first == actor.AccountID {
		return ErrSecondAdminRequired
	}
	return nil
}

// FlagReason is one signal with its numbers, as a sentence in English
// (Detail) and Chinese (DetailZH); Kind is its kind of evidence, Points what
// it adds to the score (0 when a stronger signal of the same kind counts).
type FlagReason struct {
	Signal   string  `json:"signal"`
	Kind     string  `json:"kind,omitempty"`
	Detail   string  `json:"detail"`
	DetailZH string  `json:"detail_zh,omitempty"`
	Points   float64 `json:"points"`
}

// The flag states.
const (
	FlagOpen      = "open"
	FlagConfirmed = "confirmed"
	FlagDismissed = "dismissed"
	// FlagOverturned: confirmed, then an upheld appeal found the
	// confirmation wrong (review21 M3). Its blocks are lifted; the record
	// says so rather than "confirmed".
	FlagOverturned = "overturned"
)

// Detector finds flags in events, with the scalper reports of the same
// window as testimony.
type Detector func(events []Event, reports []Report) []Flag

// Report is a patient's scalper report (举报) as the detector sees it: who
// reported, when, and what it names — an account, a booking, the keyed hash
// of a phone ("hash:…", as the events carry it). Never the text or the
// number.
type Report struct {
	CaseID    string    `json:"case_id"`
	TS        time.Time `json:"ts"`
	Reporter  string    `json:"reporter"`
	AccountID string    `json:"account_id,omitempty"`
	BookingID string    `json:"booking_id,omitempty"`
	Phone     string    `json:"phone,omitempty"`
}

// Detect runs the detector over the recent event stream and records what it
// found. It returns how many flags are new or reopened.
func (s *Service) Detect(ctx context.Context) (int, error) {
	if s.cfg.Detector == nil {
		return 0, nil
	}
	now := s.cfg.Now()
	events, err := s.store.EventsSince(ctx, now.Add(-s.cfg.DetectWindow))
	if err != nil {
		return 0, fmt.Errorf("detect: %w", err)
	}
	// The detector compares addresses and devices, and its reasons name
	// them: as keyed pseudonyms, so a flag keeps none in clear and says
	// what `fairslot detect` over the export says (review21 M5).
	NetworkPseudonyms(s.keys, events)
	cases, err := s.store.ReportsSince(ctx, now.Add(-s.cfg.DetectWindow))
	if err != nil {
		return 0, fmt.Errorf("detect: %w", err)
	}
	reports := make([]Report, len(cases))
	for i, c := range cases {
		reports[i] = s.reportOf(c)
	}
	start := time.Now()
	found := s.cfg.Detector(events, reports)
	s.stats.detected(time.Since(start), len(events))
	n, err := s.store.SaveFlags(ctx, found, now, s.cfg.ReopenAt)
	s.stats.flagsOpened.Add(uint64(max(n, 0)))
	if err != nil {
		return n, err
	}
	return n, s.countOverdueFlags(ctx)
}

// countOverdueFlags counts the open flags past their decision deadline
// (fairslot_flags_overdue; review21 M1), after each detection run.
func (s *Service) countOverdueFlags(ctx context.Context) error {
	n, err := s.store.OverdueFlags(ctx, s.cfg.Now().Add(-s.cfg.FlagDecisionWithin))
	if err != nil {
		return fmt.Errorf("count overdue flags: %w", err)
	}
	s.stats.flagsOverdue.Store(int64(n))
	return nil
}

// mustBeAdmin lets through platform-wide administrators: a flag's group may
// span hospitals, and confirming it blocks accounts everywhere.
func mustBeAdmin(actor Actor) error {
	if actor.Role != RoleAdmin {
		return Errorf(ErrForbidden, "only administrators review flags")
	}
	if !actor.PlatformAdmin() {
		return Errorf(ErrForbidden, "scalper flags span hospitals: only a platform-wide administrator reviews them")
	}
	return nil
}

// RunDetection is an administrator's "run detection now": Detect, audited.
func (s *Service) RunDetection(ctx context.Context, actor Actor) (int, error) {
	if err := mustBeAdmin(actor); err != nil {
		return 0, Errorf(ErrForbidden, "only a platform-wide administrator runs detection")
	}
	n, err := s.Detect(ctx)
	if err != nil {
		return 0, err
	}
	err = s.store.RecordAudit(ctx, AuditEntry{ID: newID(), TS: s.cfg.Now(), ActorID: actor.AccountID, ActorRole: actor.Role,
		Action: "detection_run", Target: "flags", Reason: fmt.Sprintf("%d flags opened or reopened", n)})
	return n, err
}

// Flags lists flags in a status (open by default), highest score first.
func (s *Service) Flags(ctx context.Context, actor Actor, status string) ([]Flag, error) {
	return s.FlagsPage(ctx, actor, status, Page{})
}

// FlagsPage is a page of the flags in a status, highest score first: after
// the flag p.After (one in that status, else invalid_cursor), p.Limit of
// them (1 to FlagPageSize; 0 for FlagPageSize).
func (s *Service) FlagsPage(ctx context.Context, actor Actor, status string, p Page) ([]Flag, error) {
	if err := mustBeAdmin(actor); err != nil {
		return nil, err
	}
	switch status {
	case "":
		status = FlagOpen
	case FlagOpen, FlagConfirmed, FlagDismissed, FlagOverturned:
	default:
		return nil, Errorf(ErrInvalidField, "status is open, confirmed, dismissed or overturned")
	}
	if err := checkLimit(p, FlagPageSize); err != nil {
		return nil, err
	}
	if p.After != "" {
		f, err := s.store.Flag(ctx, p.After)
		if !validFlagID(p.After) || errors.Is(err, ErrFlagNotFound) || err == nil && f.Status != status {
			return nil, Errorf(ErrInvalidCursor, "after is the flag_id of the previous page's last flag, of the status listed")
		}
		if err != nil {
			return nil, err
		}
	}
	fs, err := s.store.Flags(ctx, status, p)
	now := s.cfg.Now()
	for i := range fs {
		fs[i].due(s.cfg.FlagDecisionWithin, now)
	}
	return fs, err
}

// FlagEvidence is a flag with the timeline of its group's events, and its
// persons whom an account outside the group lists too.
type FlagEvidence struct {
	Flag
	Timeline  []Event
	Elsewhere map[string]Elsewhere
}

// Elsewhere is how a flag's person belongs outside its group: on how many
// accounts outside it the person is listed, and whether one of them is the
// person's own, with the person verified as its self. Such a person is not
// barred by a confirmation unless the administrator names them.
type Elsewhere struct {
	Accounts     int  `json:"accounts"`
	VerifiedSelf bool `json:"verified_self"`
}

// Flag returns a flag with its group's events of the detection window,
// their IP addresses and device ids as keyed pseudonyms.
func (s *Service) Flag(ctx context.Context, actor Actor, id string) (FlagEvidence, error) {
	if err := mustBeAdmin(actor); err != nil {
		return FlagEvidence{}, err
	}
	if !validFlagID(id) {
		return FlagEvidence{}, ErrFlagNotFound
	}
	f, err := s.store.Flag(ctx, id)
	if err != nil {
		return FlagEvidence{}, err
	}
	f.due(s.cfg.FlagDecisionWithin, s.cfg.Now())
	events, err := s.store.EventsOfGroup(ctx, s.cfg.Now().Add(-s.cfg.DetectWindow), f.AccountIDs, f.PatientIDs)
	if err != nil {
		return FlagEvidence{}, err
	}
	NetworkPseudonyms(s.keys, events) // the reviewer compares them, never needs them (review21 M5)
	elsewhere, err := s.store.PersonsElsewhere(ctx, f.AccountIDs, f.PatientIDs)
	return FlagEvidence{Flag: f, Timeline: events, Elsewhere: elsewhere}, err
}

// Decision is an administrator's verdict on a flag.
type Decision struct {
	Action string // confirm or dismiss
	Note   string
	Origin Origin
	// AlsoBar names persons of the flag whom an account outside the group
	// lists, to bar on a confirmation all the same; the group's own persons
	// are barred without being named.
	AlsoBar []string
	// ReasonCode: a dismissal's, one of DismissReasons (required).
	ReasonCode string
}

// checkDismissal checks a dismissal's reason code and note.
func (d Decision) checkDismissal() error {
	if d.Action != "dismiss" {
		if d.ReasonCode != "" {
			return Errorf(ErrInvalidField, "reason_code goes with a dismissal only")
		}
		return nil
	}
	if !slices.Contains(DismissReasons, d.ReasonCode) {
		return Errorf(ErrInvalidField, "reason_code is one of %s: why the evidence is innocent", strings.Join(DismissReasons, ", "))
	}
	if d.ReasonCode == "other" && utf8.RuneCountInString(strings.TrimSpace(d.Note)) < DismissOtherNote {
		return Errorf(ErrInvalidField, "a dismissal for reason_code other wants a note of %d characters or more saying what the evidence is", DismissOtherNote)
	}
	return nil
}

// DecideFlag confirms or dismisses an open flag. Confirming blocks the
// group's accounts (no login) and bars the group's own persons and those
// named in d.AlsoBar (no booking, on every channel) for BlockFor, and
// cancels the future bookings the group's accounts made; each freed slot
// goes to its session's waitlist first. Every decision is audited.
func (s *Service) DecideFlag(ctx context.Context, actor Actor, id string, d Decision) (Flag, error) {
	if err := mustBeAdmin(actor); err != nil {
		return Flag{}, err
	}
	status := map[string]string{"confirm": FlagConfirmed, "dismiss": FlagDismissed}[d.Action]
	if status == "" {
		return Flag{}, Errorf(ErrInvalidField, "action is confirm or dismiss")
	}
	if err := requireText("note", d.Note, 2, " saying why"); err != nil {
		return Flag{}, err
	}
	if err := auditText("note", d.Note, 2000); err != nil {
		return Flag{}, err
	}
	if err := d.checkDismissal(); err != nil {
		return Flag{}, err
	}
	if !validFlagID(id) {
		return Flag{}, ErrFlagNotFound
	}
	now := s.cfg.Now()
	var dismissal *Dismissal
	pending := ""
	if status == FlagDismissed || status == FlagConfirmed {
		f, err := s.store.Flag(ctx, id)
		if err != nil {
			return Flag{}, err
		}
		if f.Status == FlagOpen && f.Dismissal != nil {
			pending = f.Dismissal.RequestedBy
		}
		if status == FlagDismissed {
			if f.Status != FlagOpen {
				return Flag{}, ErrFlagDecided
			}
			if pending == "" && f.NeedsSecondAdminToDismiss() {
				return s.requestDismissal(ctx, actor, f, d, now)
			}
			if err := secondAdmin(pending, actor); err != nil {
				return Flag{}, err
			}
			dismissal = &Dismissal{ReasonCode: d.ReasonCode, Note: d.Note}
			if f.Dismissal != nil {
				dismissal = f.Dismissal
			}
		}
	}
	if status != FlagConfirmed && len(d.AlsoBar) > 0 {
		return Flag{}, Errorf(ErrInvalidField, "also_bar goes with a confirmation only")
	}
	var bar []string
	if status == FlagConfirmed {
		var err error
		if bar, err = s.toBar(ctx, id, d.AlsoBar); err != nil {
			return Flag{}, err
		}
	}
	reason := d.Note
	if d.ReasonCode != "" {
		reason = "(" + d.ReasonCode + ") " + reason
	}
	if len(d.AlsoBar) > 0 {
		// Whom the administrator barred beyond the group's own is part
		// of the decision's record (by identity id, never a name).
		reason += " (also_bar: " + strings.Join(d.AlsoBar, ", ") + ")"
	}
	if pending != "" {
		verb := map[string]string{FlagDismissed: "seconds", FlagConfirmed: "overrules"}[status]
		reason += fmt.Sprintf(" (%s the dismissal %s asked for)", verb, pending)
	}
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role,
		Action: "flag_" + d.Action, Target: "flag:" + id, Reason: reason}
	bars, err := s.store.DecideFlag(ctx, id, status, d.Note, actor, now, now.Add(s.cfg.BlockFor), bar, dismissal, audit)
	again := errors.Is(err, ErrFlagDecided) && status == FlagConfirmed
	if err != nil && !again {
		return Flag{}, err
	}
	f, err := s.store.Flag(ctx, id)
	if err == nil && (f.Status == status || again) {
		// Lottery entries the flag held out of draws wait for this decision.
		s.settleHeldOut(context.WithoutCancel(ctx), id, f.Status)
	}
	if err != nil || status != FlagConfirmed {
		return f, err
	}
	if again && f.Status != FlagConfirmed {
		return Flag{}, ErrFlagDecided
	}
	// Confirming again finishes what a confirmation cut short (a crash
	// between the decision and the cancellations): everything below is
	// idempotent.
	// Cancelling a group's bookings may take a while; it must finish even
	// if the administrator's browser gives up, and confirming again
	// finishes whatever a timeout cut short.
	bg, done := Detach(ctx, time.Minute)
	defer done()
	if again {
		if err := s.reconcileBars(bg); err != nil {
			return f, err
		}
	}
	if err := s.loadBlocked(bg); err != nil {
		s.log.Warn("reload blocked accounts", "err", err)
	}
	s.applyBars(bg, bars)
	bookings, err := s.store.FutureBookingsOfGroup(bg, now, f.AccountIDs)
	if err != nil {
		return f, err
	}
	for _, b := range bookings {
		s.cancelForFlag(bg, actor, b, id)
	}
	if again {
		err := s.store.RecordAudit(bg, AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role,
			Action: "flag_confirm_again", Target: "flag:" + id, Reason: fmt.Sprintf("%s (%d bookings cancelled)", d.Note, len(bookings))})
		if err != nil {
			s.log.Warn("audit a repeated confirmation", "flag_id", id, "err", err)
		}
	}
	return f, nil
}

// requestDismissal is the first administrator's dismissal of a flag that
// wants two (review25 M1): recorded and audited, the flag stays open —
// held as before, its deadline running — until a second administrator
// dismisses it too or confirms it.
func (s *Service) requestDismissal(ctx context.Context, actor Actor, f Flag, d Decision, now time.Time) (Flag, error) {
	dm := Dismissal{ReasonCode: d.ReasonCode, Note: d.Note, RequestedBy: actor.AccountID, RequestedAt: now}
	a := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "flag_dismiss_requested",
		Target: "flag:" + f.ID, Reason: fmt.Sprintf("(%s) %s (awaits a second administrator)", d.ReasonCode, d.Note)}
	if err := s.store.RequestDismissal(ctx, f.ID, dm, now, a); err != nil {
		return Flag{}, err
	}
	f.Dismissal = &dm
	f.due(s.cfg.FlagDecisionWithin, now)
	return f, nil
}

// toBar is whom confirming the flag id bars: its persons that no account
// outside its group lists, and those of alsoBar, each of which must be a
// person of the flag (else ErrInvalidField).
func (s *Service) toBar(ctx context.Context, id string, alsoBar []string) ([]string, error) {
	f, err := s.store.Flag(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, p := range alsoBar {
		if !slices.Contains(f.PatientIDs, p) {
			return nil, Errorf(ErrInvalidField, "also_bar names persons of the flag (its patient_ids)")
		}
	}
	elsewhere, err := s.store.PersonsElsewhere(ctx, f.AccountIDs, f.PatientIDs)
	if err != nil {
		return nil, err
	}
	var bar []string
	for _, p := range f.PatientIDs {
		if _, out := elsewhere[p]; !out || slices.Contains(alsoBar, p) {
			bar = append(bar, p)
		}
	}
	return bar, nil
}

// cancelForFlag cancels one booking of a confirmed flag's group and returns
// its slot through the waitlist. It is never a late cancellation. The event
// carries no IP or device: the administrator's would be read as the
// account's by the detector.
func (s *Service) cancelForFlag(ctx context.Context, actor Actor, b Booking, flagID string) {
	ev := Event{ID: newID(), TS: s.cfg.Now(), Type: EventCancelled, AccountID: b.AccountID,
		PatientID: b.PatientID, IdentityID: b.IdentityID, BookingID: b.ID, SessionID: b.SessionID,
		HospitalID: b.HospitalID, DepartmentID: b.DepartmentID, DoctorID: b.DoctorID, Channel: b.Channel,
		StaffID: actor.AccountID, Reason: "flag_confirmed:" + flagID}
	cancelled, _, err := s.store.CancelBooking(ctx, b.ID, false, s.noShowRules(b.HospitalID, ev.TS), ev, nil)
	if err != nil {
		s.log.Warn("cancel a flagged booking", "booking_id", b.ID, "err", err)
		return
	}
	if sess, ok := s.catalog.Load().Session(b.SessionID); ok {
		s.returnSlot(ctx, sess, cancelled, Return{})
	}
}

// AuditPageSize is the most audit entries one read answers.
const AuditPageSize = 1000

// Audit lists staff actions since a time, newest first (AuditPageSize at
// most): a hospital's administrator reads those of their hospital, a
// platform-wide one all.
func (s *Service) Audit(ctx context.Context, actor Actor, since time.Time) ([]AuditEntry, error) {
	return s.AuditBefore(ctx, actor, since, "")
}

// AuditBefore is Audit's next page: the entries after the one of id before
// in the order newest first by (time, id), so a page boundary among equal
// times skips and repeats none. An id that is not one of the reader's
// entries is ErrInvalidField.
func (s *Service) AuditBefore(ctx context.Context, actor Actor, since time.Time, before string) ([]AuditEntry, error) {
	return s.AuditFiltered(ctx, actor, since, before, AuditFilter{})
}

// AuditFilter narrows an audit read (review25 M3: an inspector looks for
// one clerk's acts): to one actor's entries (a staff account id), one
// action, one session's (the session's own entries and its bookings'). Each
// empty for all.
type AuditFilter struct {
	ActorID, Action, SessionID string
}

// AuditFiltered is AuditBefore with a filter; a malformed actor or session
// id, or an action that is not a word, is ErrInvalidField.
func (s *Service) AuditFiltered(ctx context.Context, actor Actor, since time.Time, before string, f AuditFilter) ([]AuditEntry, error) {
	if actor.Role != RoleAdmin {
		return nil, Errorf(ErrForbidden, "only administrators read the audit log")
	}
	if before != "" && !isUUID(before) {
		return nil, Errorf(ErrInvalidCursor, "before is the id of an audit entry (the last of the previous page)")
	}
	if f.ActorID != "" && !isUUID(f.ActorID) {
		return nil, FieldErrorf(ErrInvalidField, "actor", "actor is a staff account's id")
	}
	if f.SessionID != "" && !isUUID(f.SessionID) {
		return nil, FieldErrorf(ErrInvalidField, "session", "session is a session's id")
	}
	if len(f.Action) > 64 || strings.Trim(f.Action, "abcdefghijklmnopqrstuvwxyz_") != "" {
		return nil, FieldErrorf(ErrInvalidField, "action", "action is an audit action's code, such as desk_booking")
	}
	as, err := s.store.AuditSince(ctx, since, actor.HospitalID, before, f)
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(ErrInvalidCursor, "before names no audit entry you can read")
	}
	return as, err
}
