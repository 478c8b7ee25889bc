package booking

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Stored weekly templates (出诊模板): a doctor's rota kept by the hospital,
// edited when the rota changes and applied to a week to publish it. A
// template is checked when it is saved as a week of it would be when
// published (quotas adding up, releases before starts, no two clinics of it
// overlapping), and again, with the doctor's sessions, when it is applied.

// StoredTemplate is a weekly template the hospital keeps for a doctor.
type StoredTemplate struct {
	ID         string
	HospitalID string
	Name       string
	WeekTemplate
	UpdatedBy string
	UpdatedAt time.Time
}

// TemplateRequest is a template as an administrator saves it.
type TemplateRequest struct {
	Name string
	WeekTemplate
	IdempotencyKey string // on create: a repeat names the same template
}

// checkTemplate lays t out over a week far enough ahead that no clinic of
// it is in the past, with every check of a published week but the
// doctor's existing sessions (those are met when it is applied).
func (s *Service) checkTemplate(actor Actor, cat *Catalog, t WeekTemplate) (Doctor, error) {
	// The Monday is the hospital's: found in its own time zone, or a
	// server on UTC would name a Tuesday from 00:00 to 08:00 in Beijing.
	ahead := s.cfg.Now().AddDate(0, 0, 14)
	if doc, ok := cat.Doctor(t.DoctorID); ok {
		if h, ok := cat.Hospital(doc.HospitalID); ok {
			ahead = ahead.In(h.Location())
		}
	}
	for ahead.Weekday() != time.Monday {
		ahead = ahead.AddDate(0, 0, 1)
	}
	doc, _, err := s.layoutWeek(actor, cat, ahead.Format(time.DateOnly), t, "", false, nil)
	return doc, err
}

// SaveTemplate creates (id "") or replaces a doctor's stored template.
func (s *Service) SaveTemplate(ctx context.Context, actor Actor, id string, req TemplateRequest) (StoredTemplate, error) {
	if actor.Role != RoleAdmin {
		return StoredTemplate{}, Errorf(ErrForbidden, "only administrators keep weekly templates")
	}
	create := id == ""
	if !create {
		old, err := s.template(ctx, actor, id)
		if err != nil {
			return StoredTemplate{}, err
		}
		if req.DoctorID != "" && req.DoctorID != old.DoctorID {
			return StoredTemplate{}, Errorf(ErrInvalidField, "a template keeps its doctor")
		}
		req.DoctorID = old.DoctorID
	}
	name, err := checkName("name", req.Name, 60)
	if err != nil {
		return StoredTemplate{}, err
	}
	if err := auditText("reason", req.Reason, 500); err != nil {
		return StoredTemplate{}, err
	}
	cat := s.catalog.Load()
	doc, err := s.checkTemplate(actor, cat, req.WeekTemplate)
	if err != nil {
		return StoredTemplate{}, err
	}
	if create {
		id = newID()
		if req.IdempotencyKey != "" {
			id = s.idempotentID(actor.AccountID, "template\x00"+req.IdempotencyKey)
		}
	}
	t := StoredTemplate{ID: id, HospitalID: doc.HospitalID, Name: name, WeekTemplate: req.WeekTemplate,
		UpdatedBy: actor.AccountID, UpdatedAt: s.cfg.Now()}
	t.Reason = ""
	action := "template_update"
	if create {
		action = "template_create"
	}
	audit := s.catalogAudit(actor, action, "template:"+t.ID, t.HospitalID,
		fmt.Sprintf("%q for doctor %s: %s; %s", name, doc.ID, templateSummary(t.WeekTemplate), req.Reason))
	if err := s.store.SaveTemplate(ctx, t, create, audit); err != nil {
		return StoredTemplate{}, err
	}
	return s.store.Template(ctx, t.ID)
}

// template reads a stored template an administrator may use.
func (s *Service) template(ctx context.Context, actor Actor, id string) (StoredTemplate, error) {
	if actor.Role != RoleAdmin {
		return StoredTemplate{}, Errorf(ErrForbidden, "only administrators keep weekly templates")
	}
	if !isUUID(id) {
		return StoredTemplate{}, ErrTemplateNotFound
	}
	t, err := s.store.Template(ctx, id)
	if err != nil {
		return StoredTemplate{}, err
	}
	if !actor.Covers(t.HospitalID) {
		return StoredTemplate{}, Errorf(ErrForbidden, "this template is another hospital's")
	}
	return t, nil
}

// DoctorTemplates lists a doctor's stored templates.
func (s *Service) DoctorTemplates(ctx context.Context, actor Actor, doctorID string) ([]StoredTemplate, error) {
	doc, ok := s.catalog.Load().Doctor(doctorID)
	if !ok {
		return nil, ErrDoctorNotFound
	}
	if err := admin(actor, doc.HospitalID, "keep weekly templates"); err != nil {
		return nil, err
	}
	return s.store.Templates(ctx, doc.ID)
}

// DeleteTemplate removes a stored template; the sessions published from
// it stay (they never refer to it).
func (s *Service) DeleteTemplate(ctx context.Context, actor Actor, id, reason string) error {
	t, err := s.template(ctx, actor, id)
	if err != nil {
		return err
	}
	if err := auditText("reason", reason, 500); err != nil {
		return err
	}
	audit := s.catalogAudit(actor, "template_delete", "template:"+t.ID, t.HospitalID, fmt.Sprintf("%q; %s", t.Name, reason))
	return s.store.DeleteTemplate(ctx, t.ID, audit)
}

// ApplyTemplate publishes a stored template's week from monday, as
// PublishWeek publishes a template sent with the request; openPast is its
// WeekTemplate.OpenPastReleases.
func (s *Service) ApplyTemplate(ctx context.Context, actor Actor, id, monday, idemKey string, openPast bool) ([]*Session, error) {
	t, err := s.template(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if idemKey != "" {
		idemKey = "template\x00" + t.ID + "\x00" + idemKey
	}
	t.Reason = "template " + t.Name
	t.OpenPastReleases = openPast
	return s.PublishWeek(ctx, actor, monday, t.WeekTemplate, idemKey)
}

// TemplateWeek lays a stored template's week from monday out as
// ApplyTemplate would publish it, publishing nothing: the console checks
// its release times first (sessions already in the catalog are not
// checked against, so a week that overlaps one is refused only at
// ApplyTemplate).
func (s *Service) TemplateWeek(ctx context.Context, actor Actor, id, monday string) ([]Session, error) {
	t, err := s.template(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	cat := s.catalog.Load()
	cal, err := s.weekCalendar(ctx, cat, t.DoctorID, monday)
	if err != nil {
		return nil, err
	}
	_, sessions, err := s.layoutWeek(actor, cat, monday, t.WeekTemplate, "", false, cal)
	return sessions, err
}

// templateSummary is the audit log's line for a template's layout.
func templateSummary(t WeekTemplate) string {
	var days, pools []string
	for _, d := range t.Days {
		days = append(days, fmt.Sprintf("%d %s %s–%s", d.Weekday, d.Period, d.Start, d.End))
	}
	for _, p := range t.Pools {
		pools = append(pools, fmt.Sprintf("%s %d at %s %d days before", p.Channel, p.Quota, p.At, p.DaysBefore))
	}
	return strings.Join(days, ", ") + "; " + strings.Join(pools, ", ")
}
