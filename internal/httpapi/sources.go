package httpapi

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// sessionIn is a session as an administrator publishes or edits it
// (POST /v1/admin/sessions, PATCH /v1/admin/sessions/{id}).
type sessionIn struct {
	DoctorID     string      `json:"doctor_id"`
	DepartmentID string      `json:"department_id"`
	Date         string      `json:"date"`
	Period       string      `json:"period"`
	StartsAt     string      `json:"starts_at"`
	EndsAt       string      `json:"ends_at"`
	SlotCount    int         `json:"slot_count"`
	ReleaseMode  string      `json:"release_mode"`
	Channels     []channelIn `json:"channels"`
	Reason       string      `json:"reason"`
	Room         string      `json:"room"`
}

func (in sessionIn) check() error {
	return Required("doctor_id", in.DoctorID, "date", in.Date, "period", in.Period)
}

type channelIn struct {
	Channel     string `json:"channel"`
	Quota       int    `json:"quota"`
	ReleaseAt   string `json:"release_at"`
	ReleaseMode string `json:"release_mode"`
	OpensAt     string `json:"opens_at"`
	DrawAt      string `json:"draw_at"`
}

// pool reads a channel pool as a publish or an edit gives it: the channel,
// its release time, its release mode and its lottery window (each
// optional but the channel).
func pool(channel, releaseAt, mode, opensAt, drawAt string) (q booking.ChannelQuota, err error) {
	if q.Channel, err = booking.ParseChannel(channel); err != nil {
		return q, err
	}
	if q.ReleaseAt, err = parseTime("release_at", releaseAt); err != nil {
		return q, err
	}
	if q.Mode, err = parseMode("channels.release_mode", mode); err != nil {
		return q, err
	}
	if q.OpensAt, err = parseTime("opens_at", opensAt); err != nil {
		return q, err
	}
	q.DrawAt, err = parseTime("draw_at", drawAt)
	return q, err
}

// queryTime reads the time query parameter name, RFC 3339 with its offset;
// absent or empty, the zero time. It is the one parser of every time in a
// query string. A "+" of the offset pasted unencoded reaches the service as
// a space (a query string's "+" is a space): a space where the offset's
// sign belongs is read as "+" (review19a L3: the example of invalid_date's
// own message, pasted into a URL, was refused).
func queryTime(args *fasthttp.Args, name string) (time.Time, error) {
	v := string(args.Peek(name))
	if v == "" {
		return time.Time{}, nil
	}
	if n := len(v); n >= len("2006-01-02T15:04:05 08:00") && v[n-6] == ' ' {
		v = v[:n-6] + "+" + v[n-5:]
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, booking.Errorf(booking.ErrInvalidDate, "%s is an RFC 3339 time, e.g. 2026-11-01T00:00:00%%2B08:00 (a + in a URL is written %%2B)", name)
	}
	return t, nil
}

// parseTime reads an RFC 3339 time with its offset; "" is the zero time.
func parseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, booking.FieldErrorf(booking.ErrInvalidField, field, "%s must be an RFC 3339 time with its offset", field)
	}
	return t, nil
}

func parseMode(field, v string) (booking.ReleaseMode, error) {
	switch m := booking.ReleaseMode(v); m {
	case "", booking.FirstCome, booking.Lottery:
		return m, nil
	}
	return "", booking.FieldErrorf(booking.ErrInvalidField, field, "%s must be first_come or lottery", field)
}

func (in sessionIn) request(key string) (booking.SessionRequest, error) {
	req := booking.SessionRequest{DoctorID: in.DoctorID, DepartmentID: in.DepartmentID, VisitDate: in.Date, Period: in.Period,
		SlotCount: in.SlotCount, Reason: in.Reason, Room: in.Room, IdempotencyKey: key}
	var err error
	if req.StartsAt, err = parseTime("starts_at", in.StartsAt); err != nil {
		return req, err
	}
	if req.EndsAt, err = parseTime("ends_at", in.EndsAt); err != nil {
		return req, err
	}
	if req.Mode, err = parseMode("release_mode", in.ReleaseMode); err != nil {
		return req, err
	}
	if _, err := time.Parse(time.DateOnly, in.Date); err != nil {
		return req, booking.ErrInvalidDate
	}
	for _, c := range in.Channels {
		q, err := pool(c.Channel, c.ReleaseAt, c.ReleaseMode, c.OpensAt, c.DrawAt)
		if err != nil {
			return req, err
		}
		q.Quota = c.Quota
		req.Quotas = append(req.Quotas, q)
	}
	return req, nil
}

func (s *Server) createSession(r *request) error {
	var in sessionIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	req, err := in.request(idempotencyKey(r.rc))
	if err != nil {
		return err
	}
	sess, err := s.svc.CreateSession(r.context(), r.actor, req)
	if err != nil {
		return err
	}
	return s.writeSession(r, fasthttp.StatusCreated, sess)
}

// sessionPatchIn is a change of a session (PATCH /v1/admin/sessions/{id}):
// what it leaves out stays; its channels are merged into the session's by
// channel.
type sessionPatchIn struct {
	DoctorID     string           `json:"doctor_id"`
	DepartmentID string           `json:"department_id"`
	Date         string           `json:"date"`
	Period       string           `json:"period"`
	StartsAt     string           `json:"starts_at"`
	EndsAt       string           `json:"ends_at"`
	SlotCount    int              `json:"slot_count"`
	ReleaseMode  string           `json:"release_mode"`
	Channels     []channelPatchIn `json:"channels"`
	Reason       string           `json:"reason"`
	// Version is the session's version the edit was made from (GET's
	// version; or the If-Match header with its ETag).
	Version int64 `json:"version"`
}

// channelPatchIn is one pool's change; quota absent: unchanged (0 empties
// the pool).
type channelPatchIn struct {
	Channel     string `json:"channel"`
	Quota       *int   `json:"quota"`
	ReleaseAt   string `json:"release_at"`
	ReleaseMode string `json:"release_mode"`
	OpensAt     string `json:"opens_at"`
	DrawAt      string `json:"draw_at"`
}

func (in sessionPatchIn) patch() (booking.SessionPatch, error) {
	p := booking.SessionPatch{DoctorID: in.DoctorID, DepartmentID: in.DepartmentID, VisitDate: in.Date, Period: in.Period,
		SlotCount: in.SlotCount, Reason: in.Reason}
	var err error
	if p.StartsAt, err = parseTime("starts_at", in.StartsAt); err != nil {
		return p, err
	}
	if p.EndsAt, err = parseTime("ends_at", in.EndsAt); err != nil {
		return p, err
	}
	if p.Mode, err = parseMode("release_mode", in.ReleaseMode); err != nil {
		return p, err
	}
	if in.Date != "" {
		if _, err := time.Parse(time.DateOnly, in.Date); err != nil {
			return p, booking.ErrInvalidDate
		}
	}
	for _, c := range in.Channels {
		q, err := pool(c.Channel, c.ReleaseAt, c.ReleaseMode, c.OpensAt, c.DrawAt)
		if err != nil {
			return p, err
		}
		p.Pools = append(p.Pools, booking.PoolPatch{Channel: q.Channel, Quota: c.Quota, ReleaseAt: q.ReleaseAt, Mode: q.Mode,
			OpensAt: q.OpensAt, DrawAt: q.DrawAt})
	}
	return p, nil
}

func (s *Server) updateSession(r *request) error {
	var in sessionPatchIn
	if err := decode(r.rc, &in); err != nil {
		return err
	}
	p, err := in.patch()
	if err != nil {
		return err
	}
	if p.Version, err = editVersion(r.rc, in.Version); err != nil {
		return err
	}
	sess, err := s.svc.UpdateSession(r.context(), r.actor, r.param, p)
	if err != nil {
		return err
	}
	return s.writeAdminSession(r, sess)
}

// editVersion is the version an edit was made from: the body's, or the
// If-Match header's (the ETag of GET, "7"); both must agree. Required: an
// edit without one would overwrite whatever another administrator changed
// meanwhile (review19b M2).
func editVersion(rc *fasthttp.RequestCtx, body int64) (int64, error) {
	v := body
	if h := strings.TrimSpace(string(rc.Request.Header.Peek("If-Match"))); h != "" {
		n, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
		if err != nil || n < 1 {
			return 0, booking.FieldErrorf(booking.ErrInvalidField, "version", "If-Match must be the session's ETag, a quoted version such as \"7\"")
		}
		if v != 0 && v != n {
			return 0, booking.FieldErrorf(booking.ErrInvalidField, "version", "the body's version %d and If-Match's %d differ", v, n)
		}
		v = n
	}
	if v < 1 {
		return 0, booking.ErrVersionRequired
	}
	return v, nil
}

// adminSession answers GET /v1/admin/sessions/{id}: the session as its
// administrators edit it.
func (s *Server) adminSession(r *request) error {
	sess, err := s.svc.AdminSession(r.actor, r.param)
	if err != nil {
		return err
	}
	return s.writeAdminSession(r, sess)
}

// adminSessionOut is a session as the listing shows it, with each pool's
// extra slots (加号): an edit's quota counts them and never drops them.
type adminSessionOut struct {
	sessionOut
	Channels []adminChannelOut `json:"channels"`
	// Version is what an edit sends back (also the ETag header).
	Version int64 `json:"version"`
	// Booked is the session's active bookings (what a stop would cancel:
	// the stop form's "N 位患者将被取消"), Waiting its waiting places and
	// Entries its live lottery entries (what a stop would end too).
	Booked  int `json:"booked"`
	Waiting int `json:"waiting"`
	Entries int `json:"entries"`
	// Warnings are what the administrator should know of the layout that
	// no rule refuses (booking.PoolWarnings).
	Warnings []warningOut `json:"warnings,omitempty"`
}

// warningOut is a booking.PoolWarning as the API answers it.
type warningOut struct {
	Code    string `json:"code"`
	Channel string `json:"channel"`
	Message string `json:"message"`
}

// sessionWarnings are the warnings of sess's layout, in its hospital's zone.
func (s *Server) sessionWarnings(sess *booking.Session) []warningOut {
	loc := booking.StandInLocation()
	if h, ok := s.svc.Catalog().Hospital(sess.HospitalID); ok {
		loc = h.Location()
	}
	var out []warningOut
	for _, w := range booking.PoolWarnings(sess, loc) {
		out = append(out, warningOut{Code: w.Code, Channel: string(w.Channel), Message: w.Message})
	}
	return out
}

type adminChannelOut struct {
	channelOut
	ExtraSlots int `json:"extra_slots"`
	Booked     int `json:"booked"`
}

func (s *Server) writeAdminSession(r *request, sess *booking.Session) error {
	rem, err := s.svc.Remaining(r.context(), sess)
	if err != nil {
		return err
	}
	booked, err := s.svc.SessionBooked(r.context(), r.actor, sess.ID)
	if err != nil {
		return err
	}
	view := sessionView(s.svc.Catalog(), booking.SessionView{Session: sess, Remaining: rem}, s.svc.Now())
	out := adminSessionOut{sessionOut: view, Version: sess.Version, Booked: booked.Total(), Waiting: booked.Waiting, Entries: booked.Entries,
		Warnings: s.sessionWarnings(sess)}
	extra := sess.ExtraSlots()
	for _, c := range view.Channels {
		ch := booking.Channel(c.Channel)
		out.Channels = append(out.Channels, adminChannelOut{channelOut: c, ExtraSlots: extra[ch], Booked: booked.Bookings[ch]})
	}
	r.rc.Response.Header.Set("ETag", strconv.Quote(strconv.FormatInt(sess.Version, 10)))
	WriteJSON(r.rc, fasthttp.StatusOK, out)
	return nil
}

func (s *Server) deleteSession(r *request) error {
	reason := string(r.rc.QueryArgs().Peek("reason"))
	if err := s.svc.DeleteSession(r.context(), r.actor, r.param, reason); err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]string{"session_id": r.param, "status": "deleted"})
	return nil
}

// writeSession answers with a session as the listing shows it, with the
// free slots Redis counts.
func (s *Server) writeSession(r *request, status int, sess *booking.Session) error {
	rem, err := s.svc.Remaining(r.context(), sess)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, status, publishedOut{sessionOut: sessionView(s.svc.Catalog(), booking.SessionView{Session: sess, Remaining: rem}, s.svc.Now()),
		Warnings: s.sessionWarnings(sess)})
	return nil
}

// publishedOut is a session as the listing shows it, with what its
// publisher should know of its layout.
type publishedOut struct {
	sessionOut
	Warnings []warningOut `json:"warnings,omitempty"`
}

type stopIn struct {
	Reason string `json:"reason"`
	// SubstituteDoctorID names a doctor of the same level who takes the
	// clinic over (替诊); HoldUntil how long the held slots wait.
	SubstituteDoctorID string `json:"substitute_doctor_id"`
	HoldUntil          string `json:"hold_until"`
	// ConfirmBooked, when sent, is the count of active bookings the
	// administrator was shown (GET's booked): refused when it differs.
	ConfirmBooked *int `json:"confirm_booked"`
}

func (s *Server) stopSession(r *request) error {
	var in stopIn
	if err := decode(r.rc, &in); err != nil {
		return err
	}
	if err := Required("reason", in.Reason); err != nil {
		return err
	}
	hold, err := parseTime("hold_until", in.HoldUntil)
	if err != nil {
		return err
	}
	res, err := s.svc.Stop(r.context(), r.actor, r.param, booking.StopRequest{Reason: in.Reason,
		SubstituteDoctorID: in.SubstituteDoctorID, HoldUntil: hold, ConfirmBooked: in.ConfirmBooked})
	if err != nil {
		return err
	}
	cat := s.svc.Catalog()
	loc := time.UTC
	if sess, ok := cat.Session(res.SessionID); ok {
		loc = zoneOf(cat, sess.HospitalID)
	}
	out := stopOut{SessionID: res.SessionID, Status: "stopped", StoppedAt: res.StoppedAt.In(loc).Format(time.RFC3339),
		Cancelled: res.Cancelled, WaitlistDropped: res.WaitlistEnded, WaitlistCarried: res.WaitlistCarried, EntriesWithdrawn: res.EntriesEnded, Notified: res.Notified,
		ToCallBack: res.ToCallBack}
	if res.SubstituteSessionID != "" {
		out.SubstituteSessionID, out.Offered = res.SubstituteSessionID, res.Offered
		out.HoldUntil = res.HoldUntil.In(loc).Format(time.RFC3339)
	}
	WriteJSON(r.rc, fasthttp.StatusOK, out)
	return nil
}

type sessionRestoreIn struct {
	Reason string `json:"reason"`
}

func (in sessionRestoreIn) check() error {
	return Required("reason", in.Reason)
}

type restoreOut struct {
	StoppedSessionID string `json:"stopped_session_id"`
	SessionID        string `json:"session_id"`
	Status           string `json:"status"`
	Restored         int    `json:"restored"`
	NotRestored      int    `json:"not_restored"`
	Notified         int    `json:"notified"`
	ToCallBack       int    `json:"to_call_back"`
}

// restoreSession answers POST /v1/admin/sessions/{id}/restore: a mistaken
// stop undone within the hospital's window (review19b H1).
func (s *Server) restoreSession(r *request) error {
	var in sessionRestoreIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	res, err := s.svc.RestoreSession(r.context(), r.actor, r.param, in.Reason)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, restoreOut{StoppedSessionID: res.StoppedID, SessionID: res.SessionID, Status: "restored",
		Restored: res.Restored, NotRestored: res.Kept, Notified: res.Notified, ToCallBack: res.ToCallBack})
	return nil
}

type offerOut struct {
	BookingID         string `json:"booking_id"`
	OriginalBookingID string `json:"original_booking_id"`
	StoppedSessionID  string `json:"stopped_session_id"`
	SessionID         string `json:"session_id"`
	Status            string `json:"status"`
	HoldUntil         string `json:"hold_until"`
	DecidedAt         string `json:"decided_at,omitempty"`
}

// offerView is an offer with its times in its hospital's zone, as every
// other time of the API.
func offerView(cat *booking.Catalog, o booking.SubstituteOffer, now time.Time) offerOut {
	loc := zoneOf(cat, o.HospitalID)
	out := offerOut{BookingID: o.BookingID, OriginalBookingID: o.OriginalBookingID, StoppedSessionID: o.StoppedSessionID,
		SessionID: o.SessionID, Status: o.StateAt(now), HoldUntil: o.HoldUntil.In(loc).Format(time.RFC3339)}
	if !o.DecidedAt.IsZero() {
		out.DecidedAt = o.DecidedAt.In(loc).Format(time.RFC3339)
	}
	return out
}

func (s *Server) listOffers(r *request) error {
	offers, err := s.svc.Offers(r.context(), r.actor)
	if err != nil {
		return err
	}
	cat, now := s.svc.Catalog(), time.Now()
	writeList(r.rc, offers, func(o booking.SubstituteOffer) offerOut { return offerView(cat, o, now) })
	return nil
}

func (s *Server) acceptOffer(r *request) error  { return s.answerOffer(r, true) }
func (s *Server) declineOffer(r *request) error { return s.answerOffer(r, false) }

func (s *Server) answerOffer(r *request, accept bool) error {
	o, err := s.svc.AnswerOffer(r.context(), r.actor, r.param, accept, r.origin)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, offerView(s.svc.Catalog(), o, time.Now()))
	return nil
}

type stopOut struct {
	SessionID       string `json:"session_id"`
	Status          string `json:"status"`
	StoppedAt       string `json:"stopped_at"`
	Cancelled       int    `json:"cancelled"`
	WaitlistDropped int    `json:"waitlist_dropped"`
	// WaitlistCarried counts, with a substitute, the waiting places moved
	// to their session (review19b L5).
	WaitlistCarried  int `json:"waitlist_carried"`
	EntriesWithdrawn int `json:"entries_withdrawn"`
	Notified         int `json:"notified"`
	// ToCallBack counts the notices of people no account lists, on the
	// call-back list until someone tells them.
	ToCallBack int `json:"to_call_back"`
	// With a substitute: their session, the slots held there, until when.
	SubstituteSessionID string `json:"substitute_session_id,omitempty"`
	Offered             int    `json:"offered,omitempty"`
	HoldUntil           string `json:"hold_until,omitempty"`
}

type notificationOut struct {
	ID         string `json:"notification_id"`
	Kind       string `json:"kind"`
	AccountID  string `json:"account_id,omitempty"`
	BookingID  string `json:"booking_id,omitempty"`
	WaitlistID string `json:"waitlist_id,omitempty"`
	EntryID    string `json:"request_id,omitempty"`
	Body       string `json:"body"`
	CreatedAt  string `json:"created_at"`
}

func (s *Server) sessionNotifications(r *request) error {
	ns, err := s.svc.Notifications(r.context(), r.actor, r.param)
	if err != nil {
		return err
	}
	cat := s.svc.Catalog()
	writeList(r.rc, ns, func(n booking.Notification) notificationOut {
		return notificationOut{ID: n.ID, Kind: n.Kind, AccountID: n.AccountID, BookingID: n.BookingID, WaitlistID: n.WaitlistID,
			EntryID: n.EntryID, Body: n.Body, CreatedAt: n.CreatedAt.In(zoneOf(cat, n.HospitalID)).Format(time.RFC3339)}
	})
	return nil
}

// templateBody is a doctor's weekly template as the API carries it: sent
// with a week to publish, or stored.
type templateBody struct {
	DepartmentID string `json:"department_id"`
	Days         []struct {
		Weekday int    `json:"weekday"`
		Period  string `json:"period"`
		Start   string `json:"start"`
		End     string `json:"end"`
	} `json:"days"`
	SlotCount   int              `json:"slot_count"`
	ReleaseMode string           `json:"release_mode"`
	Channels    []templatePoolIO `json:"channels"`
	Reason      string           `json:"reason"`
}

type templatePoolIO struct {
	Channel     string `json:"channel"`
	Quota       int    `json:"quota"`
	DaysBefore  int    `json:"days_before"`
	At          string `json:"at"`
	ReleaseMode string `json:"release_mode,omitempty"`
}

// weekIn is a doctor's weekly template and the week to publish it for
// (POST /v1/admin/doctors/{id}/weeks).
type weekIn struct {
	WeekOf           string `json:"week_of"`
	OpenPastReleases bool   `json:"open_past_releases"`
	templateBody
}

func (in weekIn) check() error {
	return Required("week_of", in.WeekOf)
}

func (in templateBody) template(doctorID string) (booking.WeekTemplate, error) {
	t := booking.WeekTemplate{DoctorID: doctorID, DepartmentID: in.DepartmentID, SlotCount: in.SlotCount, Reason: in.Reason}
	var err error
	if t.Mode, err = parseMode("release_mode", in.ReleaseMode); err != nil {
		return t, err
	}
	for _, d := range in.Days {
		t.Days = append(t.Days, booking.TemplateDay{Weekday: d.Weekday, Period: d.Period, Start: d.Start, End: d.End})
	}
	for _, c := range in.Channels {
		ch, err := booking.ParseChannel(c.Channel)
		if err != nil {
			return t, err
		}
		mode, err := parseMode("channels.release_mode", c.ReleaseMode)
		if err != nil {
			return t, err
		}
		t.Pools = append(t.Pools, booking.TemplatePool{Channel: ch, Quota: c.Quota, DaysBefore: c.DaysBefore, At: c.At, Mode: mode})
	}
	return t, nil
}

func (s *Server) publishWeek(r *request) error {
	var in weekIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	t, err := in.template(r.param)
	if err != nil {
		return err
	}
	t.OpenPastReleases = in.OpenPastReleases
	sessions, err := s.svc.PublishWeek(r.context(), r.actor, in.WeekOf, t, idempotencyKey(r.rc))
	if err != nil {
		return err
	}
	return s.writeSessions(r, sessions)
}

// writeSessions answers 201 with sessions as the listing shows them.
func (s *Server) writeSessions(r *request, sessions []*booking.Session) error {
	cat, now := s.svc.Catalog(), s.svc.Now()
	out := make([]publishedOut, len(sessions))
	for i, sess := range sessions {
		rem, err := s.svc.Remaining(r.context(), sess)
		if err != nil {
			return err
		}
		out[i] = publishedOut{sessionOut: sessionView(cat, booking.SessionView{Session: sess, Remaining: rem}, now), Warnings: s.sessionWarnings(sess)}
	}
	WriteJSON(r.rc, fasthttp.StatusCreated, out)
	return nil
}

type policyIn struct {
	PerDay           int          `json:"per_day"`
	PerWeek          int          `json:"per_week"`
	PerMonth         int          `json:"per_month"`
	CancelDeadline   string       `json:"cancel_deadline"`
	BookAheadDays    int          `json:"book_ahead_days"`
	OnsiteShare      int          `json:"onsite_share"`
	NoShowWindowDays int          `json:"no_show_window_days"`
	NoShowSteps      []noShowStep `json:"no_show_steps"`
	ExtraSlotsMax    int          `json:"extra_slots_max"`
	ReleaseNoticeH   int          `json:"release_notice_hours"`
	StopUndoMinutes  int          `json:"stop_undo_minutes"`
	EffectiveFrom    string       `json:"effective_from"`
	Reason           string       `json:"reason"`
}

// noShowStep is a step of the no-show rules: Count no-shows within the
// window bar the person for BarDays.
type noShowStep struct {
	Count   int `json:"count"`
	BarDays int `json:"bar_days"`
}

func (in policyIn) policy() booking.Policy {
	p := booking.Policy{PerDay: in.PerDay, PerWeek: in.PerWeek, PerMonth: in.PerMonth, BookAheadDays: in.BookAheadDays,
		OnsiteShare: in.OnsiteShare, NoShows: booking.NoShowRules{Window: time.Duration(in.NoShowWindowDays) * 24 * time.Hour},
		ExtraSlotsMax: in.ExtraSlotsMax, ReleaseNoticeHours: in.ReleaseNoticeH, StopUndoMinutes: in.StopUndoMinutes}
	for _, st := range in.NoShowSteps {
		p.NoShows.Steps = append(p.NoShows.Steps, booking.NoShowStep{Count: st.Count, Bar: time.Duration(st.BarDays) * 24 * time.Hour})
	}
	return p
}

type policyChangeOut struct {
	ID               string       `json:"policy_id,omitempty"`
	PerDay           int          `json:"per_day"`
	PerWeek          int          `json:"per_week"`
	PerMonth         int          `json:"per_month"`
	CancelDeadline   string       `json:"cancel_deadline"`
	BookAheadDays    int          `json:"book_ahead_days"`
	OnsiteShare      int          `json:"onsite_share"`
	NoShowWindowDays int          `json:"no_show_window_days"`
	NoShowSteps      []noShowStep `json:"no_show_steps"`
	ExtraSlotsMax    int          `json:"extra_slots_max"`
	ReleaseNoticeH   int          `json:"release_notice_hours"`
	StopUndoMinutes  int          `json:"stop_undo_minutes"`
	EffectiveFrom    string       `json:"effective_from,omitempty"`
	Reason           string       `json:"reason,omitempty"`
	SetBy            string       `json:"set_by,omitempty"`
	SetAt            string       `json:"set_at,omitempty"`
	// Weakens: on a change just made, the guards it weakens; it takes
	// effect the notice in effect from now at the earliest (review25 M2).
	Weakens []string `json:"weakens,omitempty"`
}

// policyRulesOut is a policy's rules as the API writes them (no_show_steps
// empty: the service's rules, which Current spells out).
func policyRulesOut(p booking.Policy, deadline string) policyChangeOut {
	out := policyChangeOut{PerDay: p.PerDay, PerWeek: p.PerWeek, PerMonth: p.PerMonth, CancelDeadline: deadline,
		BookAheadDays: p.BookAheadDays, OnsiteShare: p.OnsiteShare, NoShowWindowDays: int(p.NoShows.Window / (24 * time.Hour)),
		NoShowSteps: []noShowStep{}, ExtraSlotsMax: p.ExtraSlotsLimit(), ReleaseNoticeH: int(p.ReleaseNotice().Hours()),
		StopUndoMinutes: int(p.StopUndo().Minutes())}
	for _, st := range p.NoShows.Steps {
		out.NoShowSteps = append(out.NoShowSteps, noShowStep{Count: st.Count, BarDays: int(st.Bar / (24 * time.Hour))})
	}
	return out
}

func changeView(c booking.PolicyChange, loc *time.Location) policyChangeOut {
	out := policyRulesOut(c.Policy, c.CancelDeadline)
	out.ID, out.EffectiveFrom, out.Reason = c.ID, c.EffectiveFrom.In(loc).Format(time.RFC3339), c.Reason
	out.SetBy, out.SetAt = c.SetBy, c.SetAt.In(loc).Format(time.RFC3339)
	out.Weakens = c.Weakens
	return out
}

func (s *Server) setPolicy(r *request) error {
	var in policyIn
	if err := decode(r.rc, &in); err != nil {
		return err
	}
	from, err := parseTime("effective_from", in.EffectiveFrom)
	if err != nil {
		return err
	}
	c, err := s.svc.SetPolicy(r.context(), r.actor, r.param, booking.PolicyRequest{
		Policy:         in.policy(),
		CancelDeadline: in.CancelDeadline, EffectiveFrom: from, Reason: in.Reason})
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusCreated, changeView(c, zoneOf(s.svc.Catalog(), r.param)))
	return nil
}

func (s *Server) getPolicy(r *request) error {
	p, deadline, history, err := s.svc.Policies(r.actor, r.param)
	if err != nil {
		return err
	}
	loc := zoneOf(s.svc.Catalog(), r.param)
	out := struct {
		Current policyChangeOut   `json:"current"`
		History []policyChangeOut `json:"history"`
	}{Current: policyRulesOut(p, deadline), History: []policyChangeOut{}}
	for _, c := range history {
		out.History = append(out.History, changeView(c, loc))
	}
	WriteJSON(r.rc, fasthttp.StatusOK, out)
	return nil
}

// policyAt is the quota policy a hospital applies at now.
func policyAt(h *booking.Hospital, now time.Time) booking.Policy {
	p, _ := h.PolicyAt(now)
	return p
}

type accountPolicyIn struct {
	MaxPatients        int    `json:"max_patients"`
	MaxAccountsOnPhone int    `json:"max_accounts_on_phone"`
	EffectiveFrom      string `json:"effective_from"`
	Reason             string `json:"reason"`
}

type accountPolicyOut struct {
	ID                 string `json:"policy_id,omitempty"`
	MaxPatients        int    `json:"max_patients"`
	MaxAccountsOnPhone int    `json:"max_accounts_on_phone"`
	EffectiveFrom      string `json:"effective_from,omitempty"`
	Reason             string `json:"reason,omitempty"`
	SetBy              string `json:"set_by,omitempty"`
	SetAt              string `json:"set_at,omitempty"`
}

// accountPolicyView is c with its times in loc: the platform's limits
// belong to no hospital, so they are told in the reader's zone.
func accountPolicyView(c booking.AccountPolicy, loc *time.Location) accountPolicyOut {
	return accountPolicyOut{ID: c.ID, MaxPatients: c.Limits.MaxPatients, MaxAccountsOnPhone: c.Limits.MaxAccountsOnPhone,
		EffectiveFrom: c.EffectiveFrom.In(loc).Format(time.RFC3339), Reason: c.Reason, SetBy: c.SetBy, SetAt: c.SetAt.In(loc).Format(time.RFC3339)}
}

func (s *Server) setAccountPolicy(r *request) error {
	var in accountPolicyIn
	if err := decode(r.rc, &in); err != nil {
		return err
	}
	from, err := parseTime("effective_from", in.EffectiveFrom)
	if err != nil {
		return err
	}
	c, err := s.svc.SetAccountPolicy(r.context(), r.actor, booking.AccountPolicyRequest{
		Limits: booking.AccountLimits{MaxPatients: in.MaxPatients, MaxAccountsOnPhone: in.MaxAccountsOnPhone}, EffectiveFrom: from, Reason: in.Reason})
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusCreated, accountPolicyView(c, readerZone(s.svc.Catalog(), r.actor.HospitalID)))
	return nil
}

func (s *Server) getAccountPolicy(r *request) error {
	now, history, err := s.svc.AccountPolicies(r.context(), r.actor)
	if err != nil {
		return err
	}
	out := struct {
		Current accountPolicyOut   `json:"current"`
		History []accountPolicyOut `json:"history"`
	}{Current: accountPolicyOut{MaxPatients: now.MaxPatients, MaxAccountsOnPhone: now.MaxAccountsOnPhone}, History: []accountPolicyOut{}}
	loc := readerZone(s.svc.Catalog(), r.actor.HospitalID)
	for _, c := range history {
		out.History = append(out.History, accountPolicyView(c, loc))
	}
	WriteJSON(r.rc, fasthttp.StatusOK, out)
	return nil
}

// announceIn is a change a session's patients are told of (review19b M5):
// the room, the delay in minutes, or both; the reason they are told; the
// version it was made from (or If-Match).
type announceIn struct {
	Room         *string `json:"room"`
	DelayMinutes *int    `json:"delay_minutes"`
	Reason       string  `json:"reason"`
	Version      int64   `json:"version"`
}

type announceOut struct {
	sessionOut
	Notified   int `json:"notified"`
	ToCallBack int `json:"to_call_back"`
}

// announceSession answers POST /v1/admin/sessions/{id}/announcements (an
// administrator: room, delay) and POST /v1/desk/sessions/{id}/delay (a
// clerk, on the visit day: the delay): the session as the listing now shows
// it, and how many were told.
func (s *Server) announceSession(r *request) error {
	var in announceIn
	if err := decode(r.rc, &in); err != nil {
		return err
	}
	if err := Required("reason", in.Reason); err != nil {
		return err
	}
	// Who may announce is the service's to say before a missing version
	// is (a patient is told 403, not version_required).
	v, err := editVersion(r.rc, in.Version)
	if err != nil && !errors.Is(err, booking.ErrVersionRequired) {
		return err
	}
	res, err := s.svc.AnnounceSession(r.context(), r.actor, r.param, booking.AnnounceRequest{Room: in.Room, DelayMinutes: in.DelayMinutes,
		Reason: in.Reason, Version: v})
	if err != nil {
		return err
	}
	rem, err := s.svc.Remaining(r.context(), res.Session)
	if err != nil {
		return err
	}
	out := announceOut{sessionOut: sessionView(s.svc.Catalog(), booking.SessionView{Session: res.Session, Remaining: rem}, s.svc.Now()),
		Notified: res.Notified, ToCallBack: res.ToCallBack}
	r.rc.Response.Header.Set("ETag", strconv.Quote(strconv.FormatInt(res.Session.Version, 10)))
	WriteJSON(r.rc, fasthttp.StatusOK, out)
	return nil
}

// moveIn moves a session to another time (改期): its new date, period and
// start, the reason its patients are told, the version it was made from.
type moveIn struct {
	Date     string `json:"date"`
	Period   string `json:"period"`
	StartsAt string `json:"starts_at"`
	Reason   string `json:"reason"`
	Version  int64  `json:"version"`
}

type moveOut struct {
	sessionOut
	Moved      int `json:"moved"`
	Cancelled  int `json:"cancelled"`
	Notified   int `json:"notified"`
	ToCallBack int `json:"to_call_back"`
}

// moveSession answers POST /v1/admin/sessions/{id}/move.
func (s *Server) moveSession(r *request) error {
	var in moveIn
	if err := decode(r.rc, &in); err != nil {
		return err
	}
	if err := Required("date", in.Date, "period", in.Period, "starts_at", in.StartsAt, "reason", in.Reason); err != nil {
		return err
	}
	start, err := parseTime("starts_at", in.StartsAt)
	if err != nil {
		return err
	}
	if _, err := time.Parse(time.DateOnly, in.Date); err != nil {
		return booking.ErrInvalidDate
	}
	v, err := editVersion(r.rc, in.Version)
	if err != nil && !errors.Is(err, booking.ErrVersionRequired) {
		return err
	}
	res, err := s.svc.MoveSession(r.context(), r.actor, r.param, booking.MoveRequest{VisitDate: in.Date, Period: in.Period,
		StartsAt: start, Reason: in.Reason, Version: v})
	if err != nil {
		return err
	}
	rem, err := s.svc.Remaining(r.context(), res.Session)
	if err != nil {
		return err
	}
	out := moveOut{sessionOut: sessionView(s.svc.Catalog(), booking.SessionView{Session: res.Session, Remaining: rem}, s.svc.Now()),
		Moved: res.Moved, Cancelled: res.Cancelled, Notified: res.Notified, ToCallBack: res.ToCallBack}
	r.rc.Response.Header.Set("ETag", strconv.Quote(strconv.FormatInt(res.Session.Version, 10)))
	WriteJSON(r.rc, fasthttp.StatusOK, out)
	return nil
}
