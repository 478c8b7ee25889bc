package web

import (
	"slices"
	"strings"

	"fairslot/internal/booking"
)

// console is one of the web consoles: its path, who may use it, and its
// navigation. Each console's pages live in templates/<name>/ and its
// handlers in <name>.go.
type console struct {
	Name  string // "patient"; also the template folder
	Path  string // "/patient"
	Title string // shown in the header and on the landing page
	Blurb string // what it is for, on the landing page
	// audience names who the console is for, in wrong_console's message.
	audience string
	roles    []booking.Role
	Nav      []navItem
	// platformOnly are the Nav keys only a platform-wide administrator
	// uses (scalper flags span hospitals): a hospital's own administrator
	// is not shown them (menu).
	platformOnly []string
	// Ready is false for a console announced on the landing page but not
	// served yet.
	Ready bool
}

// navItem is a tab: its label in Chinese and English (a phone's width
// shows the Chinese only, so every tab fits).
type navItem struct {
	Key, ZH, EN, Path string
}

// menu is the console's Nav as actor sees it.
func (c *console) menu(actor booking.Actor) []navItem {
	if len(c.platformOnly) == 0 || actor.PlatformAdmin() {
		return c.Nav
	}
	var out []navItem
	for _, n := range c.Nav {
		if !slices.Contains(c.platformOnly, n.Key) {
			out = append(out, n)
		}
	}
	return out
}

// admits reports whether an account of role r may use the console.
func (c *console) admits(r booking.Role) bool { return slices.Contains(c.roles, r) }

var (
	patientConsole = &console{
		Name: "patient", Path: "/patient", Title: "患者 Patient", Ready: true,
		Blurb: "添加就诊人、预约挂号、查看和取消预约。 Add family members, book, see and cancel appointments.",
		roles: []booking.Role{booking.RolePatient}, audience: "patients and their families",
		Nav: []navItem{
			{"home", "首页", "Home", "/patient"},
			{"family", "就诊人", "Family", "/patient/family"},
			{"sessions", "预约挂号", "Book", "/patient/sessions"},
			{"bookings", "我的预约", "My bookings", "/patient/bookings"},
			{"cases", "投诉举报", "Reports", "/patient/cases"},
		},
	}
	deskConsole = &console{
		Name: "desk", Path: "/desk", Title: "挂号窗口 Registration desk", Ready: true,
		Blurb: "查找患者、签到、现场挂号、退号重发、加号。 Find a patient, check in, walk-ins, reissue, extra slots.",
		roles: []booking.Role{booking.RoleClerk}, audience: "registration clerks",
		Nav: []navItem{
			{"today", "今日出诊", "Today", "/desk"},
			{"lookup", "查找患者", "Find a patient", "/desk/lookup"},
			{"walkin", "现场挂号", "Walk-in", "/desk/walkin"},
			{"callbacks", "回电", "Call backs", "/desk/callbacks"},
			{"accounts", "账号服务", "Accounts", "/desk/accounts"}, // and, linked from it, the rarer acts: who lists a person, a death
		},
	}
	adminConsole = &console{
		Name: "admin", Path: "/admin", Title: "管理 Administration", Ready: true,
		Blurb: "号贩子线索审核：检测、查看证据、确认或排除；号源发布、修改、撤回、调整号池与停诊；审计日志。 Scalper review: run detection, see the evidence, confirm or dismiss; publish, edit, withdraw and stop sessions and move their pools; the audit log.",
		roles: []booking.Role{booking.RoleAdmin}, audience: "administrators", platformOnly: []string{"flags"},
		Nav: []navItem{
			{"flags", "线索审核", "Flags", "/admin"},
			{"schedule", "号源", "Schedule", "/admin/schedule"},
			{"doctors", "科室与医生", "Doctors", "/admin/doctors"},
			{"lottery", "摇号", "Lottery", "/admin/lottery"},
			{"audit", "审计日志", "Audit log", "/admin/audit"},
			{"cases", "投诉举报", "Reports", "/admin/cases"},
		},
	}
	phoneConsole = &console{
		Name: "phone", Path: "/phone", Title: "电话预约 Phone booking", Ready: true,
		Blurb: "呼叫中心为来电患者查找、预约、候补和取消。 Call centre: find a caller, book, waitlist and cancel for them.",
		roles: []booking.Role{booking.RoleOperator}, audience: "call-centre operators",
		Nav: []navItem{
			{"caller", "来电", "Caller", "/phone"},
			{"callbacks", "回电", "Call backs", "/phone/callbacks"},
		},
	}
	consoles = []*console{patientConsole, phoneConsole, deskConsole, adminConsole}
)

// consoleFor is the console an account of role r works in, or nil.
func consoleFor(r booking.Role) *console {
	for _, c := range consoles {
		if c.admits(r) {
			return c
		}
	}
	return nil
}

// route is one entry of the route table. A route with a console whose roles
// are set needs a session of one of those roles; others are public.
type route struct {
	method  string
	pattern string // "/patient/bookings/{id}/cancel": at most one {id} segment
	console *console
	public  bool // served without a session even inside a console
	static  bool // no session, CSRF or rate limit: the stylesheet
	h       func(*request) error
}

// table is the route table: one block per console, routes under its path
// with its console, handlers in <console>.go, pages in templates/<console>/.
func (c *Console) table() []route {
	pc, dc, ac, oc := patientConsole, deskConsole, adminConsole, phoneConsole
	return []route{
		{method: "GET", pattern: "/", public: true, h: c.landing},
		{method: "GET", pattern: "/static/style.css", static: true, h: c.stylesheet},
		{method: "GET", pattern: "/static/countdown.js", static: true, h: c.script},

		{method: "GET", pattern: "/patient/login", console: pc, public: true, h: c.loginPage(pc)},
		{method: "POST", pattern: "/patient/login", console: pc, public: true, h: c.login(pc)},
		{method: "GET", pattern: "/patient/register", console: pc, public: true, h: c.registerPage},
		{method: "POST", pattern: "/patient/register", console: pc, public: true, h: c.register},
		{method: "POST", pattern: "/patient/logout", console: pc, public: true, h: c.logout(pc)},
		{method: "POST", pattern: "/patient/appeal", console: pc, public: true, h: c.appeal},
		{method: "GET", pattern: "/patient/reset", console: pc, public: true, h: c.resetPage},
		{method: "POST", pattern: "/patient/reset", console: pc, public: true, h: c.resetPassword},
		{method: "GET", pattern: "/patient/password", console: pc, h: c.passwordPage},
		{method: "POST", pattern: "/patient/password", console: pc, h: c.changePassword},
		{method: "GET", pattern: "/patient/close", console: pc, h: c.closePage},
		{method: "POST", pattern: "/patient/close", console: pc, h: c.closeAccount},
		{method: "POST", pattern: "/patient/close/cancel", console: pc, h: c.cancelClosing},
		{method: "GET", pattern: "/patient/phone", console: pc, h: c.accountPhonePage},
		{method: "POST", pattern: "/patient/phone", console: pc, h: c.changeAccountPhone},
		{method: "POST", pattern: "/patient/family/{id}/phone", console: pc, h: c.setMemberPhone},
		{method: "GET", pattern: "/patient", console: pc, h: c.patientHome},
		{method: "GET", pattern: "/patient/family", console: pc, h: c.familyPage},
		{method: "POST", pattern: "/patient/family", console: pc, h: c.addFamily},
		{method: "POST", pattern: "/patient/family/{id}/remove", console: pc, h: c.removeFamily},
		{method: "POST", pattern: "/patient/family/{id}/edit", console: pc, h: c.editFamily},
		{method: "POST", pattern: "/patient/family/{id}/consent", console: pc, h: c.confirmOwnConsent},
		{method: "POST", pattern: "/patient/listed-by/{id}/leave", console: pc, h: c.leaveListing},
		{method: "GET", pattern: "/patient/sessions", console: pc, h: c.sessionsPage},
		{method: "POST", pattern: "/patient/bookings", console: pc, h: c.book},
		{method: "GET", pattern: "/patient/bookings", console: pc, h: c.bookingsPage},
		{method: "POST", pattern: "/patient/bookings/{id}/cancel", console: pc, h: c.cancel},
		{method: "POST", pattern: "/patient/offers/{id}/accept", console: pc, h: c.acceptOffer},
		{method: "POST", pattern: "/patient/offers/{id}/decline", console: pc, h: c.declineOffer},
		{method: "POST", pattern: "/patient/waitlist", console: pc, h: c.joinWaitlist},
		{method: "POST", pattern: "/patient/waitlist/{id}/leave", console: pc, h: c.leaveWaitlist},
		{method: "POST", pattern: "/patient/lottery/{id}/withdraw", console: pc, h: c.withdrawEntry},
		{method: "GET", pattern: "/patient/rules", console: pc, public: true, h: c.rulesPage},
		{method: "GET", pattern: "/patient/privacy", console: pc, public: true, h: c.privacyPage},
		{method: "GET", pattern: "/patient/consent", console: pc, h: c.consentPage},
		{method: "POST", pattern: "/patient/consent", console: pc, h: c.consent},
		{method: "GET", pattern: "/patient/cases", console: pc, h: c.casesPage},
		{method: "POST", pattern: "/patient/reports", console: pc, h: c.fileCase(booking.CaseReport)},
		{method: "POST", pattern: "/patient/complaints", console: pc, h: c.fileCase(booking.CaseComplaint)},
		{method: "POST", pattern: "/patient/notifications/read", console: pc, h: c.readNotifications},
		{method: "POST", pattern: "/patient/notifications/{id}/read", console: pc, h: c.readNotification},

		{method: "GET", pattern: "/phone/login", console: oc, public: true, h: c.loginPage(oc)},
		{method: "POST", pattern: "/phone/login", console: oc, public: true, h: c.login(oc)},
		{method: "POST", pattern: "/phone/logout", console: oc, public: true, h: c.logout(oc)},
		{method: "GET", pattern: "/phone", console: oc, h: c.phonePage},
		{method: "POST", pattern: "/phone/caller", console: oc, h: c.setCaller},
		{method: "POST", pattern: "/phone/caller/clear", console: oc, h: c.clearCaller},
		{method: "POST", pattern: "/phone/bookings", console: oc, h: c.phoneBook},
		{method: "POST", pattern: "/phone/bookings/{id}/cancel", console: oc, h: c.phoneCancel},
		{method: "POST", pattern: "/phone/waitlist", console: oc, h: c.phoneWaitlist},
		{method: "POST", pattern: "/phone/offers/{id}/accept", console: oc, h: c.phoneAnswerOffer(true)},
		{method: "POST", pattern: "/phone/offers/{id}/decline", console: oc, h: c.phoneAnswerOffer(false)},
		{method: "GET", pattern: "/phone/callbacks", console: oc, h: c.callBacksPage},
		{method: "POST", pattern: "/phone/callbacks/{id}/number", console: oc, h: c.callBackNumber},
		{method: "POST", pattern: "/phone/callbacks/{id}/outcome", console: oc, h: c.markCallBack},

		{method: "GET", pattern: "/desk/login", console: dc, public: true, h: c.loginPage(dc)},
		{method: "POST", pattern: "/desk/login", console: dc, public: true, h: c.login(dc)},
		{method: "POST", pattern: "/desk/logout", console: dc, public: true, h: c.logout(dc)},
		{method: "GET", pattern: "/desk", console: dc, h: c.deskToday},
		{method: "POST", pattern: "/desk/sessions/{id}/extra-slots", console: dc, h: c.extraSlots},
		{method: "POST", pattern: "/desk/sessions/{id}/delay", console: dc, h: c.deskDelay},
		{method: "GET", pattern: "/desk/lookup", console: dc, h: c.lookupPage},
		{method: "POST", pattern: "/desk/lookup", console: dc, h: c.lookup},
		{method: "POST", pattern: "/desk/lookup/clear", console: dc, h: c.clearLookup},
		{method: "POST", pattern: "/desk/bookings/{id}/checkin", console: dc, h: c.checkIn},
		{method: "POST", pattern: "/desk/bookings/{id}/reissue", console: dc, h: c.reissue},
		{method: "POST", pattern: "/desk/bookings/{id}/cancel", console: dc, h: c.deskCancel},
		{method: "POST", pattern: "/desk/lookup/verify", console: dc, h: c.verifyIdentity},
		{method: "POST", pattern: "/desk/lookup/link", console: dc, h: c.linkDocument},
		{method: "POST", pattern: "/desk/offers/{id}/accept", console: dc, h: c.deskAnswerOffer(true)},
		{method: "POST", pattern: "/desk/offers/{id}/decline", console: dc, h: c.deskAnswerOffer(false)},
		{method: "GET", pattern: "/desk/callbacks", console: dc, h: c.callBacksPage},
		{method: "POST", pattern: "/desk/callbacks/{id}/outcome", console: dc, h: c.markCallBack},
		{method: "GET", pattern: "/desk/walkin", console: dc, h: c.walkinPage},
		{method: "POST", pattern: "/desk/bookings", console: dc, h: c.walkin},
		{method: "GET", pattern: "/desk/listings", console: dc, h: c.listingsPage},
		{method: "POST", pattern: "/desk/listings", console: dc, h: c.readListings},
		{method: "POST", pattern: "/desk/listings/clear", console: dc, h: c.clearListings},
		{method: "POST", pattern: "/desk/listings/{id}/remove", console: dc, h: c.leaveListingAtDesk},
		{method: "GET", pattern: "/desk/accounts", console: dc, h: c.accountsPage},
		{method: "POST", pattern: "/desk/accounts/reset-code", console: dc, h: c.issueResetCode},
		{method: "POST", pattern: "/desk/accounts/release", console: dc, h: c.releasePhone},
		{method: "POST", pattern: "/desk/accounts/move-login", console: dc, h: c.moveLogin},
		{method: "POST", pattern: "/desk/accounts/close", console: dc, h: c.closeAtDesk},
		{method: "POST", pattern: "/desk/accounts/restore", console: dc, h: c.restorePhone},
		{method: "POST", pattern: "/desk/appeals", console: dc, h: c.fileDeskAppeal},
		{method: "GET", pattern: "/desk/deaths", console: dc, h: c.deathsPage},
		{method: "POST", pattern: "/desk/deaths/preview", console: dc, h: c.previewDeath},
		{method: "POST", pattern: "/desk/deaths", console: dc, h: c.recordDeath},
		{method: "POST", pattern: "/desk/appeals/lookup", console: dc, h: c.askDeskAppeal},

		{method: "GET", pattern: "/admin/login", console: ac, public: true, h: c.loginPage(ac)},
		{method: "POST", pattern: "/admin/login", console: ac, public: true, h: c.login(ac)},
		{method: "POST", pattern: "/admin/logout", console: ac, public: true, h: c.logout(ac)},
		{method: "GET", pattern: "/admin", console: ac, h: c.flagsPage},
		{method: "POST", pattern: "/admin/detect", console: ac, h: c.detect},
		{method: "GET", pattern: "/admin/flags/{id}", console: ac, h: c.flagPage},
		{method: "POST", pattern: "/admin/flags/{id}/decision", console: ac, h: c.decideFlag},
		{method: "GET", pattern: "/admin/audit", console: ac, h: c.auditPage},
		{method: "POST", pattern: "/admin/deaths/{id}/lift", console: ac, h: c.liftDeath},
		{method: "GET", pattern: "/admin/bindings", console: ac, h: c.bindingsPage},
		{method: "GET", pattern: "/admin/schedule", console: ac, h: c.schedulePage},
		{method: "POST", pattern: "/admin/schedule", console: ac, h: c.publishSession},
		{method: "POST", pattern: "/admin/sessions/{id}/stop", console: ac, h: c.stopSession},
		{method: "GET", pattern: "/admin/sessions/{id}", console: ac, h: c.sessionPage},
		{method: "POST", pattern: "/admin/sessions/{id}", console: ac, h: c.editSession},
		{method: "POST", pattern: "/admin/sessions/{id}/withdraw", console: ac, h: c.withdrawSession},
		{method: "POST", pattern: "/admin/sessions/{id}/restore", console: ac, h: c.restoreSession},
		{method: "POST", pattern: "/admin/sessions/{id}/pools", console: ac, h: c.moveSessionPool},
		{method: "POST", pattern: "/admin/sessions/{id}/announce", console: ac, h: c.announceSession},
		{method: "POST", pattern: "/admin/sessions/{id}/reschedule", console: ac, h: c.rescheduleSession},
		{method: "GET", pattern: "/admin/doctors", console: ac, h: c.doctorsPage},
		{method: "POST", pattern: "/admin/doctors", console: ac, h: c.createDoctor},
		{method: "POST", pattern: "/admin/doctors/{id}", console: ac, h: c.updateDoctor},
		{method: "POST", pattern: "/admin/doctors/{id}/retire", console: ac, h: c.retireDoctor},
		{method: "POST", pattern: "/admin/departments", console: ac, h: c.createDepartment},
		{method: "POST", pattern: "/admin/departments/{id}/retire", console: ac, h: c.retireDepartment},
		{method: "GET", pattern: "/admin/templates", console: ac, h: c.templatesPage},
		{method: "POST", pattern: "/admin/templates", console: ac, h: c.saveTemplate},
		{method: "POST", pattern: "/admin/templates/{id}", console: ac, h: c.saveTemplate},
		{method: "POST", pattern: "/admin/templates/{id}/weeks", console: ac, h: c.applyTemplate},
		{method: "GET", pattern: "/admin/holidays", console: ac, h: c.holidaysPage},
		{method: "POST", pattern: "/admin/holidays", console: ac, h: c.setHoliday},
		{method: "POST", pattern: "/admin/holidays/delete", console: ac, h: c.deleteHoliday},
		{method: "POST", pattern: "/admin/holidays/bulk", console: ac, h: c.bulkSessions},
		{method: "GET", pattern: "/admin/policy", console: ac, h: c.policyPage},
		{method: "POST", pattern: "/admin/policy", console: ac, h: c.setPolicy},
		{method: "POST", pattern: "/admin/account-policy", console: ac, h: c.setAccountPolicy},
		{method: "GET", pattern: "/admin/lottery", console: ac, h: c.lotteryPage},
		{method: "GET", pattern: "/admin/lottery/{id}", console: ac, h: c.lotteryDrawPage},
		// Reports and complaints (cases.go).
		{method: "GET", pattern: "/admin/cases", console: ac, h: c.caseQueuePage},
		{method: "GET", pattern: "/admin/cases/{id}", console: ac, h: c.casePage},
		{method: "POST", pattern: "/admin/cases/{id}/answer", console: ac, h: c.answerCase},
		{method: "POST", pattern: "/admin/cases/{id}/close", console: ac, h: c.closeCase},
		{method: "POST", pattern: "/admin/cases/{id}/flag", console: ac, h: c.flagFromCase},
		{method: "POST", pattern: "/admin/cases/{id}/departments", console: ac, h: c.setDepartments},
	}
}

// match finds the route for method and path; pathKnown is true when some
// route has the path with another method.
func (c *Console) match(method, path string) (rt *route, param string, pathKnown bool) {
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	for i := range c.routes {
		p, ok := matchPattern(c.routes[i].pattern, path)
		if !ok {
			continue
		}
		pathKnown = true
		if c.routes[i].method == method {
			return &c.routes[i], p, true
		}
	}
	return nil, "", pathKnown
}

// allowed lists the methods a path takes, for a 405's Allow header.
func (c *Console) allowed(path string) string {
	var ms []string
	for _, rt := range c.routes {
		if _, ok := matchPattern(rt.pattern, strings.TrimSuffix(path, "/")); ok && !slices.Contains(ms, rt.method) {
			ms = append(ms, rt.method)
		}
	}
	return strings.Join(ms, ", ")
}

func matchPattern(pattern, path string) (string, bool) {
	before, after, hasParam := strings.Cut(pattern, "{id}")
	if !hasParam {
		return "", path == pattern
	}
	rest, ok := strings.CutPrefix(path, before)
	if !ok {
		return "", false
	}
	param, ok := strings.CutSuffix(rest, after)
	if !ok || param == "" || strings.Contains(param, "/") {
		return "", false
	}
	return param, true
}
