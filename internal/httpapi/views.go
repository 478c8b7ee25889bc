package httpapi

import (
	"time"

	"fairslot/internal/booking"
)

// The JSON shapes of ../shared/API.md. Times are RFC 3339 in the hospital's
// zone; names and ID numbers only ever appear masked.

type patientOut struct {
	PatientID string `json:"patient_id"`
	IDType    string `json:"id_type"`
	MaskedID  string `json:"masked_id"`
	Name      string `json:"name"`
	Phone     string `json:"phone,omitempty"`
	Self      bool   `json:"self"`
	Verified  bool   `json:"verified"`
}

func patientView(p booking.Patient) patientOut {
	return patientOut{PatientID: p.ID, IDType: p.IDType, MaskedID: p.MaskedID, Name: p.MaskedName, Phone: p.PhoneMasked,
		Self: p.IsSelf, Verified: p.Verified}
}

type policyView struct {
	PerDayDepartment int `json:"per_day_department"`
	PerDay           int `json:"per_day"`
	PerWeek          int `json:"per_week"`
	PerMonth         int `json:"per_month"`
}

func policyOut(p booking.Policy) policyView {
	return policyView{PerDayDepartment: 1, PerDay: p.PerDay, PerWeek: p.PerWeek, PerMonth: p.PerMonth}
}

type hospitalOut struct {
	ID       string     `json:"hospital_id"`
	Name     string     `json:"name"`
	TimeZone string     `json:"time_zone"`
	Policy   policyView `json:"policy"`
}

type departmentOut struct {
	ID         string `json:"department_id"`
	HospitalID string `json:"hospital_id"`
	Name       string `json:"name"`
}

type channelOut struct {
	Channel   string `json:"channel"`
	Quota     int    `json:"quota"`
	Remaining int    `json:"remaining"`
	ReleaseAt string `json:"release_at"`
	Released  bool   `json:"released"`
	Mode      string `json:"release_mode"`
}

type sessionOut struct {
	ID             string       `json:"session_id"`
	HospitalID     string       `json:"hospital_id"`
	DepartmentID   string       `json:"department_id"`
	DepartmentName string       `json:"department_name"`
	DoctorID       string       `json:"doctor_id"`
	DoctorName     string       `json:"doctor_name"`
	DoctorTitle    string       `json:"doctor_title"`
	Date           string       `json:"date"`
	Period         string       `json:"period"`
	StartsAt       string       `json:"starts_at"`
	EndsAt         string       `json:"ends_at"`
	ReleaseMode    string       `json:"release_mode"`
	Channels       []channelOut `json:"channels"`
}

func zoneOf(cat *booking.Catalog, hospitalID string) *time.Location {
	if h, ok := cat.Hospital(hospitalID); ok {
		return h.Location()
	}
	return time.UTC
}

func sessionView(cat *booking.Catalog, v booking.SessionView, now time.Time) sessionOut {
	loc := zoneOf(cat, v.HospitalID)
	dept, _ := cat.Department(v.DepartmentID)
	doc, _ := cat.Doctor(v.DoctorID)
	out := sessionOut{
		ID: v.ID, HospitalID: v.HospitalID, DepartmentID: v.DepartmentID, DepartmentName: dept.Name,
		DoctorID: v.DoctorID, DoctorName: doc.Name, DoctorTitle: doc.Title, Date: v.VisitDate, Period: v.Period,
		StartsAt: v.StartsAt.In(loc).Format(time.RFC3339), EndsAt: v.EndsAt.In(loc).Format(time.RFC3339),
		ReleaseMode: string(v.Mode), Channels: make([]channelOut, len(v.Channels)),
	}
	for i, q := range v.Channels {
		out.Channels[i] = channelOut{Channel: string(q.Channel), Quota: q.Quota, Remaining: v.Remaining[q.Channel],
			ReleaseAt: q.ReleaseAt.In(loc).Format(time.RFC3339), Released: !now.Before(q.ReleaseAt), Mode: string(v.Mode)}
	}
	return out
}

// BookingOut is a booking as the API answers it.
type BookingOut struct {
	ID           string `json:"booking_id"`
	SessionID    string `json:"session_id"`
	PatientID    string `json:"patient_id,omitempty"` // empty for a phone or desk booking of someone on no list
	HospitalID   string `json:"hospital_id"`
	DepartmentID string `json:"department_id"`
	DoctorID     string `json:"doctor_id"`
	VisitDate    string `json:"visit_date"`
	SlotNo       int    `json:"slot_no"`
	SlotStart    string `json:"slot_start"`
	SlotEnd      string `json:"slot_end"`
	Channel      string `json:"channel"`
	Status       string `json:"status"`
	CreatedAt    string `json:"created_at"`
	CancelledAt  string `json:"cancelled_at,omitempty"`
	CheckedInAt  string `json:"checked_in_at,omitempty"`
	LateCancel   bool   `json:"late_cancel,omitempty"`
}

func (s *Server) bookingView(b booking.Booking) BookingOut {
	return BookingView(b, zoneOf(s.svc.Catalog(), b.HospitalID))
}

// BookingView is b as the API answers it, its times in the hospital's zone.
func BookingView(b booking.Booking, loc *time.Location) BookingOut {
	out := BookingOut{
		ID: b.ID, SessionID: b.SessionID, PatientID: b.PatientID, HospitalID: b.HospitalID,
		DepartmentID: b.DepartmentID, DoctorID: b.DoctorID, VisitDate: b.VisitDate, SlotNo: b.SlotNo,
		SlotStart: b.SlotStart.In(loc).Format(time.RFC3339), SlotEnd: b.SlotEnd.In(loc).Format(time.RFC3339),
		Channel: string(b.Channel), Status: string(b.Status), CreatedAt: b.CreatedAt.In(loc).Format(time.RFC3339Nano),
	}
	if !b.CancelledAt.IsZero() {
		out.CancelledAt = b.CancelledAt.In(loc).Format(time.RFC3339Nano)
	}
	if !b.CheckedInAt.IsZero() {
		out.CheckedInAt = b.CheckedInAt.In(loc).Format(time.RFC3339)
	}
	out.LateCancel = b.LateCancel
	return out
}

type waitlistOut struct {
	ID        string `json:"waitlist_id"`
	SessionID string `json:"session_id"`
	PatientID string `json:"patient_id"`
	Status    string `json:"status"`
	Position  int    `json:"position,omitempty"`
	CreatedAt string `json:"created_at"`
}

func waitlistView(e booking.WaitlistEntry) waitlistOut {
	return waitlistOut{ID: e.ID, SessionID: e.SessionID, PatientID: e.PatientID, Status: e.Status,
		Position: e.Position, CreatedAt: e.CreatedAt.Format(time.RFC3339)}
}

type lookupOut struct {
	IDType   string       `json:"id_type"`
	MaskedID string       `json:"masked_id"`
	Name     string       `json:"name"`
	Bookings []BookingOut `json:"bookings"`
}
