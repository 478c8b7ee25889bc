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
	roles []booking.Role
	Nav   []navItem
	// Ready is false for a console announced on the landing page but not
	// served yet.
	Ready bool
}

type navItem struct {
	Key, Label, Path string
}

// admits reports whether an account of role r may use the console.
func (c *console) admits(r booking.Role) bool { return slices.Contains(c.roles, r) }

var (
	patientConsole = &console{
		Name: "patient", Path: "/patient", Title: "患者 Patient", Ready: true,
		Blurb: "添加就诊人、预约挂号、查看和取消预约。 Add family members, book, see and cancel appointments.",
		roles: []booking.Role{booking.RolePatient},
		Nav: []navItem{
			{"home", "首页 Home", "/patient"},
			{"family", "就诊人 Family", "/patient/family"},
			{"sessions", "预约挂号 Book", "/patient/sessions"},
			{"bookings", "我的预约 My bookings", "/patient/bookings"},
		},
	}
	// The desk and admin consoles: announced on the landing page, served
	// once their routes are added below.
	deskConsole = &console{
		Name: "desk", Path: "/desk", Title: "挂号窗口 Registration desk",
		Blurb: "现场挂号、签到、退号、加号。 Walk-ins, check-in, refunds, extra slots.",
		roles: []booking.Role{booking.RoleClerk},
	}
	adminConsole = &console{
		Name: "admin", Path: "/admin", Title: "管理 Administration",
		Blurb: "排班与规则、号贩子线索审核、审计日志。 Schedules and policy, scalper review, audit log.",
		roles: []booking.Role{booking.RoleAdmin},
	}
	consoles = []*console{patientConsole, deskConsole, adminConsole}
)

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

// table is the route table. The desk and admin consoles add their blocks
// here: routes under their path with their console, handlers in desk.go and
// admin.go, pages in templates/desk/ and templates/admin/.
func (c *Console) table() []route {
	pc := patientConsole
	return []route{
		{method: "GET", pattern: "/", public: true, h: c.landing},
		{method: "GET", pattern: "/static/style.css", static: true, h: c.stylesheet},

		{method: "GET", pattern: "/patient/login", console: pc, public: true, h: c.loginPage},
		{method: "POST", pattern: "/patient/login", console: pc, public: true, h: c.login},
		{method: "GET", pattern: "/patient/register", console: pc, public: true, h: c.registerPage},
		{method: "POST", pattern: "/patient/register", console: pc, public: true, h: c.register},
		{method: "POST", pattern: "/patient/logout", console: pc, public: true, h: c.logout},
		{method: "GET", pattern: "/patient", console: pc, h: c.patientHome},
		{method: "GET", pattern: "/patient/family", console: pc, h: c.familyPage},
		{method: "POST", pattern: "/patient/family", console: pc, h: c.addFamily},
		{method: "GET", pattern: "/patient/sessions", console: pc, h: c.sessionsPage},
		{method: "POST", pattern: "/patient/bookings", console: pc, h: c.book},
		{method: "GET", pattern: "/patient/bookings", console: pc, h: c.bookingsPage},
		{method: "POST", pattern: "/patient/bookings/{id}/cancel", console: pc, h: c.cancel},
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
