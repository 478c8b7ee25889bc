package booking

import (
	"context"
	"slices"
	"strings"
	"time"
)

// The administrators' schedule listing (号源): one hospital's sessions of
// a date range, filtered by department and doctor, a bounded page at a
// time, each with its booked and free slots per pool (review19b M6).

// MaxSchedulePage bounds a page of the administrators' schedule: a
// 400-doctor hospital has thousands of sessions a week, and each row
// costs a Redis count and carries forms.
const MaxSchedulePage = 50

// ScheduleQuery selects a page of a hospital's sessions.
type ScheduleQuery struct {
	HospitalID   string
	DepartmentID string // "" for every department
	DoctorID     string // "" for every doctor
	// From and To are the visit dates (inclusive) the page lists: a week in
	// the console. Both required, To not before From.
	From, To string
	// Page is 1-based; PageSize is bounded by MaxSchedulePage.
	Page, PageSize int
}

// ScheduleEntry is a session of the listing: its free slots per channel
// as Redis counts them (nil when the hospital's state in Redis is not
// whole: the counts are not to be trusted) and its active bookings per
// pool (the channel of the slot each holds) as SQL counts them — what a
// stop (停诊) would cancel, as the session's page counts it
// (Store.BookedCounts).
type ScheduleEntry struct {
	*Session
	Remaining map[Channel]int
	Booked    map[Channel]int
}

// BookedTotal is how many active bookings the session has, every channel's.
func (e ScheduleEntry) BookedTotal() int {
	n := 0
	for _, v := range e.Booked {
		n += v
	}
	return n
}

// SchedulePage is one page of the listing, and how many sessions match.
type SchedulePage struct {
	Entries        []ScheduleEntry
	Total          int
	Page, PageSize int
}

// Pages is how many pages the matching sessions fill.
func (p SchedulePage) Pages() int {
	if p.PageSize < 1 || p.Total == 0 {
		return 1
	}
	return (p.Total + p.PageSize - 1) / p.PageSize
}

// AdminSchedule lists a page of a hospital's sessions for its
// administrators, in visiting order: chosen from the catalog by date range
// first (a binary search), then by department and doctor, and only the
// page's sessions are counted in Redis and SQL. A page past the last is
// the last.
func (s *Service) AdminSchedule(ctx context.Context, actor Actor, q ScheduleQuery) (SchedulePage, error) {
	if actor.Role != RoleAdmin {
		return SchedulePage{}, Errorf(ErrForbidden, "only administrators read the schedule to manage it")
	}
	cat := s.catalog.Load()
	if _, ok := cat.Hospital(q.HospitalID); !ok || !actor.Covers(q.HospitalID) {
		return SchedulePage{}, ErrHospitalNotFound
	}
	from, err := time.Parse(time.DateOnly, q.From)
	if err != nil {
		return SchedulePage{}, FieldErrorf(ErrInvalidDate, "from", "from: a date such as 2026-12-07")
	}
	to, err := time.Parse(time.DateOnly, q.To)
	if err != nil || to.Before(from) {
		return SchedulePage{}, FieldErrorf(ErrInvalidDate, "to", "to: a date not before from")
	}
	if q.DepartmentID != "" {
		if d, ok := cat.Department(q.DepartmentID); !ok || d.HospitalID != q.HospitalID {
			return SchedulePage{}, ErrDepartmentNotFound
		}
	}
	if q.DoctorID != "" {
		if d, ok := cat.Doctor(q.DoctorID); !ok || d.HospitalID != q.HospitalID {
			return SchedulePage{}, ErrDoctorNotFound
		}
	}
	page := SchedulePage{Page: max(q.Page, 1), PageSize: q.PageSize}
	if page.PageSize < 1 || page.PageSize > MaxSchedulePage {
		page.PageSize = MaxSchedulePage
	}
	var match []*Session
	for _, ss := range cat.SessionsBetween(q.HospitalID, q.From, q.To) {
		if (q.DepartmentID == "" || ss.DepartmentID == q.DepartmentID) && (q.DoctorID == "" || ss.DoctorID == q.DoctorID) {
			match = append(match, ss)
		}
	}
	page.Total = len(match)
	page.Page = min(page.Page, page.Pages())
	lo := (page.Page - 1) * page.PageSize
	list := match[lo:min(lo+page.PageSize, len(match))]
	if len(list) == 0 {
		return page, nil
	}
	ids := make([]string, len(list))
	for i, ss := range list {
		ids[i] = ss.ID
	}
	booked, err := s.store.BookedCounts(ctx, ids)
	if err != nil {
		return SchedulePage{}, err
	}
	var rem []map[Channel]int
	if s.stateWhole(q.HospitalID) == nil {
		if rem, err = s.adm.Remaining(ctx, list); err != nil {
			return SchedulePage{}, err
		}
	}
	page.Entries = make([]ScheduleEntry, len(list))
	for i, ss := range list {
		page.Entries[i] = ScheduleEntry{Session: ss, Booked: booked[ss.ID].Bookings}
		if rem != nil {
			page.Entries[i].Remaining = rem[i]
		}
	}
	return page, nil
}

// SessionsBetween lists a hospital's sessions with a visit date from from
// to to (inclusive), in visiting order, found by binary search.
func (c *Catalog) SessionsBetween(hospitalID, from, to string) []*Session {
	list := c.byHospital[hospitalID]
	lo, _ := slices.BinarySearchFunc(list, from, func(s *Session, d string) int { return strings.Compare(s.VisitDate, d) })
	hi := lo
	for hi < len(list) && list[hi].VisitDate <= to {
		hi++
	}
	return list[lo:hi]
}
