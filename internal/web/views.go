package web

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"fairslot/internal/booking"
)

// funcs are the few helpers the templates use.
var funcs = template.FuncMap{
	// privacyNotice is the notice's version a consent box agrees to.
	"privacyNotice": func() string { return booking.PrivacyNoticeVersion },
	"idTypeLabel":   idTypeLabel,
	"invalid":       invalidField,
	"channelLabel":  func(c booking.Channel) string { return channelLabels[c] },
	// card is the data of the "idcard-fields" template: the card's form,
	// what it shows, and the page's error, which may be about its fields.
	"card": func(c idCard, e *pageError) idCard { c.IDTypes, c.Error = idTypes, e; return c },
	// tplFields is the data of the "template-fields" template: a template
	// form and the page's error, which may be about its fields.
	"tplFields": func(f templateForm, e *pageError) templateForm { f.Error = e; return f },
	// failedForm says whether the page's error came from the form with
	// this id (its <details> is shown open).
	"failedForm": func(e *pageError, form string) bool { return e != nil && e.Form == form },
	// kept is the reason the form with this id had typed in it when it was
	// refused, for its field's value; empty on any other form.
	"kept": func(e *pageError, form string) string {
		if e == nil || e.Form != form {
			return ""
		}
		return e.Reason
	},
	// inForm is the data of a shared field template ("current-password"):
	// the id of the form it is in and the page's error.
	"inForm": func(e *pageError, form string) formError { return formError{Form: form, Error: e} },
	// offerAnswer is the data of the "offer-answer" template: the accept
	// and decline forms of a substitute offer (替诊) posted under base, with
	// the hidden fields given as name, value pairs.
	"offerAnswer": func(base, csrf string, pairs ...string) offerAnswer {
		a := offerAnswer{Base: base, CSRF: csrf}
		for i := 0; i+1 < len(pairs); i += 2 {
			a.Hidden = append(a.Hidden, hiddenField{pairs[i], pairs[i+1]})
		}
		return a
	},
}

// formError is a form's id with the page's error, which may be about the
// form's fields.
type formError struct {
	Form  string
	Error *pageError
}

type offerAnswer struct {
	Base, CSRF string
	Hidden     []hiddenField
}

type hiddenField struct{ Name, Value string }

// idCard is what the ID card's fields of a form are rendered from: the
// form's id, the document type to select (after a refusal, the one typed)
// and the page's error. The number and the name typed are never sent back:
// no desk page shows them in clear (TestDeskNeverShowsClearIdentity); the
// card is read again.
type idCard struct {
	Form    string
	IDType  string
	Focus   bool // the number is what the clerk types next: it has the focus
	IDTypes []idType
	Error   *pageError
}

// Bilingual labels: Chinese first, English after, side by side, so one page
// serves a patient, a relative from abroad and a desk clerk alike.

type idType struct{ Value, Label string }

// relationshipChoice is a relationship the family form offers.
type relationshipChoice struct{ Value, Label string }

// relationshipChoices are the relationships of a member who is not the
// account holder (本人 is the form's "this is me" box).
var relationshipChoices = []relationshipChoice{
	{string(booking.RelChild), "子女 Child"},
	{string(booking.RelSpouse), "配偶 Spouse"},
	{string(booking.RelParent), "父母 Parent"},
	{string(booking.RelOther), "其他 Other"},
}

// idTypes are the documents identity.Parse accepts, in the order the form
// offers them.
var idTypes = []idType{
	{"resident_id", "居民身份证 Resident ID card"},
	{"passport", "护照 Passport"},
	{"hk_macau_permit", "港澳居民来往内地通行证 HK/Macao permit"},
	{"taiwan_permit", "台湾居民来往大陆通行证 Taiwan permit"},
	{"foreign_permanent_id", "外国人永久居留身份证 Foreign permanent resident ID"},
	{"birth_certificate", "出生医学证明（新生儿） Birth certificate (newborn)"},
}

func idTypeLabel(v string) string {
	for _, t := range idTypes {
		if t.Value == v {
			return t.Label
		}
	}
	return v
}

var channelLabels = map[booking.Channel]string{
	booking.ChannelOnline:   "网上 Online",
	booking.ChannelPhone:    "电话 Phone",
	booking.ChannelOnsite:   "现场 On site",
	booking.ChannelReferral: "转诊 Referral",
}

var periodLabels = map[string]string{
	"morning":   "上午 Morning",
	"afternoon": "下午 Afternoon",
	"evening":   "晚间 Evening",
}

func periodLabel(p string) string {
	if l, ok := periodLabels[p]; ok {
		return l
	}
	return p
}

var statusLabels = map[booking.Status]string{
	booking.StatusConfirmed: "已预约 Confirmed",
	booking.StatusCheckedIn: "已签到 Checked in",
	booking.StatusCancelled: "已取消 Cancelled",
	booking.StatusNoShow:    "爽约 No-show",
}

var weekdays = [...]string{"周日 Sun", "周一 Mon", "周二 Tue", "周三 Wed", "周四 Thu", "周五 Fri", "周六 Sat"}

func weekday(date string) string {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return ""
	}
	return weekdays[d.Weekday()]
}

// flashes are the confirmations a redirect after a POST asks for (?ok=…).
var flashes = map[string]string{
	"consented":       "已记录您对《个人信息保护说明》的同意。 Your consent to the privacy notice is recorded.",
	"offer_accepted":  "已确认替诊，预约保留。 Substitute accepted: the booking stays.",
	"offer_declined":  "已放弃替诊，预约已取消，不计爽约。 Substitute declined: the booking is cancelled, not a no-show.",
	"report_filed":    "举报已提交，医院将在 5 个工作日内答复。 Report filed: the hospital answers within 5 working days.",
	"complaint_filed": "投诉已提交，请留意答复期限。 Complaint filed: see its answer deadline below.",
	"report_filed_masked": "举报已提交，医院将在 5 个工作日内答复；其中的手机号、身份证号已隐去中间数字（医院不保存明文，需要时按您的账号手机联系您）。 " +
		"Report filed: the hospital answers within 5 working days. The phone and ID numbers in it are masked (never kept in clear; the hospital reaches you on your account's phone).",
	"complaint_filed_masked": "投诉已提交，请留意答复期限；其中的手机号、身份证号已隐去中间数字（医院不保存明文，需要时按您的账号手机联系您）。 " +
		"Complaint filed: see its deadline below. The phone and ID numbers in it are masked (never kept in clear; the hospital reaches you on your account's phone).",
	"read":             "消息已全部标为已读。 All notifications marked read.",
	"case_answered":    "已答复，患者已收到通知。 Answered: the patient is notified.",
	"case_closed":      "已办结，患者已收到通知。 Closed: the patient is notified.",
	"case_departments": "已更新是否涉及多个部门，答复期限随之调整。 Several departments updated: the deadline follows.",
	"case_flagged":     "已提交线索审核，由平台管理员判断。 Flag opened: a platform administrator reviews it.",
	"password":         "密码已修改，其他设备上的登录已退出。 Password changed: logins on other devices are ended.",
	"phone":            "手机号已修改，以后请用新号码登录；其他设备上的登录已退出。 Phone number changed: log in with the new number from now on; logins on other devices are ended.",
	"member_phone":     "联系电话已修改。 Contact number changed.",
	"welcome":          "账号已创建。请先添加就诊人（可以是您本人）。 Your account is ready. Add the people you book for, starting with yourself.",
	"added":            "已添加就诊人。 Family member added.",
	"removed":          "已移除就诊人，名额已释放；以后可以重新添加。 Family member removed: the place is free, and they can be added again later.",
	"edited":           "已修改关系。 Relationship changed.",
	"own_consent":      "已记录本人同意。 Their own consent is recorded.",
	"left_listing":     "已将您从该账号的就诊人列表中移除，对方会收到通知（不含您的信息）；其以往为您办理的预约记录仍保留在对方账号中。 You are off that account's list; it is told (nothing of yours), and its past bookings for you stay in its history.",
	"booked":           "预约成功。 Booked.",
	"cancelled":        "已取消预约，不计爽约。 Booking cancelled, free of charge: it does not count as a no-show.",
	"cancelled_late":   "已取消预约。已过取消截止时间，本次计为一次爽约。 Booking cancelled. It was past the cancellation deadline, so it counts as a no-show.",
	"waitlisted":       "已加入候补。有人退号时，号自动分给候补者：先到更早轮次，同一轮内顺序随机抽定。 You joined the waitlist: returned slots go to it automatically, earlier rounds first, in an order drawn within each round.",
	"left":             "已退出候补。 You left the waitlist.",
	"entered":          "已报名摇号。开奖后在这里查看结果；抽中即为预约。 You entered the draw. See the result here after the draw; a win is a booking.",
	"withdrawn":        "已撤回摇号报名。 You withdrew from the draw.",
	"loggedout":        "已退出。 You are logged out.",
	"closed": "账号已注销：手机号已释放，未就诊的预约、候补和摇号已取消（截止时间后取消的计为爽约）；就诊记录按规定保存。 " +
		"Your account is closed: its number is free, its upcoming bookings, waitlist places and draw entries are cancelled (past the deadline, as a no-show); your visit record is kept as the rules say.",
	"closing": "已申请注销：所有登录已退出，未就诊的预约、候补和摇号已取消（截止时间后取消的计为爽约）。冷静期满后账号注销、手机号释放；冷静期内登录后可随时撤销注销。 " +
		"Closing requested: every login ended, and the upcoming bookings, waitlist places and draw entries were cancelled (past the deadline, as a no-show). The account closes and its number is freed after the cooling-off; until then, log in to cancel the closing.",
	"closing_cancelled": "已撤销本账号的注销申请，账号照常使用（已取消的预约不会恢复）。如果不是您申请的注销，说明有人知道您的密码：请立即修改密码。 " +
		"The account's pending closing is cancelled: the account stays (bookings already cancelled are not restored). If you did not ask for the closing, someone knows your password: change it now.",
	"expired": "登录已过期，请重新登录。 Your session expired; log in again.",
}

// noShowRule states the no-show rules in both languages: "12 个月内爽约 3
// 次，暂停预约 90 天 · 3 no-shows in 12 months bar booking for 90 days".
func noShowRule(r booking.NoShowRules) string {
	if len(r.Steps) == 0 {
		return ""
	}
	months := int(r.Window.Hours()/24/30 + 0.5)
	var zh, en []string
	for _, st := range r.Steps {
		days := int(st.Bar.Hours() / 24)
		zh = append(zh, fmt.Sprintf("%d 个月内爽约 %d 次暂停预约 %d 天", months, st.Count, days))
		en = append(en, fmt.Sprintf("%d no-shows in %d months bar booking for %d days", st.Count, months, days))
	}
	return strings.Join(zh, "，") + "。 " + strings.Join(en, "; ") + "."
}

// newFormKey is a fresh idempotency key for one rendered form: submitting
// it twice (a double click, a resent POST) does the thing once.
func newFormKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// patientView is a family member as pages show it: masked values only, as
// the Service returns them.
type patientView struct {
	ID       string
	Name     string // masked: 张*
	IDType   string
	MaskedID string // 110***********002X
	Phone    string // masked: 138****5678
	Self     bool
	// Label tells apart members whose masked names are alike (陈一 and
	// 陈二 are both 陈*): "子女 · 陈* · 2016". Pages show it wherever a
	// member is chosen or listed.
	Label        string
	Relationship string // 子女
	RelValue     string // child: what the edit form has selected
	BirthYear    int    // 0: the document carries none
	OptionText   string
	// OwnConsent: listed as a child on a guardian's consent and 14 now,
	// the person consents for themselves (the family page asks the
	// holder to confirm it; the booking form ticks it).
	OwnConsent bool
}

func patientViews(ps []booking.Patient, now time.Time) []patientView {
	out := make([]patientView, len(ps))
	for i, p := range ps {
		label := p.Label()
		out[i] = patientView{ID: p.ID, Name: p.MaskedName, IDType: p.IDType, MaskedID: p.MaskedID,
			Phone: p.PhoneMasked, Self: p.IsSelf, Label: label, Relationship: p.Relationship.Label(), RelValue: string(p.Relationship), BirthYear: p.BirthYear,
			OptionText: label + " · " + p.MaskedID, OwnConsent: p.OwnConsentAsked(now)}
	}
	return out
}

// kinLabel is who a person is to the account that booked or gave the
// number, as staff pages show it beside the masked name: "子女 · 2016";
// empty for nobody's family.
func kinLabel(k booking.Kin) string {
	if k.Relationship == "" {
		return ""
	}
	label := k.Relationship.Label()
	if k.BirthYear > 0 {
		label += " · " + strconv.Itoa(k.BirthYear)
	}
	return label
}

// chip is one choice of the hospital → department → date filter.
type chip struct {
	Label    string
	Sub      string
	URL      string
	Selected bool
}

// sessionsURL is the filter page for a choice.
func sessionsURL(hospital, department, date string) string {
	v := url.Values{}
	if hospital != "" {
		v.Set("hospital", hospital)
	}
	if department != "" {
		v.Set("department", department)
	}
	if date != "" {
		v.Set("date", date)
	}
	if len(v) == 0 {
		return "/patient/sessions"
	}
	return "/patient/sessions?" + v.Encode()
}

type channelRow struct {
	Label     string
	Remaining int
	Quota     int
	ReleaseAt string
	Released  bool
	Online    bool
}

type sessionRow struct {
	ID         string
	Doctor     string
	Title      string
	Department string
	Date       string
	Weekday    string
	Period     string
	Time       string
	Lottery    bool
	Draw       *drawRow // the online pool's lottery, when it is one
	Enterable  bool     // its window is open: the form enters the draw
	Channels   []channelRow
	Bookable   bool
	Waitlist   bool   // sold out online: the waitlist takes names instead
	Held       bool   // ... with slots held for it (Why says how many, and when they go)
	Why        string // why the Book button is off
	FormKey    string
	// LateAfter is when cancelling this session's booking starts to count
	// as a no-show, said in the booking's confirmation step.
	LateAfter string
	// Opening: the online pool opens at ReleaseAt (RFC 3339, to the
	// millisecond) and the page carries its booking form hidden, which
	// countdown.js shows then; Now is the server's clock in Unix ms.
	Opening   bool
	ReleaseAt string
	Now       int64
}

func sessionRowOf(cat *booking.Catalog, v booking.SessionView, loc *time.Location, now time.Time) sessionRow {
	doc, _ := cat.Doctor(v.DoctorID)
	dept, _ := cat.Department(v.DepartmentID)
	row := sessionRow{
		ID: v.ID, Doctor: doc.Name, Title: doc.Title, Department: dept.Name, Date: v.VisitDate,
		Weekday: weekday(v.VisitDate), Period: periodLabel(v.Period),
		Time:    v.StartsAt.In(loc).Format("15:04") + "–" + v.EndsAt.In(loc).Format("15:04"),
		Lottery: v.Mode == booking.Lottery, FormKey: newFormKey(),
	}
	if h, ok := cat.Hospital(v.HospitalID); ok {
		row.LateAfter = h.CancelLateAfter(v.VisitDate, now).In(loc).Format("01-02 15:04")
	}
	online, hasOnline := v.Channel(booking.ChannelOnline)
	for _, q := range v.Channels {
		row.Channels = append(row.Channels, channelRow{
			Label: channelLabels[q.Channel], Remaining: v.Remaining[q.Channel], Quota: q.Quota,
			ReleaseAt: q.ReleaseAt.In(loc).Format("2006-01-02 15:04:05"), Released: q.Released(now),
			Online: q.Channel == booking.ChannelOnline,
		})
	}
	if hasOnline && online.IsLottery() {
		row.Draw = drawRowOf(online, loc, now)
		if h, ok := cat.Hospital(v.HospitalID); ok {
			won := booking.Booking{VisitDate: v.VisitDate, CreatedAt: online.DrawAt, Allotted: true}
			row.Draw.FreeUntil = h.FreeCancelUntil(won, now).In(loc).Format("01-02 15:04")
		}
	}
	if !hasOnline || online.Quota == 0 {
		row.Why = "无网上号源 No online slots"
		return row
	}
	var act poolAction
	act, row.Why = poolActionOf(v, online, loc, now)
	switch act {
	case poolEnter:
		row.Enterable = true
	case poolOpening:
		row.Opening, row.ReleaseAt, row.Now = true, online.ReleaseAt.Format(time.RFC3339Nano), now.UnixMilli()
	case poolWaitlist:
		row.Waitlist, row.Held = true, v.Held > 0
	case poolBook:
		row.Bookable = true
	}
	return row
}

// poolAction is what a session's pool offers now.
type poolAction string

const (
	poolClosed   poolAction = ""         // nothing (why says why)
	poolEnter    poolAction = "enter"    // a lottery taking entries
	poolOpening  poolAction = "opening"  // released later (why says when, to the second)
	poolWaitlist poolAction = "waitlist" // sold out: the waitlist takes names
	poolBook     poolAction = "book"
)

// poolActionOf decides what pool q of session v offers now, for the patient
// console's online pool and the phone console's phone pool alike, with the
// reason when it offers nothing to book.
func poolActionOf(v booking.SessionView, q booking.ChannelQuota, loc *time.Location, now time.Time) (poolAction, string) {
	switch {
	case v.Stopped():
		return poolClosed, "停诊 Clinic stopped：" + v.StopReason
	case !now.Before(v.StartsAt):
		return poolClosed, "已开始 Started"
	case q.TakesEntries(now) && now.Before(q.OpensAt):
		return poolClosed, "摇号报名未开始 Entries open " + q.OpensAt.In(loc).Format("01-02 15:04:05")
	case q.TakesEntries(now) && q.Draw == nil:
		return poolClosed, "摇号即将开始 The draw opens shortly"
	case q.TakesEntries(now):
		return poolEnter, ""
	case q.IsLottery() && (q.Draw == nil || q.Draw.Status != booking.DrawDrawn):
		return poolClosed, "正在开奖 Drawing"
	case now.Before(q.ReleaseAt):
		return poolOpening, "未放号 Opens " + q.ReleaseAt.In(loc).Format("01-02 15:04:05")
	case v.Remaining[q.Channel] <= 0 && v.Held > 0:
		// Not sold out: slots are held for the waitlist's round (what a
		// draw left, or returned slots) and go to those in line when it
		// ends (review15 L1).
		return poolWaitlist, heldNote(v, loc)
	case v.Remaining[q.Channel] <= 0:
		return poolWaitlist, "已约满 Sold out"
	}
	return poolBook, ""
}

// heldNote says how many of v's slots are held for its waitlist's round and
// when they are handed out.
func heldNote(v booking.SessionView, loc *time.Location) string {
	en := fmt.Sprintf("%d slots are held for the waitlist", v.Held)
	if v.Held == 1 {
		en = "1 slot is held for the waitlist"
	}
	zh := fmt.Sprintf("%d 个号留给候补", v.Held)
	if !v.RoundEnds.IsZero() {
		at := v.RoundEnds.In(loc).Format("15:04")
		zh += "，" + at + " 分给候补者"
		en += ", handed out at " + at
	}
	return zh + " " + en
}

type bookingRow struct {
	ID          string
	Date        string
	Weekday     string
	Time        string
	Hospital    string
	Department  string
	Doctor      string
	SlotNo      int
	Patient     string // masked name
	Channel     string
	Status      string
	StatusClass string
	Cancellable bool
	// LateAfter is when cancelling starts to count as a no-show; Late says
	// that moment has passed.
	LateAfter string
	Late      bool
	Highlight bool
	// OfferUntil, when set, says the booking is a slot held with a
	// substitute doctor (替诊) until then: accept or decline, never late.
	OfferUntil string
	// NoShowRule states the no-show rules of the booking's hospital (the
	// patient's bookings page's cancellation step).
	NoShowRule string
	// MadeBy is, for one another account made for the person the viewer
	// holds as verified self, that account's phone, masked.
	MadeBy string
	// StopReason is, for a booking a stopped clinic (停诊) cancelled, the
	// reason the hospital gave: what staff tell the patient.
	StopReason string
}

func bookingRowOf(cat *booking.Catalog, b booking.Booking, names map[string]string, now time.Time, highlight string) bookingRow {
	loc := time.UTC
	hosp := ""
	var late time.Time
	if h, ok := cat.Hospital(b.HospitalID); ok {
		loc, hosp = h.Location(), h.Name
		// A draw's win, a promotion: maybe later; a clinic moved after
		// the booking (改期): its new start.
		late, _ = cat.FreeCancelUntil(b, now)
	}
	doc, _ := cat.Doctor(b.DoctorID)
	dept, _ := cat.Department(b.DepartmentID)
	row := bookingRow{
		ID: b.ID, Date: b.VisitDate, Weekday: weekday(b.VisitDate),
		Time:     b.SlotStart.In(loc).Format("15:04") + "–" + b.SlotEnd.In(loc).Format("15:04"),
		Hospital: hosp, Department: dept.Name, Doctor: doc.Name, SlotNo: b.SlotNo,
		Patient: names[b.PatientID], Channel: channelLabels[b.Channel],
		Status: statusLabels[b.Status], StatusClass: string(b.Status), Highlight: b.ID == highlight,
	}
	if row.Status == "" {
		row.Status = string(b.Status)
	}
	if b.Status == booking.StatusCancelled && b.LateCancel {
		row.Status = "已取消·计爽约 Cancelled late: a no-show"
	}
	if s, ok := cat.Session(b.SessionID); ok && b.Status == booking.StatusCancelled && s.Stopped() && !b.CancelledAt.Before(s.StoppedAt) {
		row.StopReason = s.StopReason
	}
	if b.Status == booking.StatusConfirmed {
		// Cancelling closes when the session starts (the desk handles it
		// then); a session gone from the catalog is long past.
		s, ok := cat.Session(b.SessionID)
		row.Cancellable = ok && now.Before(s.StartsAt)
		if row.Cancellable && !late.IsZero() {
			row.LateAfter, row.Late = late.In(loc).Format("01-02 15:04"), now.After(late)
		}
	}
	return row
}

var waitStatusLabels = map[string]string{
	booking.WaitlistWaiting:   "候补中 Waiting",
	booking.WaitlistServed:    "候补成功 Got a slot",
	booking.WaitlistCancelled: "已退出 Left",
	booking.WaitlistSkipped:   "未能候补 Passed over",
}

// sessionPlace is where and when a session is, as the cards of the
// bookings page say it.
type sessionPlace struct {
	Date       string
	Weekday    string
	Time       string
	Hospital   string
	Department string
	Doctor     string
}

// placeOf describes a session of the catalog, and gives its hospital's zone
// (UTC for a session no longer in the catalog, which is then not described).
func placeOf(cat *booking.Catalog, sessionID string) (sessionPlace, *booking.Session, *time.Location) {
	var p sessionPlace
	s, ok := cat.Session(sessionID)
	if !ok {
		return p, nil, time.UTC
	}
	loc := time.UTC
	if h, ok := cat.Hospital(s.HospitalID); ok {
		loc, p.Hospital = h.Location(), h.Name
	}
	doc, _ := cat.Doctor(s.DoctorID)
	dept, _ := cat.Department(s.DepartmentID)
	p.Date, p.Weekday, p.Doctor, p.Department = s.VisitDate, weekday(s.VisitDate), doc.Name, dept.Name
	p.Time = s.StartsAt.In(loc).Format("15:04") + "–" + s.EndsAt.In(loc).Format("15:04")
	return p, s, loc
}

// waitRow is a waitlist entry (候补) on the bookings page.
type waitRow struct {
	sessionPlace
	ID          string
	Patient     string // masked name
	Status      string
	StatusClass string
	Position    int // place in line while waiting, when the Service knows it
	// While its round is open: when the round ends (the hospital's clock),
	// and how many wait ahead in earlier rounds.
	Round     string
	Ahead     int
	Waiting   bool
	Served    bool // its booking, with the same id, is listed above
	Highlight bool
	// MadeBy is, for one another account made for the person the viewer
	// holds as verified self, that account's phone, masked.
	MadeBy string
}

func waitRowOf(cat *booking.Catalog, e booking.WaitlistEntry, names map[string]string, highlight string) waitRow {
	row := waitRow{ID: e.ID, Patient: names[e.PatientID], Status: waitStatusLabels[e.Status], StatusClass: "w-" + e.Status,
		Waiting: e.Status == booking.WaitlistWaiting, Served: e.Status == booking.WaitlistServed, Highlight: e.ID == highlight}
	if row.Status == "" {
		row.Status = e.Status
	}
	if row.Waiting {
		row.Position = e.Position
		if e.Position == 0 && !e.RoundEndsAt.IsZero() {
			row.Round, row.Ahead = roundEnd(cat, e), e.Ahead
		}
	}
	row.sessionPlace, _, _ = placeOf(cat, e.SessionID)
	return row
}

// roundEnd is when e's waitlist round ends, on the hospital's clock
// ("15:40", or "12-05 15:40" on another day than the entry's joining).
func roundEnd(cat *booking.Catalog, e booking.WaitlistEntry) string {
	loc := time.Local
	if h, ok := cat.Hospital(e.HospitalID); ok {
		loc = h.Location()
	}
	end := e.RoundEndsAt.In(loc)
	if end.Format(time.DateOnly) != e.CreatedAt.In(loc).Format(time.DateOnly) {
		return end.Format("01-02 15:04")
	}
	return end.Format("15:04")
}

// drawRow is a lottery pool's window and its draw's public record, as the
// patient pages show them: no JavaScript, so the countdown is the time left
// when the page was made.
type drawRow struct {
	Opens, DrawAt string
	Countdown     string // until the draw; empty once it is due
	Status        string
	Commitment    string // hex commitment of the seed (an entry's: the one in force when it was made)
	Recipe        int    // how Commitment is made from the seed (booking.CommitV*)
	// Published is the pool's commitment now when it is not the entry's
	// (someone changed it after the entry): shown as a warning.
	Published string
	Seed      string // hex, once drawn
	Drawn     bool
	Winners   int
	Eligible  int
	// FreeUntil is until when a winner may cancel free of a no-show: the
	// later of the deadline and booking.AllottedGrace after the draw.
	FreeUntil string
}

var drawStatusLabels = map[string]string{
	booking.DrawOpen:    "报名中 Taking entries",
	booking.DrawDrawing: "开奖中 Drawing",
	booking.DrawDrawn:   "已开奖 Drawn",
}

func drawRowOf(q booking.ChannelQuota, loc *time.Location, now time.Time) *drawRow {
	d := &drawRow{Opens: q.OpensAt.In(loc).Format("01-02 15:04"), DrawAt: q.DrawAt.In(loc).Format("01-02 15:04:05"),
		Status: drawStatusLabels[booking.DrawOpen]}
	if left := q.DrawAt.Sub(now); left > 0 {
		d.Countdown = countdown(left)
	}
	if q.Draw != nil {
		d.Status, d.Commitment, d.Recipe = drawStatusLabels[q.Draw.Status], hex.EncodeToString(q.Draw.Commitment), q.Draw.Recipe
		d.Drawn, d.Winners, d.Eligible = q.Draw.Status == booking.DrawDrawn, q.Draw.Winners, q.Draw.Eligible
		if d.Drawn {
			d.Seed, d.Countdown = hex.EncodeToString(q.Draw.Seed), ""
		}
	}
	return d
}

// countdown says how long until the draw, in both languages.
func countdown(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, sec := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("还有 %d 小时 %d 分 · in %dh %dm", h, m, h, m)
	case m > 0:
		return fmt.Sprintf("还有 %d 分 %d 秒 · in %d min %d s", m, sec, m, sec)
	}
	return fmt.Sprintf("还有 %d 秒 · in %d s", sec, sec)
}

var entryStatusLabels = map[string]string{
	booking.EntryEntered:    "已报名 Entered",
	booking.EntryWithdrawn:  "已撤回 Withdrawn",
	booking.EntryWon:        "中签 Won",
	booking.EntryLost:       "未中签 Not drawn",
	booking.EntryWaitlisted: "未中签，已候补 Not drawn, waitlisted",
	booking.EntryHeldOut:    "审核中 Under review",
	booking.EntryExcluded:   "未参加 Excluded",
}

// entryRow is a lottery entry on the bookings page.
type entryRow struct {
	sessionPlace
	ID           string
	Patient      string // masked name
	Status       string
	StatusClass  string
	Draw         *drawRow
	BookingID    string // the booking it became, listed above
	Waitlist     string // a waitlisted entry's place now, or that it was promoted (review20 L2)
	Withdrawable bool
	Highlight    bool
	// MadeBy is, for one another account made for the person the viewer
	// holds as verified self, that account's phone, masked.
	MadeBy string
}

func entryRowOf(cat *booking.Catalog, e booking.Entry, names map[string]string, now time.Time, highlight string) entryRow {
	row := entryRow{ID: e.ID, Patient: names[e.PatientID], Status: entryStatusLabels[e.Status], StatusClass: "e-" + e.Status,
		BookingID: e.BookingID(), Highlight: e.ID == highlight}
	if row.Status == "" {
		row.Status = e.Status
	}
	var s *booking.Session
	var loc *time.Location
	row.sessionPlace, s, loc = placeOf(cat, e.SessionID)
	if s == nil {
		return row
	}
	if q, ok := s.Channel(e.Channel); ok && q.IsLottery() {
		row.Draw = drawRowOf(q, loc, now)
		row.Withdrawable = e.Status == booking.EntryEntered && q.TakesEntries(now)
		switch e.WaitlistStatus {
		case booking.WaitlistWaiting:
			if e.WaitlistPosition > 0 {
				row.Waitlist = fmt.Sprintf("候补第 %d 位 Waitlist place %d", e.WaitlistPosition, e.WaitlistPosition)
			}
		case booking.WaitlistServed:
			row.Waitlist = "候补已转为预约，见上方。 Promoted from the waitlist: the booking is listed above."
		}
		// The entry's own receipt of the commitment, not the pool's value
		// now (review20 H1): a change since the entry is shown as one.
		if len(e.Commitment) > 0 {
			if mine := hex.EncodeToString(e.Commitment); mine != row.Draw.Commitment {
				row.Draw.Published, row.Draw.Commitment = row.Draw.Commitment, mine
			}
		}
	}
	return row
}
