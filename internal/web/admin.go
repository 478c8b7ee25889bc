package web

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// The administrators' console (管理): the scalper review queue and the audit
// log. Flags come from the detector (Service.Detect, on a timer and on the
// "run detection now" button); each names a group of accounts and persons
// by id only, with its reasons and the timeline of the group's events, which
// carry ids, IPs and device ids but never a name, an ID number or a phone.
// An administrator confirms a flag (the Service blocks the accounts, bars
// the persons and cancels their future bookings, handing the slots to the
// waitlist) or dismisses it, with a note either way; both are audited.

// adminFlashes are the confirmations after an admin POST.
var adminFlashes = map[string]string{
	"confirmed": "已确认该线索：账号已停用，就诊人已暂停预约，未来的预约已取消，号源先给候补。 Flag confirmed: the accounts are blocked, the persons barred, their future bookings cancelled and the slots handed to the waitlist.",
	"dismissed": "已排除该线索：同一证据不会再次提示，除非评分明显升高。 Flag dismissed: the same evidence will not raise it again unless its score grows clearly.",
	"pending":   "已申请排除：这条线索的证据较强，须另一位管理员复核后才排除；在此之前本组仍按待审核处理。 Dismissal asked: this flag's evidence is strong, so another administrator finishes it; until then the group stays held as an open flag's.",
}

// dismissReasonLabels name the reason codes of a dismissal (review25 M1).
var dismissReasonLabels = map[string]string{
	"family":         "一家人代约 One family",
	"shared_place":   "同一单位、养老院或网络 One workplace, care home or network",
	"staff_made":     "工作人员代约 Booked by staff for them",
	"detector_error": "检测证据有误 The detector got the evidence wrong",
	"other":          "其他（备注至少 10 个字） Other (a note of 10+ characters)",
}

// dismissReason is a reason code with its label, for the form's choice.
type dismissReason struct{ Code, Label string }

func dismissReasons() []dismissReason {
	var out []dismissReason
	for _, c := range booking.DismissReasons {
		out = append(out, dismissReason{c, dismissReasonLabels[c]})
	}
	return out
}

var flagStatusLabels = map[string]string{
	booking.FlagOpen:      "待审核 Open",
	booking.FlagConfirmed: "已确认 Confirmed",
	booking.FlagDismissed: "已排除 Dismissed",
	// An upheld appeal found the confirmation wrong (review21 M3).
	booking.FlagOverturned: "已改判撤销 Overturned",
}

var flagStatuses = []string{booking.FlagOpen, booking.FlagConfirmed, booking.FlagDismissed, booking.FlagOverturned}

var eventLabels = map[booking.EventType]string{
	booking.EventAccountCreated: "注册 Account created",
	booking.EventLogin:          "登录 Login",
	booking.EventPatientAdded:   "添加就诊人 Patient added",
	booking.EventBooked:         "预约 Booked",
	booking.EventCancelled:      "取消 Cancelled",
	booking.EventCheckedIn:      "签到 Checked in",
	booking.EventNoShow:         "爽约 No-show",
	booking.EventWaitlisted:     "候补 Waitlisted",
	booking.EventReissued:       "退号重发 Reissued",
	booking.EventRateLimited:    "限流 Rate limited",
	booking.EventRejected:       "拒绝 Rejected",
	booking.EventLotteryEntered: "摇号报名 Lottery entry",
}

var auditActionLabels = map[string]string{
	"flag_confirm":           "确认线索 Flag confirmed",
	"flag_dismiss":           "排除线索 Flag dismissed",
	"flag_dismiss_requested": "申请排除线索（待复核） Dismissal asked, awaits a second admin",
	"checkin_refused":        "签到被拒 Check-in refused",
	"reissue":                "退号重发 Slot reissued",
	"extra_slots":            "加号 Extra slots",
	"move_pool":              "调整号池 Slots moved between pools",
	"staff_added":            "新增工作人员 Staff account added",
	"hospital_added":         "新增医院 Hospital added",
	"staff_password_reset":   "重置工作人员密码 Staff password reset",
	"staff_disabled":         "停用工作人员账号 Staff account disabled",
	"staff_enabled":          "启用工作人员账号 Staff account enabled",
	"lottery_draw":           "摇号开奖 Lottery drawn",
	"lottery_seed_committed": "摇号种子承诺 Seed committed",
	"case_answer":            "答复投诉举报 Case answered",
	"case_answer_close":      "答复并办结 Case answered and closed",
	"case_close":             "办结投诉举报 Case closed",
	"case_departments":       "投诉涉及多个科室 Case departments set",
	"flag_confirm_again":     "再次确认线索 Flag confirmed again",
	"flag_opened_from_case":  "由投诉举报立线索 Flag opened from a case",
	"detection_run":          "运行号贩子检测 Detection run",
	"block_lifted":           "解除封禁 Block lifted",
	"bar_lifted":             "解除就诊人限制 Person's bar lifted",
	"appeal_filed_at_desk":   "窗口代交申诉 Appeal filed at the desk",
	"flag_overturned":        "线索改判撤销 Flag overturned",

	// The schedule (号源) and its catalog.
	"session_create":      "发布出诊 Session published",
	"session_update":      "修改出诊 Session changed",
	"session_delete":      "撤回出诊 Session withdrawn",
	"session_stop":        "停诊 Clinic stopped",
	"session_restore":     "撤销停诊 Stop undone",
	"session_announce":    "诊室/延迟开诊通知 Room or delay told",
	"session_move":        "门诊改期 Clinic moved",
	"holiday_set":         "设置节假日 Holiday set",
	"holiday_delete":      "取消节假日 Holiday removed",
	"substitute_accepted": "患者接受替诊 Substitute accepted",
	"template_create":     "新建出诊模板 Template created",
	"template_update":     "修改出诊模板 Template changed",
	"template_delete":     "删除出诊模板 Template deleted",
	"doctor_create":       "新增医生 Doctor added",
	"doctor_update":       "修改医生 Doctor changed",
	"doctor_retire":       "医生停止出诊 Doctor retired",
	"department_create":   "新增科室 Department added",
	"department_update":   "修改科室 Department renamed",
	"department_retire":   "撤销科室 Department retired",
	"policy_set":          "修改预约规则 Booking policy set",
	"account_policy_set":  "修改账号规则 Account policy set",
	"lottery_withdrawn":   "撤回摇号报名 Lottery entry withdrawn",

	// Bookings and people, at the desk, by phone and in accounts.
	"desk_booking":                 "窗口挂号 Desk booking",
	"phone_booking":                "电话预约 Phone booking",
	"phone_waitlist":               "电话候补 Phone waitlist",
	"phone_lottery_entry":          "电话摇号报名 Phone draw entry",
	"desk_lottery_entry":           "窗口摇号报名 Desk draw entry",
	"booking_cancelled":            "工作人员取消预约 Booking cancelled by staff",
	"cancelled_by_person":          "本人取消他人代约 Cancelled by the person",
	"listing_removed_by_person":    "本人退出他人就诊人列表 Person left a family list",
	"person_listings_read":         "窗口查询本人被谁列为就诊人 Listings read at the desk",
	"booking_name_corrected":       "更正预约姓名 Booking name corrected",
	"checkin":                      "签到 Checked in",
	"checkin_override":             "人工核验签到 Check-in override",
	"waitlist_left":                "退出候补 Left the waitlist",
	"callback":                     "回电结果 Call back",
	"callback_number_read":         "查看回电号码 Call-back number read",
	"caller_lookup":                "查找来电患者 Caller looked up",
	"identity_lookup":              "查找患者证件 Identity looked up",
	"identity_verified":            "核验实名 Identity verified",
	"identity_linked":              "关联证件 Documents linked",
	"identity_name_corrected":      "更正实名 Identity name corrected",
	"identity_deceased":            "登记患者已故 Death recorded",
	"identity_death_lifted":        "撤销误登记的已故 Death record lifted",
	"self_disproved":               "本人身份被否定 Self disproved",
	"patient_edited":               "修改就诊人 Patient edited",
	"patient_phone_changed":        "修改就诊人电话 Patient phone changed",
	"patient_removed":              "删除就诊人 Patient removed",
	"account_closed":               "注销账号 Account closed",
	"account_closing_requested":    "申请注销账号（冷静期） Closing requested",
	"account_closing_cancelled":    "撤销注销申请 Closing cancelled",
	"account_phone_changed":        "更换账号手机号 Account phone changed",
	"account_phone_released":       "释放手机号 Phone released",
	"account_phone_restored":       "恢复手机号 Phone restored",
	"account_login_moved":          "登录手机号移回本人 Login moved back",
	"account_login_move_requested": "窗口申请改登录手机号（冷静期） Login move requested",
	"account_login_move_cancelled": "改登录手机号已撤销 Login move cancelled",
	"card_reader_registered":       "登记读卡器 Card reader registered",
	"card_reader_retired":          "停用读卡器 Card reader retired",
	"password_reset_code_issued":   "发放重置码 Reset code issued",
	"password_reset_with_code":     "凭重置码重置密码 Password reset with a code",
}

var roleLabels = map[string]string{
	string(booking.RolePatient):  "患者 Patient",
	string(booking.RoleClerk):    "窗口 Clerk",
	string(booking.RoleOperator): "话务员 Operator",
	string(booking.RoleAdmin):    "管理员 Admin",
	string(booking.RoleReferrer): "转诊医生 Referrer",
	"cli":                        "命令行 CLI",
	"system":                     "系统 System",
}

func labelOr(m map[string]string, k string) string {
	if l, ok := m[k]; ok {
		return l
	}
	return k
}

// adminZone is the zone the admin console shows times in: the first
// hospital's, China Standard Time without one.
func (c *Console) adminZone() *time.Location {
	if hs := c.svc.Catalog().Hospitals(); len(hs) > 0 {
		return hs[0].Location()
	}
	return booking.StandInLocation()
}

// shortID shortens an opaque id for a table cell; the whole id goes in the
// cell's title.
func shortID(id string) string {
	if utf8.RuneCountInString(id) <= 13 {
		return id
	}
	return string([]rune(id)[:8]) + "…"
}

func flagURL(id string) string { return "/admin/flags/" + url.PathEscape(id) }

// staffElsewhere names the actor of an audit entry who works for another
// hospital by that hospital alone.
func staffElsewhere(cat *booking.Catalog, hospitalID string) string {
	if h, ok := cat.Hospital(hospitalID); ok {
		return h.Name + " 职员 Staff of " + h.Name
	}
	return "其他医院职员 Staff of another hospital"
}

// who names the actor of a decision or an audit entry: "you" for the
// administrator looking, the CLI for an entry without an actor, else the
// account's id.
func who(id, name string, me booking.Actor) (label, title string) {
	switch {
	case id == "":
		return "命令行 CLI", ""
	case id == me.AccountID:
		return "你 You", id
	case name != "":
		return name, id
	}
	return shortID(id), id
}

// flagRow is a flag in the review queue.
type flagRow struct {
	ID          string
	ShortID     string
	URL         string
	Score       string
	Signals     []string
	Accounts    int
	Persons     int
	Created     string
	Updated     string
	Status      string
	StatusClass string
	DecidedAt   string
	DecidedBy   string
	DecidedByID string
	Note        string
	// Due is an open flag's decision deadline; Overdue says it passed
	// (its holds on lottery entries have lapsed: review21 M1).
	Due     string
	Overdue bool
	// OverturnedAt and OverturnedBy: the upheld appeal that overturned a
	// confirmed flag.
	OverturnedAt, OverturnedBy, OverturnedByID string
	// SecondAdmin: dismissing it is two administrators' act; Pending: one
	// asked (PendingBy, at PendingAt, for PendingReason), MinePending: the
	// reader did (review25 M1). ReasonCode: a dismissal's reason.
	SecondAdmin, Pending, MinePending         bool
	PendingBy, PendingByID, PendingAt, Reason string
}

func (c *Console) flagRowOf(f booking.Flag, me booking.Actor, loc *time.Location) flagRow {
	row := flagRow{ID: f.ID, ShortID: shortID(f.ID), URL: flagURL(f.ID), Score: strconv.FormatFloat(f.Score, 'f', 2, 64),
		Accounts: len(f.AccountIDs), Persons: len(f.PatientIDs),
		Created: f.CreatedAt.In(loc).Format("2006-01-02 15:04"), Updated: f.UpdatedAt.In(loc).Format("2006-01-02 15:04"),
		Status: labelOr(flagStatusLabels, f.Status), StatusClass: "f-" + f.Status, Note: f.Note}
	for _, r := range f.Reasons {
		if !slices.Contains(row.Signals, r.Signal) {
			row.Signals = append(row.Signals, r.Signal)
		}
	}
	if !f.DecidedAt.IsZero() {
		row.DecidedAt = f.DecidedAt.In(loc).Format("2006-01-02 15:04")
		row.DecidedBy, row.DecidedByID = who(f.DecidedBy, "", me)
	}
	if f.DueAt != nil {
		row.Due, row.Overdue = f.DueAt.In(loc).Format("2006-01-02 15:04"), f.Overdue
	}
	if f.OverturnedAt != nil {
		row.OverturnedAt = f.OverturnedAt.In(loc).Format("2006-01-02 15:04")
		row.OverturnedBy, row.OverturnedByID = who(f.OverturnedBy, "", me)
	}
	row.SecondAdmin = f.NeedsSecondAdminToDismiss()
	if dm := f.Dismissal; dm != nil {
		row.Reason = labelOr(dismissReasonLabels, dm.ReasonCode)
		if dm.RequestedBy != "" {
			row.PendingBy, row.PendingByID = who(dm.RequestedBy, "", me)
			row.PendingAt = dm.RequestedAt.In(loc).Format("2006-01-02 15:04")
		}
		if f.Status == booking.FlagOpen {
			row.Pending, row.MinePending = true, dm.RequestedBy == me.AccountID
		}
	}
	return row
}

type flagTab struct {
	Label    string
	URL      string
	Count    int
	Selected bool
	Key      string
}

type flagsData struct {
	Tabs   []flagTab
	Status string
	Label  string
	Flags  []flagRow
}

// flagsPage is the review queue: a tab per status, the flags of the chosen
// one highest score first, the open ones past their decision deadline
// before the others.
func (c *Console) flagsPage(r *request) error {
	if !r.actor.PlatformAdmin() {
		// A hospital's administrator signs in here too, but flags span
		// hospitals: their console starts at their hospital's schedule.
		c.redirect(r, "/admin/schedule")
		return nil
	}
	status := r.query("status")
	if !slices.Contains(flagStatuses, status) {
		status = booking.FlagOpen
	}
	loc := c.adminZone()
	d := flagsData{Status: status, Label: flagStatusLabels[status]}
	for _, st := range flagStatuses {
		fs, err := c.svc.Flags(r.ctx, r.actor, st)
		if err != nil {
			return err
		}
		u := "/admin"
		if st != booking.FlagOpen {
			u += "?status=" + st
		}
		d.Tabs = append(d.Tabs, flagTab{Label: flagStatusLabels[st], URL: u, Count: len(fs), Selected: st == status, Key: st})
		if st == status {
			for _, f := range fs {
				d.Flags = append(d.Flags, c.flagRowOf(f, r.actor, loc))
			}
			slices.SortStableFunc(d.Flags, func(a, b flagRow) int {
				return boolRank(b.Overdue) - boolRank(a.Overdue)
			})
		}
	}
	flash := ""
	if r.query("ok") == "detected" {
		n, _ := strconv.Atoi(r.query("n"))
		flash = fmt.Sprintf("检测完成：%d 条新的或重新打开的线索。 Detection ran: %d new or reopened flags.", n, n)
	}
	return c.render(r, fasthttp.StatusOK, "admin/flags", page{Title: "线索审核 Flags", Nav: "flags", Flash: flash, Data: d})
}

// detect runs the detector now over the recent events.
func (c *Console) detect(r *request) error {
	n, err := c.svc.RunDetection(r.ctx, r.actor)
	if err != nil {
		return err
	}
	c.redirect(r, "/admin?"+url.Values{"ok": {"detected"}, "n": {strconv.Itoa(n)}}.Encode())
	return nil
}

// member is an account or a person of a flag's group, labelled A1…, P1…
// so the timeline can point at them briefly.
type member struct {
	Label string
	ID    string
	// Of a person: on how many accounts outside the group they are listed
	// (0: the group's own), and whether one is their verified self's.
	Elsewhere    int
	VerifiedSelf bool
	Ticked       bool // named to bar in the failed confirmation shown again
}

// reasonView is one reason of a flag as an administrator reads it: the
// kind of evidence, what it adds to the score, and the sentence in Chinese
// and English (flags found before the explanations have English only).
type reasonView struct {
	Signal   string
	Kind     string
	Points   string
	Counted  bool // adds to the score (the strongest of its kind)
	Detail   string
	DetailZH string
}

// kindLabels name the detector's kinds of evidence.
var kindLabels = map[string]string{
	"automation": "自动化操作 Automation",
	"scale":      "规模超出家庭 Scale",
	"targeting":  "盯抢紧俏号源 Targeting",
	"non_use":    "占号不用 Slots not used",
	"transfer":   "转号 Hand-offs",
	"evasion":    "频繁换设备 Evasion",
	"insider":    "工作人员偏向 Insider",
	"claims":     "添加他人证件被拒 Others' ID numbers",
	"disowned":   "被办理人本人取消 Undone by the person",
	"link":       "关联 Link",
}

// eventRow is one event of a flag's timeline. Ids are shortened, with the
// whole id in the cell's title; members of the group show their label.
type eventRow struct {
	Time          string
	Type          string
	TypeClass     string
	Account       string
	AccountTitle  string
	AccountMember bool
	Person        string
	PersonTitle   string
	PersonMember  bool
	Session       string
	SessionTitle  string
	Channel       string
	IP            string
	Device        string
	DeviceTitle   string
	Staff         string
	StaffTitle    string
	Reason        string
	Reaction      string // how soon after the release a booking came
	ByThisFlag    bool   // cancelled by this flag's confirmation
}

type flagData struct {
	flagRow
	// Threshold is the score a flag needs (empty for flags found before
	// thresholds were kept); Explanation how the score was made up.
	Threshold     string
	Explanation   string
	ExplanationZH string
	Reasons       []reasonView
	AccountList   []member
	PersonList    []member
	// OwnPersons counts the group's own persons (a confirmation bars them);
	// Outside lists those an account outside the group lists too (a
	// confirmation bars them only when ticked).
	OwnPersons int
	Outside    []member
	Open       bool
	Confirmed  bool
	Dismissed  bool
	Overturned bool
	Cancelled  int // bookings this flag's confirmation cancelled
	Timeline   []eventRow
	AuditURL   string
	// Failed is the form that failed ("confirm" or "dismiss"), shown again
	// with the note and the reason code typed into it.
	Failed, FormNote, FormReason string
	Reasons25                    []dismissReason
	// Reports patients filed that an administrator linked to this flag
	// or the detector attached to its accounts (cases.go).
	Reports []flagReport
}

func (c *Console) flagData(r *request) (flagData, error) {
	ev, err := c.svc.Flag(r.ctx, r.actor, r.param)
	if err != nil {
		return flagData{}, err
	}
	loc := c.adminZone()
	f := ev.Flag
	d := flagData{flagRow: c.flagRowOf(f, r.actor, loc), Open: f.Status == booking.FlagOpen,
		Confirmed: f.Status == booking.FlagConfirmed, Dismissed: f.Status == booking.FlagDismissed,
		Overturned: f.Status == booking.FlagOverturned,
		AuditURL:   "/admin/audit?" + url.Values{"target": {"flag:" + f.ID}, "days": {"90"}}.Encode(),
		Reasons25:  dismissReasons()}
	if f.Threshold > 0 {
		d.Threshold = strconv.FormatFloat(f.Threshold, 'f', 2, 64)
	}
	d.Explanation, d.ExplanationZH = f.Explanation, f.ExplanationZH
	if d.Reports, err = c.flagReports(r, f.ID); err != nil {
		return flagData{}, err
	}
	for _, rs := range f.Reasons {
		v := reasonView{Signal: rs.Signal, Detail: rs.Detail, DetailZH: rs.DetailZH, Counted: rs.Points > 0,
			Kind: labelOr(kindLabels, rs.Kind)}
		if v.Counted {
			v.Points = "+" + strconv.FormatFloat(rs.Points, 'f', 2, 64)
		}
		d.Reasons = append(d.Reasons, v)
	}
	labels := map[string]string{}
	for i, id := range f.AccountIDs {
		m := member{Label: fmt.Sprintf("A%d", i+1), ID: id}
		d.AccountList, labels["a:"+id] = append(d.AccountList, m), m.Label
	}
	ticked := r.rc.PostArgs().PeekMulti("also_bar")
	for i, id := range f.PatientIDs {
		m := member{Label: fmt.Sprintf("P%d", i+1), ID: id}
		if e, ok := ev.Elsewhere[id]; ok {
			m.Elsewhere, m.VerifiedSelf = e.Accounts, e.VerifiedSelf
			m.Ticked = slices.ContainsFunc(ticked, func(b []byte) bool { return string(b) == id })
			d.Outside = append(d.Outside, m)
		} else {
			d.OwnPersons++
		}
		d.PersonList, labels["p:"+id] = append(d.PersonList, m), m.Label
	}
	cat := c.svc.Catalog()
	cancelledBy := "flag_confirmed:" + f.ID
	for _, e := range ev.Timeline {
		row := eventRow{Time: e.TS.In(loc).Format("01-02 15:04:05.000"), Type: string(e.Type),
			TypeClass: "e-" + string(e.Type), Channel: channelLabels[e.Channel], IP: e.IP, Reason: e.Reason,
			ByThisFlag: e.Type == booking.EventCancelled && e.Reason == cancelledBy}
		if l, ok := eventLabels[e.Type]; ok {
			row.Type = l
		}
		if row.ByThisFlag {
			d.Cancelled++
			row.Reason = "确认本线索 By this flag"
		}
		row.Account, row.AccountTitle, row.AccountMember = memberCell(labels, "a:", e.AccountID)
		row.Person, row.PersonTitle, row.PersonMember = memberCell(labels, "p:", e.IdentityID)
		if e.DeviceID != "" {
			row.Device, row.DeviceTitle = shortID(e.DeviceID), e.DeviceID
		}
		if e.StaffID != "" {
			row.Staff, row.StaffTitle = who(e.StaffID, "", r.actor)
		}
		if e.SessionID != "" {
			row.Session, row.SessionTitle = shortID(e.SessionID), e.SessionID
			if s, ok := cat.Session(e.SessionID); ok {
				doc, _ := cat.Doctor(s.DoctorID)
				row.Session = s.VisitDate[5:] + " " + firstWord(periodLabel(s.Period)) + " · " + firstWord(doc.Name)
			}
		}
		if e.Type == booking.EventBooked && !e.ReleaseAt.IsZero() {
			if lag := e.TS.Sub(e.ReleaseAt); lag >= 0 && lag < 10*time.Minute {
				row.Reaction = "放号后 " + lagText(lag) + " after release"
			}
		}
		d.Timeline = append(d.Timeline, row)
	}
	return d, nil
}

// memberCell shows an account or a person: its label in the group, or its
// short id when it is outside the group (another account that lists one of
// the group's persons, say).
func memberCell(labels map[string]string, kind, id string) (text, title string, member bool) {
	if id == "" {
		return "", "", false
	}
	if l, ok := labels[kind+id]; ok {
		return l, id, true
	}
	return shortID(id), id, false
}

// firstWord keeps the Chinese of a bilingual label: "李明" of "李明 Li Ming",
// "上午" of "上午 Morning".
func firstWord(s string) string {
	if i := strings.IndexByte(s, ' '); i > 0 {
		return s[:i]
	}
	return s
}

// boolRank orders true before false in a sort.
func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

func lagText(d time.Duration) string {
	if d < time.Minute {
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
	}
	return d.Truncate(time.Second).String()
}

func (c *Console) flagPage(r *request) error {
	d, err := c.flagData(r)
	if err != nil {
		return err
	}
	return c.render(r, fasthttp.StatusOK, "admin/flag", page{Title: "线索 Flag " + d.ShortID, Nav: "flags", Flash: adminFlashes[r.query("ok")], Data: d})
}

// maxNote bounds a decision's note, as the form does.
const maxNote = 500

// decideFlag confirms or dismisses a flag with the administrator's note.
// A repeat of a decision that is already made (a double click) lands on
// the flag's page like the first.
func (c *Console) decideFlag(r *request) error {
	action, note := r.form("action"), strings.TrimSpace(r.form("note"))
	var err error
	switch {
	case action != "confirm" && action != "dismiss":
		err = booking.Errorf(booking.ErrInvalidField, "choose confirm or dismiss")
	case utf8.RuneCountInString(note) < 2:
		err = booking.Errorf(booking.ErrInvalidField, "write a note saying why (at least 2 characters)")
	case utf8.RuneCountInString(note) > maxNote:
		err = booking.Errorf(booking.ErrInvalidField, "the note is at most %d characters", maxNote)
	default:
		var f booking.Flag
		var alsoBar []string
		for _, id := range r.rc.PostArgs().PeekMulti("also_bar") {
			alsoBar = append(alsoBar, string(id))
		}
		f, err = c.svc.DecideFlag(r.ctx, r.actor, r.param, booking.Decision{Action: action, Note: note, Origin: r.origin, AlsoBar: alsoBar,
			ReasonCode: r.form("reason_code")})
		if errors.Is(err, booking.ErrSecondAdminRequired) && action == "dismiss" {
			// A double click on a dismissal that waits for a second
			// administrator lands where the first click did.
			if ev, ferr := c.svc.Flag(r.ctx, r.actor, r.param); ferr == nil && ev.DismissPending && ev.Dismissal.RequestedBy == r.actor.AccountID {
				c.redirect(r, flagURL(ev.ID)+"?ok=pending")
				return nil
			}
		}
		if err == nil && f.DismissPending {
			c.redirect(r, flagURL(f.ID)+"?ok=pending")
			return nil
		}
		if errors.Is(err, booking.ErrFlagDecided) {
			if ev, ferr := c.svc.Flag(r.ctx, r.actor, r.param); ferr == nil && ev.DecidedBy == r.actor.AccountID &&
				ev.Status == map[string]string{"confirm": booking.FlagConfirmed, "dismiss": booking.FlagDismissed}[action] {
				f, err = ev.Flag, nil
			}
		}
		if err == nil {
			c.redirect(r, flagURL(f.ID)+"?ok="+f.Status)
			return nil
		}
	}
	d, lerr := c.flagData(r)
	if lerr != nil {
		return lerr
	}
	if d.Open {
		d.Failed, d.FormNote, d.FormReason = action, r.form("note"), r.form("reason_code")
	}
	return c.formFailed(r, "admin/flag", page{Title: "线索 Flag " + d.ShortID, Nav: "flags", Data: d}, err)
}

type auditRow struct {
	// LiftID is the identity of a recorded death (identity_deceased),
	// whose row offers the administrator the lift of a record made in
	// error (POST /admin/deaths/{id}/lift).
	LiftID    string
	Time      string
	Who       string
	WhoTitle  string
	Mine      bool
	Role      string
	Action    string
	Code      string
	Target    string
	TargetID  string
	TargetURL string
	// TargetName names the target when the catalog knows it: a doctor, a
	// department, a hospital, or a session as its doctor and day.
	TargetName string
	Reason     string
}

type auditData struct {
	Days     []chip
	Since    string
	Target   string
	ClearURL string
	// Query, Actions and ClearFiltersURL: review25 M3's filter form.
	Query           auditQuery
	Actions         []auditActionChoice
	ClearFiltersURL string
	Rows            []auditRow
	// OlderURL is the next page's, when this one is full
	// (booking.AuditPageSize); NewestURL the first page's, on a later one.
	OlderURL, NewestURL string
}

var auditDays = []int{1, 7, 30, 90}

func auditURL(days int, target string, before ...string) string {
	q := auditQuery{Days: days, Target: target}
	if len(before) > 0 {
		return q.url(before[0])
	}
	return q.url("")
}

// auditQuery is what the audit page shows: the last Days days, one Target,
// and review25 M3's filters (an actor's, an action's, a session's rows).
type auditQuery struct {
	Days                           int
	Target, Actor, Action, Session string
}

func (q auditQuery) url(before string) string {
	v := url.Values{}
	if q.Days != 7 {
		v.Set("days", strconv.Itoa(q.Days))
	}
	for k, x := range map[string]string{"target": q.Target, "actor": q.Actor, "action": q.Action, "session": q.Session, "before": before} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if len(v) == 0 {
		return "/admin/audit"
	}
	return "/admin/audit?" + v.Encode()
}

// auditActionChoice is an action the filter offers, with its label.
type auditActionChoice struct{ Code, Label string }

func auditActionChoices() []auditActionChoice {
	var out []auditActionChoice
	for code, label := range auditActionLabels {
		out = append(out, auditActionChoice{code, label})
	}
	slices.SortFunc(out, func(a, b auditActionChoice) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// auditPage lists staff actions of the last days (7 unless asked), newest
// first, optionally of one target ("flag:<id>"), a page
// (booking.AuditPageSize) at a time: ?before= is the previous page's last.
func (c *Console) auditPage(r *request) error {
	days, err := strconv.Atoi(r.query("days"))
	if !slices.Contains(auditDays, days) || err != nil {
		days = 7
	}
	target := r.query("target")
	q := auditQuery{Days: days, Target: target, Actor: strings.TrimSpace(r.query("actor")), Action: r.query("action"),
		Session: strings.TrimSpace(r.query("session"))}
	loc := c.adminZone()
	since := c.opts.Now().Add(-time.Duration(days) * 24 * time.Hour)
	before := r.query("before")
	as, err := c.svc.AuditFiltered(r.ctx, r.actor, since, before, booking.AuditFilter{ActorID: q.Actor, Action: q.Action, SessionID: q.Session})
	if err != nil {
		return err
	}
	cat := c.svc.Catalog()
	d := auditData{Since: since.In(loc).Format("2006-01-02 15:04"), Target: target, ClearURL: auditQuery{Days: days, Actor: q.Actor, Action: q.Action, Session: q.Session}.url(""),
		Query: q, Actions: auditActionChoices(), ClearFiltersURL: auditQuery{Days: days, Target: target}.url("")}
	if len(as) == booking.AuditPageSize {
		d.OlderURL = q.url(as[len(as)-1].ID)
	}
	if before != "" {
		d.NewestURL = q.url("")
	}
	for _, n := range auditDays {
		qn := q
		qn.Days = n
		d.Days = append(d.Days, chip{Label: fmt.Sprintf("%d 天", n), Sub: fmt.Sprintf("%d d", n), URL: qn.url(""), Selected: n == days})
	}
	for _, a := range as {
		if target != "" && a.Target != target {
			continue
		}
		zone := loc // the row's hospital's, else the console's
		if h, ok := cat.Hospital(a.HospitalID); ok {
			zone = h.Location()
		}
		row := auditRow{Time: a.TS.In(zone).Format("2006-01-02 15:04:05"), Role: labelOr(roleLabels, string(a.ActorRole)),
			Action: labelOr(auditActionLabels, a.Action), Code: a.Action, Target: a.Target, Reason: readableReason(cat, a.Reason, zone),
			Mine: a.ActorID != "" && a.ActorID == r.actor.AccountID}
		row.Who, row.WhoTitle = who(a.ActorID, a.ActorName, r.actor)
		if a.ActorHospitalElsewhere != "" {
			// A copy of another hospital's desk action: that hospital and
			// the role (its own column), not the person behind it.
			row.Who, row.WhoTitle = staffElsewhere(cat, a.ActorHospitalElsewhere), ""
		}
		if kind, id, ok := strings.Cut(a.Target, ":"); ok {
			row.Target, row.TargetID = kind+":"+shortID(id), a.Target
			row.TargetName = catalogName(cat, id, zone)
			if kind == "flag" {
				row.TargetURL = flagURL(id)
			}
			if kind == "identity" && a.Action == "identity_deceased" {
				row.LiftID = id
			}
		}
		d.Rows = append(d.Rows, row)
	}
	flash := ""
	if told, err := strconv.Atoi(r.query("told")); r.query("ok") == "death_lifted" && err == nil {
		flash = fmt.Sprintf("已撤销误登记的已故，列出该患者的 %d 个账号已收到通知；已撤销的内容不会自动恢复。 "+
			"The death record is lifted; the %d accounts listing the person are told. Nothing withdrawn comes back by itself.", told, told)
	}
	return c.render(r, fasthttp.StatusOK, "admin/audit", page{Title: "审计日志 Audit log", Nav: "audit", Flash: flash, Data: d})
}

var (
	uuidPattern    = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	rfc3339Pattern = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})`)
)

// catalogName names an id the catalog knows (a doctor, a department, a
// hospital, a session as its doctor, day and period), or "".
func catalogName(cat *booking.Catalog, id string, loc *time.Location) string {
	if d, ok := cat.Doctor(id); ok {
		return d.Name
	}
	if d, ok := cat.Department(id); ok {
		return d.Name
	}
	if h, ok := cat.Hospital(id); ok {
		return h.Name
	}
	if s, ok := cat.Session(id); ok {
		doc, _ := cat.Doctor(s.DoctorID)
		return fmt.Sprintf("%s %s %s %s", doc.Name, s.VisitDate, periodLabel(s.Period), s.StartsAt.In(loc).Format("15:04"))
	}
	return ""
}

// readableReason is an audit reason as the page shows it (review19b L1):
// the ids the catalog knows followed by their names, and times written in
// any zone in the hospital's ("2026-12-29 08:00").
func readableReason(cat *booking.Catalog, reason string, loc *time.Location) string {
	reason = rfc3339Pattern.ReplaceAllStringFunc(reason, func(ts string) string {
		t, err := time.Parse(time.RFC3339, ts)
		if err != nil {
			return ts
		}
		return t.In(loc).Format("2006-01-02 15:04")
	})
	return uuidPattern.ReplaceAllStringFunc(reason, func(id string) string {
		if name := catalogName(cat, id, loc); name != "" {
			return name + " (" + shortID(id) + ")"
		}
		return id
	})
}
