package web

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// A session's own page in the administrator's schedule (号源): its pools
// with their booked and free slots, and the forms the API offers —
// an edit (PATCH semantics: what the form leaves as it was stays; made
// from the session's version, refused as edited_meanwhile when another
// change came first), a withdrawal (DELETE) and a pool move. The rules
// are the domain's: the handlers send what was typed and show what the
// Service answers, so a rule the Service changes shows through here.

// sessionData is the session page.
type sessionData struct {
	ID, Hospital, Doctor, Department, Date, Period, Time string
	Stopped                                              bool
	StopReason                                           string
	Version                                              int64
	// Warnings are what the administrator should know of the layout that
	// no rule refuses (booking.PoolWarnings): a first-come pool open
	// before the session's lottery is drawn.
	Warnings []sessionWarning
	// Back is the listing's filter the page was opened from (a query
	// string), BackURL the listing itself.
	Back, BackURL string
	Pools         []sessionPool
	// Form is the edit form: the session's values, or what was typed
	// when the edit was refused.
	Form sessionForm
	// Typed is what was typed into an edit refused because another change
	// came first (edited_meanwhile), shown beside the form, which shows
	// the session as it is now.
	Typed    *sessionForm
	Periods  []option
	Channels []option
	Move     moveForm
	// Withdrawn is the reason typed into a refused withdrawal.
	Withdrawn string
	// Restore is the reason typed into a refused restore of a stop.
	Restore string
	// Announce is the room and delay form (the session's, or what was
	// typed when refused), Reschedule the move's (改期).
	Announce   announceForm
	Reschedule rescheduleForm
}

type announceForm struct{ Room, Delay, Reason string }

type rescheduleForm struct{ Date, Period, Start, Reason string }

// sessionPool is a pool of the session as it is.
type sessionPool struct {
	Channel, Label      string
	Quota, Extra        int
	Booked, Free        int // Free -1: Redis's count is not to be trusted now
	Opens               string
	Released, IsLottery bool
}

// sessionForm is an edit form's values: the session's day and times, and
// each channel's quota and release time (empty for a channel without a
// pool), in the hospital's local time.
type sessionForm struct {
	Version                  int64
	Date, Period, Start, End string
	Pools                    []poolForm
	Reason                   string
}

type poolForm struct {
	Channel, Label    string
	Quota, Release    string
	Exists, IsLottery bool
}

// ReleaseText is the release time as the page writes it ("2026-12-22 08:00").
func (p poolForm) ReleaseText() string { return strings.Replace(p.Release, "T", " ", 1) }

type moveForm struct{ From, To, Count, Reason string }

const datetimeLocal = "2006-01-02T15:04"

// formOf is the edit form of a session as it is.
func formOf(s *booking.Session, loc *time.Location) sessionForm {
	f := sessionForm{Version: s.Version, Date: s.VisitDate, Period: s.Period, Start: s.StartsAt.In(loc).Format("15:04"), End: s.EndsAt.In(loc).Format("15:04")}
	for _, ch := range booking.Channels {
		pf := poolForm{Channel: string(ch), Label: channelLabels[ch], Quota: "0"}
		if q, ok := s.Channel(ch); ok {
			pf.Quota, pf.Release, pf.Exists, pf.IsLottery = strconv.Itoa(q.Quota), q.ReleaseAt.In(loc).Format(datetimeLocal), true, q.IsLottery()
		}
		f.Pools = append(f.Pools, pf)
	}
	return f
}

// sessionPageOf is the page of the session id: the administrator's (the
// Service checks), with its counts from the listing's query.
func (c *Console) sessionPageOf(r *request, id, back string) (sessionData, *booking.Session, error) {
	sess, err := c.svc.AdminSession(r.actor, id)
	if err != nil {
		return sessionData{}, nil, err
	}
	cat := c.svc.Catalog()
	h, ok := cat.Hospital(sess.HospitalID)
	if !ok {
		return sessionData{}, nil, booking.ErrHospitalNotFound
	}
	loc := h.Location()
	pg, err := c.svc.AdminSchedule(r.ctx, r.actor, booking.ScheduleQuery{HospitalID: sess.HospitalID, DoctorID: sess.DoctorID,
		From: sess.VisitDate, To: sess.VisitDate, PageSize: booking.MaxSchedulePage})
	if err != nil {
		return sessionData{}, nil, err
	}
	var entry booking.ScheduleEntry
	for _, e := range pg.Entries {
		if e.ID == sess.ID {
			entry = e
		}
	}
	doc, _ := cat.Doctor(sess.DoctorID)
	dept, _ := cat.Department(sess.DepartmentID)
	d := sessionData{ID: sess.ID, Hospital: h.Name, Doctor: doc.Name, Department: dept.Name, Date: sess.VisitDate,
		Period: periodLabel(sess.Period), Time: sess.StartsAt.In(loc).Format("15:04") + "–" + sess.EndsAt.In(loc).Format("15:04"),
		Stopped: sess.Stopped(), StopReason: sess.StopReason, Version: sess.Version, Back: back, BackURL: scheduleURL(back, nil),
		Form: formOf(sess, loc), Move: moveForm{From: string(booking.ChannelPhone), To: string(booking.ChannelOnsite), Count: "1"},
		Periods: []option{{"morning", periodLabels["morning"]}, {"afternoon", periodLabels["afternoon"]}, {"evening", periodLabels["evening"]}}}
	d.Announce = announceForm{Room: sess.Room, Delay: strconv.Itoa(sess.DelayMinutes)}
	d.Reschedule = rescheduleForm{Date: sess.VisitDate, Period: sess.Period, Start: sess.StartsAt.In(loc).Format("15:04")}
	if !strings.Contains(back, "hospital=") {
		d.BackURL = scheduleURL(url.Values{"hospital": {sess.HospitalID}, "week": {sess.VisitDate}}.Encode(), nil)
	}
	for _, w := range booking.PoolWarnings(sess, loc) {
		d.Warnings = append(d.Warnings, sessionWarning{Channel: string(w.Channel), Label: channelLabels[w.Channel], Message: w.Message})
	}
	extra, now := sess.ExtraSlots(), c.opts.Now()
	for _, q := range sess.Channels {
		p := sessionPool{Channel: string(q.Channel), Label: channelLabels[q.Channel], Quota: q.Quota, Extra: extra[q.Channel],
			Booked: entry.Booked[q.Channel], Free: -1, Opens: q.OpensFor().In(loc).Format("2006-01-02 15:04"),
			Released: q.Released(now), IsLottery: q.IsLottery()}
		if entry.Remaining != nil {
			p.Free = entry.Remaining[q.Channel]
		}
		d.Pools = append(d.Pools, p)
		d.Channels = append(d.Channels, option{string(q.Channel), channelLabels[q.Channel]})
	}
	for _, ch := range booking.Channels {
		if _, ok := sess.Channel(ch); !ok {
			d.Channels = append(d.Channels, option{string(ch), channelLabels[ch]})
		}
	}
	return d, sess, nil
}

func (c *Console) sessionPage(r *request) error {
	back := r.query("back")
	d, _, err := c.sessionPageOf(r, r.param, back)
	if err != nil {
		return err
	}
	flash := ""
	switch r.query("ok") {
	case "saved":
		flash = "出诊已修改。 Session changed."
	case "restored":
		restored, _ := strconv.Atoi(r.query("restored"))
		kept, _ := strconv.Atoi(r.query("kept"))
		flash = fmt.Sprintf("已撤销停诊，出诊重新发布：%d 位患者的预约已恢复并已通知。 Stop undone, the session published again: %d booking(s) given back, the patients told.",
			restored, restored)
		if kept > 0 {
			flash += fmt.Sprintf(" 另有 %d 位患者已另约当天同科室，保留其新预约。 %d patient(s) had booked the same day and department meanwhile and keep that booking.", kept, kept)
		}
	case "announced":
		told, _ := strconv.Atoi(r.query("told"))
		calls, _ := strconv.Atoi(r.query("calls"))
		flash = fmt.Sprintf("已通知 %d 位患者，%d 位进入回访名单。 %d patient(s) told, %d on the call-back list.", told, calls, told, calls)
	case "rescheduled":
		moved, _ := strconv.Atoi(r.query("moved"))
		cancelled, _ := strconv.Atoi(r.query("cancelled"))
		flash = fmt.Sprintf("已改期：%d 个预约随出诊改期并已通知。 Clinic moved: %d booking(s) moved with it, the patients told.", moved, moved)
		if cancelled > 0 {
			flash += fmt.Sprintf(" %d 位患者当天在该科室已有其他预约，本预约已取消（不计爽约）。 %d patient(s) held another booking in the department that day: this one was cancelled without penalty.", cancelled, cancelled)
		}
	case "moved":
		moved, _ := strconv.Atoi(r.query("moved"))
		asked, _ := strconv.Atoi(r.query("asked"))
		flash = fmt.Sprintf("已移 %d / 请求 %d Moved %d of %d requested.", moved, asked, moved, asked)
		if moved < asked {
			flash += " 其余的号已被预约、保留给候补或不在该号池。 The others are booked, held for the waitlist or not in that pool."
		}
	}
	return c.render(r, fasthttp.StatusOK, "admin/session", page{Title: "管理出诊 Manage a session", Nav: "schedule", Flash: flash, Data: d})
}

// sessionURL is the session's page with the listing's filter and the
// extra values.
func sessionURL(id, back string, extra url.Values) string {
	v := url.Values{}
	if back != "" {
		v.Set("back", back)
	}
	for k, x := range extra {
		v[k] = x
	}
	u := "/admin/sessions/" + url.PathEscape(id)
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u
}

// sessionFailed shows the session page again with err on the form form,
// and what was typed into the edit form when it was the one.
func (c *Console) sessionFailed(r *request, form string, typed *sessionForm, err error) error {
	d, sess, derr := c.sessionPageOf(r, r.param, r.form("back"))
	if derr != nil {
		return c.formFailed(r, "admin/session", page{Title: "管理出诊 Manage a session", Nav: "schedule", Form: form,
			Data: sessionData{ID: r.param, BackURL: scheduleURL(r.form("back"), nil)}}, err)
	}
	if typed != nil {
		if errors.Is(err, booking.ErrEditedMeanwhile) {
			// The form shows the session as it is now, at its version, and
			// the values typed beside it: the edit is redone from what the
			// other change left, never sent over it unseen.
			d.Typed = typed
		} else {
			d.Form = *typed
			d.Form.Version = sess.Version
		}
	}
	switch form {
	case "move":
		d.Move = moveForm{From: r.form("from"), To: r.form("to"), Count: r.form("count"), Reason: r.form("reason")}
	case "withdraw":
		d.Withdrawn = r.form("reason")
	case "restore":
		d.Restore = r.form("reason")
	case "announce":
		d.Announce = announceForm{Room: r.form("room"), Delay: r.form("delay_minutes"), Reason: r.form("reason")}
	case "reschedule":
		d.Reschedule = rescheduleForm{Date: r.form("date"), Period: r.form("period"), Start: r.form("start"), Reason: r.form("reason")}
	}
	return c.formFailed(r, "admin/session", page{Title: "管理出诊 Manage a session", Nav: "schedule", Form: form, Data: d}, err)
}

// editSession changes a session from the edit form: only the fields whose
// value differs from the session's are sent (a patch), with the version
// the form was read at.
func (c *Console) editSession(r *request) error {
	typed := sessionForm{Date: strings.TrimSpace(r.form("date")), Period: r.form("period"), Start: r.form("start"), End: r.form("end"),
		Reason: strings.TrimSpace(r.form("reason"))}
	typed.Version, _ = strconv.ParseInt(r.form("version"), 10, 64)
	sess, err := c.svc.AdminSession(r.actor, r.param)
	if err != nil {
		return err
	}
	loc := time.UTC
	if h, ok := c.svc.Catalog().Hospital(sess.HospitalID); ok {
		loc = h.Location()
	}
	was := formOf(sess, loc)
	for _, pf := range was.Pools {
		typed.Pools = append(typed.Pools, poolForm{Channel: pf.Channel, Label: pf.Label, Exists: pf.Exists, IsLottery: pf.IsLottery,
			Quota: strings.TrimSpace(r.form("quota_" + pf.Channel)), Release: strings.TrimSpace(r.form("release_" + pf.Channel))})
	}
	patch, err := patchOf(typed, was, loc)
	if err == nil {
		_, err = c.svc.UpdateSession(r.ctx, r.actor, r.param, patch)
	}
	if err != nil {
		return c.sessionFailed(r, "edit", &typed, err)
	}
	c.redirect(r, sessionURL(r.param, r.form("back"), url.Values{"ok": {"saved"}}))
	return nil
}

// patchOf is the change the typed form asks of the session was shows:
// each field that differs, parsed in the hospital's zone.
func patchOf(typed, was sessionForm, loc *time.Location) (booking.SessionPatch, error) {
	p := booking.SessionPatch{Version: typed.Version, Reason: typed.Reason}
	if p.Version < 1 {
		return p, booking.ErrVersionRequired
	}
	if typed.Period != was.Period {
		p.Period = typed.Period
	}
	if typed.Date != was.Date {
		if _, err := time.Parse(time.DateOnly, typed.Date); err != nil {
			return p, booking.FieldErrorf(booking.ErrInvalidField, "date", "date: enter the visit's date")
		}
		p.VisitDate = typed.Date
	}
	at := func(field, clock string) (time.Time, error) {
		t, err := time.ParseInLocation("2006-01-02 15:04", typed.Date+" "+clock, loc)
		if err != nil {
			return t, booking.FieldErrorf(booking.ErrInvalidField, field, "%s: enter a time", field)
		}
		return t, nil
	}
	var err error
	if typed.Date != was.Date || typed.Start != was.Start {
		if p.StartsAt, err = at("start", typed.Start); err != nil {
			return p, err
		}
	}
	if typed.Date != was.Date || typed.End != was.End {
		if p.EndsAt, err = at("end", typed.End); err != nil {
			return p, err
		}
	}
	for i, pf := range typed.Pools {
		old := was.Pools[i]
		if pf.Quota == old.Quota && pf.Release == old.Release {
			continue
		}
		if !old.Exists && (pf.Quota == "" || pf.Quota == "0") {
			continue // no pool, none asked for
		}
		pp := booking.PoolPatch{Channel: booking.Channel(pf.Channel)}
		field := "quota_" + pf.Channel
		if pf.Quota != old.Quota {
			n, err := strconv.Atoi(pf.Quota)
			if err != nil || n < 0 {
				return p, booking.FieldErrorf(booking.ErrInvalidField, field, "%s: a quota of 0 or more", field)
			}
			pp.Quota = &n
		}
		if pf.Release != old.Release {
			field = "release_" + pf.Channel
			t, err := time.ParseInLocation(datetimeLocal, pf.Release, loc)
			if err != nil {
				return p, booking.FieldErrorf(booking.ErrInvalidField, field, "%s: enter the pool's release date and time", field)
			}
			pp.ReleaseAt = t
		}
		p.Pools = append(p.Pools, pp)
	}
	return p, nil
}

// withdrawSession withdraws a session (it is no longer published), then
// shows the listing it was opened from.
func (c *Console) withdrawSession(r *request) error {
	if err := c.svc.DeleteSession(r.ctx, r.actor, r.param, strings.TrimSpace(r.form("reason"))); err != nil {
		return c.sessionFailed(r, "withdraw", nil, err)
	}
	c.redirect(r, scheduleURL(r.form("back"), url.Values{"ok": {"withdrawn"}}))
	return nil
}

// restoreSession undoes a mistaken stop (review19b H1): the session is
// published again as it was and its patients have their bookings back
// (Service.RestoreSession); the page of the new session then says how many.
func (c *Console) restoreSession(r *request) error {
	res, err := c.svc.RestoreSession(r.ctx, r.actor, r.param, strings.TrimSpace(r.form("reason")))
	if err != nil {
		return c.sessionFailed(r, "restore", nil, err)
	}
	c.redirect(r, sessionURL(res.SessionID, r.form("back"), url.Values{"ok": {"restored"},
		"restored": {strconv.Itoa(res.Restored)}, "kept": {strconv.Itoa(res.Kept)}}))
	return nil
}

// moveSessionPool moves unsold slots between two of the session's pools;
// the page then says how many moved of how many asked (review19b L2).
func (c *Console) moveSessionPool(r *request) error {
	count, err := strconv.Atoi(strings.TrimSpace(r.form("count")))
	if err != nil || count < 1 {
		return c.sessionFailed(r, "move", nil, booking.FieldErrorf(booking.ErrInvalidField, "count", "count: move at least one slot"))
	}
	from, err := booking.ParseChannel(r.form("from"))
	if err != nil {
		return c.sessionFailed(r, "move", nil, err)
	}
	to, err := booking.ParseChannel(r.form("to"))
	if err != nil {
		return c.sessionFailed(r, "move", nil, err)
	}
	moved, err := c.svc.MovePool(r.ctx, r.actor, booking.MovePoolRequest{SessionID: r.param, From: from, To: to, Count: count,
		Reason: strings.TrimSpace(r.form("reason"))})
	if err != nil {
		return c.sessionFailed(r, "move", nil, err)
	}
	c.redirect(r, sessionURL(r.param, r.form("back"), url.Values{"ok": {"moved"}, "moved": {strconv.Itoa(len(moved))}, "asked": {strconv.Itoa(count)}}))
	return nil
}

// sessionWarning is a booking.PoolWarning on the session's page.
type sessionWarning struct {
	Channel, Label, Message string
}

// announceSession tells the session's patients of a room change or a
// delayed start (Service.AnnounceSession): only what differs from the
// session is sent, at the version the page was read at.
func (c *Console) announceSession(r *request) error {
	version, _ := strconv.ParseInt(r.form("version"), 10, 64)
	sess, err := c.svc.AdminSession(r.actor, r.param)
	if err != nil {
		return err
	}
	req := booking.AnnounceRequest{Reason: strings.TrimSpace(r.form("reason")), Version: version}
	if room := strings.TrimSpace(r.form("room")); room != sess.Room {
		req.Room = &room
	}
	delay, err := strconv.Atoi(strings.TrimSpace(r.form("delay_minutes")))
	if err != nil {
		return c.sessionFailed(r, "announce", nil, booking.FieldErrorf(booking.ErrInvalidField, "delay_minutes", "delay_minutes: minutes, 0 when on time"))
	}
	if delay != sess.DelayMinutes {
		req.DelayMinutes = &delay
	}
	res, err := c.svc.AnnounceSession(r.ctx, r.actor, r.param, req)
	if err != nil {
		return c.sessionFailed(r, "announce", nil, err)
	}
	c.redirect(r, sessionURL(r.param, r.form("back"), url.Values{"ok": {"announced"}, "told": {strconv.Itoa(res.Notified)},
		"calls": {strconv.Itoa(res.ToCallBack)}}))
	return nil
}

// rescheduleSession moves the clinic to another time (改期,
// Service.MoveSession) from the date, period and start typed, in the
// hospital's zone.
func (c *Console) rescheduleSession(r *request) error {
	version, _ := strconv.ParseInt(r.form("version"), 10, 64)
	sess, err := c.svc.AdminSession(r.actor, r.param)
	if err != nil {
		return err
	}
	loc := time.UTC
	if h, ok := c.svc.Catalog().Hospital(sess.HospitalID); ok {
		loc = h.Location()
	}
	date := strings.TrimSpace(r.form("date"))
	start, err := time.ParseInLocation("2006-01-02 15:04", date+" "+strings.TrimSpace(r.form("start")), loc)
	if err != nil {
		return c.sessionFailed(r, "reschedule", nil, booking.FieldErrorf(booking.ErrInvalidField, "starts_at", "enter the new date and start"))
	}
	res, err := c.svc.MoveSession(r.ctx, r.actor, r.param, booking.MoveRequest{VisitDate: date, Period: r.form("period"), StartsAt: start,
		Reason: strings.TrimSpace(r.form("reason")), Version: version})
	if err != nil {
		return c.sessionFailed(r, "reschedule", nil, err)
	}
	c.redirect(r, sessionURL(r.param, r.form("back"), url.Values{"ok": {"rescheduled"}, "moved": {strconv.Itoa(res.Moved)},
		"cancelled": {strconv.Itoa(res.Cancelled)}}))
	return nil
}
