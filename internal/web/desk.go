package web

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
)

// The registration desk (挂号窗口), for clerks: today's sessions with their
// remaining slots per channel and an extra-slots form (加号) each; finding a
// patient by ID document, with their bookings from today on, a check-in
// form per booking (the ID card is read again: type, number and name must
// match the booking's identity) and a reissue form where it applies; and
// walk-in booking on the on-site channel.
//
// The patient a clerk found is "the current patient" until the next search:
// an ID number must never be in a URL, so the search is a POST, and the
// pages it redirects to read the document from a cookie instead, sealed
// with the service's keyring (identity.Keyring.Seal, AES-GCM) to the
// clerk's session and expiring after lookupTTL. The pages show only the
// masked identity.

const (
	lookupCookie = "fairslot_desk_patient"
	lookupTTL    = 30 * time.Minute
)

// lookupRef is the document of the current patient, and the name on it
// when the clerk read the card (then check-in needs no retyping).
// lookupRef is the desk's current patient: the card's document and, if
// read, name, and how the clerk checked the identity at the lookup (each
// page of the visit looks the person up again, audited the same way).
type lookupRef struct{ IDType, IDNumber, Name, Check, CheckReason string }

func (ref lookupRef) request() booking.DeskLookupRequest {
	return booking.DeskLookupRequest{IDType: ref.IDType, IDNumber: ref.IDNumber, Check: booking.IdentityCheck(ref.Check), CheckReason: ref.CheckReason}
}

// rememberLookup makes a document the current patient of this session.
func (c *Console) rememberLookup(r *request, ref lookupRef) {
	c.seal(r, deskConsole, lookupCookie, "session", strings.Join([]string{ref.IDType, ref.IDNumber, ref.Name, ref.Check, ref.CheckReason}, "\x00"))
}

// currentLookup reads the current patient: false when there is none, it
// expired, or it was sealed for another session.
func (c *Console) currentLookup(r *request) (lookupRef, bool) {
	plain, ok := c.unseal(r, lookupCookie, "session")
	if !ok {
		return lookupRef{}, false
	}
	f := strings.Split(plain, "\x00")
	if len(f) != 5 {
		return lookupRef{}, false
	}
	return lookupRef{IDType: f[0], IDNumber: f[1], Name: f[2], Check: f[3], CheckReason: f[4]}, true
}

// forgetLookup drops the current patient.
func (c *Console) forgetLookup(r *request) {
	c.unsetSealed(r, deskConsole, lookupCookie)
}

// seal keeps a person's details for the pages of a console in a cookie,
// sealed to this session and purpose and expiring after lookupTTL: the
// desk's current patient, the phone console's caller.
func (c *Console) seal(r *request, con *console, cookie, purpose, value string) {
	until := time.Now().Add(lookupTTL)
	plain := binary.BigEndian.AppendUint64(nil, uint64(until.Unix()))
	plain = append(plain, value...)
	sealed := c.keys.Seal(sealPurpose(r, purpose), string(plain))
	c.setCookieAt(r, con.Path, cookie, base64.RawURLEncoding.EncodeToString(sealed), until, fasthttp.CookieSameSiteStrictMode)
}

// unseal reads what seal kept: false when there is nothing, it expired, or
// it was sealed for another session or purpose.
func (c *Console) unseal(r *request, cookie, purpose string) (string, bool) {
	v := r.rc.Request.Header.Cookie(cookie)
	if len(v) == 0 || !r.signedIn() {
		return "", false
	}
	sealed, err := base64.RawURLEncoding.DecodeString(string(v))
	if err != nil {
		return "", false
	}
	plain, err := c.keys.Open(sealPurpose(r, purpose), sealed)
	if err != nil || len(plain) < 8 || time.Now().Unix() > int64(binary.BigEndian.Uint64([]byte(plain[:8]))) {
		return "", false
	}
	return plain[8:], true
}

// sealPurpose binds a sealed cookie to its use and to the signed-in session.
func sealPurpose(r *request, purpose string) string {
	return "fairslot console cookie v1\x00" + purpose + "\x00" + r.session
}

// unsetSealed drops a sealed cookie: from the browser, and from this
// request, so that the page that answers it no longer reads it (a refused
// change of caller showed the caller it had just forgotten).
func (c *Console) unsetSealed(r *request, con *console, cookie string) {
	if len(r.rc.Request.Header.Cookie(cookie)) > 0 {
		c.setCookieAt(r, con.Path, cookie, "", fasthttp.CookieExpireDelete, fasthttp.CookieSameSiteStrictMode)
		r.rc.Request.Header.DelCookie(cookie)
	}
}

// deskFlashes are the desk's confirmations after a POST.
var deskFlashes = map[string]string{
	"released":       "号码已释放：原账号的登录已结束，资料保留；新机主现在可以用该号码注册。 Number released: the old account's logins ended and its records are kept; the new holder can register with the number now.",
	"restored":       "已登记新手机号：本人可用新号码和原密码登录（忘记密码可领取重置码）。 New number registered: the holder logs in with it and their password (or a reset code).",
	"checkedin":      "签到成功。 Checked in.",
	"delayed":        "已通知该出诊的患者开诊时间（无账号的电话、现场患者已列入回电名单）。 The clinic's patients are told when it starts (those without an account are on the call-back list).",
	"appeal_filed":   "申诉已提交，将在 5 个工作日内答复；本人有账号的，答复发到账号消息，没有账号的，请本人持证来窗口查询。 Appeal filed: answered within 5 working days, in the person's account if they have one, else here at the desk, card in hand.",
	"walkin":         "现场挂号成功。 Walk-in booked.",
	"walkin_in":      "现场挂号成功，已签到。 Walk-in booked and checked in.",
	"extra":          "已加号。 Extra slots added to the on-site pool.",
	"extra_draw":     "已加号，加入尚未开奖的摇号。 Extra slots added to the lottery still to be drawn: they are drawn among its entrants.",
	"reissued":       "已重新分配该号。 The slot was reissued.",
	"reissued_wait":  "该号已分配给候补患者。 The slot went to the next patient on the waitlist.",
	"reissued_pool":  "该号已放回现场号池。 The slot is back in the on-site pool.",
	"reissued_back":  "该号先给候补，无人候补则在随机延迟后回到现场号池；15 分钟内本出诊请由其他窗口挂号。 The slot goes to the waitlist first, else back to the on-site pool after a random delay; for 15 minutes another window books this session.",
	"desk_cancelled": "已取消该预约（不计爽约）；退费请患者到收费处办理。 The booking is cancelled (not a no-show); the cashier handles any refund.",
	"cleared":        "已清除，可查找下一位。 Cleared: ready for the next patient.",
	"verified":       "已按证件核验姓名。 The name is verified from the card.",
	"verified_bound": "已核验，并绑定为患者本人账户。 Verified; the account is now the person's own.",
	"linked":         "已关联为同一人的两种证件。 The two documents are linked as one person.",
	"left_listing":   "已退出该账号的就诊人列表，对方已收到通知。 The person left that account's list; the account is told.",
	"offer_accepted": flashes["offer_accepted"],
	"offer_declined": flashes["offer_declined"],
}

func deskFlash(key string) string { return deskFlashes[key] }

// deskChannels are the columns of the sessions table, in order.
var deskChannels = []booking.Channel{booking.ChannelOnline, booking.ChannelPhone, booking.ChannelOnsite, booking.ChannelReferral}

type deskCell struct {
	Label     string // the channel, for the cell's label at a phone's width
	Has       bool
	Remaining int
	Quota     int
	Released  bool
	ReleaseAt string
}

type deskSession struct {
	ID         string
	Doctor     string
	Title      string
	Department string
	Period     string
	Time       string
	Cells      []deskCell
	State      string
	StateClass string // upcoming, running, ended, stopped
	StopReason string // why the hospital stopped it (停诊)
	Open       bool   // neither ended nor stopped: extra slots and walk-ins
	OnsiteLeft int
	Highlight  bool
	FormOpen   bool // its extra-slots form failed: shown open
	// Extra is what its refused extra-slots form had typed in it, shown
	// again so that the clerk types nothing twice.
	Extra   struct{ Count, Reason, AuthorisedBy string }
	FormKey string
	Roster  []rosterRow
	Columns int // of the table, for the roster's row
	// Version and Delay are what the delay form changes: the session's
	// version and its announced delay (minutes); DelayOpen shows the form
	// refused, with the minutes and reason typed (DelayTyped).
	Version    int64
	Delay      int
	DelayOpen  bool
	DelayTyped struct{ Minutes, Reason string }
}

// rosterRow is a patient on a session's roster (Today), masked, with the
// check-in and reissue forms that apply.
type rosterRow struct {
	ID          string
	SlotNo      int
	Time        string
	Name        string
	Family      string // 子女 · 2016: relationship to the booking account, birth year
	MaskedID    string
	IDType      string
	Channel     string
	Status      string
	StatusClass string
	Absent      bool       // the slot's time passed without a check-in
	Offer       *offerView // a slot held with a substitute, awaiting the answer
	CheckIn     bool
	Reissue     bool
	Cancel      bool // the desk's cancellation form is offered
	Highlight   bool
	Failed      bool
	Card        idCard // the check-in form's card fields
}

type deskHospital struct {
	ID       string
	Name     string
	Date     string
	Weekday  string
	Sessions []deskSession
}

type todayData struct {
	Hospitals []deskHospital
	Channels  []string
}

// today lists every hospital's sessions of its today with their live
// remaining slots, and with roster set, each session's patients (a
// hospital the clerk does not cover shows none).
func (c *Console) today(r *request, highlight string) (todayData, error) {
	return c.todayWith(r, highlight, "", false, false)
}

func (c *Console) todayWith(r *request, highlight, failedBooking string, roster, failed bool) (todayData, error) {
	cat, now := c.svc.Catalog(), c.opts.Now()
	d := todayData{}
	for _, ch := range deskChannels {
		d.Channels = append(d.Channels, channelLabels[ch])
	}
	for _, h := range cat.Hospitals() {
		// A clerk works at one hospital: the others' sessions are not
		// theirs to act on, and a hospital whose Redis state is being
		// rebuilt must not take the others' desks down with it.
		if !r.actor.Covers(h.ID) {
			continue
		}
		loc := h.Location()
		date := now.In(loc).Format(time.DateOnly)
		views, err := c.svc.Sessions(r.ctx, h.ID, date, "")
		if err != nil {
			return d, err
		}
		dh := deskHospital{ID: h.ID, Name: h.Name, Date: date, Weekday: weekday(date)}
		bySession := map[string][]booking.RosterEntry{}
		if roster && len(views) > 0 {
			rs, err := c.svc.Roster(r.ctx, r.actor, h.ID, date)
			if err != nil {
				return d, err
			}
			for _, e := range rs {
				bySession[e.SessionID] = append(bySession[e.SessionID], e)
			}
		}
		for _, v := range views {
			ds := deskSessionOf(cat, v, loc, now, highlight)
			ds.Columns = 5 + len(deskChannels)
			for _, e := range bySession[v.ID] {
				row := rosterRowOf(e, v, loc, now, failedBooking, failed)
				// Past its slot only what the desk made that day is
				// cancelled, as a registration error; a patient's own
				// booking is reissued (review25 H2, the domain's rule).
				row.Cancel = row.Cancel && (!row.Absent || c.svc.MayCancelAsError(e.Booking, r.actor))
				row.Card = typedCard(r, checkInForm(row.ID), row.IDType, row.Failed)
				ds.Roster = append(ds.Roster, row)
			}
			dh.Sessions = append(dh.Sessions, ds)
		}
		d.Hospitals = append(d.Hospitals, dh)
	}
	return d, c.rosterOffers(r, d)
}

// rosterOffers marks the roster's held slots whose substitute offer waits
// for an answer (替诊): the desk answers it with the patient.
func (c *Console) rosterOffers(r *request, d todayData) error {
	var ids []string
	for _, h := range d.Hospitals {
		for _, s := range h.Sessions {
			for _, e := range s.Roster {
				if e.StatusClass == string(booking.StatusConfirmed) {
					ids = append(ids, e.ID)
				}
			}
		}
	}
	offers, err := c.openOffers(r, ids)
	if err != nil {
		return err
	}
	for _, h := range d.Hospitals {
		for _, s := range h.Sessions {
			for i := range s.Roster {
				s.Roster[i].Offer = offers[s.Roster[i].ID]
			}
		}
	}
	return nil
}

func deskSessionOf(cat *booking.Catalog, v booking.SessionView, loc *time.Location, now time.Time, highlight string) deskSession {
	doc, _ := cat.Doctor(v.DoctorID)
	dept, _ := cat.Department(v.DepartmentID)
	s := deskSession{
		ID: v.ID, Doctor: doc.Name, Title: doc.Title, Department: dept.Name, Period: periodLabel(v.Period),
		Time:       v.StartsAt.In(loc).Format("15:04") + "–" + v.EndsAt.In(loc).Format("15:04"),
		OnsiteLeft: v.Remaining[booking.ChannelOnsite], Highlight: v.ID == highlight, FormKey: newFormKey(),
		Version: v.Version, Delay: v.DelayMinutes,
	}
	for _, ch := range deskChannels {
		q, ok := v.Channel(ch)
		s.Cells = append(s.Cells, deskCell{Label: channelLabels[ch], Has: ok && q.Quota > 0, Remaining: v.Remaining[ch], Quota: q.Quota,
			Released: q.Released(now), ReleaseAt: q.ReleaseAt.In(loc).Format("15:04")})
	}
	switch {
	case v.Stopped():
		s.State, s.StateClass, s.StopReason = "停诊 Stopped", "stopped", v.StopReason
	case !now.Before(v.Closes()):
		s.State, s.StateClass = "已结束 Ended", "ended"
	case !now.Before(v.StartsAt):
		s.State, s.StateClass, s.Open = "出诊中 Running", "running", true
	default:
		s.State, s.StateClass, s.Open = "未开始 Upcoming", "upcoming", true
	}
	return s
}

// rosterRowOf describes a booking of the roster: check-in while the
// session runs, reissue once its slot has ended without one (as on the
// lookup page; booking.ReissuableFrom).
func rosterRowOf(e booking.RosterEntry, v booking.SessionView, loc *time.Location, now time.Time, highlight string, failed bool) rosterRow {
	running := now.Before(v.Closes())
	row := rosterRow{ID: e.ID, SlotNo: e.SlotNo, Time: e.SlotStart.In(loc).Format("15:04"), Name: e.NameMasked,
		MaskedID: e.NumberMasked, IDType: e.IDType, Channel: channelLabels[e.Channel], Status: statusLabels[e.Status],
		StatusClass: string(e.Status), Highlight: e.ID == highlight}
	row.Family = kinLabel(booking.Kin{Relationship: e.Relationship, BirthYear: e.BirthYear})
	row.Failed = failed && row.Highlight
	if e.Status == booking.StatusConfirmed {
		row.Absent = !now.Before(e.SlotStart)
		row.CheckIn = running
		row.Reissue = running && !now.Before(booking.ReissuableFrom(e.Booking)) // a patient late for their time may still come
		row.Cancel = running
		if row.Absent {
			row.Status = "未到 Not arrived"
		}
	}
	return row
}

func (c *Console) deskToday(r *request) error {
	d, err := c.todayWith(r, r.query("s"), r.query("id"), true, false)
	if err != nil {
		return err
	}
	return c.render(r, fasthttp.StatusOK, "desk/today", page{Title: "今日出诊 Today", Nav: "today", Flash: deskFlash(r.query("ok")), Data: d})
}

// extraSlots adds slots (加号) that a doctor authorised to a session's
// on-site pool.
func (c *Console) extraSlots(r *request) error {
	count, err := strconv.Atoi(strings.TrimSpace(r.form("count")))
	reason, by := strings.TrimSpace(r.form("reason")), strings.TrimSpace(r.form("authorised_by"))
	flash := "extra"
	if err != nil {
		err = booking.Errorf(booking.ErrInvalidField, "count must be 1 to 20")
	} else {
		var added []booking.Slot
		added, err = c.svc.AddExtraSlots(r.ctx, r.actor, booking.ExtraSlotsRequest{SessionID: r.param, Count: count,
			Reason: reason, AuthorisedBy: by, IdempotencyKey: formKey(r), Origin: r.origin})
		if err == nil && len(added) > 0 && added[0].Channel != booking.ChannelOnsite {
			flash = "extra_draw" // joined a lottery still to be drawn (AddExtraSlots)
		}
	}
	if errors.Is(err, booking.ErrInvalidField) {
		// Which field, for the page to mark: the Service's rules (a count
		// of 1 to 20, a reason and a doctor of at least 2 characters).
		switch {
		case count < 1 || count > 20:
			err = onFields(err, "count")
		case utf8.RuneCountInString(reason) < 2:
			err = onFields(err, "reason")
		default:
			err = onFields(err, "authorised_by")
		}
	}
	if err == nil {
		c.redirect(r, "/desk?"+url.Values{"ok": {flash}, "s": {r.param}}.Encode())
		return nil
	}
	return c.deskSessionFailed(r, "extra-", err, func(s *deskSession) {
		s.FormOpen = true
		s.Extra.Count, s.Extra.Reason, s.Extra.AuthorisedBy = r.form("count"), r.form("reason"), r.form("authorised_by")
	})
}

// deskSessionFailed shows Today again with the refusal of a session's form
// (its id: prefix and the session), whose session keep shows as typed.
func (c *Console) deskSessionFailed(r *request, prefix string, err error, keep func(*deskSession)) error {
	d, lerr := c.todayWith(r, r.param, "", true, false)
	if lerr != nil {
		return lerr
	}
	for i := range d.Hospitals {
		for j := range d.Hospitals[i].Sessions {
			if s := &d.Hospitals[i].Sessions[j]; s.ID == r.param {
				keep(s)
			}
		}
	}
	return c.formFailed(r, "desk/today", page{Title: "今日出诊 Today", Nav: "today", Form: prefix + r.param, Data: d}, err)
}

// deskDelay tells a clinic's patients, from the desk, that it starts late
// today (a clerk announces the visit day's delay only, never the room:
// booking.Service.AnnounceSession); 0 says it is on time again.
func (c *Console) deskDelay(r *request) error {
	version, _ := strconv.ParseInt(r.form("version"), 10, 64)
	delay, err := strconv.Atoi(strings.TrimSpace(r.form("delay_minutes")))
	if err != nil {
		err = onFields(booking.FieldErrorf(booking.ErrInvalidField, "delay_minutes", "delay_minutes: minutes, 0 when on time"), "delay_minutes")
	} else {
		_, err = c.svc.AnnounceSession(r.ctx, r.actor, r.param, booking.AnnounceRequest{DelayMinutes: &delay,
			Reason: strings.TrimSpace(r.form("reason")), Version: version})
	}
	if err == nil {
		c.redirect(r, "/desk?"+url.Values{"ok": {"delayed"}, "s": {r.param}}.Encode())
		return nil
	}
	return c.deskSessionFailed(r, "delay-", err, func(s *deskSession) {
		s.DelayOpen = true
		s.DelayTyped.Minutes, s.DelayTyped.Reason = r.form("delay_minutes"), r.form("reason")
	})
}

// deskBooking is a booking of the current patient as the desk sees it.
type deskBooking struct {
	bookingRow
	CheckIn    bool   // the check-in form is offered
	CheckInWhy string // why not, when it would be expected
	Offer      *offerView
	Reissue    bool   // the reissue form is offered
	Cancel     bool   // the desk's cancellation form is offered
	SlotPassed bool   // the slot's time has passed: only a registration error is cancelled
	Failed     bool   // a form of this booking just failed
	Card       idCard // the check-in form's card fields
}

type lookupData struct {
	IDTypes []idType
	// The search form keeps the document type only: no desk page shows
	// an ID number or a name in clear.
	SearchType string
	// Check and CheckReason: the identity check a failed search stated,
	// kept for the clerk to correct (nothing is preselected otherwise).
	Check, CheckReason string
	// FocusSearch gives the search's number the focus (autofocus): it is
	// what the clerk types into next.
	FocusSearch bool
	Found       bool
	// Nothing: the number is nobody's who holds anything at this hospital
	// — unknown to the platform, or a person of other hospitals only: the
	// desk is told no more (booking.ErrNothingHere). The card is in hand:
	// the verification and a walk-in take it.
	Nothing  bool
	FormKey  string // the desk cancellation's idempotency key (per booking: deskCancel)
	IDType   string
	MaskedID string
	Name     string
	CardRead bool // the lookup had the name: check-in needs no typing
	Bookings []deskBooking
	// LinkCard is the link form's second document (its type kept after a
	// failed form; never its number or name).
	LinkCard idCard
}

// lookupData finds the current patient, if any, with their bookings from
// today on.
func (c *Console) lookupData(r *request, highlight string, failed bool) (lookupData, error) {
	d := lookupData{IDTypes: idTypes, SearchType: "resident_id", FocusSearch: true, FormKey: newFormKey(),
		LinkCard: typedCard(r, "link-form", "hk_macau_permit", failed && r.form("link") != "")}
	ref, ok := c.currentLookup(r)
	if !ok {
		return d, nil
	}
	l, err := c.svc.LookupIdentity(r.ctx, r.actor, ref.request())
	if errors.Is(err, booking.ErrPatientNotFound) {
		d.Found, d.Nothing, d.IDType, d.SearchType, d.CardRead = true, true, ref.IDType, ref.IDType, ref.Name != ""
		if id, err := identity.Parse(ref.IDType, ref.IDNumber); err == nil {
			d.MaskedID = id.Masked() // the number the clerk typed: it tells nothing new
		}
		return d, nil
	}
	if e, ok := booking.AsError(err); ok && e.Kind != booking.KindUnavailable && e.Kind != booking.KindInternal {
		c.forgetLookup(r)
		return d, nil
	}
	if err != nil {
		return d, err
	}
	d.Found, d.IDType, d.SearchType = true, l.Identity.IDType, l.Identity.IDType
	d.MaskedID, d.Name, d.CardRead = l.Identity.NumberMasked, l.Identity.NameMasked, ref.Name != ""
	cat, now := c.svc.Catalog(), c.opts.Now()
	for _, b := range l.Bookings {
		h, ok := cat.Hospital(b.HospitalID)
		if !ok {
			continue
		}
		today := now.In(h.Location()).Format(time.DateOnly)
		if b.VisitDate < today {
			continue
		}
		row := deskBooking{bookingRow: bookingRowOf(cat, b, nil, now, highlight)}
		row.Patient = l.Identity.NameMasked
		row.Failed = failed && b.ID == highlight
		row.Card = typedCard(r, checkInForm(b.ID), l.Identity.IDType, row.Failed)
		sess, ok := cat.Session(b.SessionID)
		running := ok && now.Before(sess.Closes())
		switch {
		case b.Status != booking.StatusConfirmed:
		case b.VisitDate != today:
			row.CheckInWhy = "就诊当天可签到 Check-in opens on the visit day"
		case !running:
			row.CheckInWhy = "出诊已结束 The session is over"
		default:
			row.CheckIn = true
		}
		// A no-show whose time has passed, or a cancelled slot of today
		// that may still be waiting out its delay.
		row.SlotPassed = !now.Before(b.SlotStart)
		row.Cancel = running && b.Status == booking.StatusConfirmed && (!row.SlotPassed || c.svc.MayCancelAsError(b, r.actor))
		row.Reissue = running && b.VisitDate == today &&
			(b.Status == booking.StatusConfirmed && !now.Before(booking.ReissuableFrom(b)) || b.Status == booking.StatusCancelled)
		d.Bookings = append(d.Bookings, row)
	}
	ids := make([]string, len(d.Bookings))
	for i, b := range d.Bookings {
		ids[i] = b.ID
	}
	offers, err := c.openOffers(r, ids)
	if err != nil {
		return d, err
	}
	for i := range d.Bookings {
		d.Bookings[i].Offer = offers[d.Bookings[i].ID]
	}
	// The clerk types next into the first check-in form that needs the
	// card read; with none, into the search, for the next patient.
	d.FocusSearch = true
	for i := range d.Bookings {
		if b := &d.Bookings[i]; b.CheckIn && !d.CardRead {
			b.Card.Focus, d.FocusSearch = true, false
			break
		}
	}
	return d, nil
}

func (c *Console) lookupPage(r *request) error {
	d, err := c.lookupData(r, r.query("id"), false)
	if err != nil {
		return err
	}
	return c.render(r, fasthttp.StatusOK, "desk/lookup", page{Title: "查找患者 Find a patient", Nav: "lookup", Flash: deskFlash(r.query("ok")), Data: d})
}

// lookup finds a patient by ID document and makes them the current
// patient. A failed search forgets the previous one.
func (c *Console) lookup(r *request) error {
	ref := lookupRef{IDType: r.form("id_type"), IDNumber: strings.TrimSpace(r.form("id_number")), Name: strings.TrimSpace(r.form("name")),
		Check: r.form("identity_check"), CheckReason: strings.TrimSpace(r.form("identity_check_reason"))}
	if ref.Check != string(booking.CheckOther) {
		ref.CheckReason = "" // typed, then another check chosen
	}
	var err error
	if ref.IDNumber == "" {
		err = onFields(booking.Errorf(booking.ErrInvalidField, "enter the ID number from the document"), "id_number")
	} else {
		_, err = c.svc.LookupIdentity(r.ctx, r.actor, ref.request())
	}
	if err == nil || errors.Is(err, booking.ErrPatientNotFound) {
		// Found, or nothing here (a first visit, or a person of other
		// hospitals only): the card's number is the current patient.
		c.rememberLookup(r, ref)
		c.redirect(r, "/desk/lookup")
		return nil
	}
	c.forgetLookup(r)
	d := lookupData{IDTypes: idTypes, SearchType: "resident_id", Check: ref.Check, CheckReason: ref.CheckReason}
	if knownIDType(ref.IDType) {
		d.SearchType = ref.IDType
	}
	return c.formFailed(r, "desk/lookup", page{Title: "查找患者 Find a patient", Nav: "lookup", Form: "lookup-form", Data: d}, err)
}

func knownIDType(v string) bool {
	return slices.ContainsFunc(idTypes, func(t idType) bool { return t.Value == v })
}

// clearLookup ends the current patient's visit to the desk.
func (c *Console) clearLookup(r *request) error {
	c.forgetLookup(r)
	c.redirect(r, "/desk/lookup?ok=cleared")
	return nil
}

// identityForm reads the ID card fields of a desk form.
func identityForm(r *request) (booking.IdentityRequest, error) {
	req := booking.IdentityRequest{IDType: r.form("id_type"), IDNumber: strings.TrimSpace(r.form("id_number")), Name: r.form("name")}
	if mac := r.form("card_mac"); mac != "" {
		// The reader's driver filled the read in (review25 H1): its
		// signature covers the fields as read, so they go as sent.
		at, err := time.Parse(time.RFC3339, r.form("card_read_at"))
		if err != nil {
			return req, onFields(booking.Errorf(booking.ErrCardReadInvalid, "the reader's read time is not readable: read the card again"), "id_number")
		}
		req.IDNumber = r.form("id_number")
		req.Card = booking.CardRead{Source: booking.CardFromReader, ReaderID: r.form("card_reader_id"), ReadAt: at, MAC: mac}
	} else if why := r.form("typed_reason"); why != "" {
		// Typed, and the clerk said why (the audit states it); not said,
		// the service records it as typed, unspecified.
		req.Card = booking.CardRead{Source: booking.CardTyped, TypedReason: why}
	}
	switch {
	case req.IDNumber == "":
		return req, onFields(booking.Errorf(booking.ErrInvalidField, "enter the ID number from the document"), "id_number")
	case strings.TrimSpace(req.Name) == "":
		return req, onFields(booking.Errorf(booking.ErrInvalidField, "enter the name as printed on the document"), "name")
	}
	return req, nil
}

// checkInForm is the id of a booking's check-in form.
func checkInForm(bookingID string) string { return "checkin-" + bookingID }

// typedCard is the card fields of form, which select the document type
// the clerk chose when it is the form just refused (failed), and idType
// otherwise.
func typedCard(r *request, form, idType string, failed bool) idCard {
	c := idCard{Form: form, IDType: idType}
	if t := r.form("id_type"); failed && knownIDType(t) {
		c.IDType = t
	}
	return c
}

// checkIn checks the current patient in for a booking, with the ID card
// read again. A mismatch is shown on the lookup page, and the Service
// records it.
func (c *Console) checkIn(r *request) error {
	req, err := identityForm(r)
	if ref, ok := c.currentLookup(r); r.form("card") == "lookup" && ok && ref.Name != "" {
		// The card was read once, at the lookup: no retyping.
		req, err = booking.IdentityRequest{IDType: ref.IDType, IDNumber: ref.IDNumber, Name: ref.Name}, nil
	}
	var b booking.Booking
	if err == nil {
		b, err = c.svc.CheckIn(r.ctx, r.actor, booking.CheckInRequest{IdentityRequest: req, BookingID: r.param,
			OverrideReason: r.form("override_reason"), Origin: r.origin})
	}
	if r.form("from") == "today" {
		if err != nil {
			return c.todayFailed(r, checkInForm(r.param), err)
		}
		c.redirect(r, "/desk?"+url.Values{"ok": {"checkedin"}, "s": {b.SessionID}, "id": {b.ID}}.Encode())
		return nil
	}
	if err == nil {
		c.redirect(r, "/desk/lookup?"+url.Values{"ok": {"checkedin"}, "id": {b.ID}}.Encode())
		return nil
	}
	return c.lookupFailed(r, checkInForm(r.param), err)
}

// todayFailed shows Today again with the error of a roster's form (its id),
// its row marked.
func (c *Console) todayFailed(r *request, form string, err error) error {
	d, lerr := c.todayWith(r, r.form("s"), r.param, true, true)
	if lerr != nil {
		return lerr
	}
	return c.formFailed(r, "desk/today", page{Title: "今日出诊 Today", Nav: "today", Form: form, Data: d}, err)
}

// reissue gives a booking's slot to the waitlist or the on-site pool.
func (c *Console) reissue(r *request) error {
	pl, err := c.svc.Reissue(r.ctx, r.actor, booking.ReissueRequest{BookingID: r.param, Reason: strings.TrimSpace(r.form("reason")), Origin: r.origin})
	today := r.form("from") == "today"
	if err != nil && today {
		return c.todayFailed(r, "reissue-"+r.param, err)
	}
	if err != nil {
		return c.lookupFailed(r, "reissue-"+r.param, err)
	}
	ok := "reissued"
	switch pl.Outcome {
	case booking.PlacedWaitlist:
		ok = "reissued_wait"
	case booking.PlacedPool:
		ok = "reissued_pool"
	case booking.PlacedDelayed, booking.PlacedHeld:
		ok = "reissued_back"
	}
	if today {
		c.redirect(r, "/desk?"+url.Values{"ok": {ok}, "s": {r.form("s")}, "id": {r.param}}.Encode())
		return nil
	}
	c.redirect(r, "/desk/lookup?"+url.Values{"ok": {ok}, "id": {r.param}}.Encode())
	return nil
}

// deskCancel cancels a booking for the hospital, with the clerk's reason
// code and reason, also during the session (never late, never a no-show;
// after the slot's time only a registration error). The page's form key,
// one per rendering, is made the booking's: two bookings cancelled from
// one rendering (two tabs) are two requests.
func (c *Console) deskCancel(r *request) error {
	key := formKey(r)
	if key != "" {
		key += "/" + r.param
	}
	_, _, err := c.svc.DeskCancel(r.ctx, r.actor, booking.DeskCancelRequest{BookingID: r.param, ReasonCode: r.form("reason_code"),
		Reason: strings.TrimSpace(r.form("reason")), IdempotencyKey: key, Origin: r.origin})
	today := r.form("from") == "today"
	if err != nil && today {
		return c.todayFailed(r, "cancel-"+r.param, err)
	}
	if err != nil {
		return c.lookupFailed(r, "cancel-"+r.param, err)
	}
	if today {
		c.redirect(r, "/desk?"+url.Values{"ok": {"desk_cancelled"}, "s": {r.form("s")}, "id": {r.param}}.Encode())
		return nil
	}
	c.redirect(r, "/desk/lookup?"+url.Values{"ok": {"desk_cancelled"}, "id": {r.param}}.Encode())
	return nil
}

// verifyIdentity verifies the current patient's name from the card in the
// clerk's hand and, given the phone the person logs in with, binds that
// account as their own (their verified self): what a person whose ID
// number someone else used needs before they can see and end it
// (docs/security.md). The number is the current lookup's, never typed or
// shown again; the name, when the card was read at the lookup, is the
// card's.
func (c *Console) verifyIdentity(r *request) error {
	ref, ok := c.currentLookup(r)
	if !ok {
		return c.lookupFailed(r, "verify-form", booking.Errorf(booking.ErrInvalidField, "find the patient by their card first"))
	}
	name, phone := strings.TrimSpace(r.form("name")), strings.TrimSpace(r.form("account_phone"))
	if name == "" {
		name = ref.Name
	}
	former, reason := strings.TrimSpace(r.form("former_name")), strings.TrimSpace(r.form("correction_reason"))
	seen, seenOK := formerNameSeen[r.form("former_seen")]
	var err error
	switch {
	case name == "":
		err = onFields(booking.Errorf(booking.ErrInvalidField, "enter the name as printed on the card"), "name")
	case former != "" && !seenOK:
		// A former name is taken only from what shows it (review24 H3):
		// the clerk says which, and the audited reason names it.
		err = onFields(booking.Errorf(booking.ErrInvalidField, "say what showed the former name: the household register (户口簿) or the police's name-change certificate (更名证明)"), "former_seen")
	default:
		if former != "" {
			reason = strings.TrimSuffix(seen+"; "+reason, "; ")
		}
		_, err = c.svc.VerifyIdentity(r.ctx, r.actor, booking.VerifyRequest{
			IdentityRequest: booking.IdentityRequest{IDType: ref.IDType, IDNumber: ref.IDNumber, Name: name},
			AccountPhone:    phone, CorrectionReason: reason, FormerName: former, NumberRung: r.form("number_rung") != "",
			Consent: booking.ConsentRequest{Version: r.form("privacy_consent")}})
	}
	switch {
	case err == nil:
		done := "verified"
		if phone != "" {
			done = "verified_bound"
		}
		c.redirect(r, "/desk/lookup?ok="+done)
		return nil
	case errors.Is(err, booking.ErrInvalidPhone), errors.Is(err, booking.ErrPatientNotFound),
		errors.Is(err, booking.ErrHolderBound), errors.Is(err, booking.ErrListedAsFamily):
		// No such account, one that has not added this person, or one
		// that is not theirs to hold (review24 H1, H2).
		err = onFields(err, "account_phone")
	case errors.Is(err, booking.ErrVerifiedNameDiffers):
		err = onFields(err, "name", "correction_reason")
	}
	return c.lookupFailed(r, "verify-form", err)
}

// linkDocument links a second ID document of the current patient (the
// card read at the lookup, with its name) to them, both cards in the
// clerk's hand: a renewed HK/Macau or Taiwan permit beside the old one, a
// passport beside the resident ID (docs/operations.md, "Two documents of
// one person"). Both names must have been verified at the desk.
func (c *Console) linkDocument(r *request) error {
	ref, ok := c.currentLookup(r)
	if !ok || ref.Name == "" {
		return c.lookupFailed(r, "link-form", booking.Errorf(booking.ErrInvalidField, "look the patient up by their first card, read with its name, first"))
	}
	doc, err := identityForm(r)
	if err == nil && r.form("both_seen") == "" {
		err = onFields(booking.Errorf(booking.ErrInvalidField, "both cards must be in your hand: tick the box once you have compared them"), "both_seen")
	}
	if err == nil {
		_, err = c.svc.LinkIdentities(r.ctx, r.actor, booking.LinkRequest{
			Person: booking.IdentityRequest{IDType: ref.IDType, IDNumber: ref.IDNumber, Name: ref.Name}, Document: doc})
	}
	switch {
	case err == nil:
		c.redirect(r, "/desk/lookup?ok=linked")
		return nil
	case errors.Is(err, booking.ErrPatientNotFound), errors.Is(err, booking.ErrLinkSameDocument), errors.Is(err, booking.ErrLinkedElsewhere):
		err = onFields(err, "id_number")
	case errors.Is(err, booking.ErrLinkUnverified), errors.Is(err, booking.ErrLinkNamesDiffer):
		err = onFields(err, "name")
	}
	return c.lookupFailed(r, "link-form", err)
}

// formerNameSeen is what the clerk saw a former name on (the verify form's
// former_seen), as the audited correction reason says it.
var formerNameSeen = map[string]string{
	"household_register":      "户口簿曾用名栏所见 former name seen on the household register",
	"name_change_certificate": "公安机关更名证明所见 former name seen on the police's name-change certificate",
}

// lookupFailed shows the lookup page again with the error of a booking's
// form (its id).
func (c *Console) lookupFailed(r *request, form string, err error) error {
	d, lerr := c.lookupData(r, r.param, true)
	if lerr != nil {
		return lerr
	}
	return c.formFailed(r, "desk/lookup", page{Title: "查找患者 Find a patient", Nav: "lookup", Form: form, Data: d}, err)
}

type walkinOption struct {
	ID       string
	Text     string
	Selected bool
}

type walkinGroup struct {
	Hospital string
	Sessions []walkinOption
}

type walkinData struct {
	IDTypes []idType
	IDType  string // kept after a failed form; never the number or name
	Groups  []walkinGroup
	Any     bool
	FormKey string
	Card    idCard // the form's name, for the typed-reason choice
}

// walkinData offers today's sessions that still run and have on-site slots
// left.
func (c *Console) walkinData(r *request, idType, sessionID string) (walkinData, error) {
	d := walkinData{IDTypes: idTypes, IDType: "resident_id", FormKey: newFormKey(), Card: idCard{Form: "walkin-form"}}
	if knownIDType(idType) {
		d.IDType = idType
	}
	t, err := c.today(r, "")
	if err != nil {
		return d, err
	}
	for _, h := range t.Hospitals {
		g := walkinGroup{Hospital: h.Name}
		for _, s := range h.Sessions {
			if !s.Open || s.OnsiteLeft <= 0 {
				continue
			}
			g.Sessions = append(g.Sessions, walkinOption{ID: s.ID, Selected: s.ID == sessionID,
				Text: s.Time + " · " + s.Department + " · " + s.Doctor + " · 现场余号 " + strconv.Itoa(s.OnsiteLeft) + " on-site left"})
		}
		if len(g.Sessions) > 0 {
			d.Groups = append(d.Groups, g)
			d.Any = true
		}
	}
	return d, nil
}

func (c *Console) walkinPage(r *request) error {
	d, err := c.walkinData(r, "", r.query("s"))
	if err != nil {
		return err
	}
	return c.render(r, fasthttp.StatusOK, "desk/walkin", page{Title: "现场挂号 Walk-in", Nav: "walkin", Data: d})
}

// walkin books an on-site slot for the person at the desk, who then becomes
// the current patient.
func (c *Console) walkin(r *request) error {
	req, err := identityForm(r)
	sessionID := r.form("session_id")
	var b booking.Booking
	if err == nil && sessionID == "" {
		err = onFields(booking.Errorf(booking.ErrInvalidField, "choose a session"), "session_id")
	}
	if err == nil {
		b, err = c.svc.BookFor(r.ctx, r.actor, booking.StaffBookRequest{IdentityRequest: req, SessionID: sessionID,
			Channel: booking.ChannelOnsite, ContactPhone: r.form("contact_phone"), IdempotencyKey: formKey(r), Origin: r.origin,
			Consent: staffConsentForm(r)})
	}
	if err == nil {
		// The walk-in is at the desk with the card: checked in at once.
		// (A resent form answers the first booking, checked in already.)
		ok := "walkin_in"
		if b.Status == booking.StatusConfirmed {
			if _, cerr := c.svc.CheckIn(r.ctx, r.actor, booking.CheckInRequest{IdentityRequest: req, BookingID: b.ID, Origin: r.origin}); cerr != nil {
				c.log.Warn("check in a walk-in; the desk can check them in from the lookup", "booking_id", b.ID, "err", cerr)
				ok = "walkin"
			}
		}
		// The walk-in was booked with the card at the desk: its pages look
		// the person up as a card shown.
		c.rememberLookup(r, lookupRef{IDType: req.IDType, IDNumber: req.IDNumber, Name: req.Name, Check: string(booking.CheckCardShown)})
		c.redirect(r, "/desk/lookup?"+url.Values{"ok": {ok}, "id": {b.ID}}.Encode())
		return nil
	}
	d, lerr := c.walkinData(r, req.IDType, sessionID)
	if lerr != nil {
		return lerr
	}
	return c.formFailed(r, "desk/walkin", page{Title: "现场挂号 Walk-in", Nav: "walkin", Form: "walkin-form", Data: d}, err)
}

// staffConsentForm is the consent boxes of a staff booking form (the desk's
// walk-in, the phone console's caller): the notice's version the person
// agreed to, and whether a parent or guardian gave it (review21 H3).
func staffConsentForm(r *request) booking.ConsentRequest {
	return booking.ConsentRequest{Version: r.form("privacy_consent"), Guardian: r.form("guardian_consent") != ""}
}
