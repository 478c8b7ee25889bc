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
}

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
	BlockedUntil string `json:"blocked_until,omitempty"`
}

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
	out.Names = exportNames(cat, sessions, x.Bookings)
	r.rc.Response.Header.Set("Content-Disposition", `attachment; filename="fairslot-my-data-`+x.ExportedAt.In(loc).Format(time.DateOnly)+`.json"`)
	r.rc.Response.Header.Set("Cache-Control", "no-store")
	WriteJSON(r.rc, fasthttp.StatusOK, out)
	return nil
}
