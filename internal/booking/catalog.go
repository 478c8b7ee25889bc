package booking

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Catalog is an immutable in-memory snapshot of hospitals and their upcoming
// sessions. The hot path reads it instead of SQL; the Service swaps in a
// fresh one periodically and after schedule changes.
type Catalog struct {
	hospitals   []*Hospital
	hospital    map[string]*Hospital
	departments map[string][]Department // by hospital
	department  map[string]Department
	doctor      map[string]Doctor
	doctors     map[string][]Doctor // by hospital
	session     map[string]*sessionEntry
	byHospital  map[string][]*Session // ordered by visit date, start, id
}

type sessionEntry struct {
	*Session
	week, month string
}

// NewCatalog indexes a schedule.
func NewCatalog(s Schedule) *Catalog {
	c := &Catalog{
		hospital:    make(map[string]*Hospital, len(s.Hospitals)),
		departments: make(map[string][]Department),
		department:  make(map[string]Department, len(s.Departments)),
		doctor:      make(map[string]Doctor, len(s.Doctors)),
		doctors:     make(map[string][]Doctor),
		session:     make(map[string]*sessionEntry, len(s.Sessions)),
		byHospital:  make(map[string][]*Session),
	}
	for i := range s.Hospitals {
		h := s.Hospitals[i]
		h.loc = h.Location()
		c.hospitals = append(c.hospitals, &h)
		c.hospital[h.ID] = &h
	}
	slices.SortFunc(c.hospitals, func(a, b *Hospital) int { return strings.Compare(a.Name, b.Name) })
	for _, d := range s.Departments {
		c.departments[d.HospitalID] = append(c.departments[d.HospitalID], d)
		c.department[d.ID] = d
	}
	for _, d := range c.departments {
		slices.SortFunc(d, func(a, b Department) int { return strings.Compare(a.Name, b.Name) })
	}
	for _, d := range s.Doctors {
		c.doctor[d.ID] = d
		c.doctors[d.HospitalID] = append(c.doctors[d.HospitalID], d)
	}
	for _, d := range c.doctors {
		slices.SortFunc(d, func(a, b Doctor) int {
			if a.DepartmentID != b.DepartmentID {
				return strings.Compare(c.department[a.DepartmentID].Name, c.department[b.DepartmentID].Name)
			}
			return strings.Compare(a.Name, b.Name)
		})
	}
	for i := range s.Sessions {
		ss := s.Sessions[i]
		slices.SortFunc(ss.Channels, func(a, b ChannelQuota) int { return channelIndex(a.Channel) - channelIndex(b.Channel) })
		week, month := PeriodKeys(ss.VisitDate)
		c.session[ss.ID] = &sessionEntry{Session: &ss, week: week, month: month}
		c.byHospital[ss.HospitalID] = append(c.byHospital[ss.HospitalID], &ss)
	}
	for _, list := range c.byHospital {
		slices.SortFunc(list, func(a, b *Session) int {
			if a.VisitDate != b.VisitDate {
				return strings.Compare(a.VisitDate, b.VisitDate)
			}
			if !a.StartsAt.Equal(b.StartsAt) {
				return a.StartsAt.Compare(b.StartsAt)
			}
			return strings.Compare(a.ID, b.ID)
		})
	}
	return c
}

func channelIndex(c Channel) int {
	for i, x := range Channels {
		if x == c {
			return i
		}
	}
	return len(Channels)
}

// PeriodKeys returns the ISO week and the month that a visit date counts in
// for the weekly and monthly quotas.
func PeriodKeys(visitDate string) (week, month string) {
	d, err := time.Parse(time.DateOnly, visitDate)
	if err != nil {
		return "", ""
	}
	y, w := d.ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w), d.Format("2006-01")
}

// Hospitals lists every hospital by name.
func (c *Catalog) Hospitals() []*Hospital { return c.hospitals }

// Hospital finds a hospital by id.
func (c *Catalog) Hospital(id string) (*Hospital, bool) {
	h, ok := c.hospital[id]
	return h, ok
}

// Departments lists a hospital's departments by name.
func (c *Catalog) Departments(hospitalID string) []Department { return c.departments[hospitalID] }

// Department finds a department by id.
func (c *Catalog) Department(id string) (Department, bool) {
	d, ok := c.department[id]
	return d, ok
}

// Doctor finds a doctor by id.
func (c *Catalog) Doctor(id string) (Doctor, bool) {
	d, ok := c.doctor[id]
	return d, ok
}

// Doctors lists a hospital's doctors, retired ones too, by department
// name and then name.
func (c *Catalog) Doctors(hospitalID string) []Doctor { return c.doctors[hospitalID] }

// Session finds a session by id.
func (c *Catalog) Session(id string) (*Session, bool) {
	e, ok := c.session[id]
	if !ok {
		return nil, false
	}
	return e.Session, true
}

// SessionID is the id of the session whose id is b, as the catalog holds
// it: a decoder gives an attempt's session_id as this string instead of a
// copy of the request's bytes (one allocation less a booking attempt,
// docs/performance.md). The lookup itself allocates nothing.
func (c *Catalog) SessionID(b []byte) (string, bool) {
	e, ok := c.session[string(b)]
	if !ok {
		return "", false
	}
	return e.Session.ID, true
}

// Sessions lists a hospital's sessions on a date ("" for every date) and in a
// department ("" for every department), in visiting order.
func (c *Catalog) Sessions(hospitalID, date, departmentID string) []*Session {
	var out []*Session
	for _, s := range c.byHospital[hospitalID] {
		if (date == "" || s.VisitDate == date) && (departmentID == "" || s.DepartmentID == departmentID) {
			out = append(out, s)
		}
	}
	return out
}

// HospitalSessions lists all of a hospital's sessions in the snapshot.
func (c *Catalog) HospitalSessions(hospitalID string) []*Session { return c.byHospital[hospitalID] }

// FreeCancelUntil is when cancelling b, from now on, starts to count as a
// no-show, as the cancellation applies it: the clinic's start when the
// hospital moved it (改期) after b was booked (Session.MovedAfter), else its
// hospital's rule (Hospital.FreeCancelUntil). False when b's hospital is
// gone from the catalog.
func (c *Catalog) FreeCancelUntil(b Booking, now time.Time) (time.Time, bool) {
	h, ok := c.Hospital(b.HospitalID)
	if !ok {
		return time.Time{}, false
	}
	if sess, ok := c.Session(b.SessionID); ok && sess.MovedAfter(b) {
		return sess.StartsAt, true
	}
	return h.FreeCancelUntil(b, now), true
}

func (c *Catalog) periods(sessionID string) (week, month string) {
	e := c.session[sessionID]
	return e.week, e.month
}
