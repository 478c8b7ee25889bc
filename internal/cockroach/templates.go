package cockroach

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"fairslot/internal/booking"
)

// templateBody is a stored template's layout as the body column holds it.
type templateBody struct {
	DepartmentID string         `json:"department_id,omitempty"`
	Days         []templateDay  `json:"days"`
	SlotCount    int            `json:"slot_count,omitempty"`
	Mode         string         `json:"release_mode,omitempty"`
	Pools        []templatePool `json:"pools"`
}

type templateDay struct {
	Weekday int    `json:"weekday"`
	Period  string `json:"period"`
	Start   string `json:"start"`
	End     string `json:"end"`
}

type templatePool struct {
	Channel    string `json:"channel"`
	Quota      int    `json:"quota"`
	DaysBefore int    `json:"days_before"`
	At         string `json:"at"`
	Mode       string `json:"release_mode,omitempty"`
}

func encodeTemplate(t booking.WeekTemplate) ([]byte, error) {
	b := templateBody{DepartmentID: t.DepartmentID, SlotCount: t.SlotCount, Mode: string(t.Mode)}
	for _, d := range t.Days {
		b.Days = append(b.Days, templateDay{d.Weekday, d.Period, d.Start, d.End})
	}
	for _, p := range t.Pools {
		b.Pools = append(b.Pools, templatePool{string(p.Channel), p.Quota, p.DaysBefore, p.At, string(p.Mode)})
	}
	return json.Marshal(b)
}

func decodeTemplate(doctorID string, raw []byte) (booking.WeekTemplate, error) {
	var b templateBody
	if err := json.Unmarshal(raw, &b); err != nil {
		return booking.WeekTemplate{}, fmt.Errorf("decode a stored template: %w", err)
	}
	t := booking.WeekTemplate{DoctorID: doctorID, DepartmentID: b.DepartmentID, SlotCount: b.SlotCount, Mode: booking.ReleaseMode(b.Mode)}
	for _, d := range b.Days {
		t.Days = append(t.Days, booking.TemplateDay{Weekday: d.Weekday, Period: d.Period, Start: d.Start, End: d.End})
	}
	for _, p := range b.Pools {
		t.Pools = append(t.Pools, booking.TemplatePool{Channel: booking.Channel(p.Channel), Quota: p.Quota, DaysBefore: p.DaysBefore,
			At: p.At, Mode: booking.ReleaseMode(p.Mode)})
	}
	return t, nil
}

// SaveTemplate stores a weekly template with its audit entry.
func (s *Store) SaveTemplate(ctx context.Context, t booking.StoredTemplate, create bool, a booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	body, err := encodeTemplate(t.WeekTemplate)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, "save_template", func(tx pgx.Tx) error {
		if create {
			if _, err := tx.Exec(ctx, doctorQueries["create_template"], t.ID, t.HospitalID, t.DoctorID, t.Name, string(body),
				nullable(t.UpdatedBy), t.UpdatedAt); err != nil {
				return err
			}
		} else {
			var got string
			err := tx.QueryRow(ctx, doctorQueries["update_template"], t.ID, t.Name, string(body), nullable(t.UpdatedBy), t.UpdatedAt).Scan(&got)
			if errors.Is(err, pgx.ErrNoRows) {
				return booking.ErrTemplateNotFound
			} else if err != nil {
				return err
			}
		}
		return insertAudit(ctx, tx, a)
	})
}

func scanTemplate(r pgx.Row) (booking.StoredTemplate, error) {
	var t booking.StoredTemplate
	var doctorID string
	var body []byte
	if err := r.Scan(&t.ID, &t.HospitalID, &doctorID, &t.Name, &body, &t.UpdatedBy, &t.UpdatedAt); err != nil {
		return t, err
	}
	wt, err := decodeTemplate(doctorID, body)
	t.WeekTemplate = wt
	return t, err
}

// Template reads a stored template.
func (s *Store) Template(ctx context.Context, id string) (_ booking.StoredTemplate, rerr error) {
	defer func() { rerr = translate(rerr) }()
	t, err := scanTemplate(s.db.pool.QueryRow(ctx, doctorQueries["template"], id))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, booking.ErrTemplateNotFound
	}
	return t, err
}

// Templates lists a doctor's stored templates by name.
func (s *Store) Templates(ctx context.Context, doctorID string) (_ []booking.StoredTemplate, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, doctorQueries["templates_of_doctor"], doctorID)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.StoredTemplate, error) { return scanTemplate(r) })
}

// DeleteTemplate removes a stored template with its audit entry.
func (s *Store) DeleteTemplate(ctx context.Context, id string, a booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.Tx(ctx, "delete_template", func(tx pgx.Tx) error {
		var got string
		err := tx.QueryRow(ctx, doctorQueries["delete_template"], id).Scan(&got)
		if errors.Is(err, pgx.ErrNoRows) {
			return booking.ErrTemplateNotFound
		} else if err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
}
