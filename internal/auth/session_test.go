package auth_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// sessionEnv is a store with one organization and an active member.
type sessionEnv struct {
	st    store.Store
	clock *clock
	s     *auth.Sessions
	m     *roster.Member
}

func newSessionEnv(t testing.TB, st store.Store, cfg auth.SessionConfig) *sessionEnv {
	t.Helper()
	ctx := t.Context()
	org := &roster.Organization{Name: "acme"}
	m := &roster.Member{Email: "ada@example.com", Role: roster.RoleAdmin}
	err := st.Tx(ctx, testActor, func(tx store.Tx) error {
		if err := tx.CreateOrganization(ctx, org); err != nil {
			return err
		}
		m.OrgID = org.ID
		return tx.CreateMember(ctx, m)
	})
	if err != nil {
		t.Fatal(err)
	}
	c := newClock()
	cfg.Now = c.Now
	return &sessionEnv{st: st, clock: c, s: auth.NewSessions(st, cfg), m: m}
}

// start signs the member in and returns the cookie the response set.
func (e *sessionEnv) start(t testing.TB, r *http.Request) *http.Cookie {
	t.Helper()
	w := httptest.NewRecorder()
	if _, err := e.s.Start(w, r, e.m, roster.SessionPassword, ""); err != nil {
		t.Fatalf("Start: %v", err)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == auth.SessionCookie {
			return c
		}
	}
	t.Fatalf("Start set no %s cookie", auth.SessionCookie)
	return nil
}

func withCookie(c *http.Cookie) *http.Request {
	r := httptest.NewRequest("GET", "http://roster.test/session", nil)
	r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	return r
}

func TestSessionCookieAttributes(t *testing.T) {
	proxy := netip.MustParsePrefix("10.0.0.0/8")
	cases := []struct {
		name       string
		remote     string
		proto      string
		tls        bool
		wantSecure bool
	}{
		{"a plain-HTTP request gets a cookie without Secure", "192.0.2.1:5000", "", false, false},
		{"a TLS request gets a Secure cookie", "192.0.2.1:5000", "", true, true},
		{"a trusted proxy saying https gets a Secure cookie", "10.1.2.3:5000", "https", false, true},
		{"an untrusted peer saying https does not decide Secure", "192.0.2.1:5000", "https", false, false},
	}
	forEachStore(t, func(t *testing.T, st store.Store) {
		e := newSessionEnv(t, st, auth.SessionConfig{TrustedProxies: auth.TrustedProxies{proxy}, MaxAge: 8 * time.Hour, Idle: time.Hour})
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				url := "http://roster.test/login"
				if c.tls {
					url = "https://roster.test/login" // httptest sets r.TLS
				}
				r := httptest.NewRequest("POST", url, nil)
				r.RemoteAddr = c.remote
				if c.proto != "" {
					r.Header.Set("X-Forwarded-Proto", c.proto)
				}
				ck := e.start(t, r)
				if ck.Secure != c.wantSecure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
					t.Errorf("cookie Secure=%v HttpOnly=%v SameSite=%v Path=%q; want Secure=%v, HttpOnly, Lax, /",
						ck.Secure, ck.HttpOnly, ck.SameSite, ck.Path, c.wantSecure)
				}
				if ck.MaxAge != 8*3600 {
					t.Errorf("cookie Max-Age = %d; want the absolute lifetime 28800", ck.MaxAge)
				}
				if len(ck.Value) < 43 {
					t.Errorf("token %q is shorter than 32 bytes of base64url", ck.Value)
				}
			})
		}
	})
}

func TestSessionLifecycle(t *testing.T) {
	forEachStore(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		e := newSessionEnv(t, st, auth.SessionConfig{Idle: time.Hour, MaxAge: 3 * time.Hour})
		ck := e.start(t, httptest.NewRequest("POST", "/login", nil))

		p, err := e.s.Principal(withCookie(ck))
		if err != nil {
			t.Fatalf("Principal: %v", err)
		}
		if p.Kind != auth.Member || p.Member.ID != e.m.ID || p.OrgID != e.m.OrgID || p.Member.Role != roster.RoleAdmin {
			t.Fatalf("principal = %+v; want member %s of %s, ADMIN", p, e.m.ID, e.m.OrgID)
		}
		if a := p.Actor(); a.Type != roster.ActorMember || a.ID != e.m.ID {
			t.Errorf("actor = %+v; want member %s", a, e.m.ID)
		}

		// Use within the idle window keeps the session alive past its first idle expiry.
		for range 3 {
			e.clock.Advance(50 * time.Minute)
			if _, _, err := e.s.Read(withCookie(ck)); err != nil {
				t.Fatalf("read at +%v after steady use: %v", e.clock.Now().Sub(p.Session.CreatedAt), err)
			}
		}
		// The absolute lifetime ends it whatever the use.
		e.clock.Advance(30 * time.Minute)
		if _, _, err := e.s.Read(withCookie(ck)); roster.KindOf(err) != roster.Unauthenticated {
			t.Fatalf("read past the absolute lifetime: %v; want Unauthenticated", err)
		}

		// Idle: a fresh session unused for an hour is gone.
		ck = e.start(t, httptest.NewRequest("POST", "/login", nil))
		e.clock.Advance(time.Hour)
		if _, _, err := e.s.Read(withCookie(ck)); roster.KindOf(err) != roster.Unauthenticated {
			t.Fatalf("read after an idle hour: %v; want Unauthenticated", err)
		}

		// Sign-out ends the session and clears the cookie.
		ck = e.start(t, httptest.NewRequest("POST", "/login", nil))
		w := httptest.NewRecorder()
		if err := e.s.End(w, withCookie(ck)); err != nil {
			t.Fatalf("End: %v", err)
		}
		if cs := w.Result().Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 {
			t.Errorf("End set cookies %+v; want the session cookie deleted", cs)
		}
		if _, _, err := e.s.Read(withCookie(ck)); roster.KindOf(err) != roster.Unauthenticated {
			t.Errorf("read after sign-out: %v; want Unauthenticated", err)
		}

		// Suspension ends it at once.
		ck = e.start(t, httptest.NewRequest("POST", "/login", nil))
		err = st.Tx(ctx, testActor, func(tx store.Tx) error {
			next := *e.m
			next.Status = roster.MemberSuspended
			return tx.UpdateMember(ctx, e.m, &next)
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.s.Read(withCookie(ck)); roster.KindOf(err) != roster.Unauthenticated {
			t.Errorf("read after suspension: %v; want Unauthenticated", err)
		}
		w = httptest.NewRecorder()
		if _, err := e.s.Start(w, httptest.NewRequest("POST", "/login", nil), e.m, roster.SessionSAML, "c1"); roster.KindOf(err) != roster.Forbidden {
			t.Errorf("starting a session for a suspended member: %v; want Forbidden", err)
		}
	})
}

func TestSessionStartReplacesThePresentedOne(t *testing.T) {
	forEachStore(t, func(t *testing.T, st store.Store) {
		e := newSessionEnv(t, st, auth.SessionConfig{})
		old := e.start(t, httptest.NewRequest("POST", "/login", nil))
		r := httptest.NewRequest("POST", "/login", nil)
		r.AddCookie(&http.Cookie{Name: old.Name, Value: old.Value})
		fresh := e.start(t, r)
		if fresh.Value == old.Value {
			t.Fatal("signing in again kept the token the browser presented")
		}
		if _, _, err := e.s.Read(withCookie(old)); roster.KindOf(err) != roster.Unauthenticated {
			t.Errorf("the session presented at sign-in still works: %v", err)
		}
		if _, _, err := e.s.Read(withCookie(fresh)); err != nil {
			t.Errorf("the new session: %v", err)
		}
	})
}

func TestSessionReadRefusesBadCookies(t *testing.T) {
	forEachStore(t, func(t *testing.T, st store.Store) {
		e := newSessionEnv(t, st, auth.SessionConfig{})
		good := e.start(t, httptest.NewRequest("POST", "/login", nil))
		for _, v := range []string{"", "short", good.Value[:len(good.Value)-1] + "!", good.Value + "A",
			"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
			r := httptest.NewRequest("GET", "/session", nil)
			r.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: v})
			if _, _, err := e.s.Read(r); roster.KindOf(err) != roster.Unauthenticated {
				t.Errorf("cookie %q: %v; want Unauthenticated", v, err)
			}
		}
	})
}

func TestSessionTouchIsCoalesced(t *testing.T) {
	forEachStore(t, func(t *testing.T, st store.Store) {
		e := newSessionEnv(t, st, auth.SessionConfig{Idle: time.Hour})
		ck := e.start(t, httptest.NewRequest("POST", "/login", nil))
		first, _, err := e.s.Read(withCookie(ck))
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(30 * time.Second)
		s, _, _ := e.s.Read(withCookie(ck))
		if !s.LastSeenAt.Equal(first.LastSeenAt) {
			t.Errorf("a read 30s later wrote lastSeen %v (was %v); reads within a minute must not write", s.LastSeenAt, first.LastSeenAt)
		}
		e.clock.Advance(31 * time.Second)
		e.s.Read(withCookie(ck))
		s, _, _ = e.s.Read(withCookie(ck))
		if want := e.clock.Now().UTC(); !s.LastSeenAt.Equal(want) || !s.IdleExpiresAt.Equal(want.Add(time.Hour)) {
			t.Errorf("after a minute: lastSeen %v idle %v; want %v and an hour later", s.LastSeenAt, s.IdleExpiresAt, want)
		}
	})
}

func TestCheckOrigin(t *testing.T) {
	s := auth.NewSessions(nil, auth.SessionConfig{BaseURL: "https://roster.example.com"})
	cases := []struct {
		name    string
		method  string
		headers map[string]string
		ok      bool
	}{
		{"a same-origin form post passes", "POST", map[string]string{"Sec-Fetch-Site": "same-origin"}, true},
		{"a cross-site form post is refused", "POST", map[string]string{"Sec-Fetch-Site": "cross-site"}, false},
		{"a post whose Origin is another site is refused", "POST", map[string]string{"Origin": "https://evil.example"}, false},
		{"a post from the public base URL passes behind a Host-rewriting proxy", "POST", map[string]string{"Origin": "https://roster.example.com"}, true},
		{"a cross-site GET passes: it must not change state", "GET", map[string]string{"Sec-Fetch-Site": "cross-site"}, true},
		{"a non-browser client without those headers passes", "DELETE", nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, "http://internal:8080/logout", nil)
			for k, v := range c.headers {
				r.Header.Set(k, v)
			}
			err := s.CheckOrigin(r)
			if (err == nil) != c.ok {
				t.Errorf("CheckOrigin = %v; want ok=%v", err, c.ok)
			}
			if err != nil && roster.KindOf(err) != roster.Forbidden {
				t.Errorf("kind %v; want Forbidden", roster.KindOf(err))
			}
		})
	}
}
