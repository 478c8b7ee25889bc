package httpapi

import (
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// A hospital's departments and doctors as its administrator keeps them
// (booking/doctors.go).

type departmentIn struct {
	HospitalID string `json:"hospital_id"`
	Name       string `json:"name"`
	Reason     string `json:"reason"`
}

// adminDepartmentOut is a department as its administrators see it.
type adminDepartmentOut struct {
	departmentOut
	RetiredAt string `json:"retired_at,omitempty"`
}

func departmentAdminView(d booking.Department, loc *time.Location) adminDepartmentOut {
	out := adminDepartmentOut{departmentOut: departmentOut{ID: d.ID, HospitalID: d.HospitalID, Name: d.Name}}
	if d.Retired() {
		out.RetiredAt = d.RetiredAt.In(loc).Format(time.RFC3339)
	}
	return out
}

func (s *Server) createDepartment(r *request) error {
	var in departmentIn
	if err := decode(r.rc, &in); err != nil {
		return err
	}
	if err := Required("hospital_id", in.HospitalID, "name", in.Name); err != nil {
		return err
	}
	d, err := s.svc.CreateDepartment(r.context(), r.actor, booking.DepartmentRequest{HospitalID: in.HospitalID, Name: in.Name,
		Reason: in.Reason, IdempotencyKey: idempotencyKey(r.rc)})
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusCreated, departmentAdminView(d, zoneOf(s.svc.Catalog(), d.HospitalID)))
	return nil
}

func (s *Server) renameDepartment(r *request) error {
	var in departmentIn
	if err := decode(r.rc, &in); err != nil {
		return err
	}
	if err := Required("name", in.Name); err != nil {
		return err
	}
	d, err := s.svc.RenameDepartment(r.context(), r.actor, r.param, booking.DepartmentRequest{Name: in.Name, Reason: in.Reason})
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, departmentAdminView(d, zoneOf(s.svc.Catalog(), d.HospitalID)))
	return nil
}

func (s *Server) retireDepartment(r *request) error {
	var in stopIn
	if err := decode(r.rc, &in); err != nil {
		return err
	}
	d, err := s.svc.RetireDepartment(r.context(), r.actor, r.param, in.Reason)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, departmentAdminView(d, zoneOf(s.svc.Catalog(), d.HospitalID)))
	return nil
}

// doctorIn is a doctor as an administrator creates or edits them; on an
// edit, a field left out keeps its value.
type doctorIn struct {
	DepartmentID string  `json:"department_id"`
	Name         string  `json:"name"`
	Title        *string `json:"title"`
	FeeLevel     string  `json:"fee_level"`
	Reason       string  `json:"reason"`
}

type doctorOut struct {
	ID           string `json:"doctor_id"`
	HospitalID   string `json:"hospital_id"`
	DepartmentID string `json:"department_id"`
	Name         string `json:"name"`
	Title        string `json:"title"`
	FeeLevel     string `json:"fee_level"`
	RetiredAt    string `json:"retired_at,omitempty"`
}

func doctorView(d booking.Doctor, loc *time.Location) doctorOut {
	out := doctorOut{ID: d.ID, HospitalID: d.HospitalID, DepartmentID: d.DepartmentID, Name: d.Name, Title: d.Title,
		FeeLevel: string(d.FeeLevel.OrGeneral())}
	if d.Retired() {
		out.RetiredAt = d.RetiredAt.In(loc).Format(time.RFC3339)
	}
	return out
}

func (in doctorIn) request(title string) booking.DoctorRequest {
	if in.Title != nil {
		title = *in.Title
	}
	return booking.DoctorRequest{DepartmentID: in.DepartmentID, Name: in.Name, Title: title,
		FeeLevel: booking.FeeLevel(in.FeeLevel), Reason: in.Reason}
}

func (s *Server) createDoctor(r *request) error {
	var in doctorIn
	if err := decode(r.rc, &in); err != nil {
		return err
	}
	if err := Required("department_id", in.DepartmentID, "name", in.Name); err != nil {
		return err
	}
	req := in.request("")
	req.IdempotencyKey = idempotencyKey(r.rc)
	d, err := s.svc.CreateDoctor(r.context(), r.actor, req)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusCreated, doctorView(d, zoneOf(s.svc.Catalog(), d.HospitalID)))
	return nil
}

func (s *Server) updateDoctor(r *request) error {
	var in doctorIn
	if err := decode(r.rc, &in); err != nil {
		return err
	}
	old, _ := s.svc.Catalog().Doctor(r.param) // a title left out is kept
	d, err := s.svc.UpdateDoctor(r.context(), r.actor, r.param, in.request(old.Title))
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, doctorView(d, zoneOf(s.svc.Catalog(), d.HospitalID)))
	return nil
}

func (s *Server) retireDoctor(r *request) error {
	var in stopIn
	if err := decode(r.rc, &in); err != nil {
		return err
	}
	d, err := s.svc.RetireDoctor(r.context(), r.actor, r.param, in.Reason)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, doctorView(d, zoneOf(s.svc.Catalog(), d.HospitalID)))
	return nil
}

// hospitalStaffing answers an administrator with a hospital's departments
// and doctors, retired ones too.
func (s *Server) hospitalStaffing(r *request) error {
	docs, err := s.svc.HospitalDoctors(r.actor, r.param)
	if err != nil {
		return err
	}
	cat := s.svc.Catalog()
	loc := zoneOf(cat, r.param)
	out := struct {
		Departments []adminDepartmentOut `json:"departments"`
		Doctors     []doctorOut          `json:"doctors"`
	}{Departments: []adminDepartmentOut{}, Doctors: []doctorOut{}}
	for _, d := range cat.Departments(r.param) {
		out.Departments = append(out.Departments, departmentAdminView(d, loc))
	}
	for _, d := range docs {
		out.Doctors = append(out.Doctors, doctorView(d, loc))
	}
	WriteJSON(r.rc, fasthttp.StatusOK, out)
	return nil
}
