package web

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestStoppedClinicOnEveryConsole: a clinic the hospital stopped (停诊)
// reads as stopped, with the reason, on the patient's sessions page and the
// desk's Today, and neither offers anything in it — the patient's page
// offered its waitlist, the desk a running session with extra slots, each
// then refused session_stopped.
func TestStoppedClinicOnEveryConsole(t *testing.T) {
	s := newSite(t)
	today := s.addToday()
	admin := s.actor(s.newAdmin("admin password 1"), "admin password 1")
	reason := "医生外出会诊 The doctor is called away"
	_, err := s.svc.StopSession(t.Context(), admin, today.ID, reason)
	testenv.Must(t, err, "stop the clinic")

	p := s.client()
	p.signUpHolder(newPhone(), "correct horse battery", residentID(41), "周七")
	page := p.get("/patient/sessions?" + url.Values{"hospital": {s.hospital.ID}, "department": {s.cardiology.ID}, "date": {today.VisitDate}}.Encode())
	card := regexp.MustCompile(`(?s)<article class="card session" id="s-` + today.ID + `">.*?</article>`).FindString(page.body)
	if card == "" {
		t.Fatalf("the stopped session is not on the patient's page:\n%s", page.body)
	}
	for _, want := range []string{"停诊 Clinic stopped", reason} {
		if !strings.Contains(card, want) {
			t.Errorf("the patient's card of the stopped session lacks %q:\n%s", want, card)
		}
	}
	if strings.Contains(card, "<form") {
		t.Errorf("the patient's card of the stopped session offers a form:\n%s", card)
	}

	clerk := deskClerk(s)
	desk := clerk.get("/desk")
	row := regexp.MustCompile(`(?s)<tr id="s-` + today.ID + `".*?</tr>`).FindString(desk.body)
	if row == "" {
		t.Fatalf("the stopped session is not on the desk's Today:\n%s", desk.body)
	}
	for _, want := range []string{"停诊 Stopped", reason} {
		if !strings.Contains(row, want) {
			t.Errorf("the desk's row of the stopped session lacks %q:\n%s", want, row)
		}
	}
	for _, offer := range []string{"/extra-slots", "/desk/walkin"} {
		if strings.Contains(row, offer) {
			t.Errorf("the desk's row of the stopped session offers %s:\n%s", offer, row)
		}
	}
	if v, ok := s.svc.Catalog().Session(today.ID); !ok || !v.Stopped() {
		t.Fatalf("the session is not stopped in the catalog")
	}
}

// TestRefusedPublishMarksItsField: a session the schedule form cannot
// publish comes back with what was typed and the field to correct marked,
// whichever field it is.
func TestRefusedPublishMarksItsField(t *testing.T) {
	s := newSite(t)
	c, _ := adminClient(t, s)
	day := time.Now().In(shanghai).AddDate(0, 0, 5).Format(time.DateOnly)
	release := time.Now().In(shanghai).Add(time.Hour).Format("2006-01-02T15:04")
	form := func(change ...string) url.Values {
		v := url.Values{"csrf": {c.csrf("/admin/schedule")}, "idem": {booking.NewID()}, "doctor_id": {s.doctors[2].ID},
			"date": {day}, "period": {"evening"}, "start": {"18:00"}, "end": {"21:00"}, "online": {"6"}, "phone": {"0"},
			"onsite": {"2"}, "release": {release}}
		for i := 0; i+1 < len(change); i += 2 {
			v.Set(change[i], change[i+1])
		}
		return v
	}
	for _, tc := range []struct {
		change []string
		field  string
	}{
		{[]string{"end", "17:00"}, "end"},
		{[]string{"date", ""}, "date"},
		{[]string{"release", "soon"}, "release"},
		{[]string{"online", "-1"}, "online"},
		{[]string{"onsite", "500"}, "onsite"},
		{[]string{"online", "0", "onsite", "0"}, "online"},
		{[]string{"period", "morning"}, "period"},
		{[]string{"date", "2020-01-01", "release", "2019-12-31T08:00", "confirm_release", "2019-12-31T08:00"}, "date"},
	} {
		a := c.post("/admin/schedule", form(tc.change...))
		if a.status != 400 && a.status != 422 {
			t.Errorf("%v: %d, want 400 or 422", tc.change, a.status)
			continue
		}
		marked := regexp.MustCompile(`<(input|select) name="([a-z_]+)"[^>]*aria-invalid="true"`).FindAllStringSubmatch(a.body, -1)
		if len(marked) == 0 || marked[0][2] != tc.field {
			t.Errorf("%v: marked %v, want %s first", tc.change, marked, tc.field)
		}
		if focused := strings.Count(a.body, "autofocus"); focused != 1 {
			t.Errorf("%v: %d fields focused, want the one to correct", tc.change, focused)
		}
		if !strings.Contains(a.body, `name="start" type="time" value="18:00"`) {
			t.Errorf("%v: the start typed is not kept", tc.change)
		}
	}
	if n := len(s.svc.Catalog().Sessions(s.hospital.ID, day, "")); n != 0 {
		t.Errorf("%d sessions published by refused forms", n)
	}
}

// TestRefusedDoctorFormsKeepWhatWasTyped: a refused new department, new
// doctor or doctor's edit comes back open, with what was typed and the field
// to correct marked — it came back closed and empty (or with the stored
// values), and the administrator typed it all again.
func TestRefusedDoctorFormsKeepWhatWasTyped(t *testing.T) {
	s := newSite(t)
	c := s.client()
	c.adminLogin(s.newHospitalAdmin("admin password 1"), "admin password 1")
	long := strings.Repeat("长", 61)
	doc := s.doctors[0]
	for _, tc := range []struct {
		name, path string
		form       url.Values
		open       string // the <details> that must be open: its form's action
		field      string
		kept       []string
	}{
		{"a department without a name", "/admin/departments", url.Values{"hospital_id": {s.hospital.ID}, "name": {" "}},
			`action="/admin/departments"`, "name", nil},
		{"a doctor with a title too long", "/admin/doctors", url.Values{"hospital_id": {s.hospital.ID}, "department_id": {s.dermatology.ID},
			"name": {"赵敏"}, "title": {long}, "fee_level": {"expert"}},
			`action="/admin/doctors"`, "title", []string{`value="赵敏"`, `value="` + long + `"`, `<option value="expert" selected>`, `<option value="` + s.dermatology.ID + `" selected>`}},
		{"an edit with a name too long", "/admin/doctors/" + doc.ID, url.Values{"department_id": {doc.DepartmentID}, "name": {long},
			"title": {"主任医师"}, "fee_level": {"special"}},
			`action="/admin/doctors/` + doc.ID + `"`, "name", []string{`value="` + long + `"`, `value="主任医师"`, `<option value="special" selected>`}},
	} {
		tc.form.Set("csrf", c.csrf("/admin/doctors"))
		tc.form.Set("idem", booking.NewID())
		a := c.post(tc.path, tc.form)
		if a.status != 400 {
			t.Errorf("%s: %d, want 400", tc.name, a.status)
			continue
		}
		form := regexp.MustCompile(`(?s)<details class="pop" open>\s*<summary[^>]*>[^<]*</summary>\s*<form method="post" ` + regexp.QuoteMeta(tc.open) + `.*?</form>`).FindString(a.body)
		if form == "" {
			t.Errorf("%s: the refused form is not shown open", tc.name)
			continue
		}
		marked := regexp.MustCompile(`<(input|select) name="([a-z_]+)"[^>]*aria-invalid="true"`).FindAllStringSubmatch(form, -1)
		if len(marked) != 1 || marked[0][2] != tc.field {
			t.Errorf("%s: marked %v, want %s", tc.name, marked, tc.field)
		}
		for _, k := range tc.kept {
			if !strings.Contains(form, k) {
				t.Errorf("%s: the refused form lacks %s", tc.name, k)
			}
		}
	}
}

// TestBookingsPageShowsTheDeadlineInForce: after the hospital moves its
// cancellation deadline, the patient's bookings page names the new one —
// the one a cancellation is judged by — and a late cancellation reads as
// one that counts.
func TestBookingsPageShowsTheDeadlineInForce(t *testing.T) {
	s := newSite(t)
	tiny := s.addTiny() // the day after tomorrow: its deadline is tomorrow's
	p := newDeskPatient(t, s, 51, "孔八", tiny.ID)
	admin := s.actor(s.newAdmin("admin password 1"), "admin password 1")
	_, err := s.svc.SetPolicy(t.Context(), admin, s.hospital.ID, booking.PolicyRequest{Policy: booking.DefaultPolicy,
		CancelDeadline: "09:44", Reason: "门诊调整 The clinics changed"})
	testenv.Must(t, err, "move the deadline")
	day, _ := time.ParseInLocation(time.DateOnly, tiny.VisitDate, shanghai)
	want := day.AddDate(0, 0, -1).Format("01-02") + " 09:44"
	page := p.c.get("/patient/bookings")
	row := regexp.MustCompile(`(?s)id="b-` + p.bookingID + `".*?</li>`).FindString(page.body)
	if row == "" {
		row = page.body
	}
	if !strings.Contains(row, want) || strings.Contains(row, " 15:00") {
		t.Errorf("the booking's free cancellation deadline: want %s, the one in force:\n%s", want, row)
	}
}

// TestRefusedPublishStaysInItsHospital: a platform administrator has one
// publish form per hospital; a refused publish comes back open, with what
// was typed and the field marked, in its hospital's form only — it came
// back in every hospital's, each open, the other's doctor falling back to
// its first (a submit there published at the wrong hospital), and all
// sharing one idempotency key and one set of element ids.
func TestRefusedPublishStaysInItsHospital(t *testing.T) {
	s := newSite(t)
	other := booking.Hospital{ID: booking.NewID(), Name: "别的医院 Other Hospital " + testenv.Token(), TimeZone: "Asia/Shanghai", Policy: booking.DefaultPolicy}
	dept := booking.Department{ID: booking.NewID(), HospitalID: other.ID, Name: "眼科 Ophthalmology"}
	doc := booking.Doctor{ID: booking.NewID(), HospitalID: other.ID, DepartmentID: dept.ID, Name: "赵敏 Zhao Min"}
	testenv.Must(t, s.svc.SaveSchedule(t.Context(), booking.Schedule{Hospitals: []booking.Hospital{other},
		Departments: []booking.Department{dept}, Doctors: []booking.Doctor{doc}}), "save the other hospital")
	c, _ := adminClient(t, s)
	day := time.Now().In(shanghai).AddDate(0, 0, 5).Format(time.DateOnly)
	release := time.Now().In(shanghai).Add(time.Hour).Format("2006-01-02T15:04")
	section := func(body, hospital string) string {
		return regexp.MustCompile(`(?s)<section class="card" id="h-` + hospital + `">.*?</section>`).FindString(body)
	}
	idem := regexp.MustCompile(`name="idem" value="([^"]*)"`)
	for _, tc := range []struct {
		name             string
		doctor, hospital string // the form sent and the hospital it belongs to
		idle             string // the other hospital
		form             url.Values
	}{
		{"this hospital's doctor", s.doctors[2].ID, s.hospital.ID, other.ID, url.Values{"hospital_id": {s.hospital.ID}}},
		{"the other hospital's doctor", doc.ID, other.ID, s.hospital.ID, url.Values{"hospital_id": {other.ID}}},
		// The doctor unknown (retired since the page was loaded): the form
		// sent says its hospital.
		{"an unknown doctor", "nobody", other.ID, s.hospital.ID, url.Values{"hospital_id": {other.ID}}},
	} {
		f := url.Values{"csrf": {c.csrf("/admin/schedule")}, "idem": {booking.NewID()}, "doctor_id": {tc.doctor}, "date": {day},
			"period": {"evening"}, "start": {"18:00"}, "end": {"17:00"}, "online": {"6"}, "phone": {"0"}, "onsite": {"2"}, "release": {release}}
		for k, v := range tc.form {
			f[k] = v
		}
		a := c.post("/admin/schedule", f)
		if a.status != 400 && a.status != 404 && a.status != 422 {
			t.Errorf("%s: %d, want a refusal", tc.name, a.status)
			continue
		}
		refused, idle := section(a.body, tc.hospital), section(a.body, tc.idle)
		if refused == "" || idle == "" {
			t.Fatalf("%s: a hospital's section is missing", tc.name)
		}
		if !strings.Contains(refused, `<details class="pop" open>`) || !strings.Contains(refused, `value="17:00"`) {
			t.Errorf("%s: the refused form is not open with what was typed", tc.name)
		}
		if !strings.Contains(refused, `aria-invalid="true"`) {
			t.Errorf("%s: the refused form marks no field", tc.name)
		}
		if strings.Contains(idle, `<details class="pop" open>`) || strings.Contains(idle, `value="17:00"`) ||
			strings.Contains(idle, `aria-invalid`) || strings.Contains(idle, `value="evening" selected`) {
			t.Errorf("%s: the other hospital's form shows the refused one", tc.name)
		}
		if strings.Contains(idle, `value="`+f.Get("idem")+`"`) {
			t.Errorf("%s: the other hospital's form has the refused form's idempotency key", tc.name)
		}
		keys := idem.FindAllStringSubmatch(a.body, -1)
		if len(keys) != 2 || keys[0][1] == keys[1][1] {
			t.Errorf("%s: publish forms' idempotency keys %v, want one per form", tc.name, keys)
		}
		for _, id := range []string{"publish-open", "publish-form", "schedule"} {
			if n := strings.Count(a.body, `id="`+id+`"`); n != 0 {
				t.Errorf("%s: %d elements with id %q, want ids per hospital", tc.name, n, id)
			}
		}
	}
	if n := len(s.svc.Catalog().Sessions(other.ID, day, "")) + len(s.svc.Catalog().Sessions(s.hospital.ID, day, "")); n != 0 {
		t.Errorf("%d sessions published by refused forms", n)
	}
}

// TestRefusedTemplateSaveKeepsWhatWasTyped: a refused new template or
// template edit comes back open with its name, every clinic's day, period
// and times and the pools as typed, and the field the refusal is about
// marked — it came back as blank forms, all closed.
func TestRefusedTemplateSaveKeepsWhatWasTyped(t *testing.T) {
	s := newSite(t)
	c, _ := adminClient(t, s)
	doc := s.doctors[2]
	form := func(change ...string) url.Values {
		v := url.Values{"csrf": {c.csrf("/admin/templates")}, "idem": {booking.NewID()}, "name": {"冬季 Winter"},
			"day0_weekday": {""}, "day1_weekday": {"3"}, "day1_period": {"afternoon"}, "day1_start": {"13:30"}, "day1_end": {"17:00"},
			"day2_weekday": {"5"}, "day2_period": {"morning"}, "day2_start": {"08:00"}, "day2_end": {"11:30"},
			"online_quota": {"12"}, "online_days_before": {"7"}, "online_at": {"08:00"}, "phone_quota": {"3"}, "phone_days_before": {"5"}, "phone_at": {"09:00"}}
		for i := 0; i+1 < len(change); i += 2 {
			v.Set(change[i], change[i+1])
		}
		return v
	}
	saved := form("doctor_id", doc.ID)
	if a := c.post("/admin/templates", saved); a.status != 303 {
		t.Fatalf("saving a template: %d, want 303\n%s", a.status, a.body)
	}
	m := regexp.MustCompile(`action="/admin/templates/([0-9a-f-]{36})"`).FindStringSubmatch(c.get("/admin/templates").body)
	if m == nil {
		t.Fatal("the saved template is not listed")
	}
	tpl := m[1]
	for _, tc := range []struct {
		name, path, open string // open: the form that must come back open
		form             url.Values
		field            string
		kept             []string
	}{
		{"a new template's clinic ending before it starts", "/admin/templates", `id="tpl-new-` + doc.ID + `"`,
			form("doctor_id", doc.ID, "name", "夏季 Summer", "day2_end", "07:30"), "day2_end",
			[]string{`value="夏季 Summer"`, `<option value="3" selected>`, `<option value="afternoon" selected>`, `value="13:30"`,
				`<option value="5" selected>`, `value="07:30"`, `name="online_quota" type="number" min="0" max="500" value="12"`,
				`name="phone_days_before" type="number" min="0" max="90" value="5"`, `name="phone_at" type="time" value="09:00"`}},
		{"an edit's pool released at no time", "/admin/templates/" + tpl, `id="tpl-edit-` + tpl + `"`,
			form("name", "冬季改 Winter 2", "phone_at", "9am"), "phone_at",
			[]string{`value="冬季改 Winter 2"`, `value="13:30"`, `value="9am"`}},
		{"an edit without a pool", "/admin/templates/" + tpl, `id="tpl-edit-` + tpl + `"`,
			form("online_quota", "0", "phone_quota", "0", "day1_start", "14:00"), "online_quota",
			[]string{`value="14:00"`, `name="phone_quota" type="number" min="0" max="500" value="0"`}},
		{"a clinic whose period does not fit", "/admin/templates/" + tpl, `id="tpl-edit-` + tpl + `"`,
			form("day1_period", "morning"), "day1_period", []string{`<option value="morning" selected>`}},
	} {
		a := c.post(tc.path, tc.form)
		if a.status != 400 && a.status != 422 {
			t.Errorf("%s: %d, want 400 or 422", tc.name, a.status)
			continue
		}
		refused := regexp.MustCompile(`(?s)<details class="pop" open>\s*<summary[^>]*>[^<]*</summary>\s*<form [^>]*` + regexp.QuoteMeta(tc.open) + `>.*?</form>`).FindString(a.body)
		if refused == "" {
			t.Errorf("%s: the refused form is not shown open", tc.name)
			continue
		}
		if n := strings.Count(a.body, `<details class="pop" open>`); n != 1 {
			t.Errorf("%s: %d forms open, want the refused one", tc.name, n)
		}
		marked := regexp.MustCompile(`<(input|select) name="([a-z0-9_]+)"[^>]*aria-invalid="true"`).FindAllStringSubmatch(a.body, -1)
		if len(marked) != 1 || marked[0][2] != tc.field || !strings.Contains(refused, `aria-invalid="true"`) {
			t.Errorf("%s: marked %v, want %s in the refused form", tc.name, marked, tc.field)
		}
		for _, k := range tc.kept {
			if !strings.Contains(refused, k) {
				t.Errorf("%s: the refused form lacks %s", tc.name, k)
			}
		}
	}
	// A refused week comes back in its publish form as typed, not as the
	// default week: corrected and sent again, it must publish the week
	// asked for, never the next one (review15b).
	far := time.Now().In(shanghai).AddDate(2, 0, 0)
	far = far.AddDate(0, 0, (8-int(far.Weekday()))%7) // a Monday two years ahead: beyond the horizon
	week := far.Format(time.DateOnly)
	a := c.post("/admin/templates/"+tpl+"/weeks", url.Values{"csrf": {c.csrf("/admin/templates")}, "idem": {booking.NewID()}, "week_of": {week}})
	if a.status < 400 || a.status >= 500 {
		t.Fatalf("publishing a week two years ahead: %d, want refused", a.status)
	}
	publish := regexp.MustCompile(`(?s)<form method="post" action="/admin/templates/` + tpl + `/weeks".*?</form>`).FindString(a.body)
	if !strings.Contains(publish, `name="week_of" type="date" value="`+week+`"`) {
		t.Errorf("the refused week's form does not keep %s (%d):\n%s", week, a.status, publish+regexp.MustCompile(`(?s)<div class="flash err".*?</div>`).FindString(a.body))
	}
}
