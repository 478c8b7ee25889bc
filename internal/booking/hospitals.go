package booking

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// HospitalRequest is a hospital as its IT team creates it from the host
// (`fairslot hospital add`): a production hospital has no other way in,
// and the demo data of `fairslot seed --demo` is never one (review21b H2).
type HospitalRequest struct {
	Name     string
	TimeZone string // an IANA zone, e.g. Asia/Shanghai
	// CancelDeadline is the local time of day (HH:MM) on the day before a
	// visit after which a cancellation is late; empty is 15:00.
	CancelDeadline string
}

// AddHospital creates a hospital with the platform's default quotas
// (DefaultPolicy: its administrator changes them with the policy API) and
// no departments, audited hospital_added by the CLI. A name the catalog
// holds already is ErrHospitalExists: a command run twice makes one
// hospital. The catalog must be loaded (Refresh first).
func (s *Service) AddHospital(ctx context.Context, req HospitalRequest) (Hospital, error) {
	name, err := checkName("name", req.Name, 60)
	if err != nil {
		return Hospital{}, err
	}
	zone := strings.TrimSpace(req.TimeZone)
	if zone == "" || zone == "Local" {
		return Hospital{}, FieldErrorf(ErrInvalidField, "time_zone", "the time zone is required, as an IANA name such as Asia/Shanghai")
	}
	if _, err := time.LoadLocation(zone); err != nil {
		return Hospital{}, FieldErrorf(ErrInvalidField, "time_zone", "unknown time zone %q: give an IANA name such as Asia/Shanghai", zone)
	}
	deadline := req.CancelDeadline
	if deadline == "" {
		deadline = "15:00"
	}
	if _, err := time.Parse("15:04", deadline); err != nil {
		return Hospital{}, FieldErrorf(ErrInvalidField, "cancel_deadline", "the cancel deadline must be a time of day HH:MM")
	}
	for _, h := range s.catalog.Load().Hospitals() {
		if strings.EqualFold(h.Name, name) {
			return Hospital{}, Errorf(ErrHospitalExists, "hospital %s is named %q already: nothing was written", h.ID, h.Name)
		}
	}
	h := Hospital{ID: newID(), Name: name, TimeZone: zone, Policy: DefaultPolicy, CancelDeadline: deadline}
	audit := AuditEntry{ID: newID(), TS: s.cfg.Now(), ActorRole: "cli", Action: "hospital_added", Target: "hospital:" + h.ID,
		HospitalID: h.ID, Reason: fmt.Sprintf("%q, %s, cancel deadline %s", name, zone, deadline)}
	if err := s.store.AddHospital(ctx, h, audit); err != nil {
		return Hospital{}, err
	}
	if _, err := s.Refresh(ctx); err != nil {
		return Hospital{}, err
	}
	return h, nil
}
