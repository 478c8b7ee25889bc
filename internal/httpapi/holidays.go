package httpapi

import (
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// A hospital's holiday calendar and bulk withdrawals and stops
// (review19b M7; booking/holidays.go).

type bulkIn struct {
	Action       string `json:"action"`
	From         string `json:"from"`
	To           string `json:"to"`
	DepartmentID string `json:"department_id"`
	DoctorID     string `json:"doctor_id"`
	Reason       string `json:"reason"`
	DryRun       bool   `json:"dry_run"`
}

func (in bulkIn) check() error {
	return Required("action", in.Action, "from", in.From, "to", in.To, "reason", in.Reason)
}

// bulkItemOut is one session of a bulk request and what became of it.
type bulkItemOut struct {
	SessionID    string       `json:"session_id"`
	DoctorID     string       `json:"doctor_id"`
	DepartmentID string       `json:"department_id"`
	Date         string       `json:"date"`
	Period       string       `json:"period"`
	StartsAt     string       `json:"starts_at"`
	Version      int64        `json:"version"`
	Outcome      string       `json:"outcome"`
	Error        *errorDetail `json:"error,omitempty"`
	// Booked is its active bookings as read before acting; with a stop,
	// what the stop ended and told.
	Booked           int `json:"booked"`
	Cancelled        int `json:"cancelled,omitempty"`
	WaitlistDropped  int `json:"waitlist_dropped,omitempty"`
	EntriesWithdrawn int `json:"entries_withdrawn,omitempty"`
	Notified         int `json:"notified,omitempty"`
	ToCallBack       int `json:"to_call_back,omitempty"`
}

type bulkOut struct {
	Action   string         `json:"action"`
	DryRun   bool           `json:"dry_run"`
	Sessions []bulkItemOut  `json:"sessions"`
	Counts   map[string]int `json:"counts"`
	// More counts the sessions that matched beyond the bound
	// (booking.MaxBulkSessions): repeat the request for them.
	More int `json:"more"`
}

func bulkView(cat *booking.Catalog, action string, dryRun bool, res booking.BulkResult) bulkOut {
	out := bulkOut{Action: action, DryRun: dryRun, Sessions: []bulkItemOut{}, Counts: map[string]int{}, More: res.More}
	for _, it := range res.Items {
		loc := zoneOf(cat, it.Session.HospitalID)
		o := bulkItemOut{SessionID: it.Session.ID, DoctorID: it.Session.DoctorID, DepartmentID: it.Session.DepartmentID,
			Date: it.Session.VisitDate, Period: it.Session.Period, StartsAt: it.Session.StartsAt.In(loc).Format(time.RFC3339),
			Version: it.Version, Outcome: it.Outcome, Booked: it.Booked.Total(),
			Cancelled: it.Stop.Cancelled, WaitlistDropped: it.Stop.WaitlistEnded, EntriesWithdrawn: it.Stop.EntriesEnded,
			Notified: it.Stop.Notified, ToCallBack: it.Stop.ToCallBack}
		if it.Err != nil {
			e, _ := PublicError(it.Err)
			o.Error = &errorDetail{Code: e.Code, Message: e.Message}
		}
		out.Sessions = append(out.Sessions, o)
		out.Counts[it.Outcome]++
	}
	return out
}

// bulkSessions answers POST /v1/admin/hospitals/{id}/sessions/bulk: a
// bulk withdrawal or stop, or its dry run, each session's outcome.
func (s *Server) bulkSessions(r *request) error {
	var in bulkIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	res, err := s.svc.BulkStop(r.context(), r.actor, booking.BulkRequest{HospitalID: r.param, DepartmentID: in.DepartmentID,
		DoctorID: in.DoctorID, From: in.From, To: in.To, Action: in.Action, Reason: in.Reason, DryRun: in.DryRun})
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, bulkView(s.svc.Catalog(), in.Action, in.DryRun, res))
	return nil
}

type holidayOut struct {
	Date    string `json:"date"`
	Name    string `json:"name"`
	SetAt   string `json:"set_at"`
	WorksAs int    `json:"works_as"`
}

func holidayView(cat *booking.Catalog, h booking.Holiday) holidayOut {
	return holidayOut{Date: h.Date, Name: h.Name, SetAt: h.SetAt.In(zoneOf(cat, h.HospitalID)).Format(time.RFC3339), WorksAs: h.WorksAs}
}

// listHolidays answers GET /v1/admin/hospitals/{id}/holidays?from=&to=
// (from today and a year on when not given).
func (s *Server) listHolidays(r *request) error {
	cat := s.svc.Catalog()
	today := s.svc.Now().In(zoneOf(cat, r.param))
	from, to := string(r.rc.QueryArgs().Peek("from")), string(r.rc.QueryArgs().Peek("to"))
	if from == "" {
		from = today.Format(time.DateOnly)
	}
	if to == "" {
		to = today.AddDate(1, 0, 0).Format(time.DateOnly)
	}
	hs, err := s.svc.Holidays(r.context(), r.actor, r.param, from, to)
	if err != nil {
		return err
	}
	out := struct {
		Holidays []holidayOut `json:"holidays"`
	}{Holidays: []holidayOut{}}
	for _, h := range hs {
		out.Holidays = append(out.Holidays, holidayView(cat, h))
	}
	WriteJSON(r.rc, fasthttp.StatusOK, out)
	return nil
}

type holidayIn struct {
	Date    string `json:"date"`
	Name    string `json:"name"`
	Reason  string `json:"reason"`
	WorksAs int    `json:"works_as"`
}

func (in holidayIn) check() error { return Required("date", in.Date, "name", in.Name) }

// setHoliday answers POST /v1/admin/hospitals/{id}/holidays: the day, and
// what became of the clinics already published on it (withdrawn, or kept
// for a stop).
func (s *Server) setHoliday(r *request) error {
	var in holidayIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	res, err := s.svc.SetHoliday(r.context(), r.actor, r.param, booking.HolidayRequest{Date: in.Date, Name: in.Name, Reason: in.Reason, WorksAs: in.WorksAs})
	if err != nil {
		return err
	}
	cat := s.svc.Catalog()
	WriteJSON(r.rc, fasthttp.StatusOK, struct {
		holidayOut
		Sessions bulkOut `json:"sessions"`
	}{holidayView(cat, res.Holiday), bulkView(cat, booking.BulkWithdraw, false, res.Sessions)})
	return nil
}

// deleteHoliday answers DELETE /v1/admin/hospitals/{id}/holidays?date=&reason=.
func (s *Server) deleteHoliday(r *request) error {
	date, reason := string(r.rc.QueryArgs().Peek("date")), string(r.rc.QueryArgs().Peek("reason"))
	if err := Required("date", date, "reason", reason); err != nil {
		return err
	}
	if err := s.svc.DeleteHoliday(r.context(), r.actor, r.param, date, reason); err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]string{"date": date, "status": "deleted"})
	return nil
}
