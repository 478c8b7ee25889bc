package booking

import (
	"context"
	"time"
)

// SessionView is a session as a patient browses it: the catalog entry plus
// the live count of free slots per channel.
type SessionView struct {
	*Session
	Remaining map[Channel]int
}

// Sessions lists a hospital's sessions on a date (and in a department) with
// their remaining slots. An empty date lists every upcoming session.
func (s *Service) Sessions(ctx context.Context, hospitalID, date, departmentID string) ([]SessionView, error) {
	cat := s.catalog.Load()
	if _, ok := cat.Hospital(hospitalID); !ok {
		return nil, ErrHospitalNotFound
	}
	if date != "" {
		if _, err := time.Parse(time.DateOnly, date); err != nil {
			return nil, ErrInvalidDate
		}
	}
	list := cat.Sessions(hospitalID, date, departmentID)
	if len(list) == 0 {
		return []SessionView{}, nil
	}
	rem, err := s.adm.Remaining(ctx, list)
	if err != nil {
		return nil, err
	}
	out := make([]SessionView, len(list))
	for i, ss := range list {
		out[i] = SessionView{Session: ss, Remaining: rem[i]}
	}
	return out, nil
}

// Hospital finds a hospital in the catalog.
func (s *Service) Hospital(id string) (*Hospital, error) {
	h, ok := s.catalog.Load().Hospital(id)
	if !ok {
		return nil, ErrHospitalNotFound
	}
	return h, nil
}

// SaveSchedule stores new hospitals and sessions, then refreshes the catalog
// so they are bookable at once.
func (s *Service) SaveSchedule(ctx context.Context, sch Schedule) error {
	if err := s.store.SaveSchedule(ctx, sch); err != nil {
		return err
	}
	_, err := s.Refresh(ctx)
	return err
}
