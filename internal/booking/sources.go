package booking

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Slot sources (号源): a hospital's own administrator publishes its clinic
// sessions, edits or deletes them before they are released, and, once
// released, only adds to them (extra slots, pool moves).

// SessionRequest is a clinic session as an administrator publishes or
// edits it. The hospital is the doctor's; the department too unless given.
type SessionRequest struct {
	DoctorID     string
	DepartmentID string // empty: the doctor's
	VisitDate    string // YYYY-MM-DD in the hospital's zone; the start's date
	Period       string // morning, afternoon or evening
	StartsAt     time.Time
	EndsAt       time.Time
	// SlotCount, when given, must equal the sum of the quotas: a check
	// against a form whose quotas were typed separately from the total.
	SlotCount int
	Mode      ReleaseMode    // the mode of every pool whose own Mode is empty (first_come)
	Quotas    []ChannelQuota // one pool per channel, laid out in this order
	Reason    string         // for the audit log; optional on create
	// Room is where the clinic is held (诊室), on create only: a change is
	// announced to the patients (AnnounceSession).
	Room string
	// IdempotencyKey, when set, derives the session's id, so a repeat of
	// a create names the same session and publishes nothing new.
	IdempotencyKey string
}

// MaxSessionSlots bounds one session's slots and each of its quotas: a
// session lies within its visit date and each slot needs at least a
// minute, so no session holds more than a day's minutes.
const MaxSessionSlots = 24 * 60

// The periods of a day a session may be in.
var periods = map[string]bool{"morning": true, "afternoon": true, "evening": true}

// periodFits reports whether a session starting at start (the hospital's
// local time) may be called period.
func periodFits(period string, start time.Time) bool {
	h := start.Hour()
	switch period {
	case "morning":
		return h < 12
	case "afternoon":
		return h >= 12 && h < 18
	default: // evening
		return h >= 17
	}
}

// sessionFromRequest checks a request against the catalog and lays the
// session out. id is the session's id (new or edited).
func (s *Service) sessionFromRequest(actor Actor, id string, req SessionRequest) (Session, error) {
	return s.layoutSession(actor, id, req, true)
}

// layoutSession is sessionFromRequest; overlaps says whether to look for
// the doctor's sessions in the catalog that overlap it (not for a stored
// template, laid out over a week only to check it).
func (s *Service) layoutSession(actor Actor, id string, req SessionRequest, overlaps bool) (Session, error) {
	if actor.Role != RoleAdmin {
		return Session{}, Errorf(ErrForbidden, "only administrators publish schedules")
	}
	cat := s.catalog.Load()
	doc, ok := cat.Doctor(req.DoctorID)
	if !ok {
		return Session{}, ErrDoctorNotFound
	}
	if !actor.Covers(doc.HospitalID) {
		return Session{}, Errorf(ErrForbidden, "this doctor works for another hospital")
	}
	if doc.Retired() {
		return Session{}, ErrDoctorRetired
	}
	h, ok := cat.Hospital(doc.HospitalID)
	if !ok {
		return Session{}, ErrHospitalNotFound
	}
	dept := doc.DepartmentID
	if req.DepartmentID != "" {
		d, ok := cat.Department(req.DepartmentID)
		if !ok || d.HospitalID != doc.HospitalID {
			return Session{}, Errorf(ErrInvalidField, "department_id is not a department of the doctor's hospital")
		}
		dept = d.ID
	}
	if !periods[req.Period] {
		return Session{}, FieldErrorf(ErrInvalidField, "period", "period must be morning, afternoon or evening")
	}
	if req.StartsAt.IsZero() || req.EndsAt.IsZero() {
		return Session{}, Errorf(ErrInvalidField, "starts_at and ends_at are required")
	}
	// Before the pools' release times are looked at: a clinic in the past is
	// refused as that, whatever else is wrong with it (review9's past
	// session with a later release time was told release_after_start, and
	// fixing that would only have led to session_in_past).
	now := s.cfg.Now()
	if !now.Before(req.StartsAt) {
		return Session{}, ErrSessionInPast
	}
	if end := scheduleHorizon(now, h.Location()); !req.StartsAt.Before(end) {
		return Session{}, Errorf(ErrSessionTooFar, "the session's date %s is more than %d days after today (%s) in the hospital's zone",
			req.StartsAt.In(h.Location()).Format(time.DateOnly), ScheduleHorizonDays, now.In(h.Location()).Format(time.DateOnly))
	}
	if got := req.StartsAt.In(h.Location()).Format(time.DateOnly); got != req.VisitDate {
		return Session{}, Errorf(ErrInvalidField, "visit_date %s is not the start's date in the hospital's zone (%s)", req.VisitDate, got)
	}
	// The period is what patients read (上午, 下午, 晚间) and what two
	// sessions of a doctor may not share: it must name the part of the day
	// the session starts in (a reviewer's "morning" clinic at 19:00 was
	// published, and then barred the doctor's real morning clinic). 17:00 to
	// 18:00 may be either afternoon or evening.
	if !periodFits(req.Period, req.StartsAt.In(h.Location())) {
		return Session{}, FieldErrorf(ErrInvalidField, "period", "period %s does not fit a session starting at %s (morning: before 12:00, afternoon: 12:00 to 18:00, evening: from 17:00)",
			req.Period, req.StartsAt.In(h.Location()).Format("15:04"))
	}
	// A clinic is a day's: check-in, the desk's day, the one booking per
	// day and department and the no-show count all go by the visit date,
	// so a session ends by the midnight that closes it (24:00 included).
	if day, err := time.ParseInLocation(time.DateOnly, req.VisitDate, h.Location()); err == nil && req.EndsAt.After(day.AddDate(0, 0, 1)) {
		return Session{}, FieldErrorf(ErrInvalidField, "end", "ends_at %s is past the end of visit_date %s in the hospital's zone: a session ends on its visit date",
			req.EndsAt.In(h.Location()).Format(time.DateTime), req.VisitDate)
	}
	if len(req.Quotas) == 0 {
		return Session{}, FieldErrorf(ErrInvalidField, string(ChannelOnline), "channels are required")
	}
	total, onsite := 0, 0
	firstRelease := time.Time{}
	for _, q := range req.Quotas {
		// Bounded before they are added: huge quotas must not wrap around
		// into a sum that matches the slot count.
		if q.Quota < 0 || q.Quota > MaxSessionSlots {
			return Session{}, FieldErrorf(ErrInvalidField, string(q.Channel), "the %s quota must be 0 to %d (a session lies within its visit date, a minute a slot at least)", q.Channel, MaxSessionSlots)
		}
		total += q.Quota
		if q.Channel == ChannelOnsite {
			onsite += q.Quota
		}
		if firstRelease.IsZero() || q.ReleaseAt.Before(firstRelease) {
			firstRelease = q.ReleaseAt
		}
		if !q.ReleaseAt.IsZero() && !q.ReleaseAt.Before(req.StartsAt) {
			return Session{}, Errorf(ErrReleaseAfterStart, "the %s pool is released at %s, not before the session starts", q.Channel, q.ReleaseAt.Format(time.RFC3339))
		}
		if q.ReleaseAt.IsZero() {
			return Session{}, Errorf(ErrInvalidField, "the %s pool needs a release_at", q.Channel)
		}
	}
	if req.SlotCount > 0 && req.SlotCount != total {
		return Session{}, Errorf(ErrQuotaMismatch, "the quotas add up to %d, the slot count is %d", total, req.SlotCount)
	}
	// The share kept for on-site is the policy's in effect when the session
	// first gives slots out: a session released before a new share takes
	// effect keeps the rule it was published under.
	if p, _ := h.PolicyAt(firstRelease); p.OnsiteShare > 0 {
		if need := onsiteNeed(total, p.OnsiteShare); onsite < need {
			return Session{}, Errorf(ErrOnsiteShort, "the hospital keeps %d%% of a session's slots for on-site patients: %d of %d here, the on-site pool has %d",
				p.OnsiteShare, need, total, onsite)
		}
	}
	if err := auditText("reason", req.Reason, 500); err != nil {
		return Session{}, err
	}
	sess, err := BuildSession(SessionSpec{ID: id, HospitalID: doc.HospitalID, DepartmentID: dept, DoctorID: doc.ID,
		VisitDate: req.VisitDate, Period: req.Period, StartsAt: req.StartsAt, EndsAt: req.EndsAt, Mode: req.Mode, Quotas: req.Quotas})
	if err != nil {
		return Session{}, err
	}
	// The catalog's view of overlaps answers at once; the store checks
	// again in the transaction, against what other instances published.
	for _, o := range cat.HospitalSessions(doc.HospitalID) {
		if overlaps && o.ID != sess.ID && o.DoctorID == doc.ID && !o.Stopped() && o.StartsAt.Before(sess.EndsAt) && sess.StartsAt.Before(o.EndsAt) {
			return Session{}, Errorf(ErrSessionOverlap, "the doctor already has session %s from %s to %s", o.ID,
				o.StartsAt.In(h.Location()).Format("2006-01-02 15:04"), o.EndsAt.In(h.Location()).Format("15:04"))
		}
	}
	return sess, nil
}

// ScheduleHorizonDays is how far ahead a session may be published: a year
// and a day after today, so a yearly clinic is published on the same date
// a year on (a leap year's too). review9 published one on 9999-12-01: a
// typo in the year that nothing refused, cluttering the schedule for
// ever. Slots are released days ahead (PRODUCT.md: 7 days, for example);
// no hospital means a date further than this, so it is a fixed bound, not
// a policy.
const ScheduleHorizonDays = 366

// scheduleHorizon is the first instant too far ahead for a session: the
// midnight, in loc, that ends the day ScheduleHorizonDays after now's.
func scheduleHorizon(now time.Time, loc *time.Location) time.Time {
	y, m, d := now.In(loc).Date()
	return time.Date(y, m, d+ScheduleHorizonDays+1, 0, 0, 0, 0, loc)
}

// onsiteNeed is how many of total slots a share (percent) keeps for the
// on-site pool, rounded up.
func onsiteNeed(total, share int) int {
	return (total*share + 99) / 100
}

// OnsiteQuotaFor is the smallest on-site quota that, beside others slots in
// the other pools, keeps share percent of the session's slots for on-site
// patients as CreateSession requires: what a publish form proposes. 0 for
// no share (or a share of all, which no other pool can meet).
func OnsiteQuotaFor(others, share int) int {
	if share <= 0 || share >= 100 {
		return 0
	}
	k := 0
	for k < onsiteNeed(others+k, share) {
		k++
	}
	return k
}

// CreateSession publishes a clinic session: stored in SQL (refused there
// too if it overlaps another of the doctor's), then loaded into Redis
// before the catalog shows it, so it is bookable from its release times on
// this instance at once.
func (s *Service) CreateSession(ctx context.Context, actor Actor, req SessionRequest) (*Session, error) {
	id := ""
	if req.IdempotencyKey != "" {
		id = s.idempotentID(actor.AccountID, "session\x00"+req.IdempotencyKey)
		if sess, ok := s.catalog.Load().Session(id); ok {
			return sess, nil // a repeat: the session it published
		}
	}
	sess, err := s.sessionFromRequest(actor, id, req)
	if err != nil {
		return nil, err
	}
	sess.Room = strings.TrimSpace(req.Room)
	if err := checkText("room", sess.Room, 60); err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	if err := s.lotteryNotice(&sess, now); err != nil {
		return nil, err
	}
	StampPublished(nil, &sess, now)
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "session_create",
		Target: "session:" + sess.ID, HospitalID: sess.HospitalID, Reason: sessionSummary(&sess, req.Reason)}
	if err := s.store.CreateSession(ctx, sess, audit); err != nil {
		if id != "" && errors.Is(err, ErrSessionOverlap) {
			// A repeat whose first answer was lost: SQL has the session
			// (its own id) though this catalog did not yet.
			if _, rerr := s.Refresh(ctx); rerr == nil {
				if done, ok := s.catalog.Load().Session(id); ok {
					return done, nil
				}
			}
		}
		return nil, err
	}
	if _, err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	got, ok := s.catalog.Load().Session(sess.ID)
	if !ok {
		return nil, fmt.Errorf("create session %s: not in the catalog after refresh", sess.ID)
	}
	return got, nil
}

// SessionPatch is a change of a published session (PATCH): what it leaves
// zero stays as it is, and its pools are merged into the session's by
// channel, so a body naming one pool's release time changes that and
// nothing else (review19b M1: a partial body deleted the pools it left
// out). A pool is never removed: a quota of 0 empties it.
type SessionPatch struct {
	DoctorID     string // empty, or the session's own: a session keeps its doctor
	DepartmentID string
	VisitDate    string // empty: the new start's date, when the start moves
	Period       string
	StartsAt     time.Time
	EndsAt       time.Time
	// SlotCount, when given, is checked against the session's slots after
	// the change, extra slots (加号) included, as the listing counts them.
	SlotCount int
	Mode      ReleaseMode // every pool whose patch gives no mode of its own
	Pools     []PoolPatch
	Reason    string
	// Version is the session's version the change was made from: refused
	// (edited_meanwhile) when the session changed since. 0: not checked,
	// for the service's own callers; the API requires it.
	Version int64
}

// PoolPatch changes one channel's pool; a new channel adds a pool (which
// needs a quota and a release time).
type PoolPatch struct {
	Channel Channel
	// Quota, when set, is the pool's slots after the change, its extra
	// slots included (what the listing shows): at least those, which an
	// edit never drops.
	Quota     *int
	ReleaseAt time.Time // zero: unchanged; a lottery window moves with it unless given
	Mode      ReleaseMode
	OpensAt   time.Time
	DrawAt    time.Time
}

// PatchOf is the patch that sets every field of a full request: what the
// old full-replace body said, its pools merged by channel (pools it leaves
// out stay).
func PatchOf(req SessionRequest) SessionPatch {
	p := SessionPatch{DoctorID: req.DoctorID, DepartmentID: req.DepartmentID, VisitDate: req.VisitDate, Period: req.Period,
		StartsAt: req.StartsAt, EndsAt: req.EndsAt, SlotCount: req.SlotCount, Mode: req.Mode, Reason: req.Reason}
	for _, q := range req.Quotas {
		n, mode := q.Quota, q.Mode
		if mode == "" {
			mode = req.Mode
		}
		if mode == "" {
			mode = FirstCome
		}
		p.Pools = append(p.Pools, PoolPatch{Channel: q.Channel, Quota: &n, ReleaseAt: q.ReleaseAt, Mode: mode, OpensAt: q.OpensAt, DrawAt: q.DrawAt})
	}
	return p
}

// ExtraSlots counts a session's extra slots (加号) per channel: those the
// desk added at or after its end (AddExtraSlots), where no slot of its
// layout starts.
func (s *Session) ExtraSlots() map[Channel]int {
	out := map[Channel]int{}
	for _, sl := range s.Slots {
		if !sl.StartsAt.Before(s.EndsAt) {
			out[sl.Channel]++
		}
	}
	return out
}

// merge is the request that lays old out again with p applied, and old's
// extra slots, to be added back after the layout.
func (p SessionPatch) merge(old *Session, loc *time.Location) (SessionRequest, []Slot, error) {
	req := SessionRequest{DoctorID: old.DoctorID, DepartmentID: old.DepartmentID, VisitDate: old.VisitDate, Period: old.Period,
		StartsAt: old.StartsAt, EndsAt: old.EndsAt, Reason: p.Reason}
	if p.DoctorID != "" && p.DoctorID != old.DoctorID {
		return req, nil, Errorf(ErrInvalidField, "a session keeps its doctor: delete it and publish another")
	}
	if p.DepartmentID != "" {
		req.DepartmentID = p.DepartmentID
	}
	if !p.StartsAt.IsZero() {
		req.StartsAt = p.StartsAt
		req.VisitDate = p.StartsAt.In(loc).Format(time.DateOnly)
	}
	if !p.EndsAt.IsZero() {
		req.EndsAt = p.EndsAt
	}
	if p.VisitDate != "" {
		req.VisitDate = p.VisitDate
	}
	if p.Period != "" {
		req.Period = p.Period
	}
	var extras []Slot
	for _, sl := range old.Slots {
		if !sl.StartsAt.Before(old.EndsAt) {
			extras = append(extras, sl)
		}
	}
	extra := old.ExtraSlots()
	for _, q := range old.Channels {
		q.Quota -= extra[q.Channel]
		if p.Mode != "" {
			q.Mode = p.Mode
		}
		req.Quotas = append(req.Quotas, q)
	}
	for _, pp := range p.Pools {
		i := -1
		for j, q := range req.Quotas {
			if q.Channel == pp.Channel {
				i = j
			}
		}
		if i < 0 {
			if pp.Quota == nil {
				return req, nil, FieldErrorf(ErrInvalidField, string(pp.Channel), "the session has no %s pool: a new pool needs a quota and a release_at", pp.Channel)
			}
			req.Quotas = append(req.Quotas, ChannelQuota{Channel: pp.Channel, Mode: p.Mode})
			i = len(req.Quotas) - 1
		}
		q := &req.Quotas[i]
		if pp.Quota != nil {
			if *pp.Quota < extra[q.Channel] {
				return req, nil, FieldErrorf(ErrInvalidField, string(q.Channel), "the %s pool has %d extra slots (加号) the desk added with a doctor's consent: its quota is at least %d; an edit never drops them",
					q.Channel, extra[q.Channel], extra[q.Channel])
			}
			q.Quota = *pp.Quota - extra[q.Channel]
		}
		if !pp.ReleaseAt.IsZero() {
			// A lottery window moves with its release unless the patch
			// places it.
			if shift := pp.ReleaseAt.Sub(q.ReleaseAt); !q.ReleaseAt.IsZero() {
				if !q.OpensAt.IsZero() {
					q.OpensAt = q.OpensAt.Add(shift)
				}
				if !q.DrawAt.IsZero() {
					q.DrawAt = q.DrawAt.Add(shift)
				}
			}
			q.ReleaseAt = pp.ReleaseAt
		}
		if pp.Mode != "" {
			q.Mode = pp.Mode
		}
		if !pp.OpensAt.IsZero() {
			q.OpensAt = pp.OpensAt
		}
		if !pp.DrawAt.IsZero() {
			q.DrawAt = pp.DrawAt
		}
		q.Draw = nil
	}
	if p.SlotCount > 0 {
		if req.SlotCount = p.SlotCount - len(extras); req.SlotCount <= 0 {
			return req, nil, Errorf(ErrQuotaMismatch, "slot_count %d does not leave room for the session's %d extra slots", p.SlotCount, len(extras))
		}
	}
	return req, extras, nil
}

// withExtras adds old's extra slots back to sess after its layout: numbered
// after its last slot, moved with its end, and counted in their pools.
func withExtras(sess *Session, old *Session, extras []Slot) {
	shift := sess.EndsAt.Sub(old.EndsAt)
	n := len(sess.Slots)
	for _, sl := range extras {
		n++
		sess.Slots = append(sess.Slots, Slot{No: n, Channel: sl.Channel, StartsAt: sl.StartsAt.Add(shift), EndsAt: sl.EndsAt.Add(shift)})
		for i := range sess.Channels {
			if sess.Channels[i].Channel == sl.Channel {
				sess.Channels[i].Quota++
			}
		}
	}
}

// UpdateSession changes a session's times, quotas, release times and mode
// (a SessionPatch: what it leaves out stays, the desk's extra slots too).
// Before any of its pools opens, the whole session may change: closed in
// Redis first (nothing can be admitted while it changes), changed in SQL
// (refused there if anything was booked, entered or waitlisted, or its
// lottery window opened — a seed committed before the window opens is
// kept), then reloaded into Redis from SQL, which opens it again, changed or
// (if SQL refused) as it was. Once a pool has opened, only the pools not
// yet released change (updatePools; review19b M3).
func (s *Service) UpdateSession(ctx context.Context, actor Actor, id string, p SessionPatch) (*Session, error) {
	old, err := s.changeable(actor, id)
	if err != nil {
		return nil, err
	}
	loc := chinaStandardTime
	if h, ok := s.catalog.Load().Hospital(old.HospitalID); ok {
		loc = h.Location()
	}
	if open := openPools(old, s.cfg.Now(), 0); len(open) > 0 {
		return s.updatePools(ctx, actor, old, p, loc)
	}
	req, extras, err := p.merge(old, loc)
	if err != nil {
		return nil, err
	}
	sess, err := s.sessionFromRequest(actor, old.ID, req)
	if err != nil {
		return nil, err
	}
	withExtras(&sess, old, extras)
	if err := old.at(p.Version); err != nil {
		return nil, err
	}
	sess.Version = p.Version // what SQL checks, in the transaction
	now := s.cfg.Now()
	if err := s.releaseNotice(old, &sess, now); err != nil {
		return nil, err
	}
	StampPublished(old, &sess, now)
	for _, q := range sess.Channels {
		if was, ok := old.Channel(q.Channel); q.IsLottery() && (!ok || !was.OpensAt.Equal(q.OpensAt) || !was.DrawAt.Equal(q.DrawAt)) {
			if err := lotteryWindow(q); err != nil {
				return nil, err
			}
		}
	}
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "session_update",
		Target: "session:" + sess.ID, HospitalID: sess.HospitalID, Reason: sessionChanges(old, &sess, loc, p.Reason)}
	err = s.changeClosed(ctx, old, func() error { return s.store.UpdateSession(ctx, sess, audit) })
	if err != nil {
		return nil, err
	}
	got, ok := s.catalog.Load().Session(sess.ID)
	if !ok {
		return nil, ErrSessionNotFound
	}
	return got, nil
}

// PoolEditMargin is how near its opening a pool stops being editable on
// its own (updatePools): a pool opening within it is treated as open. The
// edit rebuilds the pool in Redis after SQL commits, without closing the
// session (its open pools keep taking bookings); the margin keeps the old
// pool from opening in Redis in between.
const PoolEditMargin = time.Minute

// openPools are the pools of sess open at now+margin (released, or their
// lottery window open, or drawing or drawn): those an edit must leave as
// they are.
func openPools(sess *Session, now time.Time, margin time.Duration) map[Channel]bool {
	open := map[Channel]bool{}
	for _, q := range sess.Channels {
		if q.Released(now.Add(margin)) || q.Draw != nil && q.Draw.Status != DrawOpen {
			open[q.Channel] = true
		}
	}
	return open
}

// updatePools is UpdateSession of a session a pool of which has opened
// (review19b M3: a referral pool released 14 days ahead froze the online
// pool's quota and release time for good). The patients of the open pools
// see its hours, its department and those pools' slots: they stay. A pool
// not yet open (by PoolEditMargin) with nothing booked or entered in it
// changes its quota, release time and mode as before release; a pool may
// be added. Its slots are laid out again over the clinic's hours (its own
// numbers kept, new ones after the session's last), every other slot
// stays as it is. The session is not closed in Redis: SQL changes only the
// edited pools (refused, session_released, if anything was booked or
// entered in one meanwhile, under the session row's lock), then the
// session is rebuilt in Redis from SQL, which is safe while its open pools
// take bookings (reconciliation keeps every hold in flight).
func (s *Service) updatePools(ctx context.Context, actor Actor, old *Session, p SessionPatch, loc *time.Location) (*Session, error) {
	now := s.cfg.Now()
	open := openPools(old, now, PoolEditMargin)
	req, extras, err := p.merge(old, loc)
	if err != nil {
		return nil, err
	}
	if req.DepartmentID != old.DepartmentID || req.VisitDate != old.VisitDate || req.Period != old.Period ||
		!req.StartsAt.Equal(old.StartsAt) || !req.EndsAt.Equal(old.EndsAt) {
		return nil, Errorf(ErrSessionReleased, "%s: its date, hours, period and department stay as its patients see them; only pools not yet released change", openSaid(old, open, loc))
	}
	sess, err := s.sessionFromRequest(actor, old.ID, req)
	if err != nil {
		return nil, err
	}
	withExtras(&sess, old, extras)
	next := *old
	next.Channels = nil
	var changed []Channel
	for _, q := range sess.Channels {
		was, ok := old.Channel(q.Channel)
		same := ok && was.Quota == q.Quota && was.ReleaseAt.Equal(q.ReleaseAt) && was.Mode == q.Mode &&
			was.OpensAt.Equal(q.OpensAt) && was.DrawAt.Equal(q.DrawAt)
		switch {
		case same:
			next.Channels = append(next.Channels, was)
		case open[q.Channel]:
			e := Errorf(ErrSessionReleased, "%s: only pools not yet released (nor opening within %s), with nothing booked in them, change", openSaid(old, open, loc), PoolEditMargin)
			e.Field = string(q.Channel)
			return nil, e
		default:
			next.Channels = append(next.Channels, q)
			changed = append(changed, q.Channel)
		}
	}
	// Only a pool whose quota changed is laid out again: one whose release
	// time or mode changed keeps its slots and their times.
	var resized []Channel
	for _, c := range changed {
		was, ok := old.Channel(c)
		if q, _ := next.Channel(c); !ok || was.Quota != q.Quota {
			resized = append(resized, c)
		}
	}
	next.Slots = relayPools(old, &next, resized)
	if err := old.at(p.Version); err != nil {
		return nil, err
	}
	next.Version = p.Version
	if err := s.releaseNotice(old, &next, now); err != nil {
		return nil, err
	}
	StampPublished(old, &next, now)
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "session_update",
		Target: "session:" + next.ID, HospitalID: next.HospitalID, Reason: sessionChanges(old, &next, loc, p.Reason)}
	err = s.store.UpdatePools(ctx, next, changed, now.Add(PoolEditMargin), audit)
	if errors.Is(err, ErrOutcomeUnknown) {
		err = errOutcomeUnknown
	}
	// Rebuilt whatever SQL said: Redis follows SQL, changed or as it was.
	s.rebuild(ctx, next.ID)
	if err != nil {
		return nil, err
	}
	got, ok := s.catalog.Load().Session(next.ID)
	if !ok {
		return nil, ErrSessionNotFound
	}
	return got, nil
}

// openSaid names a session's open pools for a refusal: "the online pool
// is released (since 2026-12-01 08:00)".
func openSaid(sess *Session, open map[Channel]bool, loc *time.Location) string {
	var parts []string
	for _, q := range sess.Channels {
		if open[q.Channel] {
			parts = append(parts, fmt.Sprintf("%s (from %s)", q.Channel, q.OpensFor().In(loc).Format("2006-01-02 15:04")))
		}
	}
	return "this session's pools " + strings.Join(parts, ", ") + " are released"
}

// relayPools lays next's slots out: every slot of old as it was, but those
// of the changed pools' regular slots (not its extra slots), which are
// spread again over the clinic's hours, one an equal share each, keeping
// the pool's numbers in order and numbering the rest after the session's
// last slot.
func relayPools(old, next *Session, changed []Channel) []Slot {
	redo := map[Channel]bool{}
	for _, c := range changed {
		redo[c] = true
	}
	last := 0
	own := map[Channel][]int{}
	var out []Slot
	for _, sl := range old.Slots {
		last = max(last, sl.No)
		if redo[sl.Channel] && sl.StartsAt.Before(old.EndsAt) {
			own[sl.Channel] = append(own[sl.Channel], sl.No)
			continue
		}
		out = append(out, sl)
	}
	extra := old.ExtraSlots()
	for _, c := range changed {
		q, _ := next.Channel(c)
		n := q.Quota - extra[c]
		if n <= 0 {
			continue
		}
		step := (next.EndsAt.Sub(next.StartsAt) / time.Duration(n)).Truncate(time.Second)
		nums := own[c]
		sort.Ints(nums)
		for i := range n {
			no := 0
			if i < len(nums) {
				no = nums[i]
			} else {
				last++
				no = last
			}
			start := next.StartsAt.Add(time.Duration(i) * step)
			out = append(out, Slot{No: no, Channel: c, StartsAt: start, EndsAt: start.Add(step)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].No < out[j].No })
	return out
}

// releaseNotice refuses an edit of a published session that opens a pool
// earlier than announced (its release, or its lottery window, moved
// earlier; or a pool that had no slots given some) sooner than the
// hospital's notice from now: patients plan for the announced time, and a
// release moved to "in a minute" hands the pool to whoever polls the
// listing, or to whom an insider tells (review19b H2; docs/security.md,
// "Release times"). A release moved later harms nobody watching; a quota
// changed at the announced time neither.
func (s *Service) releaseNotice(old, next *Session, now time.Time) error {
	h, ok := s.catalog.Load().Hospital(old.HospitalID)
	if !ok {
		return ErrHospitalNotFound
	}
	notice := policyAt(h, now).ReleaseNotice()
	loc := h.Location()
	for _, q := range next.Channels {
		if q.Quota == 0 {
			continue
		}
		was, ok := old.Channel(q.Channel)
		announced := ok && was.Quota > 0
		if announced && !q.OpensFor().Before(was.OpensFor()) {
			continue
		}
		if earliest := now.Add(notice); q.OpensFor().Before(earliest) {
			what := "had no slots"
			if announced {
				what = "was announced for " + was.OpensFor().In(loc).Format("2006-01-02 15:04")
			}
			e := Errorf(ErrReleaseNotice, "the %s pool %s and would open at %s: a published release moves earlier only with %d hours' notice, to %s at the earliest; keep it or move it later",
				q.Channel, what, q.OpensFor().In(loc).Format("2006-01-02 15:04"), int(notice.Hours()), earliest.In(loc).Format("2006-01-02 15:04"))
			e.Field = string(q.Channel)
			return e
		}
	}
	return nil
}

// StampPublished sets when each pool of next was published (PublishedAt):
// now for a pool that is new or whose release mode, release time or
// lottery window differs from old's, else old's own (zero if old's was not
// kept). A quota's change alone publishes nothing anew: the notice the
// public had of when and how the pool opens stands. old is nil for a new
// session.
func StampPublished(old, next *Session, now time.Time) {
	for i := range next.Channels {
		q := &next.Channels[i]
		if old != nil {
			if was, ok := old.Channel(q.Channel); ok && orFirstCome(was.Mode) == orFirstCome(q.Mode) && was.ReleaseAt.Equal(q.ReleaseAt) &&
				was.OpensAt.Equal(q.OpensAt) && was.DrawAt.Equal(q.DrawAt) {
				q.PublishedAt = was.PublishedAt
				continue
			}
		}
		q.PublishedAt = now
	}
}

// orFirstCome is m, or FirstCome for the empty mode (a pool that says none).
func orFirstCome(m ReleaseMode) ReleaseMode {
	if m == "" {
		return FirstCome
	}
	return m
}

// MinLotteryWindow is the shortest entry window of a lottery pool: the
// default window. A window of seconds is a draw among those who were told
// (review20 M1; docs/fairness.md "Notice of a new lottery").
const MinLotteryWindow = DefaultDrawAfter

// lotteryNotice refuses a new session's lottery pool that opens for entries
// sooner than the hospital's release notice from now, or whose window is
// shorter than MinLotteryWindow: published with a minute's notice and a
// half-minute window, the only entrant was the one who knew (review20 M1).
// A hospital that must open lotteries sooner lowers release_notice_hours in
// its policy (an audited policy change).
func (s *Service) lotteryNotice(sess *Session, now time.Time) error {
	h, ok := s.catalog.Load().Hospital(sess.HospitalID)
	if !ok {
		return ErrHospitalNotFound
	}
	notice := policyAt(h, now).ReleaseNotice()
	for _, q := range sess.Channels {
		if !q.IsLottery() || q.Quota == 0 {
			continue
		}
		if earliest := now.Add(notice); q.OpensFor().Before(earliest) {
			e := Errorf(ErrReleaseNotice, "the %s lottery would take entries from %s: a new lottery opens with at least %d hours' notice, at %s at the earliest",
				q.Channel, q.OpensFor().In(h.Location()).Format("2006-01-02 15:04"), int(notice.Hours()), earliest.In(h.Location()).Format("2006-01-02 15:04"))
			e.Field = string(q.Channel)
			return e
		}
		if err := lotteryWindow(q); err != nil {
			return err
		}
	}
	return nil
}

// lotteryWindow refuses a lottery pool whose entry window is shorter than
// MinLotteryWindow.
func lotteryWindow(q ChannelQuota) error {
	if q.Quota > 0 && q.DrawAt.Sub(q.OpensFor()) < MinLotteryWindow {
		e := Errorf(ErrLotteryWindowShort, "the %s lottery's entry window lasts %s: at least %d minutes, so that those who were not told in advance can enter",
			q.Channel, q.DrawAt.Sub(q.OpensFor()).Round(time.Second), int(MinLotteryWindow.Minutes()))
		e.Field = string(q.Channel)
		return e
	}
	return nil
}

// AdminSession is a session as its administrators read it before an edit.
func (s *Service) AdminSession(actor Actor, id string) (*Session, error) {
	if actor.Role != RoleAdmin {
		return nil, Errorf(ErrForbidden, "only administrators read a session to change it")
	}
	sess, ok := s.catalog.Load().Session(id) // a malformed id is simply not there
	if !ok {
		return nil, ErrSessionNotFound
	}
	if !actor.Covers(sess.HospitalID) {
		return nil, Errorf(ErrForbidden, "this session is another hospital's")
	}
	return sess, nil
}

// DeleteSession withdraws a session while nothing is booked, entered or
// waitlisted in it, released or not (review19b M3: a week published by
// mistake had to be stopped, session by session, once one early pool had
// opened). Closed in Redis first, so nothing is admitted; the holds
// admitted before the close are let finish (a released session may have a
// booking committing), then SQL deletes it unless a booking, an entry or a
// waiting place exists (session_released), and Redis is rebuilt from SQL:
// gone, or open again as it was. A patient looking at a withdrawn released
// session finds it gone from the listing; an attempt on it is refused
// (404 session_not_found; 422 channel_closed from Redis on an instance
// whose catalog has not yet heard, for at most a second).
func (s *Service) DeleteSession(ctx context.Context, actor Actor, id, reason string) error {
	return s.withdraw(ctx, actor, id, 0, reason)
}

// withdraw is DeleteSession at the session's version (any when 0):
// ErrEditedMeanwhile when it has changed since (a bulk withdrawal read it).
func (s *Service) withdraw(ctx context.Context, actor Actor, id string, version int64, reason string) error {
	old, err := s.changeable(actor, id)
	if err != nil {
		return err
	}
	if err := old.at(version); err != nil {
		return err
	}
	if err := auditText("reason", reason, 500); err != nil {
		return err
	}
	audit := AuditEntry{ID: newID(), TS: s.cfg.Now(), ActorID: actor.AccountID, ActorRole: actor.Role, Action: "session_delete",
		Target: "session:" + old.ID, HospitalID: old.HospitalID, Reason: sessionSummary(old, reason)}
	if open := openPools(old, s.cfg.Now(), 0); len(open) > 0 {
		loc := chinaStandardTime
		if h, ok := s.catalog.Load().Hospital(old.HospitalID); ok {
			loc = h.Location()
		}
		audit.Reason = "withdrawn with nothing booked; " + openSaid(old, open, loc) + "; " + audit.Reason
	}
	return s.changeClosed(ctx, old, func() error {
		s.drainHolds(ctx, old)
		return s.store.DeleteSession(ctx, old.ID, version, audit)
	})
}

// changeable finds a session an administrator may change or withdraw:
// theirs and not stopped. What may change depends on which of its pools
// have opened (UpdateSession) and on what SQL has booked.
func (s *Service) changeable(actor Actor, id string) (*Session, error) {
	if actor.Role != RoleAdmin {
		return nil, Errorf(ErrForbidden, "only administrators change schedules")
	}
	return sessionToChange(s.catalog.Load(), actor, id, ErrStoppedUnchangeable)
}

// sessionToChange is the prelude of every change of a session (an edit, a
// withdrawal, a stop, an announcement, a move) once its caller has checked
// the actor's role: the session in cat (a malformed id is simply not
// there), of a hospital the actor covers, not stopped (stoppedErr, the
// refusal the caller answers for it). The version is the caller's to check
// (Session.at) where its own refusals come first.
func sessionToChange(cat *Catalog, actor Actor, id string, stoppedErr error) (*Session, error) {
	sess, ok := cat.Session(id)
	if !ok {
		return nil, ErrSessionNotFound
	}
	if !actor.Covers(sess.HospitalID) {
		return nil, Errorf(ErrForbidden, "this session is another hospital's")
	}
	if sess.Stopped() {
		return nil, stoppedErr
	}
	return sess, nil
}

// at refuses a change made from another version than the session's
// (edited_meanwhile); 0 is not checked here (SQL checks the version again
// in the change's transaction).
func (s *Session) at(version int64) error {
	if version != 0 && version != s.Version {
		return Errorf(ErrEditedMeanwhile, "the session is at version %d, this change was made from version %d: read it again and redo the change",
			s.Version, version)
	}
	return nil
}

// changeClosed runs a change of a session's layout in SQL while the
// session is closed in Redis, then reloads it from SQL whatever SQL said.
func (s *Service) changeClosed(ctx context.Context, sess *Session, change func() error) error {
	if err := s.adm.Close(ctx, sess, s.cfg.ReloadTimeout); err != nil {
		return err
	}
	err := change()
	if errors.Is(err, ErrOutcomeUnknown) {
		err = errOutcomeUnknown
	}
	if rerr := s.adm.Reopen(ctx, sess); rerr != nil {
		s.log.Warn("reopen a changed session; it stays closed until its mark expires", "session_id", sess.ID, "err", rerr)
	}
	// Reload whatever happened: the catalog learns the change (or that the
	// session is gone), and Redis is rebuilt from SQL, which opens the
	// session again, changed or as it was.
	s.rebuild(ctx, sess.ID)
	return err
}

// rebuild refreshes the catalog and rebuilds one session in Redis from
// SQL after its schedule changed (or a change failed); a failure is left to
// a reconciliation in the background.
func (s *Service) rebuild(ctx context.Context, sessionID string) {
	if _, err := s.Refresh(ctx); err != nil {
		s.log.Warn("refresh after a schedule change", "session_id", sessionID, "err", err)
	}
	cat := s.catalog.Load()
	if next, ok := cat.Session(sessionID); ok {
		if err := s.reconcile(ctx, cat, []*Session{next}); err != nil {
			s.log.Warn("rebuild a changed session; it will be reconciled", "session_id", sessionID, "err", err)
			s.reconcileLater(sessionID)
		}
	}
}

// sessionChanges is the audit log's line for an edit: what changed, in the
// hospital's local time, the extra slots kept, then the reason.
func sessionChanges(old, next *Session, loc *time.Location, reason string) string {
	var parts []string
	when := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04") }
	if old.DepartmentID != next.DepartmentID {
		parts = append(parts, fmt.Sprintf("department %s→%s", old.DepartmentID, next.DepartmentID))
	}
	if old.VisitDate != next.VisitDate || old.Period != next.Period {
		parts = append(parts, fmt.Sprintf("day %s %s→%s %s", old.VisitDate, old.Period, next.VisitDate, next.Period))
	}
	if !old.StartsAt.Equal(next.StartsAt) || !old.EndsAt.Equal(next.EndsAt) {
		parts = append(parts, fmt.Sprintf("time %s–%s→%s–%s", when(old.StartsAt), old.EndsAt.In(loc).Format("15:04"),
			when(next.StartsAt), next.EndsAt.In(loc).Format("15:04")))
	}
	for _, q := range next.Channels {
		was, ok := old.Channel(q.Channel)
		if !ok {
			parts = append(parts, fmt.Sprintf("%s pool added: %d from %s (%s)", q.Channel, q.Quota, when(q.OpensFor()), q.Mode))
			continue
		}
		if was.Quota != q.Quota {
			parts = append(parts, fmt.Sprintf("%s quota %d→%d", q.Channel, was.Quota, q.Quota))
		}
		if !was.ReleaseAt.Equal(q.ReleaseAt) {
			parts = append(parts, fmt.Sprintf("%s release %s→%s", q.Channel, when(was.ReleaseAt), when(q.ReleaseAt)))
		}
		if was.Mode != q.Mode {
			parts = append(parts, fmt.Sprintf("%s mode %s→%s", q.Channel, was.Mode, q.Mode))
		} else if q.Mode == Lottery && (!was.OpensAt.Equal(q.OpensAt) || !was.DrawAt.Equal(q.DrawAt)) {
			parts = append(parts, fmt.Sprintf("%s lottery %s–%s→%s–%s", q.Channel, when(was.OpensAt), when(was.DrawAt), when(q.OpensAt), when(q.DrawAt)))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "no change")
	}
	out := "changed: " + strings.Join(parts, ", ")
	extra := next.ExtraSlots()
	for _, q := range next.Channels {
		if n := extra[q.Channel]; n > 0 {
			out += fmt.Sprintf("; kept %d extra slots (加号) in %s", n, q.Channel)
		}
	}
	if reason != "" {
		out += "; " + reason
	}
	return out
}

// sessionSummary is the audit log's line for a session's layout.
func sessionSummary(s *Session, reason string) string {
	out := fmt.Sprintf("doctor %s %s %s %s–%s:", s.DoctorID, s.VisitDate, s.Period,
		s.StartsAt.Format(time.RFC3339), s.EndsAt.Format(time.RFC3339))
	for _, q := range s.Channels {
		out += fmt.Sprintf(" %s %d from %s (%s)", q.Channel, q.Quota, q.ReleaseAt.Format(time.RFC3339), q.Mode)
	}
	if reason != "" {
		out += "; " + reason
	}
	return out
}

// Remaining counts a session's free slots per channel in Redis.
func (s *Service) Remaining(ctx context.Context, sess *Session) (map[Channel]int, error) {
	rem, err := s.adm.Remaining(ctx, []*Session{sess})
	if err != nil {
		return nil, err
	}
	return rem[0], nil
}

// StopResult is what a stopped clinic (停诊) undid.
type StopResult struct {
	SessionID string
	StoppedAt time.Time
	// Bookings cancelled without penalty, waitlist entries dropped, lottery
	// entries withdrawn, and the notifications written for them: Notified
	// those to an account (its console tells them), ToCallBack those of a
	// person no account lists, on the hospital's call-back list
	// (callback.go) until the call centre or the desk tells them.
	Cancelled, WaitlistEnded, EntriesEnded, Notified, ToCallBack int
	// WaitlistCarried counts, with a substitute, the waiting places moved
	// to the substitute's session (review19b L5) instead of ended.
	WaitlistCarried int
	// With a substitute: their session, how many slots are held for the
	// cancelled patients there, and until when.
	SubstituteSessionID string
	Offered             int
	HoldUntil           time.Time
}

// Notification is what a patient must be told, kept durably until a
// channel delivers it.
type Notification struct {
	ID         string
	Kind       string // session_stopped, case_answered, case_closed; booked, cancelled, no_show (from events); lottery_lost, lottery_waitlisted (a draw)
	HospitalID string
	SessionID  string // the session it is about, when it is about one
	EventID    string // the event it tells of, for one derived from the event log
	AccountID  string // empty for a person no account lists (phone, desk)
	IdentityID string
	BookingID  string
	WaitlistID string
	EntryID    string
	CaseID     string // the report or complaint answered or closed
	Body       string
	CreatedAt  time.Time
	ReadAt     time.Time // zero while unread in the patient's console
	// CallBack: the person no account lists is rung to hear it, from the
	// hospital's call-back list (callback.go, happenedOffTheLine).
	CallBack bool
}

// StopSession stops a clinic (停诊) that may have bookings: the doctor
// cannot come. In this order:
//
//  1. Redis closes the session: no booking, entry or waitlist hand-out is
//     admitted from here on, on any instance (they share Redis), whatever
//     their catalog still says.
//  2. The holds admitted before the close are let finish: it waits until
//     the session has no pending hold (each commit ends within
//     CommitTimeout), so every booking that will ever commit has.
//  3. SQL, in one transaction: the session is marked stopped (the booking
//     insert refuses a stopped session from then on), every active booking
//     cancelled without penalty (never late, no no-show), every waiting
//     waitlist entry and live lottery entry ended, each with a durable
//     notification for its account (or person), the cancellations' events
//     and one audit row.
//  4. The session is rebuilt in Redis from SQL: closed, its holds released,
//     the identities' quota given back, its waitlist emptied.
//
// If step 3 fails, step 4 opens the session again as SQL says; the
// administrator repeats the stop.
func (s *Service) StopSession(ctx context.Context, actor Actor, id, reason string) (StopResult, error) {
	return s.Stop(ctx, actor, id, StopRequest{Reason: reason})
}

// Stop is StopSession, with a substitute doctor when the request names one
// (substitute.go): the same transaction then publishes the session for the
// substitute and holds each cancelled patient's slot there, offered to them
// until req.HoldUntil.
func (s *Service) Stop(ctx context.Context, actor Actor, id string, req StopRequest) (StopResult, error) {
	reason := req.Reason
	if actor.Role != RoleAdmin {
		return StopResult{}, Errorf(ErrForbidden, "only administrators stop clinics")
	}
	if err := requireText("reason", reason, 2, "; patients are told it"); err != nil {
		return StopResult{}, err
	}
	if err := auditText("reason", reason, 200); err != nil {
		return StopResult{}, err
	}
	cat := s.catalog.Load()
	sess, err := sessionToChange(cat, actor, id, ErrSessionStopped)
	if err != nil {
		return StopResult{}, err
	}
	if err := sess.at(req.Version); err != nil {
		return StopResult{}, err
	}
	now := s.cfg.Now()
	if !now.Before(sess.EndsAt) {
		return StopResult{}, Errorf(ErrSessionClosed, "the session has ended")
	}
	if req.ConfirmBooked != nil {
		n, err := s.sessionBooked(ctx, sess.ID)
		if err != nil {
			return StopResult{}, err
		}
		if n.Total() != *req.ConfirmBooked {
			return StopResult{}, FieldErrorf(ErrBookedChanged, "confirm_booked", "the session has %d active bookings, not the %d confirmed: read it again before stopping it",
				n.Total(), *req.ConfirmBooked)
		}
	}
	sub, err := s.substitution(cat, sess, req, now)
	if err != nil {
		return StopResult{}, err
	}
	// The mark outlives the stop (the drain and the transaction) so no
	// reconciliation reopens the session meanwhile; once SQL has it
	// stopped, Load keeps it closed anyway. If the stop fails, the mark is
	// dropped and the session rebuilt as SQL has it.
	if err := s.adm.Close(ctx, sess, s.cfg.ReloadTimeout); err != nil {
		return StopResult{}, err
	}
	s.drainHolds(ctx, sess)
	doc, _ := cat.Doctor(sess.DoctorID)
	h, _ := cat.Hospital(sess.HospitalID)
	notices := stopNotices(sess, doc, h, reason)
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID,
		ActorRole: actor.Role, Action: "session_stop", Target: "session:" + sess.ID, HospitalID: sess.HospitalID, Reason: reason}
	if sub != nil {
		subDoc, _ := cat.Doctor(sub.Session.DoctorID)
		sub.Notice, sub.Unlisted = substituteNotices(sess, doc, subDoc, h, reason, sub.HoldUntil)
		sub.Waitlist = substituteWaitlistNotice(sess, doc, subDoc, h, reason)
		loc := chinaStandardTime
		if h != nil {
			loc = h.Location()
		}
		audit.Reason = fmt.Sprintf("%s; substitute %s in session %s, offers held until %s", reason, subDoc.ID, sub.Session.ID,
			sub.HoldUntil.In(loc).Format(time.RFC3339))
	}
	res, err := s.store.StopSession(ctx, sess.ID, req.Version, now, reason, notices, sub, audit)
	if errors.Is(err, ErrOutcomeUnknown) {
		err = errOutcomeUnknown
	}
	// What follows runs even when the administrator's request has ended
	// (hung up, or its deadline passed in the drain, which is what failed
	// the SQL step): a failed stop reopens the session at once, as SQL has
	// it, instead of leaving it closed until its mark expires and a
	// reconciliation runs (review15 L5); a committed one gives the quotas
	// back at once.
	fctx, cancel := Detach(ctx, s.cfg.ReloadTimeout)
	defer cancel()
	if err != nil {
		if rerr := s.adm.Reopen(fctx, sess); rerr != nil {
			s.log.Warn("reopen after a failed stop; it stays closed until its mark expires", "session_id", sess.ID, "err", rerr)
		}
	}
	s.rebuild(fctx, sess.ID)
	if err != nil {
		return StopResult{}, err
	}
	if sub != nil {
		// The substitute's session enters Redis from SQL, its held slots
		// taken by their offers, before the catalog shows it.
		if _, err := s.Refresh(fctx); err != nil {
			s.log.Warn("load the substitute session; it will be reconciled", "session_id", sub.Session.ID, "err", err)
			s.reconcileLater(sub.Session.ID)
		}
		res.SubstituteSessionID, res.HoldUntil = sub.Session.ID, sub.HoldUntil
	}
	res.SessionID, res.StoppedAt = sess.ID, now
	s.log.Info("clinic stopped", "session_id", sess.ID, "cancelled", res.Cancelled, "waitlist", res.WaitlistEnded,
		"entries", res.EntriesEnded, "notified", res.Notified, "to_call_back", res.ToCallBack)
	return res, nil
}

// drainHolds waits, after the session closed in Redis, until no hold of
// it waits for its commit, or CommitTimeout and a second have passed (a
// commit whose outcome is unknown stays pending for HoldFor: the stop goes
// on, and SQL's check at insert refuses it once the stop is committed).
func (s *Service) drainHolds(ctx context.Context, sess *Session) {
	deadline := time.Now().Add(s.cfg.CommitTimeout + time.Second)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		holds, err := s.adm.Holds(ctx, sess.HospitalID, []string{sess.ID})
		if err != nil {
			return
		}
		pending := 0
		now := s.cfg.Now()
		for _, h := range holds {
			if h.PendingUntil.After(now) {
				pending++
			}
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			s.log.Warn("stopping a clinic with holds still pending", "session_id", sess.ID, "pending", pending)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// Notice is a notification's text in Chinese and in English, before it
// names the member it is about.
type Notice struct{ ZH, EN string }

// For is the notice as told of the member labelled who (Patient.Label,
// "子女 · 王* · 2016"), in both sentences as every other notification; who
// empty (a person on no account's list) reads without a label.
func (n Notice) For(who string) string { return told(who, n.ZH, n.EN) }

// StopNotices are what a stopped clinic's people are told: those with a
// booking, those waiting on its waitlist, and its lottery's entrants, each
// of what happened to theirs.
type StopNotices struct{ Booking, Waitlist, Entry Notice }

// stopNotices are the texts a stop writes.
func stopNotices(sess *Session, doc Doctor, h *Hospital, reason string) StopNotices {
	name := "the hospital"
	loc := chinaStandardTime
	if h != nil {
		name, loc = h.Name, h.Location()
	}
	when := sess.StartsAt.In(loc).Format("2006-01-02 15:04")
	zh := fmt.Sprintf("停诊通知：%s %s %s（%s）的门诊已停诊，原因：%s。", name, doc.Name, when, periodsZH[sess.Period], reason)
	en := fmt.Sprintf("%s: the clinic of %s at %s is stopped (%s).", name, doc.Name, when, reason)
	return StopNotices{
		Booking:  Notice{ZH: zh + "您的预约已取消，不计爽约，可另行预约。", EN: en + " Your booking is cancelled without penalty; you may book again."},
		Waitlist: Notice{ZH: zh + "您的候补已结束，可另行预约。", EN: en + " Your waitlist place has ended; you may book elsewhere."},
		Entry:    Notice{ZH: zh + "您的抽签登记已撤销，可另行预约。", EN: en + " Your lottery entry is withdrawn; you may book elsewhere."},
	}
}

// Notifications lists what the patients of a session were told, for its
// hospital's administrators.
func (s *Service) Notifications(ctx context.Context, actor Actor, sessionID string) ([]Notification, error) {
	if actor.Role != RoleAdmin {
		return nil, Errorf(ErrForbidden, "only administrators read notifications of a session")
	}
	sess, ok := s.catalog.Load().Session(sessionID)
	if !ok {
		return nil, ErrSessionNotFound
	}
	if !actor.Covers(sess.HospitalID) {
		return nil, Errorf(ErrForbidden, "this session is another hospital's")
	}
	return s.store.SessionNotifications(ctx, sess.ID)
}

// WeekTemplate is a doctor's weekly schedule (出诊模板): the days and
// periods the doctor sits, each with the same pools, each pool released a
// number of days before the visit at a time of day. PublishWeek lays it
// out over one week.
type WeekTemplate struct {
	DoctorID     string
	DepartmentID string // empty: the doctor's
	Days         []TemplateDay
	SlotCount    int // optional cross-check of the quotas' sum
	Mode         ReleaseMode
	Pools        []TemplatePool
	Reason       string
	// OpenPastReleases is a publication's, not the template's: a pool whose
	// computed release time has passed opens the moment the week is
	// published. Without it PublishWeek refuses such a week
	// (release_passed): a template applied to a near week must not open a
	// pool nobody was told of (review19b H2).
	OpenPastReleases bool
}

// TemplateDay is one clinic of the week: ISO weekday (1 Monday … 7
// Sunday), period, and local start and end ("08:00", "12:00").
type TemplateDay struct {
	Weekday    int
	Period     string
	Start, End string
}

// TemplatePool is a pool of every session of the template, released
// DaysBefore days before the visit at the local time At ("08:00").
type TemplatePool struct {
	Channel    Channel
	Quota      int
	DaysBefore int
	At         string
	Mode       ReleaseMode
}

// layoutWeek lays a template out over the week from monday, each session
// checked as CreateSession checks one (overlaps with the catalog's
// sessions only when overlaps is set) and none overlapping another of the
// template's. With idemKey, a session of a repeat already in the catalog
// is taken as it is. The hospital's calendar (nil: none) moves clinics
// off its days off and onto its make-up working days (Calendar.clinicDays).
func (s *Service) layoutWeek(actor Actor, cat *Catalog, monday string, t WeekTemplate, idemKey string, overlaps bool, cal Calendar) (Doctor, []Session, error) {
	doc, ok := cat.Doctor(t.DoctorID)
	if !ok {
		return Doctor{}, nil, ErrDoctorNotFound
	}
	h, ok := cat.Hospital(doc.HospitalID)
	if !ok {
		return Doctor{}, nil, ErrHospitalNotFound
	}
	loc := h.Location()
	week, err := time.ParseInLocation(time.DateOnly, monday, loc)
	if err != nil {
		return Doctor{}, nil, ErrInvalidDate
	}
	if week.Weekday() != time.Monday {
		return Doctor{}, nil, Errorf(ErrInvalidField, "week %s does not start on a Monday", monday)
	}
	if len(t.Days) == 0 || len(t.Days) > 21 || len(t.Pools) == 0 {
		field := string(ChannelOnline) + "_quota"
		if len(t.Days) == 0 {
			field = "day0_weekday"
		}
		return Doctor{}, nil, FieldErrorf(ErrInvalidField, field, "a template needs 1 to 21 days and at least one pool")
	}
	// The fields of a refusal are named as the console's template form
	// names them: day<i>_<field> for t.Days[i], <channel>_<field> for a
	// pool.
	clock := func(field, name, v string) (time.Duration, error) {
		c, err := time.Parse("15:04", v)
		if err != nil {
			return 0, FieldErrorf(ErrInvalidField, field, "%s %q is not a time of day HH:MM", name, v)
		}
		return time.Duration(c.Hour())*time.Hour + time.Duration(c.Minute())*time.Minute, nil
	}
	var sessions []Session
	for i, d := range t.Days {
		day := func(field string) string { return fmt.Sprintf("day%d_%s", i, field) }
		if d.Weekday < 1 || d.Weekday > 7 {
			return Doctor{}, nil, FieldErrorf(ErrInvalidField, day("weekday"), "weekday %d is not 1 (Monday) to 7 (Sunday)", d.Weekday)
		}
		start, err := clock(day("start"), "start", d.Start)
		if err != nil {
			return Doctor{}, nil, err
		}
		end, err := clock(day("end"), "end", d.End)
		if err != nil {
			return Doctor{}, nil, err
		}
		for _, date := range cal.clinicDays(week, d.Weekday) {
			req := SessionRequest{DoctorID: t.DoctorID, DepartmentID: t.DepartmentID, VisitDate: date.Format(time.DateOnly),
				Period: d.Period, StartsAt: date.Add(start), EndsAt: date.Add(end), SlotCount: t.SlotCount, Mode: t.Mode, Reason: t.Reason}
			for _, p := range t.Pools {
				at, err := clock(string(p.Channel)+"_at", "release time", p.At)
				if err != nil {
					return Doctor{}, nil, err
				}
				if p.DaysBefore < 0 {
					return Doctor{}, nil, FieldErrorf(ErrInvalidField, string(p.Channel)+"_days_before", "days_before must be 0 or more")
				}
				req.Quotas = append(req.Quotas, ChannelQuota{Channel: p.Channel, Quota: p.Quota, Mode: p.Mode,
					ReleaseAt: date.AddDate(0, 0, -p.DaysBefore).Add(at)})
			}
			id := ""
			if idemKey != "" {
				key := fmt.Sprintf("week\x00%s\x00%s\x00%d", idemKey, monday, i)
				if !date.Equal(week.AddDate(0, 0, d.Weekday-1)) {
					key += "\x00" + req.VisitDate // on a make-up working day
				}
				id = s.idempotentID(actor.AccountID, key)
				if done, ok := cat.Session(id); ok {
					sessions = append(sessions, *done)
					continue
				}
			}
			sess, err := s.layoutSession(actor, id, req, overlaps)
			if err != nil {
				return Doctor{}, nil, templateField(err, i, req.VisitDate+" "+d.Period)
			}
			for _, o := range sessions {
				if o.StartsAt.Before(sess.EndsAt) && sess.StartsAt.Before(o.EndsAt) || o.VisitDate == sess.VisitDate && o.Period == sess.Period {
					e := Errorf(ErrSessionOverlap, "the template has two sessions on %s %s", sess.VisitDate, sess.Period)
					e.Field = day("start")
					return Doctor{}, nil, e
				}
			}
			sessions = append(sessions, sess)
		}
	}
	return doc, sessions, nil
}

// templateField names the day of a refusal of a template's day i (a
// session's start, end or period, a pool's quota): its message begins with
// the session's date and period (which of the week's sessions it is), and
// its field is named as the template form names it. err as it is when it
// is not a booking error.
func templateField(err error, i int, day string) error {
	e, ok := AsError(err)
	if !ok {
		return fmt.Errorf("%s: %w", day, err)
	}
	named := *e
	named.Message = day + ": " + e.Message
	switch Channel(e.Field) {
	case "":
	case ChannelOnline, ChannelPhone, ChannelOnsite, ChannelReferral:
		named.Field = e.Field + "_quota"
	default:
		named.Field = fmt.Sprintf("day%d_%s", i, e.Field)
	}
	return &named
}

// PublishWeek publishes a template's sessions for the week that starts on
// monday (YYYY-MM-DD, a Monday in the hospital's zone), all or none: every
// session is checked as CreateSession checks one, then all are stored in one
// transaction. With an Idempotency-Key a repeat returns the week it
// published.
func (s *Service) PublishWeek(ctx context.Context, actor Actor, monday string, t WeekTemplate, idemKey string) ([]*Session, error) {
	if actor.Role != RoleAdmin {
		return nil, Errorf(ErrForbidden, "only administrators publish schedules")
	}
	cat := s.catalog.Load()
	// The hospital's days off publish nothing, its make-up working days
	// their weekday's clinics (review19b M7).
	cal, err := s.weekCalendar(ctx, cat, t.DoctorID, monday)
	if err != nil {
		return nil, err
	}
	doc, sessions, err := s.layoutWeek(actor, cat, monday, t, idemKey, true, cal)
	if err != nil {
		return nil, err
	}
	var fresh []Session
	for _, ss := range sessions {
		if _, ok := cat.Session(ss.ID); !ok {
			fresh = append(fresh, ss)
		}
	}
	if !t.OpenPastReleases {
		if err := pastReleases(cat, fresh, s.cfg.Now()); err != nil {
			return nil, err
		}
	}
	// A lottery takes the hospital's notice however it is published:
	// open_past_releases opens first-come pools at once, never a draw
	// among those who were told (review20 M1).
	for i := range fresh {
		if err := s.lotteryNotice(&fresh[i], s.cfg.Now()); err != nil {
			return nil, err
		}
		StampPublished(nil, &fresh[i], s.cfg.Now())
	}
	if len(fresh) > 0 {
		now := s.cfg.Now()
		audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "session_create",
			Target: "week:" + monday + " doctor:" + doc.ID, HospitalID: doc.HospitalID,
			Reason: fmt.Sprintf("%d sessions from the weekly template; %s", len(fresh), sessionSummary(&fresh[0], t.Reason))}
		if err := s.store.CreateSessions(ctx, fresh, audit); err != nil {
			return nil, err
		}
		if _, err := s.Refresh(ctx); err != nil {
			return nil, err
		}
	}
	out := make([]*Session, 0, len(sessions))
	for _, ss := range sessions {
		got, ok := s.catalog.Load().Session(ss.ID)
		if !ok {
			return nil, fmt.Errorf("publish week: session %s not in the catalog after refresh", ss.ID)
		}
		out = append(out, got)
	}
	return out, nil
}

// pastReleases refuses a week of which a pool's computed release time has
// passed (release_passed), naming the first and how many.
func pastReleases(cat *Catalog, sessions []Session, now time.Time) error {
	first, n := "", 0
	for _, ss := range sessions {
		loc := chinaStandardTime
		if h, ok := cat.Hospital(ss.HospitalID); ok {
			loc = h.Location()
		}
		for _, q := range ss.Channels {
			if q.Quota > 0 && q.Released(now) {
				if n++; first == "" {
					first = fmt.Sprintf("%s %s, the %s pool at %s", ss.VisitDate, ss.Period, q.Channel, q.OpensFor().In(loc).Format("2006-01-02 15:04"))
				}
			}
		}
	}
	if n == 0 {
		return nil
	}
	return Errorf(ErrReleasePassed, "%d release times of this week have passed (first: %s): published, those pools open at once; send open_past_releases to publish them open, or change the template's days before",
		n, first)
}

// policyAt is the quota policy in effect at now.
func policyAt(h *Hospital, now time.Time) Policy {
	p, _ := h.PolicyAt(now)
	return p
}

// policyOf is the hospital's policy in effect at now, the service's no-show
// rules standing in where the policy sets none.
func (s *Service) policyOf(h *Hospital, now time.Time) Policy {
	p, _ := h.PolicyAt(now)
	if len(p.NoShows.Steps) == 0 {
		p.NoShows = s.cfg.NoShowRules
	}
	return p
}

// noShowRules are the no-show rules of a hospital's policy in effect at now:
// a no-show (or late cancellation) is judged by the rules of the hospital
// where it happened, counting the person's record everywhere.
func (s *Service) noShowRules(hospitalID string, now time.Time) NoShowRules {
	if h, ok := s.catalog.Load().Hospital(hospitalID); ok {
		return s.policyOf(h, now).NoShows
	}
	return s.cfg.NoShowRules
}

// The bounds of a policy's other rules.
const (
	maxBookAheadDays = 365
	maxNoShowSteps   = 5
	maxNoShowDays    = 3650
)

// checkQuotas: 1 ≤ per_day ≤ per_week ≤ per_month ≤ 100, the first
// quota out of order named as the field to correct.
func (p Policy) checkQuotas() error {
	field := ""
	switch {
	case p.PerDay < 1:
		field = "per_day"
	case p.PerWeek < p.PerDay:
		field = "per_week"
	case p.PerMonth < p.PerWeek || p.PerMonth > 100:
		field = "per_month"
	default:
		return nil
	}
	return FieldErrorf(ErrInvalidField, field, "quotas need 1 ≤ per_day ≤ per_week ≤ per_month ≤ 100")
}

// checkRest checks the policy's rules beyond the quotas: the booking
// window, the on-site share and the no-show steps (none: the service's).
func (p Policy) checkRest() error {
	if p.BookAheadDays < 0 || p.BookAheadDays > maxBookAheadDays {
		return FieldErrorf(ErrInvalidField, "book_ahead_days", "book_ahead_days must be 0 (no window) to %d", maxBookAheadDays)
	}
	if p.OnsiteShare < 0 || p.OnsiteShare > 100 {
		return FieldErrorf(ErrInvalidField, "onsite_share", "onsite_share is a percentage: 0 to 100")
	}
	if p.ExtraSlotsMax < 0 || p.ExtraSlotsMax > MaxSessionSlots {
		return FieldErrorf(ErrInvalidField, "extra_slots_max", "extra_slots_max must be 0 (the default, %d) to %d", DefaultExtraSlotsMax, MaxSessionSlots)
	}
	if p.ReleaseNoticeHours < 0 || p.ReleaseNoticeHours > MaxReleaseNoticeHours {
		return FieldErrorf(ErrInvalidField, "release_notice_hours", "release_notice_hours must be 0 (the default, %d) to %d", DefaultReleaseNoticeHours, MaxReleaseNoticeHours)
	}
	if p.StopUndoMinutes < 0 || p.StopUndoMinutes > MaxStopUndoMinutes {
		return FieldErrorf(ErrInvalidField, "stop_undo_minutes", "stop_undo_minutes must be 0 (the default, %d) to %d", DefaultStopUndoMinutes, MaxStopUndoMinutes)
	}
	r := p.NoShows
	if len(r.Steps) == 0 {
		if r.Window != 0 {
			return FieldErrorf(ErrInvalidField, "no_show_steps", "no_show_window_days needs no_show_steps")
		}
		return nil
	}
	if len(r.Steps) > maxNoShowSteps {
		return FieldErrorf(ErrInvalidField, "no_show_steps", "at most %d no-show steps", maxNoShowSteps)
	}
	if r.Window < 24*time.Hour || r.Window > maxNoShowDays*24*time.Hour {
		return FieldErrorf(ErrInvalidField, "no_show_window_days", "no_show_window_days must be 1 to %d", maxNoShowDays)
	}
	for i, st := range r.Steps {
		if st.Count < 1 {
			return FieldErrorf(ErrInvalidField, "no_show_steps", "a no-show step's count must be 1 or more")
		}
		if st.Bar < 24*time.Hour || st.Bar > maxNoShowDays*24*time.Hour {
			return FieldErrorf(ErrInvalidField, "no_show_steps", "the step at %d no-shows needs a bar of 1 to %d days", st.Count, maxNoShowDays)
		}
		if i > 0 && (st.Count <= r.Steps[i-1].Count || st.Bar < r.Steps[i-1].Bar) {
			return FieldErrorf(ErrInvalidField, "no_show_steps", "no-show steps go up: each a higher count than the one before, with a bar at least as long")
		}
	}
	return nil
}

// summary says the policy's rules beyond the quotas, for the audit log.
func (p Policy) summary() string {
	var b strings.Builder
	if p.BookAheadDays > 0 {
		fmt.Fprintf(&b, "booking window %d days", p.BookAheadDays)
	} else {
		b.WriteString("no booking window")
	}
	fmt.Fprintf(&b, ", %d%% kept for on-site, at most %d extra slots a session, releases moved earlier with %d hours' notice, a stop restored within %d minutes",
		p.OnsiteShare, p.ExtraSlotsLimit(), int(p.ReleaseNotice().Hours()), int(p.StopUndo().Minutes()))
	if len(p.NoShows.Steps) == 0 {
		b.WriteString(", the service's no-show rules")
	} else {
		fmt.Fprintf(&b, ", no-shows over %d days:", int(p.NoShows.Window.Hours()/24))
		for _, st := range p.NoShows.Steps {
			fmt.Fprintf(&b, " %d bar %d days", st.Count, int(st.Bar.Hours()/24))
		}
	}
	return b.String()
}

// PolicyRequest is a policy an administrator sets for a hospital, for new
// bookings (and cancellations) from EffectiveFrom on.
type PolicyRequest struct {
	Policy
	CancelDeadline string // "15:00": the local time the day before a visit after which cancelling is late
	EffectiveFrom  time.Time
	Reason         string
}

// SetPolicy records a hospital's new policy. It takes effect at its time
// (never before now: bookings already made keep the rules they were made
// under), on every instance within a catalog watch; the old ones stay in
// the history.
func (s *Service) SetPolicy(ctx context.Context, actor Actor, hospitalID string, req PolicyRequest) (PolicyChange, error) {
	if actor.Role != RoleAdmin {
		return PolicyChange{}, Errorf(ErrForbidden, "only administrators set a hospital's policy")
	}
	if _, ok := s.catalog.Load().Hospital(hospitalID); !ok {
		return PolicyChange{}, ErrHospitalNotFound
	}
	if !actor.Covers(hospitalID) {
		return PolicyChange{}, Errorf(ErrForbidden, "this hospital is not yours")
	}
	p := req.Policy
	if err := p.checkQuotas(); err != nil {
		return PolicyChange{}, err
	}
	if _, err := time.Parse("15:04", req.CancelDeadline); err != nil {
		return PolicyChange{}, FieldErrorf(ErrInvalidField, "cancel_deadline", "cancel_deadline must be a time of day HH:MM")
	}
	if err := p.checkRest(); err != nil {
		return PolicyChange{}, err
	}
	if err := requireText("reason", req.Reason, 2, ""); err != nil {
		return PolicyChange{}, err
	}
	if err := auditText("reason", req.Reason, 500); err != nil {
		return PolicyChange{}, err
	}
	now := s.cfg.Now()
	if req.EffectiveFrom.IsZero() {
		req.EffectiveFrom = now
	}
	if req.EffectiveFrom.Before(now.Add(-time.Minute)) {
		return PolicyChange{}, FieldErrorf(ErrInvalidField, "effective_from", "a policy takes effect from now or later, never in the past")
	}
	h, _ := s.catalog.Load().Hospital(hospitalID)
	old, oldDeadline := h.PolicyAt(now)
	weakens := s.weakens(old, oldDeadline, p, req.CancelDeadline)
	if wait := now.Add(old.ReleaseNotice()); len(weakens) > 0 && req.EffectiveFrom.Before(wait) {
		// review25 M2: a change that weakens a guard waits the notice
		// in effect, so lowering the notice and then moving a release
		// reaches no earlier than moving it under the old notice.
		req.EffectiveFrom = wait
	}
	c := PolicyChange{ID: newID(), HospitalID: hospitalID, EffectiveFrom: req.EffectiveFrom, Policy: p,
		CancelDeadline: req.CancelDeadline, Reason: req.Reason, SetBy: actor.AccountID, SetAt: now, Weakens: weakens}
	weak := ""
	if len(weakens) > 0 {
		weak = fmt.Sprintf(" (weakens %s: in effect %d hours from now at the earliest)", strings.Join(weakens, ", "), int(old.ReleaseNotice().Hours()))
	}
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "policy_set",
		Target: "hospital:" + hospitalID, HospitalID: hospitalID,
		Reason: fmt.Sprintf("from %s%s: %d a day, %d a week, %d a month, late after %s the day before, %s; %s",
			c.EffectiveFrom.Format(time.RFC3339), weak, p.PerDay, p.PerWeek, p.PerMonth, c.CancelDeadline, p.summary(), c.Reason)}
	if err := s.store.SetPolicy(ctx, c, audit); err != nil {
		return PolicyChange{}, err
	}
	_, err := s.Refresh(ctx)
	return c, err
}

// weakens names the anti-scalping guards a change from old (with its
// cancellation deadline) to p weakens (review25 M2), each by its policy
// field: a shorter release notice, a higher extra-slots bound, a smaller
// on-site share, higher quotas, a later cancellation deadline, laxer
// no-show rules (the service's standing in where a policy sets none). A
// longer booking window or stop-undo window is not a scalper's lever and
// is left out.
func (s *Service) weakens(old Policy, oldDeadline string, p Policy, deadline string) []string {
	var out []string
	if p.ReleaseNotice() < old.ReleaseNotice() {
		out = append(out, "release_notice_hours")
	}
	if p.ExtraSlotsLimit() > old.ExtraSlotsLimit() {
		out = append(out, "extra_slots_max")
	}
	if p.OnsiteShare < old.OnsiteShare {
		out = append(out, "onsite_share")
	}
	if p.PerDay > old.PerDay || p.PerWeek > old.PerWeek || p.PerMonth > old.PerMonth {
		out = append(out, "quotas")
	}
	if a, b := clockMinutes(oldDeadline), clockMinutes(deadline); a >= 0 && b > a {
		out = append(out, "cancel_deadline")
	}
	rules := func(r NoShowRules) NoShowRules {
		if len(r.Steps) == 0 {
			return s.cfg.NoShowRules
		}
		return r
	}
	if rules(p.NoShows).laxerThan(rules(old.NoShows)) {
		out = append(out, "no_show_steps")
	}
	return out
}

// clockMinutes is "HH:MM" as minutes after midnight, -1 if it is not one.
func clockMinutes(hhmm string) int {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		return -1
	}
	return t.Hour()*60 + t.Minute()
}

// barAt is the bar r sets on count no-shows: its highest step reached.
func (r NoShowRules) barAt(count int) time.Duration {
	var bar time.Duration
	for _, st := range r.Steps {
		if st.Count <= count && st.Bar > bar {
			bar = st.Bar
		}
	}
	return bar
}

// laxerThan says r bars less than old somewhere: a shorter window, or at
// one of either's step counts a shorter bar (none where old bars).
func (r NoShowRules) laxerThan(old NoShowRules) bool {
	if r.Window < old.Window {
		return true
	}
	for _, rs := range [][]NoShowStep{old.Steps, r.Steps} {
		for _, st := range rs {
			if r.barAt(st.Count) < old.barAt(st.Count) {
				return true
			}
		}
	}
	return false
}

// Policies returns a hospital's policy in effect now and its history.
func (s *Service) Policies(actor Actor, hospitalID string) (Policy, string, []PolicyChange, error) {
	if actor.Role != RoleAdmin {
		return Policy{}, "", nil, Errorf(ErrForbidden, "only administrators read a hospital's policy history")
	}
	h, ok := s.catalog.Load().Hospital(hospitalID)
	if !ok {
		return Policy{}, "", nil, ErrHospitalNotFound
	}
	if !actor.Covers(hospitalID) {
		return Policy{}, "", nil, Errorf(ErrForbidden, "this hospital is not yours")
	}
	now := s.cfg.Now()
	_, d := h.PolicyAt(now)
	return s.policyOf(h, now), d, h.Changes, nil
}

// AccountPolicyRequest is a change of the platform's account limits from
// EffectiveFrom on (now when zero, never in the past).
type AccountPolicyRequest struct {
	Limits        AccountLimits
	EffectiveFrom time.Time
	Reason        string
}

// The bounds of the account limits a platform administrator may set.
const (
	maxPatientsLimit = 20
	maxPhoneLimit    = 20
)

// SetAccountPolicy records a change of the platform's account limits:
// patients per account and accounts per phone. Only a platform
// administrator sets them (accounts span hospitals). A stricter limit
// removes no patient: it refuses the next one added.
func (s *Service) SetAccountPolicy(ctx context.Context, actor Actor, req AccountPolicyRequest) (AccountPolicy, error) {
	if !actor.PlatformAdmin() {
		return AccountPolicy{}, Errorf(ErrForbidden, "only a platform administrator sets the account limits: accounts span hospitals")
	}
	l := req.Limits
	if l.MaxPatients < 1 || l.MaxPatients > maxPatientsLimit {
		return AccountPolicy{}, FieldErrorf(ErrInvalidField, "max_patients", "max_patients must be 1 to %d", maxPatientsLimit)
	}
	if l.MaxAccountsOnPhone < 1 || l.MaxAccountsOnPhone > maxPhoneLimit {
		return AccountPolicy{}, FieldErrorf(ErrInvalidField, "max_accounts_on_phone", "max_accounts_on_phone must be 1 to %d", maxPhoneLimit)
	}
	if err := requireText("reason", req.Reason, 2, ""); err != nil {
		return AccountPolicy{}, err
	}
	if err := auditText("reason", req.Reason, 500); err != nil {
		return AccountPolicy{}, err
	}
	now := s.cfg.Now()
	if req.EffectiveFrom.IsZero() {
		req.EffectiveFrom = now
	}
	if req.EffectiveFrom.Before(now.Add(-time.Minute)) {
		return AccountPolicy{}, FieldErrorf(ErrInvalidField, "effective_from", "a policy takes effect from now or later, never in the past")
	}
	c := AccountPolicy{ID: newID(), EffectiveFrom: req.EffectiveFrom, Limits: l, Reason: req.Reason, SetBy: actor.AccountID, SetAt: now}
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "account_policy_set",
		Target: "platform", Reason: fmt.Sprintf("from %s: %d patients an account, %d accounts a phone; %s",
			c.EffectiveFrom.Format(time.RFC3339), l.MaxPatients, l.MaxAccountsOnPhone, c.Reason)}
	if err := s.store.SetAccountPolicy(ctx, c, audit); err != nil {
		return AccountPolicy{}, err
	}
	return c, nil
}

// AccountPolicies are the account limits in effect now and their history,
// for administrators (a hospital's sees them; only a platform one sets them).
func (s *Service) AccountPolicies(ctx context.Context, actor Actor) (AccountLimits, []AccountPolicy, error) {
	if actor.Role != RoleAdmin {
		return AccountLimits{}, nil, Errorf(ErrForbidden, "only administrators read the account limits")
	}
	cs, err := s.store.AccountPolicies(ctx)
	if err != nil {
		return AccountLimits{}, nil, err
	}
	return limitsAt(s.cfg.Limits, cs, s.cfg.Now()), cs, nil
}

// accountLimits are the account limits in effect at now, read from SQL: a
// patient is added rarely, and every instance then follows a change the
// moment it takes effect, with no catalog to wait for.
func (s *Service) accountLimits(ctx context.Context, now time.Time) (AccountLimits, error) {
	cs, err := s.store.AccountPolicies(ctx)
	if err != nil {
		return AccountLimits{}, err
	}
	return limitsAt(s.cfg.Limits, cs, now), nil
}

// limitsAt is the latest of changes (by effective time) in effect at now,
// else base.
func limitsAt(base AccountLimits, changes []AccountPolicy, now time.Time) AccountLimits {
	for _, c := range changes {
		if c.EffectiveFrom.After(now) {
			break
		}
		base = c.Limits
	}
	return base
}

// NoticeSessionRestored is the kind of the notice a restored stop writes
// for each patient it cancelled.
const NoticeSessionRestored = "session_restored"

// RestoreNotices are what a restored stop tells the patients it had
// cancelled: their booking is back, or (Kept) it is not, since they booked
// the same day and department meanwhile.
type RestoreNotices struct{ Restored, Kept Notice }

// RestoreResult is what a restore gave back: the stopped session, the
// session published in its place, the bookings restored and those not
// (their person booked the same day and department meanwhile), and the
// notices written: to an account, or on the call-back list.
type RestoreResult struct {
	StoppedID, SessionID string
	Restored, Kept       int
	Notified, ToCallBack int
}

// BookedCounts is what a stop of a session would end: its active
// bookings per channel, its waiting places and its live lottery entries.
type BookedCounts struct {
	Bookings         map[Channel]int
	Waiting, Entries int
}

// Total is the active bookings of every channel.
func (c BookedCounts) Total() int {
	n := 0
	for _, b := range c.Bookings {
		n += b
	}
	return n
}

// SessionBooked counts, for its administrators, what a stop of the session
// would end (the stop form's "N 位患者将被取消").
func (s *Service) SessionBooked(ctx context.Context, actor Actor, id string) (BookedCounts, error) {
	sess, err := s.AdminSession(actor, id)
	if err != nil {
		return BookedCounts{}, err
	}
	return s.sessionBooked(ctx, sess.ID)
}

// sessionBooked is one session's BookedCounts.
func (s *Service) sessionBooked(ctx context.Context, id string) (BookedCounts, error) {
	m, err := s.store.BookedCounts(ctx, []string{id})
	if err != nil {
		return BookedCounts{}, err
	}
	c := m[id]
	if c.Bookings == nil {
		c.Bookings = map[Channel]int{}
	}
	return c, nil
}

// RestoreSession undoes a stop (停诊) clicked by mistake (review19b H1):
// within the hospital's window after the stop (Policy.StopUndo, 30 minutes
// by default) and before the clinic starts, an administrator publishes it
// again as it was — its pools, release times, extra slots (加号) and pool
// moves, as a new session (the stopped one stays as the record of what
// the stop did), while the doctor's half-day is still free — and every
// patient the stop cancelled has their booking back at once, at their
// slot, before anyone else can take it: the same transaction books them
// in (no offer to accept: declining is an ordinary free cancellation), and
// tells them (session_restored). A patient who booked the same day and
// department meanwhile keeps that booking and is told the old one is not
// restored. Waitlist places and lottery entries the stop ended are not
// restored (they were told at the stop; they may join again). A stop that
// named a substitute is not restored (its patients' slots are held with
// the substitute).
func (s *Service) RestoreSession(ctx context.Context, actor Actor, id, reason string) (RestoreResult, error) {
	if actor.Role != RoleAdmin {
		return RestoreResult{}, Errorf(ErrForbidden, "only administrators restore clinics")
	}
	if err := requireText("reason", reason, 2, "; it is audited"); err != nil {
		return RestoreResult{}, err
	}
	if err := auditText("reason", reason, 200); err != nil {
		return RestoreResult{}, err
	}
	cat := s.catalog.Load()
	sess, ok := cat.Session(id) // a malformed id is simply not there
	if !ok {
		return RestoreResult{}, ErrSessionNotFound
	}
	if !actor.Covers(sess.HospitalID) {
		return RestoreResult{}, Errorf(ErrForbidden, "this session is another hospital's")
	}
	h, ok := cat.Hospital(sess.HospitalID)
	if !ok {
		return RestoreResult{}, ErrHospitalNotFound
	}
	loc := h.Location()
	if !sess.Stopped() {
		return RestoreResult{}, Errorf(ErrRestoreClosed, "this clinic is not stopped")
	}
	now := s.cfg.Now()
	window := policyAt(h, sess.StoppedAt).StopUndo()
	if until := sess.StoppedAt.Add(window); now.After(until) {
		return RestoreResult{}, Errorf(ErrRestoreClosed, "this clinic was stopped at %s; the hospital restores a stop within %d minutes (until %s): publish the half-day again",
			sess.StoppedAt.In(loc).Format("2006-01-02 15:04"), int(window.Minutes()), until.In(loc).Format("15:04"))
	}
	if !now.Before(sess.StartsAt) {
		return RestoreResult{}, Errorf(ErrRestoreClosed, "the clinic has started")
	}
	doc, _ := cat.Doctor(sess.DoctorID)
	next := *sess
	next.ID = NameID(sess.ID, "restored")
	next.StoppedAt, next.StopReason, next.Version = time.Time{}, "", 0
	next.Channels = append([]ChannelQuota(nil), sess.Channels...)
	for i := range next.Channels {
		next.Channels[i].Draw = nil
	}
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "session_restore",
		Target: "session:" + sess.ID, HospitalID: sess.HospitalID,
		Reason: fmt.Sprintf("undoing the stop of %s (%s); %s", sess.StoppedAt.In(loc).Format("2006-01-02 15:04"), sess.StopReason, reason)}
	res, err := s.store.RestoreSession(ctx, sess.ID, next, now.Add(-window), restoreNotices(sess, doc, h), audit)
	if errors.Is(err, ErrOutcomeUnknown) {
		err = errOutcomeUnknown
	}
	if err != nil {
		return RestoreResult{}, err
	}
	// The session enters Redis from SQL, its restored bookings held, before
	// the catalog shows it (as a publication).
	if _, err := s.Refresh(ctx); err != nil {
		s.log.Warn("load a restored session; it will be reconciled", "session_id", next.ID, "err", err)
		s.reconcileLater(next.ID)
	}
	s.log.Info("clinic restored", "session_id", sess.ID, "restored_as", next.ID, "restored", res.Restored, "kept", res.Kept)
	return res, nil
}

// restoreNotices are the texts a restore writes.
func restoreNotices(sess *Session, doc Doctor, h *Hospital) RestoreNotices {
	loc := h.Location()
	when := sess.StartsAt.In(loc).Format("2006-01-02 15:04")
	zh := fmt.Sprintf("停诊已撤销：%s %s %s（%s）的门诊照常进行。", h.Name, doc.Name, when, periodsZH[sess.Period])
	en := fmt.Sprintf("%s: the stop of %s's clinic at %s is withdrawn; the clinic takes place.", h.Name, doc.Name, when)
	return RestoreNotices{
		Restored: Notice{ZH: zh + "您的预约已恢复，序号不变；如不能前来，请及时取消。",
			EN: en + " Your booking is restored, with the same number; if you cannot come, please cancel it in time."},
		Kept: Notice{ZH: zh + "您当天在该科室已另有预约，原预约不再恢复。",
			EN: en + " You have booked another visit that day in this department, so the old booking is not restored."},
	}
}

// PoolWarning is something an administrator should know of a session's
// layout that no rule refuses.
type PoolWarning struct {
	Code    string // stable: first_come_beside_lottery
	Channel Channel
	Message string
}

// PoolWarnings warns of each first-come pool with slots that opens before a
// lottery pool of the same session is drawn (review20 L1): a session given
// to a lottery is a scarce one, and in that pool speed buys a slot — a bot
// or whoever a clerk or operator serves first has it, while the entrants
// wait for the draw. Not refused: a hospital may mean it (a phone line for
// those who cannot enter online); the remedy is to make the pool a lottery
// too, or to release it after the draw.
func PoolWarnings(sess *Session, loc *time.Location) []PoolWarning {
	var draw time.Time
	var lottery Channel
	for _, q := range sess.Channels {
		if q.IsLottery() && q.Quota > 0 && q.DrawAt.After(draw) {
			draw, lottery = q.DrawAt, q.Channel
		}
	}
	if lottery == "" {
		return nil
	}
	var out []PoolWarning
	for _, q := range sess.Channels {
		if q.IsLottery() || q.Quota == 0 || !q.ReleaseAt.Before(draw) {
			continue
		}
		out = append(out, PoolWarning{Code: "first_come_beside_lottery", Channel: q.Channel,
			Message: fmt.Sprintf("the %s pool (%d slots) is first-come from %s, before the %s lottery is drawn at %s: in it speed buys a slot of this lottery session; make it a lottery too, or release it after the draw",
				q.Channel, q.Quota, q.ReleaseAt.In(loc).Format("2006-01-02 15:04"), lottery, draw.In(loc).Format("2006-01-02 15:04"))})
	}
	return out
}
