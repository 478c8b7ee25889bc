package httpapi

import (
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// exportOut is a patient's copy of their data (GET /v1/me/export): every
// list the patient's own views give, in their shapes, masked as they are.
type exportOut struct {
	ExportedAt    string              `json:"exported_at"`
	Account       exportAccountOut    `json:"account"`
	Patients      []patientOut        `json:"patients"`
	Records       []standingOut       `json:"no_show_records"`
	Bookings      []BookingOut        `json:"bookings"`
	Waitlist      []waitlistOut       `json:"waitlist"`
	Entries       []EntryOut          `json:"lottery_requests"`
	MadeByOthers  madeByOthersOut     `json:"made_by_others"`
	Cases         []caseOut           `json:"cases"`
	Notifications []myNotificationOut `json:"notifications"`
	Names         exportNamesOut      `json:"names"`
	// Consents, Events and Reviews (review21 M6): the consents to the
	// privacy notice, the account's own acts with the address and device
	// they came from, and the scalper reviews that name the account or its
	// persons.
	Consents []consentOut     `json:"consents"`
	Events   []exportEventOut `json:"events"`
	Reviews  []reviewOut      `json:"reviews"`
	// FormerNames are the verified self's former names (曾用名), masked
	// as patients' names are (review24 H3).
	FormerNames []formerNameOut `json:"former_names"`
}

// formerNameOut is a former name of the account's verified self.
type formerNameOut struct {
	PatientID  string `json:"patient_id"`
	Name       string `json:"name"` // masked
	RecordedAt string `json:"recorded_at"`
}

// exportEventOut is one of the account's own acts: what, when, where (ids
// named in names), and the IP address and device id its request came from
// — in clear, to the account's owner: the address and the device are the
// owner's own, and a pseudonym would not let them tell their own logins
// from a stranger's. Blank where staff or another person acted.
type exportEventOut struct {
	TS           string `json:"ts"`
	Type         string `json:"type"`
	PatientID    string `json:"patient_id,omitempty"`
	BookingID    string `json:"booking_id,omitempty"`
	SessionID    string `json:"session_id,omitempty"`
	HospitalID   string `json:"hospital_id,omitempty"`
	DepartmentID string `json:"department_id,omitempty"`
	DoctorID     string `json:"doctor_id,omitempty"`
	Channel      string `json:"channel,omitempty"`
	IP           string `json:"ip,omitempty"`
	DeviceID     string `json:"device_id,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

// reviewOut is a scalper review (flag) that names the account or persons
// on its list: status, dates, which, and the kinds of evidence.
type reviewOut struct {
	Status       string   `json:"status"`
	OpenedAt     string   `json:"opened_at"`
	DecidedAt    string   `json:"decided_at,omitempty"`
	NamesAccount bool     `json:"names_account"`
	PatientIDs   []string `json:"patient_ids"`
	Kinds        []string `json:"kinds"`
	Appeal       string   `json:"appeal"`
}

// reviewAppeal is how a review is contested, told with each.
const reviewAppeal = "如对审核有异议：账号被停用时，用正确的密码登录即可提出申诉；其他情况请提交投诉（POST /v1/complaints）。 " +
	"To contest a review: a blocked account appeals from its login (the right password answers how); otherwise file a complaint."

// exportNamesOut names the hospitals, departments and doctors the file's
// bookings, waitlist places and lottery requests give by id, so a patient
// reads which clinic a line is (review21 M6).
type exportNamesOut struct {
	Hospitals   map[string]string `json:"hospitals"`
	Departments map[string]string `json:"departments"`
	Doctors     map[string]string `json:"doctors"`
}

// exportNames names the clinics of the sessions and bookings given.
func exportNames(cat *booking.Catalog, sessionIDs []string, bookings []booking.Booking) exportNamesOut {
	n := exportNamesOut{Hospitals: map[string]string{}, Departments: map[string]string{}, Doctors: map[string]string{}}
	add := func(hospitalID, departmentID, doctorID string) {
		if h, ok := cat.Hospital(hospitalID); ok {
			n.Hospitals[hospitalID] = h.Name
		}
		if d, ok := cat.Department(departmentID); ok {
			n.Departments[departmentID] = d.Name
		}
		if d, ok := cat.Doctor(doctorID); ok {
			n.Doctors[doctorID] = d.Name
		}
	}
	for _, b := range bookings {
		add(b.HospitalID, b.DepartmentID, b.DoctorID)
	}
	for _, id := range sessionIDs {
		if sess, ok := cat.Session(id); ok {
			add(sess.HospitalID, sess.DepartmentID, sess.DoctorID)
		}
	}
	return n
}

type exportAccountOut struct {
	Phone     string `json:"phone"` // masked
	CreatedAt string `json:"created_at"`
	Blocked   bool   `json:"blocked"`
}

// standingOut is a person's record under the no-show rules: the no-shows
// and late cancellations counted (the bookings themselves are among
// bookings, status no_show or cancelled with late_cancel), and any bar or
// block in force.
type standingOut struct {
	PatientID    string `json:"patient_id"`
	NoShows      int    `json:"no_shows"`
	BarredUntil  string `json:"barred_until,omitempty"`
	BarredCause  string `json:"barred_cause,omitempty"`
	BlockedUntil string `json:"blocked_until,omitempty"`
	BlockedCause string `json:"blocked_cause,omitempty"`
}

// The causes of a bar and of a block, told with each (review21 M6: a
// block with no no-shows and no reason told the patient nothing).
const (
	barredCause  = "no_shows: 爽约或迟取消达到医院规定次数 no-shows and late cancellations reached the hospital's rule"
	blockedCause = "review: 平台管理员审核确认的倒卖号源（号贩子）标记，不是爽约 a scalping review an administrator confirmed, not no-shows"
)

func (s *Server) exportMine(r *request) error {
	x, err := s.svc.Export(r.context(), r.actor)
	if err != nil {
		return err
	}
	cat := s.svc.Catalog()
	loc := readerZone(cat, "") // a patient belongs to no one hospital
	out := exportOut{
		ExportedAt: stamp(x.ExportedAt, loc),
		Account:    exportAccountOut{Phone: x.Account.PhoneMasked, CreatedAt: stamp(x.Account.CreatedAt, loc), Blocked: x.Account.Blocked},
		Patients:   make([]patientOut, len(x.Patients)),
		Records:    make([]standingOut, len(x.Standings)),
		Waitlist:   make([]waitlistOut, len(x.Waitlist)),
		Entries:    make([]EntryOut, len(x.Entries)),
		Cases:      make([]caseOut, len(x.Cases)),
	}
	for i, p := range x.Patients {
		out.Patients[i] = patientView(p)
	}
	for i, st := range x.Standings {
		out.Records[i] = standingOut{PatientID: st.Patient.ID, NoShows: st.NoShows,
			BarredUntil: stamp(st.BarredUntil, loc), BlockedUntil: stamp(st.BlockedUntil, loc)}
		if !st.BarredUntil.IsZero() {
			out.Records[i].BarredCause = barredCause
		}
		if !st.BlockedUntil.IsZero() {
			out.Records[i].BlockedCause = blockedCause
		}
	}
	out.Consents = make([]consentOut, len(x.Consents))
	for i, c := range x.Consents {
		out.Consents[i] = consentView(c, loc)
	}
	out.Events = make([]exportEventOut, len(x.Events))
	var eventBookings []booking.Booking // for names: the events' clinics
	for i, e := range x.Events {
		out.Events[i] = exportEventOut{TS: stamp(e.TS, loc), Type: string(e.Type), PatientID: e.PatientID, BookingID: e.BookingID,
			SessionID: e.SessionID, HospitalID: e.HospitalID, DepartmentID: e.DepartmentID, DoctorID: e.DoctorID,
			Channel: string(e.Channel), IP: e.IP, DeviceID: e.DeviceID, Reason: e.Reason}
		eventBookings = append(eventBookings, booking.Booking{HospitalID: e.HospitalID, DepartmentID: e.DepartmentID, DoctorID: e.DoctorID})
	}
	out.Reviews = make([]reviewOut, len(x.Reviews))
	for i, rv := range x.Reviews {
		out.Reviews[i] = reviewOut{Status: rv.Status, OpenedAt: stamp(rv.CreatedAt, loc), DecidedAt: stamp(rv.DecidedAt, loc),
			NamesAccount: rv.NamesAccount, PatientIDs: rv.PatientIDs, Kinds: rv.Kinds, Appeal: reviewAppeal}
		if out.Reviews[i].PatientIDs == nil {
			out.Reviews[i].PatientIDs = []string{}
		}
		if out.Reviews[i].Kinds == nil {
			out.Reviews[i].Kinds = []string{}
		}
	}
	out.FormerNames = make([]formerNameOut, len(x.FormerNames))
	for i, f := range x.FormerNames {
		out.FormerNames[i] = formerNameOut{PatientID: f.PatientID, Name: f.MaskedName, RecordedAt: stamp(f.RecordedAt, loc)}
	}
	if out.Bookings, err = s.bookingViews(r.context(), x.Bookings); err != nil {
		return err
	}
	for i, w := range x.Waitlist {
		out.Waitlist[i] = s.waitlistView(w)
	}
	for i, e := range x.Entries {
		out.Entries[i] = entryView(e, zoneOf(cat, e.HospitalID))
	}
	out.MadeByOthers = s.madeByOthersView(x.MadeByOthers)
	now := s.svc.Now()
	for i, c := range x.Cases {
		out.Cases[i] = s.caseView(c, false, now)
	}
	out.Notifications = s.notificationViews(x.Notifications)
	var sessions []string
	for _, w := range x.Waitlist {
		sessions = append(sessions, w.SessionID)
	}
	for _, e := range x.Entries {
		sessions = append(sessions, e.SessionID)
	}
	out.Names = exportNames(cat, sessions, append(eventBookings, x.Bookings...))
	r.rc.Response.Header.Set("Content-Disposition", `attachment; filename="fairslot-my-data-`+x.ExportedAt.In(loc).Format(time.DateOnly)+`.json"`)
	r.rc.Response.Header.Set("Cache-Control", "no-store")
	WriteJSON(r.rc, fasthttp.StatusOK, out)
	return nil
}
