// Package web serves fairslot's server-rendered consoles: the patient
// console under /patient, the call centre's under /phone, the registration
// desk under /desk and the administrators' scalper review and audit log
// under /admin, each with its
// block in the route table (routes.go), its handlers in <console>.go and its
// pages in templates/<console>/.
//
// Pages are html/template over embedded templates and one CSS file; forms
// are plain HTML with POST-redirect-GET, so no JavaScript is needed (one
// static script counts down to a release and shows the booking form then;
// without it a reload does). The
// consoles call booking.Service in-process: the same use cases, errors and
// rules as the JSON API.
//
// A browser proves who it is with the bearer token Service.Login mints, kept
// in the HttpOnly, SameSite=Strict cookie fairslot_session and verified on
// every request with Service.Authenticate (an HMAC check, no lookup). Every
// form carries a CSRF token, HMAC(key, session token); a POST whose token
// does not match, or whose Origin header names another host, is refused with
// 403 before any use case runs (auth.go).
//
// Like the API, handlers never keep the *fasthttp.RequestCtx after they
// return and never use it as the context of Redis or SQL work: each request
// gets a context of its own with a deadline.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/ulule/limiter/v3"
	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
	"fairslot/internal/ratelimit"
)

//go:embed templates static
var assets embed.FS

// Options tunes a Console. Zero values take the defaults in parentheses.
type Options struct {
	// Keys are the service's keys (cmd/fairslot's, from --secret-key): the
	// forms' CSRF tokens are signed with a subkey of them and the desk's
	// and phone console's current person is sealed with them, so every
	// instance behind one address must share them. Nil: a random keyring,
	// so forms rendered before a restart are refused after it.
	Keys *identity.Keyring
	// RequestTimeout bounds one request's Redis and SQL work (5s).
	RequestTimeout time.Duration
	// TrustedProxies are the peers whose X-Forwarded-For and
	// X-Forwarded-Proto are believed.
	TrustedProxies []netip.Prefix
	// IPLimiter, when set, counts every request but the stylesheet against
	// its client IP (key "ip:<addr>", the key the API uses, so a client has
	// one budget for both). A store error lets the request through.
	IPLimiter *limiter.Limiter
	// Now is the clock that decides what is released or past (the
	// Service's).
	Now func() time.Time
}

// Console serves the web consoles.
type Console struct {
	svc     *booking.Service
	log     *slog.Logger
	opts    Options
	csrfKey []byte
	// keys seal the desk's current patient into a cookie (desk.go).
	keys   *identity.Keyring
	pages  map[string]*template.Template
	css    []byte
	cssURL string
	js     []byte // the release countdown (static/countdown.js)
	jsURL  string
	routes []route
	// limitFailures logs the IP limiter's failures, a line at most every
	// ten seconds (Redis down fails every request open).
	limitFailures *ratelimit.Failures
}

// New builds the consoles over svc. It panics if the embedded templates do
// not parse, which a test catches long before a deploy.
func New(svc *booking.Service, log *slog.Logger, opts Options) *Console {
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = svc.Now // the domain's clock
	}
	c := &Console{svc: svc, log: log, opts: opts, keys: opts.Keys, limitFailures: ratelimit.NewFailures(log, 10*time.Second)}
	if c.keys == nil {
		c.keys = randomKeys()
		log.Warn("no keys given; using random ones, so forms do not survive a restart or work across instances")
	}
	c.csrfKey = c.keys.LoginSubKey("fairslot web csrf v1")
	css, err := assets.ReadFile("static/style.css")
	if err != nil {
		panic(fmt.Sprintf("web: %v", err))
	}
	sum := sha256.Sum256(css)
	c.css, c.cssURL = css, "/static/style.css?v="+hex.EncodeToString(sum[:6])
	js, err := assets.ReadFile("static/countdown.js")
	if err != nil {
		panic(fmt.Sprintf("web: %v", err))
	}
	sum = sha256.Sum256(js)
	c.js, c.jsURL = js, "/static/countdown.js?v="+hex.EncodeToString(sum[:6])
	if c.pages, err = parsePages(); err != nil {
		panic(fmt.Sprintf("web: %v", err))
	}
	c.routes = c.table()
	return c
}

// parsePages parses every page template together with the layout, one
// template set per page, named by its path under templates/ without the
// extension: "landing", "patient/bookings".
func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	err := fs.WalkDir(assets, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == "templates/layout.html" || !strings.HasSuffix(path, ".html") {
			return err
		}
		t, err := template.New("").Funcs(funcs).ParseFS(assets, "templates/layout.html", path)
		if err != nil {
			return err
		}
		pages[strings.TrimSuffix(strings.TrimPrefix(path, "templates/"), ".html")] = t
		return nil
	})
	return pages, err
}

// request is what a handler gets: the fasthttp context (never to be kept),
// a context with a deadline for Redis and SQL, the path parameter, and who
// is asking.
type request struct {
	rc      *fasthttp.RequestCtx
	ctx     context.Context
	route   *route
	param   string
	actor   booking.Actor
	session string // the session token, "" when not signed in
	device  string // the device cookie's value
	origin  booking.Origin
	secure  bool // the browser reached us over TLS
	expired bool // it sent a session cookie that is no longer valid
	blocked bool // … because a confirmed scalper flag blocked its account
}

// signedIn reports whether the request carries a valid session.
func (r *request) signedIn() bool { return r.session != "" }

// form returns a field of a POSTed form, copied (the RequestCtx is reused).
func (r *request) form(key string) string { return string(r.rc.PostArgs().Peek(key)) }

// query returns a query parameter, copied.
func (r *request) query(key string) string { return string(r.rc.QueryArgs().Peek(key)) }

// Handler serves one request. It never panics: a panic in a page is logged
// with its stack and answered with a generic error page.
func (c *Console) Handler(rc *fasthttp.RequestCtx) {
	path, method := string(rc.Path()), string(rc.Method())
	template := "unmatched"
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("panic in web handler", "route", template, "panic", v, "stack", string(debug.Stack()))
			rc.Response.Reset()
			c.writeErrorPage(rc, nil, fasthttp.StatusInternalServerError, errInternal)
		}
	}()
	securityHeaders(rc)
	rt, param, pathKnown := c.match(method, path)
	if rt == nil {
		if pathKnown {
			rc.Response.Header.Set("Allow", c.allowed(path))
			c.writeErrorPage(rc, nil, fasthttp.StatusMethodNotAllowed, errMethodNotAllowed)
			return
		}
		c.writeErrorPage(rc, nil, fasthttp.StatusNotFound, errPageNotFound)
		return
	}
	template = rt.pattern
	if rt.static {
		rt.h(&request{rc: rc, route: rt})
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.RequestTimeout)
	defer cancel()
	r := &request{rc: rc, ctx: ctx, route: rt, param: param}
	c.identify(r)
	if err := c.limit(r); err != nil {
		c.fail(r, err)
		return
	}
	if method == fasthttp.MethodPost {
		if err := c.checkPost(r); err != nil {
			c.fail(r, err)
			return
		}
	}
	if !rt.public && rt.console != nil {
		if !r.signedIn() {
			to := rt.console.Path + "/login"
			switch {
			case r.blocked:
				to += "?m=blocked"
			case r.expired:
				to += "?m=expired"
			}
			c.redirect(r, to)
			return
		}
		if !rt.console.admits(r.actor.Role) {
			c.fail(r, errWrongConsole(rt.console, r.actor.Role, true))
			return
		}
	}
	if err := rt.h(r); err != nil {
		c.fail(r, err)
	}
}

// limit counts the request against its client IP.
func (c *Console) limit(r *request) error {
	if c.opts.IPLimiter == nil {
		return nil
	}
	res, err := c.opts.IPLimiter.Get(r.ctx, "ip:"+r.origin.IP)
	if err != nil {
		c.limitFailures.LetThrough(err)
		return nil
	}
	if res.Reached {
		wait := max(int(time.Until(time.Unix(res.Reset, 0)).Seconds()+0.999), 1)
		r.rc.Response.Header.Set("Retry-After", fmt.Sprint(wait))
		return booking.ErrRateLimited
	}
	return nil
}

// redirect answers a POST or a guarded GET with 303 See Other, so a reload
// of the page the browser lands on never repeats the POST.
func (c *Console) redirect(r *request, to string) {
	r.rc.Response.Header.Set("Location", to)
	r.rc.SetStatusCode(fasthttp.StatusSeeOther)
}

// page is what every template gets: the layout's fields and the page's Data.
type page struct {
	Title    string
	Console  *console // nil on the landing and error pages
	Nav      string   // the active navigation entry
	SignedIn bool
	ShowNav  bool      // signed in with a role this console admits
	Menu     []navItem // the console's tabs this account uses (console.menu)
	Role     string
	CSRF     string
	Flash    string
	Error    *pageError
	// Form is the id of the form a failed POST came from (pageError.Form).
	Form string
	CSS  string
	JS   string
	Data any
	// Closing is a signed-in patient's pending closing, which every page
	// of the patient console shows with its 撤销注销 (nil: none).
	Closing *pendingClosing
}

// pendingClosing is the banner of an account whose closing is pending:
// when it takes effect, in the stand-in zone (a patient is of no one
// hospital).
type pendingClosing struct{ Due string }

// closingBanner reads the signed-in patient's account for a pending
// closing: one read by key per page of the patient console. A failed read
// shows no banner (the page itself says what failed, if it needs SQL).
func (c *Console) closingBanner(r *request) *pendingClosing {
	a, err := c.svc.OwnAccount(r.ctx, r.actor)
	if err != nil || a.ClosingDueAt.IsZero() {
		return nil
	}
	return &pendingClosing{Due: a.ClosingDueAt.In(booking.StandInLocation()).Format("2006-01-02 15:04")}
}

// render writes a page. It renders into a buffer first, so a template error
// becomes an error page instead of half a page.
func (c *Console) render(r *request, status int, name string, p page) error {
	t, ok := c.pages[name]
	if !ok {
		return fmt.Errorf("render: no page %q", name)
	}
	p.CSS, p.JS = c.cssURL, c.jsURL
	p.SignedIn = r.signedIn()
	p.Role = string(r.actor.Role)
	p.CSRF = c.csrfToken(r)
	if p.Console == nil {
		p.Console = r.route.console
	}
	p.ShowNav = p.SignedIn && p.Console != nil && p.Console.admits(r.actor.Role)
	if p.ShowNav {
		p.Menu = p.Console.menu(r.actor)
		if r.actor.Role == booking.RolePatient && p.Console == patientConsole {
			p.Closing = c.closingBanner(r)
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	rc := r.rc
	rc.SetContentType("text/html; charset=utf-8")
	rc.Response.Header.Set("Cache-Control", "no-store")
	rc.SetStatusCode(status)
	rc.SetBody(buf.Bytes())
	return nil
}

// fail answers a request whose handler could not finish: an error page with
// the domain error's message, or a generic one for anything unexpected.
func (c *Console) fail(r *request, err error) {
	pe, status := c.publicError(r, err)
	if rerr := c.render(r, status, "error", page{Title: "出错了 Error", Error: pe}); rerr != nil {
		c.log.Error("render error page", "err", rerr)
		c.writeErrorPage(r.rc, r, status, errInternal)
	}
}

// writeErrorPage is the last resort when there is no request to render with
// (no route, or a panic): the error template without session details.
func (c *Console) writeErrorPage(rc *fasthttp.RequestCtx, r *request, status int, e *booking.Error) {
	pe := &pageError{Code: e.Code, Message: e.Message, ZH: zhMessage(e.Code)}
	var buf bytes.Buffer
	if err := c.pages["error"].ExecuteTemplate(&buf, "layout", page{Title: "出错了 Error", Error: pe, CSS: c.cssURL}); err != nil {
		buf.Reset()
		buf.WriteString("<!doctype html><title>fairslot</title><p>出错了 Something went wrong.</p>")
	}
	rc.SetContentType("text/html; charset=utf-8")
	rc.Response.Header.Set("Cache-Control", "no-store")
	rc.SetStatusCode(status)
	rc.SetBody(buf.Bytes())
}

// securityHeaders forbid framing, inline script and foreign form targets:
// the pages need nothing but their own stylesheet and script.
func securityHeaders(rc *fasthttp.RequestCtx) {
	h := &rc.Response.Header
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
}

// stylesheet serves the embedded CSS. Pages link it with a hash of its
// content in the query, so it may be cached for long.
func (c *Console) stylesheet(r *request) error {
	r.rc.SetContentType("text/css; charset=utf-8")
	r.rc.Response.Header.Set("Cache-Control", "public, max-age=86400")
	r.rc.SetBody(c.css)
	return nil
}

// script serves the embedded countdown script, cached like the stylesheet.
func (c *Console) script(r *request) error {
	r.rc.SetContentType("text/javascript; charset=utf-8")
	r.rc.Response.Header.Set("Cache-Control", "public, max-age=86400")
	r.rc.SetBody(c.js)
	return nil
}

// landing links to the consoles.
func (c *Console) landing(r *request) error {
	return c.render(r, fasthttp.StatusOK, "landing", page{Title: "fairslot 预约挂号", Data: consoles})
}

// randomKeys is a keyring nobody else has.
func randomKeys() *identity.Keyring {
	master := make([]byte, identity.KeySize)
	_, _ = rand.Read(master)
	keys, err := identity.NewKeyring(master)
	if err != nil {
		panic(fmt.Sprintf("web: %v", err)) // a KeySize master never fails
	}
	return keys
}
