package admin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/events"
	"github.com/rosterhq/roster/internal/mail"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/sso"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/web"
)

// RequestLog is the SCIM request log the directory page reads: persisted entries are in
// the store; successful reads only in memory, merged in.
type RequestLog interface {
	Flush(ctx context.Context) error
	Reads(dirID string) []roster.SCIMRequest
	Forget(dirID string)
}

// Deps is what the console needs.
type Deps struct {
	Store  store.Store
	Auth   *auth.Service
	People *auth.People
	Events *events.Service
	// Mailer sends invitations by email (nil: the link is only shown to copy).
	Mailer mail.Sender
	// SSO manages SAML and OIDC connections (nil: no SSO page, no SSO sign-in).
	SSO *sso.Service
	// Sessions issues and ends sessions; httpapi reads them into the request's principal
	// (and refuses cross-origin posts) before the console's handlers run.
	Sessions *auth.Sessions
	// RequestLog may be nil (no in-memory reads to merge).
	RequestLog RequestLog
	// Limiter throttles failed sign-ins per source address and email together.
	Limiter *auth.FailureLimiter
	Logger  *slog.Logger
	// BaseURL is the public URL (no trailing slash), for the SCIM base URL and links.
	BaseURL string
	Now     func() time.Time
}

// Console serves the console's pages. Its handlers are registered in httpapi/routes.go.
type Console struct {
	Deps
	pages  map[string]*template.Template
	static http.Handler
}

// New parses the embedded templates (a broken template fails here, at start, not on a
// request).
func New(d Deps) (*Console, error) {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.People == nil {
		d.People = auth.NewPeople(d.Store, auth.PeopleConfig{})
	}
	if d.Limiter == nil {
		d.Limiter = auth.NewFailureLimiter(auth.DefaultFailuresPerMinute)
	}
	c := &Console{Deps: d, pages: map[string]*template.Template{}}
	funcs := template.FuncMap{
		"fmtTime":     fmtTime,
		"expiresSoon": func(t *time.Time) bool { return t != nil && t.Sub(d.Now()) < roster.ExpiryWarning },
	}
	names, err := fs.Glob(web.Templates, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || base == "keys" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(web.Templates, "templates/layout.html", "templates/keys.html", n)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", n, err)
		}
		c.pages[base] = t
	}
	sub, err := fs.Sub(web.Static, "static")
	if err != nil {
		return nil, err
	}
	files := http.FileServerFS(sub)
	c.static = http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	}))
	return c, nil
}

// Static serves /static/: the stylesheet, the console script and htmx.
func (c *Console) Static(w http.ResponseWriter, r *http.Request) { c.static.ServeHTTP(w, r) }

// fmtTime shows times in UTC, minute precision, with the full value on hover.
func fmtTime(v any) template.HTML {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x == nil {
			return ""
		}
		t = *x
	default:
		return ""
	}
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	return template.HTML(fmt.Sprintf(`<time datetime="%s">%s</time>`, t.Format(time.RFC3339), t.Format("2006-01-02 15:04 UTC")))
}

// view is what every page template gets.
type view struct {
	Title     string
	Page      string
	Org       *roster.Organization
	Me        *roster.Member
	CanChange bool
	IsOwner   bool
	Notice    string
	Error     string
	Data      any
}

// req is one signed-in request to a page of the member's organization.
type req struct {
	w   http.ResponseWriter
	r   *http.Request
	me  *roster.Member
	org *roster.Organization
}

func (q *req) ctx() context.Context { return q.r.Context() }

// actor is the audit actor of the member's changes.
func (q *req) actor() roster.Actor { return roster.Actor{Type: roster.ActorMember, ID: q.me.ID} }

// base is the URL of the organization's pages.
func (q *req) base() string { return "/orgs/" + q.org.ID }

// view starts the page's view.
func (q *req) view(page, title string, data any) *view {
	v := &view{Title: title, Page: page, Org: q.org, Me: q.me, Data: data,
		CanChange: q.me.Role.AtLeast(roster.RoleAdmin), IsOwner: q.me.Role == roster.RoleOwner}
	if n := q.r.URL.Query().Get("notice"); n != "" {
		v.Notice = notices[n]
	}
	return v
}

// notices are the fixed messages a redirect after a change may show (by key, so no text a
// link carries reaches the page).
var notices = map[string]string{
	"role":       "Role changed.",
	"removed":    "Member removed.",
	"revoked":    "Revoked.",
	"renamed":    "Project renamed.",
	"deleted":    "Deleted.",
	"project":    "Project role set.",
	"saved":      "Saved.",
	"redeliver":  "Redelivery queued.",
	"totp-on":    "Two-factor sign-in is on.",
	"totp-off":   "Two-factor sign-in is off.",
	"signed-out": "You are signed out.",
	"password":   "Your password is set: sign in with it.",
}

// seeOther redirects after a change (303, so the browser GETs the page).
func (q *req) seeOther(path, notice string) error {
	if notice != "" {
		path += "?notice=" + url.QueryEscape(notice)
	}
	http.Redirect(q.w, q.r, path, http.StatusSeeOther)
	return nil
}

// minimum roles: VIEWER and above see the pages, ADMIN and above change things.
const (
	seeRole    = roster.RoleViewer
	changeRole = roster.RoleAdmin
)

// page wraps a handler of /orgs/{orgId}/…: the member must be signed in (else it is sent to
// /login), belong to the organization of the path (else 404: another organization's pages do
// not exist for it) and hold min (else 403).
func (c *Console) page(min roster.Role, h func(q *req) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		secureHeaders(w)
		me := signedIn(r)
		if me == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			} else {
				c.fail(w, r, nil, roster.E(roster.Unauthenticated, "your session has ended: sign in again"))
			}
			return
		}
		if me.OrgID != r.PathValue("orgId") {
			c.fail(w, r, me, roster.E(roster.NotFound, "no such organization"))
			return
		}
		if !me.Role.AtLeast(min) {
			c.fail(w, r, me, roster.E(roster.Forbidden, "your role (%s) cannot do this: it needs %s or above", me.Role, min))
			return
		}
		org, err := c.Store.GetOrganization(r.Context(), me.OrgID)
		if err != nil {
			c.fail(w, r, me, err)
			return
		}
		q := &req{w: w, r: r, me: me, org: org}
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				c.fail(w, r, me, roster.E(roster.Invalid, "the form could not be read"))
				return
			}
		}
		if err := h(q); err != nil {
			c.fail(w, r, me, err)
		}
	}
}

// signedIn is the member whose session authenticated r, or nil.
func signedIn(r *http.Request) *roster.Member {
	if p := auth.PrincipalFrom(r.Context()); p.Kind == auth.Member && p.Member != nil {
		return p.Member
	}
	return nil
}

// secureHeaders are set on every console page: no framing, no inline script, no referrer
// (links may carry one-time tokens), no caching (pages show secrets once).
func secureHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}

// render writes a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) error {
	t, ok := c.pages[name]
	if !ok {
		return fmt.Errorf("console: no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("console: rendering %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
	return nil
}

// show renders a page for q with 200; a page answering a POST (one that shows a secret
// once) tells htmx which URL to keep in the address bar.
func (c *Console) show(q *req, name string, v *view, url string) error {
	if q.r.Method == http.MethodPost && url != "" {
		q.w.Header().Set("HX-Replace-Url", url)
	}
	return c.render(q.w, q.r, http.StatusOK, name, v)
}

type errorPage struct {
	Message   string
	RequestID string
	Back      string
}

// status is the HTTP status of err on a console page. A stale write is a conflict here: a
// form carries no If-Match, it met a change made meanwhile.
func status(err error) int {
	if k := roster.KindOf(err); k != roster.Stale {
		return k.HTTPStatus()
	}
	return http.StatusConflict
}

// fail renders an error page in the status of its kind; an unknown error is logged once and
// shows only the request id.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, me *roster.Member, err error) {
	code := status(err)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		code, err = http.StatusRequestEntityTooLarge, roster.E(roster.TooLarge, "the form is too large")
	}
	meta := roster.RequestMetaFrom(r.Context())
	msg := roster.MessageOf(err)
	if code == http.StatusInternalServerError {
		c.Logger.Error("console request failed", "request_id", meta.RequestID, "path", r.URL.Path, "err", err)
		msg = "Something went wrong on our side. Try again; if it keeps happening, give this request id to your administrator."
	}
	if code == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "60")
	}
	back := r.Referer()
	if back == "" || !strings.HasPrefix(back, c.BaseURL) {
		back = "/"
	}
	v := &view{Title: http.StatusText(code), Me: me, Data: errorPage{Message: msg, RequestID: meta.RequestID, Back: back}}
	if me != nil && me.OrgID == r.PathValue("orgId") {
		if org, err := c.Store.GetOrganization(r.Context(), me.OrgID); err == nil {
			v.Org = org
		}
	}
	if rerr := c.render(w, r, code, "error", v); rerr != nil {
		c.Logger.Error("console error page failed", "request_id", meta.RequestID, "err", rerr)
		http.Error(w, msg, code)
	}
}

// See wraps a page that members of VIEWER and above may see.
func (c *Console) See(h func(q *req) error) http.HandlerFunc { return c.page(seeRole, h) }

// Change wraps a change that ADMIN and above may make.
func (c *Console) Change(h func(q *req) error) http.HandlerFunc { return c.page(changeRole, h) }

// Own wraps an owner-only change (password-reset links).
func (c *Console) Own(h func(q *req) error) http.HandlerFunc { return c.page(roster.RoleOwner, h) }

// Self wraps a page about the member itself, open to every role.
func (c *Console) Self(h func(q *req) error) http.HandlerFunc { return c.page(roster.RoleNone, h) }
