package web

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// weekAhead is the Monday (in Shanghai) three weeks after this week's: no
// session the site seeds (tomorrow, the day after) falls in its week or in
// the week before.
func weekAhead() time.Time {
	now := time.Now().In(shanghai)
	d := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, shanghai)
	return d.AddDate(0, 0, 21-(int(d.Weekday())+6)%7)
}

// rows counts the rows of the page's schedule table.
func (b *tab) rows(hospitalID string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#schedule-`+hospitalID+` tbody tr").length`))
	testenv.Must(b.t, err, "count the schedule's rows")
	return n
}

// text is the text of the first element matching sel (its textContent:
// a closed <details>' too), "" when there is none (it does not wait for
// one).
func (b *tab) text(sel string) string {
	b.t.Helper()
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(e => e ? e.textContent : "")(document.querySelector(`+jsString(sel)+`))`))
	testenv.Must(b.t, err, "read %s", sel)
	return got
}

// TestSchedulePagesAndFiltersInBrowser: a hospital with many sessions in a
// week (60) lists them a bounded page at a time (review19b M6), each row
// with its booked and free slots per pool; the department and doctor
// filters narrow the week, and another week lists its own sessions.
func TestSchedulePagesAndFiltersInBrowser(t *testing.T) {
	s := newSite(t)
	src := axeSource(t)
	password := "admin password 1"
	admin := s.newHospitalAdmin(password)
	monday := weekAhead()
	release := time.Now().Add(time.Hour)
	var sessions []booking.Session
	for day := range 5 {
		date := monday.AddDate(0, 0, day)
		for i, doc := range s.doctors {
			for p, period := range []struct {
				name     string
				from, to time.Duration
			}{{"morning", 8 * time.Hour, 12 * time.Hour}, {"afternoon", 14 * time.Hour, 17 * time.Hour}, {"evening", 18 * time.Hour, 21 * time.Hour}} {
				if i == 2 && p > 0 && day > 0 {
					continue // 王芳 (dermatology): every morning, one afternoon and one evening
				}
				ss, err := booking.BuildSession(booking.SessionSpec{HospitalID: s.hospital.ID, DepartmentID: doc.DepartmentID, DoctorID: doc.ID,
					VisitDate: date.Format(time.DateOnly), Period: period.name, StartsAt: date.Add(period.from), EndsAt: date.Add(period.to),
					Quotas: []booking.ChannelQuota{{Channel: booking.ChannelOnline, Quota: 6, ReleaseAt: release},
						{Channel: booking.ChannelOnsite, Quota: 2, ReleaseAt: release}}})
				testenv.Must(t, err, "build a session")
				sessions = append(sessions, ss)
			}
		}
	}
	// 2 cardiology doctors × 15 + 王芳's 5 mornings and 2 more = 37.
	testenv.Must(t, s.svc.SaveSchedule(t.Context(), booking.Schedule{Sessions: sessions}), "save the week")
	total := len(sessions)
	if total != 37 {
		t.Fatalf("%d sessions built, want 37", total)
	}

	b := newBrowser(t, s.base, 3*time.Minute)
	b.signInAt("admin", admin, password, "/admin/schedule")
	week := monday.Format(time.DateOnly)
	b.open("/admin/schedule?" + url.Values{"week": {week}}.Encode())
	// One bounded page: 25 rows of the 37, and the way to the others.
	if n := b.rows(s.hospital.ID); n != 25 {
		t.Fatalf("the week's first page has %d rows, want 25 of %d", n, total)
	}
	b.contains("#schedule-count", "共 37 个出诊，第 1/2 页")
	b.axeClean(src, "/admin/schedule, a week's first page")
	b.click("#next-page", "page=2")
	if n := b.rows(s.hospital.ID); n != 12 {
		t.Errorf("the second page has %d rows, want 12", n)
	}
	b.absent("#next-page")
	// Booked and free per pool: one online booking on the first session.
	first := sessions[0]
	b.click("#prev-page", "/admin/schedule?")
	b.contains("#s-"+first.ID, "网上 Online 6：已约 0 · 余 6")

	// The filters: dermatology is 王芳's 7 sessions; 陈静 alone is 15.
	b.set("#filter-"+s.hospital.ID+" select[name=dept]", s.dermatology.ID)
	b.click("#filter-"+s.hospital.ID+" button[type=submit]", "dept="+s.dermatology.ID)
	if n := b.rows(s.hospital.ID); n != 7 {
		t.Errorf("dermatology's week has %d rows, want 王芳's 7", n)
	}
	b.contains("#schedule-count", "共 7 个出诊")
	if got := b.text("#schedule-" + s.hospital.ID); strings.Contains(got, "李明") || strings.Contains(got, "陈静") {
		t.Errorf("dermatology's week lists a cardiologist:\n%s", got)
	}
	b.set("#filter-"+s.hospital.ID+" select[name=dept]", "")
	b.set("#filter-"+s.hospital.ID+" select[name=doctor]", s.doctors[1].ID)
	b.click("#filter-"+s.hospital.ID+" button[type=submit]", "doctor="+s.doctors[1].ID)
	if n := b.rows(s.hospital.ID); n != 15 {
		t.Errorf("陈静's week has %d rows, want 15", n)
	}
	// The week before lists none of them.
	b.click("#prev-week", "week=")
	b.count("#schedule-"+s.hospital.ID+" tbody tr", 0)
	b.contains("main", "这一周没有符合条件的出诊")
	b.shot("schedule-10-filtered")
}

// TestStopFormCountsItsPatientsInBrowser: a session with two bookings says
// "2 位患者将被取消" in its stop form, before the administrator confirms
// (review19b H1), and the row shows them booked; a stop confirmed for a
// count that is no longer the session's stops nothing.
func TestStopFormCountsItsPatientsInBrowser(t *testing.T) {
	s := newSite(t)
	password := "admin password 1"
	admin := s.newHospitalAdmin(password)
	for i, name := range []string{"孙一", "孙二"} {
		s.selfBookedOnline(newPhone(), residentID(7401+i), name)
	}
	b := newBrowser(t, s.base, 3*time.Minute)
	b.signInAt("admin", admin, password, "/admin/schedule")
	b.open("/admin/schedule?" + url.Values{"week": {s.tomorrow}}.Encode())
	row := "#s-" + s.open.ID
	if got := b.text(row + " .stop-count"); !strings.Contains(got, "2 位患者将被取消") || !strings.Contains(got, "2 patient(s) will be cancelled") {
		t.Errorf("the stop form says %q, want 2 patients to be cancelled", got)
	}
	b.contains(row, "网上 Online 6：已约 2 · 余 4")
	if got := b.text("#s-" + s.closed.ID + " .stop-count"); !strings.Contains(got, "0 位患者将被取消") {
		t.Errorf("the unbooked session's stop form says %q, want 0", got)
	}

	// A third patient books while the page shows 2: the stop confirmed
	// for 2 stops nothing, and the form comes back open with 3.
	s.selfBookedOnline(newPhone(), residentID(7403), "孙三")
	b.do("open the stop form", chromedp.Click(chromedp.CSS(row+" summary")))
	b.fill(row+" input[name=reason]", "医生外出会诊")
	b.click(row+" form button[type=submit]", "/admin/sessions/"+s.open.ID+"/stop")
	b.contains("#error", "预约人数与停诊确认时显示的不同")
	if v, _ := s.svc.Catalog().Session(s.open.ID); v.Stopped() {
		t.Fatalf("a stop confirmed for 2 bookings stopped a session with 3")
	}
	if !b.isOpen(row + " input[name=reason]") {
		t.Errorf("the refused stop form is not shown open")
	}
	if got := b.text(row + " .stop-count"); !strings.Contains(got, "3 位患者将被取消") {
		t.Errorf("the refused stop form says %q, want 3", got)
	}
	b.click(row+" form button[type=submit]", "ok=stopped")
	b.contains("#flash", "已停诊：3 个预约已取消")
}

// TestSessionManageInBrowser drives a session's own page (review19b M6,
// L2): an edit sends only what changed (the untouched pools keep their
// release times to the second) and adds a referral pool with its own
// release time; an edit made while another administrator changed the
// session is refused in Chinese and the form then shows the current
// values; a pool move of 9 slots where 3 are free says "已移 3 / 请求 9";
// an unreleased session is withdrawn and a released one is refused in
// Chinese. The audit log then labels the edit in Chinese and English and
// names the doctor.
func TestSessionManageInBrowser(t *testing.T) {
	s := newSite(t)
	src := axeSource(t)
	password := "admin password 1"
	admin := s.newHospitalAdmin(password)
	other := s.actor(s.newHospitalAdmin(password), password)
	day := weekAhead().AddDate(0, 0, 1)
	date := day.Format(time.DateOnly)
	// Release times with seconds: an edit that does not touch them must
	// not round them to the form's minutes.
	release := time.Now().Add(5*24*time.Hour + 17*time.Second).Truncate(time.Second)
	sess := s.addSession(s.doctors[0], date, day.Add(8*time.Hour), day.Add(12*time.Hour),
		booking.ChannelQuota{Channel: booking.ChannelOnline, Quota: 6, ReleaseAt: release},
		booking.ChannelQuota{Channel: booking.ChannelPhone, Quota: 4, ReleaseAt: release},
		booking.ChannelQuota{Channel: booking.ChannelOnsite, Quota: 4, ReleaseAt: day.Add(7 * time.Hour)})
	spare := s.addSession(s.doctors[1], date, day.Add(14*time.Hour), day.Add(17*time.Hour),
		booking.ChannelQuota{Channel: booking.ChannelOnline, Quota: 6, ReleaseAt: release})

	b := newBrowser(t, s.base, 3*time.Minute)
	b.signInAt("admin", admin, password, "/admin/schedule")
	b.open("/admin/schedule?" + url.Values{"week": {date}}.Encode())
	b.count("#s-"+sess.ID+" a.button", 1) // its page, from the listing
	if t.Failed() {
		t.FailNow()
	}
	b.click("#s-"+sess.ID+" a.button", "/admin/sessions/"+sess.ID+"?")
	b.contains("#session-summary", "李明")
	b.contains("#pool-online", "6")
	b.axeClean(src, "/admin/sessions/{id}")

	// 1. The edit: online 6 → 8, a referral pool of 2 with its own release.
	referral := time.Now().In(shanghai).Add(3 * 24 * time.Hour).Truncate(time.Minute)
	b.fill("#edit-form input[name=quota_online]", "8")
	b.fill("#edit-form input[name=quota_referral]", "2")
	b.set("#edit-form input[name=release_referral]", referral.Format("2006-01-02T15:04"))
	b.fill("#edit-form input[name=reason]", "增加网上号")
	b.click("#edit-form button[type=submit]", "ok=saved")
	b.contains("#flash", "出诊已修改")
	got, _ := s.svc.Catalog().Session(sess.ID)
	pool := func(s *booking.Session, ch booking.Channel) booking.ChannelQuota {
		q, _ := s.Channel(ch)
		return q
	}
	if q := pool(got, booking.ChannelOnline); q.Quota != 8 || !q.ReleaseAt.Equal(release) {
		t.Errorf("online after the edit: %d from %s, want 8 from %s (unchanged)", q.Quota, q.ReleaseAt, release)
	}
	if q := pool(got, booking.ChannelPhone); q.Quota != 4 || !q.ReleaseAt.Equal(release) {
		t.Errorf("phone after the edit: %d from %s, want 4 from %s (untouched)", q.Quota, q.ReleaseAt, release)
	}
	if q := pool(got, booking.ChannelReferral); q.Quota != 2 || !q.ReleaseAt.Equal(referral) {
		t.Errorf("referral after the edit: %d from %s, want 2 from %s", q.Quota, q.ReleaseAt, referral)
	}

	// 2. Another administrator changes the phone pool while this one edits:
	// the edit is refused in Chinese, nothing of it saved, and the form
	// shows the phone pool as it is now.
	three := 3
	_, err := s.svc.UpdateSession(t.Context(), other, sess.ID, booking.SessionPatch{Version: got.Version,
		Pools: []booking.PoolPatch{{Channel: booking.ChannelPhone, Quota: &three}}, Reason: "电话号减一"})
	testenv.Must(t, err, "the other administrator's edit")
	b.fill("#edit-form input[name=quota_online]", "7")
	b.click("#edit-form button[type=submit]", "/admin/sessions/"+sess.ID)
	b.contains("#error", "已被他人修改")
	b.contains("#typed-values", "网上 Online 7")
	if v := b.value("#edit-form input[name=quota_phone]"); v != "3" {
		t.Errorf("the form after the refusal shows phone %q, want the current 3", v)
	}
	if v := b.value("#edit-form input[name=quota_online]"); v != "8" {
		t.Errorf("the form after the refusal shows online %q, want the current 8", v)
	}
	got, _ = s.svc.Catalog().Session(sess.ID)
	if q := pool(got, booking.ChannelOnline); q.Quota != 8 {
		t.Errorf("the refused edit changed online to %d", q.Quota)
	}
	b.axeClean(src, "/admin/sessions/{id}, edited meanwhile")
	b.shot("schedule-11-edited-meanwhile")
	// Redone on the current values, it is saved, the other's change kept.
	b.fill("#edit-form input[name=quota_online]", "7")
	b.click("#edit-form button[type=submit]", "ok=saved")
	got, _ = s.svc.Catalog().Session(sess.ID)
	if on, ph := pool(got, booking.ChannelOnline).Quota, pool(got, booking.ChannelPhone).Quota; on != 7 || ph != 3 {
		t.Errorf("after the redone edit: online %d, phone %d, want 7 and 3", on, ph)
	}

	// 3. A move of 9 phone slots to on site: the 3 free ones move.
	b.set("#move-form select[name=from]", "phone")
	b.set("#move-form select[name=to]", "onsite")
	b.fill("#move-form input[name=count]", "9")
	b.fill("#move-form input[name=reason]", "电话预约少")
	b.click("#move-form button[type=submit]", "ok=moved")
	b.contains("#flash", "已移 3 / 请求 9")
	b.contains("#flash", "Moved 3 of 9 requested")

	// 4. Withdrawal: refused for a session with a booking, in Chinese
	// (one released with nothing booked is withdrawn since sources20);
	// done for an unreleased one, which is then gone from the listing.
	s.selfBookedOnline(newPhone(), residentID(7421), "吴四")
	b.open("/admin/sessions/" + s.open.ID)
	b.fill("#withdraw-form input[name=reason]", "误发布")
	b.click("#withdraw-form button[type=submit]", "/admin/sessions/"+s.open.ID+"/withdraw")
	b.contains("#error", "号源已放出")
	if _, ok := s.svc.Catalog().Session(s.open.ID); !ok {
		t.Fatalf("the booked session was withdrawn")
	}
	b.open("/admin/sessions/" + spare.ID + "?" + url.Values{"back": {"week=" + date}}.Encode())
	b.fill("#withdraw-form input[name=reason]", "医生外出进修")
	b.click("#withdraw-form button[type=submit]", "ok=withdrawn")
	b.contains("#flash", "出诊已撤回")
	b.absent("#s-" + spare.ID)
	if _, ok := s.svc.Catalog().Session(spare.ID); ok {
		t.Errorf("the withdrawn session is still in the catalog")
	}

	// 5. The audit log: the edit labelled, its session named.
	b.open("/admin/audit?" + url.Values{"target": {"session:" + sess.ID}}.Encode())
	b.contains("#audit tr.a-session_update", "修改出诊 Session changed")
	b.contains("#audit tr.a-session_update .target-name", "李明")
	b.contains("#audit tr.a-move_pool", "调整号池")
}

// value is the current value of a form field.
func (b *tab) value(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(e => e ? e.value : "")(document.querySelector(`+jsString(sel)+`))`))
	testenv.Must(b.t, err, "read %s", sel)
	return v
}

// TestPublishPerPoolReleaseInBrowser: the publish form sets each pool's
// release time, the referral pool's too (review19b M6): on site the
// visit's morning, referral earlier than online. The listing then shows
// the published session's week, and the audit log labels the publication
// in Chinese and English, names the doctor and writes its times in the
// hospital's zone.
func TestPublishPerPoolReleaseInBrowser(t *testing.T) {
	s := newSite(t)
	password := "admin password 1"
	admin := s.newHospitalAdmin(password)
	doc := s.doctors[2]
	day := weekAhead().AddDate(0, 0, 2)
	date := day.Format(time.DateOnly)
	now := time.Now().In(shanghai)
	online := now.Add(3 * 24 * time.Hour).Truncate(time.Minute)
	referral := now.Add(2 * 24 * time.Hour).Truncate(time.Minute)
	onsite := day.Add(7 * time.Hour)

	b := newBrowser(t, s.base, 3*time.Minute)
	b.signInAt("admin", admin, password, "/admin/schedule")
	form := "#publish-form-" + s.hospital.ID
	b.count(form+" input[name=referral]", 1)
	b.count(form+" input[name=release_onsite]", 1)
	if t.Failed() {
		t.FailNow()
	}
	b.do("open the publish form", chromedp.Click(chromedp.CSS("#publish-open-"+s.hospital.ID)))
	b.set(form+" select[name=doctor_id]", doc.ID)
	b.set(form+" input[name=date]", date)
	b.set(form+" select[name=period]", "evening")
	b.set(form+" input[name=start]", "18:00")
	b.set(form+" input[name=end]", "21:00")
	b.set(form+" input[name=online]", "6")
	b.set(form+" input[name=onsite]", "2")
	b.set(form+" input[name=referral]", "2")
	b.set(form+" input[name=release]", online.Format("2006-01-02T15:04"))
	b.set(form+" input[name=release_onsite]", onsite.Format("2006-01-02T15:04"))
	b.set(form+" input[name=release_referral]", referral.Format("2006-01-02T15:04"))
	b.click(form+" button[type=submit]", "ok=published")
	b.contains("#flash", "出诊已发布")
	list := s.svc.Catalog().Sessions(s.hospital.ID, date, "")
	if len(list) != 1 {
		t.Fatalf("%d sessions on %s after publishing, want 1", len(list), date)
	}
	sess := list[0]
	for _, w := range []struct {
		ch    booking.Channel
		quota int
		at    time.Time
	}{{booking.ChannelOnline, 6, online}, {booking.ChannelOnsite, 2, onsite}, {booking.ChannelReferral, 2, referral}} {
		q, ok := sess.Channel(w.ch)
		if !ok || q.Quota != w.quota || !q.ReleaseAt.Equal(w.at) {
			t.Errorf("%s pool: %+v (found %v), want %d from %s", w.ch, q, ok, w.quota, w.at)
		}
	}
	// The listing is at the session's week.
	b.contains("#s-"+sess.ID, "转诊 Referral 2")

	b.open("/admin/audit?" + url.Values{"target": {"session:" + sess.ID}}.Encode())
	b.contains("#audit tr.a-session_create", "发布出诊 Session published")
	reason := b.text("#audit tr.a-session_create .note-cell")
	if !strings.Contains(reason, "王芳") || strings.Contains(reason, doc.ID) {
		t.Errorf("the publication's reason %q: want the doctor named, not their id", reason)
	}
	if want := referral.Format("2006-01-02 15:04"); !strings.Contains(reason, want) || regexp.MustCompile(`\dT\d{2}:\d{2}`).MatchString(reason) {
		t.Errorf("the publication's reason %q: want the referral release as %s, in the hospital's zone", reason, want)
	}
}

// TestRestoreAStopInBrowser: an administrator who stopped a booked clinic
// by mistake undoes it from the stopped session's page (review19b H1): the
// session is published again and the patient has their booking back at
// their slot; a second undo of the same stop is refused in Chinese.
func TestRestoreAStopInBrowser(t *testing.T) {
	s := newSite(t)
	password := "admin password 1"
	admin := s.newHospitalAdmin(password)
	bk := s.selfBookedOnline(newPhone(), residentID(7431), "钱一")
	_, err := s.svc.Stop(t.Context(), s.actor(admin, password), s.open.ID, booking.StopRequest{Reason: "医生外出会诊"})
	testenv.Must(t, err, "stop the clinic")

	b := newBrowser(t, s.base, 3*time.Minute)
	b.signInAt("admin", admin, password, "/admin/schedule")
	b.open("/admin/sessions/" + s.open.ID)
	b.contains("#session-stopped", "已停诊")
	b.count("#edit-form", 0)
	b.fill("#restore-form input[name=reason]", "误操作，恢复出诊")
	b.click("#restore-form button[type=submit]", "ok=restored")
	b.contains("#flash", "1 位患者的预约已恢复")
	b.contains("#flash", "1 booking(s) given back")

	var restored string
	var slot int
	testenv.Must(t, s.db.Pool().QueryRow(t.Context(), `SELECT session_id::TEXT, slot_no FROM bookings
		WHERE identity_id = (SELECT identity_id FROM bookings WHERE id = $1) AND status = 'confirmed'`, bk.ID).Scan(&restored, &slot),
		"read the restored booking")
	page, err := chromedp.Run(b.ctx, chromedp.Location())
	testenv.Must(t, err, "read the address")
	if restored == s.open.ID || !strings.Contains(page, "/admin/sessions/"+restored) {
		t.Errorf("the restored booking is in session %s, the page at %s: want the new session's page", restored, page)
	}
	if slot != bk.SlotNo {
		t.Errorf("the booking came back at slot %d, want its own %d", slot, bk.SlotNo)
	}

	// The same stop again: refused, in Chinese, nothing published twice.
	b.open("/admin/sessions/" + s.open.ID)
	b.fill("#restore-form input[name=reason]", "再次恢复")
	b.click("#restore-form button[type=submit]", "/admin/sessions/"+s.open.ID+"/restore")
	b.contains("#error", "该停诊已不能撤销")
}
