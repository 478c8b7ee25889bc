package bookingtest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"fairslot/internal/booking"
)

// Store's CaseStore, with the adapter's semantics (internal/cockroach
// cases.go and cases.sql): reports and complaints, their answers and
// closing, and the notifications they send, kept in the one outbox.

// The case store Store implements in full.
var _ booking.CaseStore = (*Store)(nil)

// InsertCase files a case.
func (s *Store) InsertCase(_ context.Context, c booking.Case) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cases == nil {
		s.cases = map[string]booking.Case{}
	}
	if _, ok := s.cases[c.ID]; ok {
		return fmt.Errorf("bookingtest: case %s exists (the adapter's primary key refuses it)", c.ID)
	}
	s.cases[c.ID] = c
	return nil
}

// OpenCases counts an account's cases still waiting for a first answer.
func (s *Store) OpenCases(_ context.Context, accountID string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.cases {
		if c.AccountID == accountID && c.Status == booking.CaseOpen {
			n++
		}
	}
	return n, nil
}

func (s *Store) casesWhere(keep func(booking.Case) bool) []booking.Case {
	var out []booking.Case
	for _, c := range s.cases {
		if keep(c) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b booking.Case) int { return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID)) })
	return out
}

// CasesOfAccount lists an account's cases, newest first.
func (s *Store) CasesOfAccount(_ context.Context, accountID string) ([]booking.Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.casesWhere(func(c booking.Case) bool { return c.AccountID == accountID }), nil
}

// CasesOfHospital lists a hospital's cases ("" every hospital's) in the
// given states, newest first (the Service sorts its queue by deadline).
func (s *Store) CasesOfHospital(_ context.Context, hospitalID string, states []string) ([]booking.Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.casesWhere(func(c booking.Case) bool {
		return (hospitalID == "" || c.HospitalID == hospitalID) && slices.Contains(states, c.Status)
	}), nil
}

// CasesOfFlag lists the reports linked to a flag.
func (s *Store) CasesOfFlag(_ context.Context, flagID string) ([]booking.Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.casesWhere(func(c booking.Case) bool { return c.FlagID == flagID }), nil
}

// CasesFoldedInto lists the reports folded into a case.
func (s *Store) CasesFoldedInto(_ context.Context, id string) ([]booking.Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.casesWhere(func(c booking.Case) bool { return c.FoldedInto == id }), nil
}

// CasesByID returns the cases of the ids that exist.
func (s *Store) CasesByID(_ context.Context, ids []string) ([]booking.Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.casesWhere(func(c booking.Case) bool { return slices.Contains(ids, c.ID) }), nil
}

// Case returns a case or ErrCaseNotFound.
func (s *Store) Case(_ context.Context, id string) (booking.Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cases[id]
	if !ok {
		return booking.Case{}, booking.ErrCaseNotFound
	}
	return c, nil
}

// AnswerCase records an answer: the first answer's time and author stay
// (the deadline is judged by them), a later one replaces the text; with
// close the case is closed too. The notification and the audit entry are
// kept with it; ErrCaseClosed when the case is closed.
func (s *Store) AnswerCase(_ context.Context, id, answer, flagID string, close bool, by string, at time.Time, n booking.Notification, a booking.AuditEntry) (booking.Case, error) {
	return s.changeCase(id, &n, a, func(c *booking.Case) {
		c.Answer = answer
		if flagID != "" {
			c.FlagID = flagID
		}
		c.Status = booking.CaseAnswered
		if c.AnsweredAt.IsZero() {
			c.AnsweredBy, c.AnsweredAt = by, at
		}
		if close {
			c.Status, c.ClosedBy, c.ClosedAt = booking.CaseClosed, by, at
		}
	})
}

// SetCaseDepartments records an administrator's say on several
// departments and the deadline, with its audit entry; ErrCaseClosed when
// the case is closed.
func (s *Store) SetCaseDepartments(_ context.Context, id string, several bool, dueAt time.Time, a booking.AuditEntry) (booking.Case, error) {
	return s.changeCase(id, nil, a, func(c *booking.Case) { c.SeveralDepartments, c.DueAt = several, dueAt })
}

// CloseCase closes a case with a note, its notification and audit entry;
// ErrCaseClosed when it already was.
func (s *Store) CloseCase(_ context.Context, id, note, by string, at time.Time, n booking.Notification, a booking.AuditEntry) (booking.Case, error) {
	return s.changeCase(id, &n, a, func(c *booking.Case) {
		c.Status, c.CloseNote, c.ClosedBy, c.ClosedAt = booking.CaseClosed, note, by, at
	})
}

// changeCase changes an open case, with its audit entry and its
// notification (n nil: none).
func (s *Store) changeCase(id string, n *booking.Notification, a booking.AuditEntry, change func(*booking.Case)) (booking.Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cases[id]
	switch {
	case !ok:
		return booking.Case{}, booking.ErrCaseNotFound
	case c.Status == booking.CaseClosed:
		return booking.Case{}, booking.ErrCaseClosed
	}
	change(&c)
	s.cases[id] = c
	if n != nil && n.AccountID != "" {
		s.notifications = append(s.notifications, *n)
	}
	s.audit = append(s.audit, a)
	return c, nil
}

// ReportsSince lists the reports filed since a time, oldest first.
func (s *Store) ReportsSince(_ context.Context, since time.Time) ([]booking.Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.casesWhere(func(c booking.Case) bool { return c.Kind == booking.CaseReport && !c.CreatedAt.Before(since) })
	slices.Reverse(out)
	return out, nil
}

// AccountNotifications lists an account's notifications, newest first.
func (s *Store) AccountNotifications(_ context.Context, accountID string, limit int) ([]booking.Notification, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []booking.Notification
	for _, n := range s.notifications {
		if n.AccountID == accountID {
			out = append(out, n)
		}
	}
	slices.SortStableFunc(out, func(a, b booking.Notification) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out[:min(limit, len(out))], nil
}

// MarkNotificationsRead marks an account's unread notifications read.
func (s *Store) MarkNotificationsRead(_ context.Context, accountID string, at time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for i := range s.notifications {
		if x := &s.notifications[i]; x.AccountID == accountID && x.ReadAt.IsZero() {
			x.ReadAt, n = at, n+1
		}
	}
	return n, nil
}
