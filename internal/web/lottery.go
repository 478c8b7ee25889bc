package web

import (
	"encoding/hex"
	"net/url"
	"slices"
	"strings"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// The administrators' view of lottery release (摇号): every lottery pool
// of the upcoming sessions of the hospitals the administrator covers, with
// its draw's state, and per session its draws with every entry (masked
// identities), the screening's outcome and the flag that held an entry out. Draws run by themselves at their time;
// the page only shows them. Every draw is also in the audit log.

// poolRow is a lottery pool in the list.
type poolRow struct {
	SessionID  string
	URL        string
	Date       string
	Time       string
	Doctor     string
	Department string
	Channel    string
	Draw       *drawRow
	Slots      int
	Entered    int
	HeldOut    int
	Excluded   int
	channel    booking.Channel
}

type lotteryListData struct{ Pools []poolRow }

func (c *Console) lotteryPage(r *request) error {
	cat, now, loc := c.svc.Catalog(), c.opts.Now(), c.adminZone()
	var d lotteryListData
	var sessions []string
	for _, h := range cat.Hospitals() {
		if !r.actor.Covers(h.ID) {
			continue
		}
		for _, s := range cat.HospitalSessions(h.ID) {
			if !s.EndsAt.After(now) {
				continue
			}
			doc, _ := cat.Doctor(s.DoctorID)
			dept, _ := cat.Department(s.DepartmentID)
			for _, q := range s.Channels {
				if !q.IsLottery() {
					continue
				}
				row := poolRow{SessionID: s.ID, URL: "/admin/lottery/" + url.PathEscape(s.ID), Date: s.VisitDate,
					Time: s.StartsAt.In(h.Location()).Format("15:04"), Doctor: doc.Name, Department: dept.Name,
					Channel: channelLabels[q.Channel], Draw: drawRowOf(q, loc, now), Slots: q.Quota, channel: q.Channel}
				if q.Draw != nil {
					row.Entered, row.HeldOut, row.Excluded = q.Draw.Entered, q.Draw.HeldOut, q.Draw.Excluded
				}
				d.Pools = append(d.Pools, row)
				sessions = append(sessions, s.ID)
			}
		}
	}
	// The catalog has a draw's counts once drawn; before, the store counts
	// the live entries (the published draw's entered).
	records, err := c.svc.LotteryPoolsOf(r.ctx, r.actor, slices.Compact(sessions))
	if err != nil {
		return err
	}
	counts := map[booking.PoolKey]booking.DrawRecord{}
	for _, p := range records {
		counts[p.PoolKey] = p.DrawRecord
	}
	for i, row := range d.Pools {
		if x, ok := counts[booking.PoolKey{SessionID: row.SessionID, Channel: row.channel}]; ok {
			d.Pools[i].Entered, d.Pools[i].HeldOut, d.Pools[i].Excluded = x.Entered, x.HeldOut, x.Excluded
		}
	}
	slices.SortFunc(d.Pools, func(a, b poolRow) int { return strings.Compare(a.Draw.DrawAt, b.Draw.DrawAt) })
	return c.render(r, fasthttp.StatusOK, "admin/lottery", page{Title: "摇号 Lottery", Nav: "lottery", Data: d})
}

// drawEntryRow is one entry of a draw on the admin page.
type drawEntryRow struct {
	ID, ShortID string
	Rank        int
	Status      string
	StatusClass string
	Reason      string
	FlagURL     string
	FlagShort   string
	Person      string // masked name and ID number
	Account     string
	Channel     string
}

type drawView struct {
	Channel    string
	Draw       *drawRow
	Digest     string
	Slots      int
	Entered    int
	Eligible   int
	HeldOut    int
	Excluded   int
	Winners    int
	Entries    []drawEntryRow
	VerifyHint string
	AuditURL   string
}

type lotteryDrawData struct {
	SessionID  string
	Date       string
	Doctor     string
	Department string
	Draws      []drawView
}

func (c *Console) lotteryDrawPage(r *request) error {
	cat, now, loc := c.svc.Catalog(), c.opts.Now(), c.adminZone()
	s, ok := cat.Session(r.param)
	if !ok {
		return booking.ErrSessionNotFound
	}
	draws, err := c.svc.LotteryDraws(r.ctx, r.actor, s.ID)
	if err != nil {
		return err
	}
	doc, _ := cat.Doctor(s.DoctorID)
	dept, _ := cat.Department(s.DepartmentID)
	d := lotteryDrawData{SessionID: s.ID, Date: s.VisitDate, Doctor: doc.Name, Department: dept.Name}
	for _, x := range draws {
		q, _ := s.Channel(x.Channel)
		q.Draw = &x.DrawRecord
		v := drawView{Channel: channelLabels[x.Channel], Draw: drawRowOf(q, loc, now), Digest: hex.EncodeToString(x.Digest),
			Slots: x.Slots, Entered: x.Entered, Eligible: x.Eligible, HeldOut: x.HeldOut, Excluded: x.Excluded, Winners: x.Winners,
			VerifyHint: "fairslot lottery verify --session " + s.ID,
			AuditURL:   auditURL(30, "session:"+s.ID+"/"+string(x.Channel))}
		if x.Status == "" {
			v.Draw.Status = drawStatusLabels[booking.DrawOpen]
		}
		for _, e := range x.Entries {
			row := drawEntryRow{ID: e.ID, ShortID: shortID(e.ID), Rank: e.Rank, Status: labelOr(entryStatusLabels, e.Status),
				StatusClass: "e-" + e.Status, Reason: e.Reason, Person: e.NameMasked + " · " + e.NumberMasked,
				Account: shortID(e.AccountID), Channel: channelLabels[e.Channel]}
			if e.AccountID == "" {
				row.Account = "窗口/电话 staff: " + shortID(e.BookedBy)
			}
			if e.FlagID != "" {
				row.FlagURL, row.FlagShort, row.Reason = flagURL(e.FlagID), shortID(e.FlagID), ""
			}
			v.Entries = append(v.Entries, row)
		}
		d.Draws = append(d.Draws, v)
	}
	return c.render(r, fasthttp.StatusOK, "admin/draw", page{Title: "摇号 Lottery " + s.VisitDate, Nav: "lottery", Data: d})
}
