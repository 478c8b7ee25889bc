package httpapi

import (
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// Stored weekly templates (booking/templates.go).

type templateIn struct {
	Name string `json:"name"`
	templateBody
}

func (in templateIn) check() error {
	return Required("name", in.Name)
}

type templateOut struct {
	ID           string           `json:"template_id"`
	HospitalID   string           `json:"hospital_id"`
	DoctorID     string           `json:"doctor_id"`
	Name         string           `json:"name"`
	DepartmentID string           `json:"department_id,omitempty"`
	Days         []templateDayOut `json:"days"`
	SlotCount    int              `json:"slot_count,omitempty"`
	ReleaseMode  string           `json:"release_mode,omitempty"`
	Channels     []templatePoolIO `json:"channels"`
	UpdatedAt    string           `json:"updated_at"`
}

type templateDayOut struct {
	Weekday int    `json:"weekday"`
	Period  string `json:"period"`
	Start   string `json:"start"`
	End     string `json:"end"`
}

func templateView(t booking.StoredTemplate, loc *time.Location) templateOut {
	out := templateOut{ID: t.ID, HospitalID: t.HospitalID, DoctorID: t.DoctorID, Name: t.Name, DepartmentID: t.DepartmentID,
		SlotCount: t.SlotCount, ReleaseMode: string(t.Mode), Days: []templateDayOut{}, Channels: []templatePoolIO{},
		UpdatedAt: t.UpdatedAt.In(loc).Format(time.RFC3339)}
	for _, d := range t.Days {
		out.Days = append(out.Days, templateDayOut{d.Weekday, d.Period, d.Start, d.End})
	}
	for _, p := range t.Pools {
		out.Channels = append(out.Channels, templatePoolIO{string(p.Channel), p.Quota, p.DaysBefore, p.At, string(p.Mode)})
	}
	return out
}

func (s *Server) saveTemplate(r *request, doctorID, id string, status int) error {
	var in templateIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	t, err := in.template(doctorID)
	if err != nil {
		return err
	}
	req := booking.TemplateRequest{Name: in.Name, WeekTemplate: t}
	if id == "" {
		req.IdempotencyKey = idempotencyKey(r.rc)
	}
	saved, err := s.svc.SaveTemplate(r.context(), r.actor, id, req)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, status, templateView(saved, zoneOf(s.svc.Catalog(), saved.HospitalID)))
	return nil
}

func (s *Server) createTemplate(r *request) error {
	if _, ok := s.svc.Catalog().Doctor(r.param); !ok {
		return booking.ErrDoctorNotFound
	}
	return s.saveTemplate(r, r.param, "", fasthttp.StatusCreated)
}

func (s *Server) updateTemplate(r *request) error {
	return s.saveTemplate(r, "", r.param, fasthttp.StatusOK)
}

func (s *Server) listTemplates(r *request) error {
	ts, err := s.svc.DoctorTemplates(r.context(), r.actor, r.param)
	if err != nil {
		return err
	}
	cat := s.svc.Catalog()
	writeList(r.rc, ts, func(t booking.StoredTemplate) templateOut { return templateView(t, zoneOf(cat, t.HospitalID)) })
	return nil
}

func (s *Server) deleteTemplate(r *request) error {
	reason := string(r.rc.QueryArgs().Peek("reason"))
	if err := s.svc.DeleteTemplate(r.context(), r.actor, r.param, reason); err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]string{"template_id": r.param, "status": "deleted"})
	return nil
}

type applyIn struct {
	WeekOf           string `json:"week_of"`
	OpenPastReleases bool   `json:"open_past_releases"`
}

func (in applyIn) check() error { return Required("week_of", in.WeekOf) }

func (s *Server) applyTemplate(r *request) error {
	var in applyIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	sessions, err := s.svc.ApplyTemplate(r.context(), r.actor, r.param, in.WeekOf, idempotencyKey(r.rc), in.OpenPastReleases)
	if err != nil {
		return err
	}
	return s.writeSessions(r, sessions)
}
