package admin_test

import (
	"encoding/base32"
	"errors"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

func TestSignIn(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			e := newEnv(t, be.open(t))
			ada := e.user(t, e.orgA, "ada@acme.example", roster.RoleAdmin)
			e.user(t, e.orgA, "grace@example.com", roster.RoleViewer)
			e.user(t, e.orgB, "grace@example.com", roster.RoleOwner)

			t.Run("the right password answers 303 to the organization and a session cookie", func(t *testing.T) {
				b := e.browser(t)
				resp, _ := b.post("/login", url.Values{"email": {"ADA@acme.example"}, "password": {password}})
				if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/orgs/"+e.orgA.ID+"/members" {
					t.Fatalf("POST /login = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
				}
				var cookie *http.Cookie
				for _, c := range resp.Cookies() {
					if c.Name == auth.SessionCookie {
						cookie = c
					}
				}
				if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
					t.Fatalf("session cookie %+v; want HttpOnly, SameSite=Lax", cookie)
				}
				if resp, body := b.get("/session"); resp.StatusCode != 200 || !strings.Contains(body, ada.ID) {
					t.Errorf("GET /session = %d %s", resp.StatusCode, body)
				}
				if resp, _ := b.get("/"); resp.Header.Get("Location") != "/orgs/"+e.orgA.ID+"/members" {
					t.Errorf("GET / sends a signed-in member to %q", resp.Header.Get("Location"))
				}
			})
			t.Run("a wrong password or an unknown email answers the same 401 and no cookie", func(t *testing.T) {
				for _, email := range []string{"ada@acme.example", "nobody@acme.example"} {
					resp, body := e.browser(t).post("/login", url.Values{"email": {email}, "password": {"wrong password"}})
					if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "The email or the password is wrong") && !strings.Contains(body, "the email or the password is wrong") || len(resp.Cookies()) != 0 {
						t.Errorf("%s: %d, cookies %v:\n%.400s", email, resp.StatusCode, resp.Cookies(), body)
					}
				}
			})
			t.Run("an empty form is a 400, not a 500", func(t *testing.T) {
				if resp, _ := e.browser(t).post("/login", url.Values{}); resp.StatusCode != http.StatusBadRequest {
					t.Errorf("got %d", resp.StatusCode)
				}
			})
			t.Run("a sign-in posted from another site is refused", func(t *testing.T) {
				resp, _ := e.browser(t).postFrom("/login", url.Values{"email": {"ada@acme.example"}, "password": {password}}, "cross-site")
				if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
					t.Errorf("got %d, cookies %v; want 403 and no cookie", resp.StatusCode, resp.Cookies())
				}
			})
			t.Run("a person in two organizations chooses one", func(t *testing.T) {
				b := e.browser(t)
				resp, body := b.post("/login", url.Values{"email": {"grace@example.com"}, "password": {password}})
				if resp.StatusCode != 200 || !strings.Contains(body, "Acme") || !strings.Contains(body, "Beta") || len(resp.Cookies()) != 0 {
					t.Fatalf("POST /login = %d, cookies %v; want the chooser with both organizations:\n%s", resp.StatusCode, resp.Cookies(), body)
				}
				pending := html.UnescapeString(find(t, body, `name="pending" value="([^"]+)"`))
				if resp, _ := b.post("/login", url.Values{"pending": {pending[:len(pending)-4] + "AAAA"}, "org": {e.orgB.ID}}); resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("an altered pending sign-in got %d; want 401", resp.StatusCode)
				}
				if resp, _ := b.post("/login", url.Values{"pending": {pending}, "org": {roster.NewID()}}); resp.StatusCode != http.StatusBadRequest {
					t.Errorf("an organization that is not among the choices got %d; want 400", resp.StatusCode)
				}
				resp, _ = b.post("/login", url.Values{"pending": {pending}, "org": {e.orgB.ID}})
				if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/orgs/"+e.orgB.ID+"/members" {
					t.Fatalf("choosing Beta = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
				}
				if resp, _ := b.get("/orgs/" + e.orgA.ID + "/members"); resp.StatusCode != http.StatusNotFound {
					t.Errorf("signed in to Beta, Acme's members page answers %d; want 404", resp.StatusCode)
				}
				// Naming the organization on the form skips the choice.
				resp, _ = e.browser(t).post("/login", url.Values{"email": {"grace@example.com"}, "password": {password}, "org": {e.orgA.ID}})
				if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/orgs/"+e.orgA.ID+"/members" {
					t.Errorf("with org=Acme: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
				}
			})
			t.Run("after sign-in the browser goes back to the page it asked for, never off-site", func(t *testing.T) {
				b := e.browser(t)
				resp, _ := b.get("/orgs/" + e.orgA.ID + "/audit")
				loc := resp.Header.Get("Location")
				u, _ := url.Parse(loc)
				resp, _ = b.post("/login?"+u.RawQuery, url.Values{"email": {"ada@acme.example"}, "password": {password}, "next": {u.Query().Get("next")}})
				if resp.Header.Get("Location") != "/orgs/"+e.orgA.ID+"/audit" {
					t.Errorf("after sign-in: %q; want the audit page", resp.Header.Get("Location"))
				}
				resp, _ = e.browser(t).post("/login", url.Values{"email": {"ada@acme.example"}, "password": {password}, "next": {"//evil.example/"}})
				if resp.Header.Get("Location") != "/orgs/"+e.orgA.ID+"/members" {
					t.Errorf("next=//evil.example/ sent the browser to %q", resp.Header.Get("Location"))
				}
			})
			t.Run("sign-out ends the session", func(t *testing.T) {
				b := e.signedIn(t, "ada@acme.example")
				if resp, _ := b.postFrom("/logout", nil, "cross-site"); resp.StatusCode != http.StatusForbidden {
					t.Errorf("a cross-site sign-out got %d; want 403", resp.StatusCode)
				}
				if resp, _ := b.post("/logout", nil); resp.StatusCode != http.StatusSeeOther {
					t.Fatalf("POST /logout = %d", resp.StatusCode)
				}
				if resp, _ := b.get("/orgs/" + e.orgA.ID + "/members"); resp.StatusCode != http.StatusSeeOther {
					t.Errorf("after sign-out the members page answers %d; want 303 to /login", resp.StatusCode)
				}
			})
			t.Run("a suspended member cannot sign in and its session ends at once", func(t *testing.T) {
				m := e.user(t, e.orgA, "leaver@acme.example", roster.RoleAdmin)
				b := e.signedIn(t, "leaver@acme.example")
				cur, _ := e.st.GetMember(t.Context(), e.orgA.ID, m.ID)
				next := *cur
				next.Status = roster.MemberSuspended
				if err := e.st.Tx(t.Context(), roster.SystemActor("test"), func(tx store.Tx) error { return tx.UpdateMember(t.Context(), cur, &next) }); err != nil {
					t.Fatal(err)
				}
				if resp, _ := b.get("/orgs/" + e.orgA.ID + "/members"); resp.StatusCode != http.StatusSeeOther {
					t.Errorf("the suspended member's session still opens the page: %d", resp.StatusCode)
				}
				if resp, _ := e.browser(t).post("/login", url.Values{"email": {"leaver@acme.example"}, "password": {password}}); resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("a suspended member's sign-in got %d; want 401", resp.StatusCode)
				}
			})
		})
	}
}

func TestFailedSignInsAreRateLimitedPerAddressAndEmail(t *testing.T) {
	e := newEnv(t, backends[0].open(t))
	e.user(t, e.orgA, "ada@acme.example", roster.RoleAdmin)
	e.user(t, e.orgA, "bob@acme.example", roster.RoleAdmin)
	b := e.browser(t)
	for i := range auth.DefaultFailuresPerMinute {
		if resp, _ := b.post("/login", url.Values{"email": {"ada@acme.example"}, "password": {"wrong password"}}); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d answered %d; want 401", i+1, resp.StatusCode)
		}
	}
	resp, _ := b.post("/login", url.Values{"email": {"ada@acme.example"}, "password": {password}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("after %d failures the right password got %d (Retry-After %q); want 429", auth.DefaultFailuresPerMinute, resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp, _ := b.post("/login", url.Values{"email": {"bob@acme.example"}, "password": {password}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another email from the same address got %d; want 303", resp.StatusCode)
	}
}

func TestTwoFactorSignIn(t *testing.T) {
	e := newEnv(t, backends[0].open(t))
	e.user(t, e.orgA, "ada@acme.example", roster.RoleViewer)
	b := e.signedIn(t, "ada@acme.example")
	base := "/orgs/" + e.orgA.ID
	resp, body := b.post(base+"/account/totp/begin", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("begin: %d %s", resp.StatusCode, body)
	}
	secret := find(t, body, `id="totp-secret">([A-Z2-7]+)<`)
	seed, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := b.post(base+"/account/totp/confirm", url.Values{"code": {"12345"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a malformed confirmation code got %d; want 400", resp.StatusCode)
	}
	// Confirmed with the previous step's code (accepted for clock drift), so that the current
	// step's code is still unused below.
	if resp, _ := b.post(base+"/account/totp/confirm", url.Values{"code": {auth.TOTPCode(seed, time.Now().Add(-auth.TOTPPeriod))}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	if resp, _ := b.post(base+"/account/totp/begin", nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("setting up a new seed while two-factor sign-in is on got %d; want 409", resp.StatusCode)
	}

	signInWith := func(code func() string) (*http.Response, string) {
		nb := e.browser(t)
		resp, body := nb.post("/login", url.Values{"email": {"ada@acme.example"}, "password": {password}})
		if resp.StatusCode != 200 || !strings.Contains(body, `name="code"`) || len(resp.Cookies()) != 0 {
			t.Fatalf("the password step = %d, cookies %v; want the code form and no session yet", resp.StatusCode, resp.Cookies())
		}
		pending := html.UnescapeString(find(t, body, `name="pending" value="([^"]+)"`))
		return nb.post("/login", url.Values{"pending": {pending}, "org": {e.orgA.ID}, "code": {code()}})
	}
	if resp, _ := signInWith(func() string { return "000000" }); resp.StatusCode != http.StatusUnauthorized && auth.TOTPCode(seed, time.Now()) != "000000" {
		t.Errorf("a wrong code got %d; want 401", resp.StatusCode)
	}
	code := auth.TOTPCode(seed, time.Now())
	if resp, _ := signInWith(func() string { return code }); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the right code got %d; want 303", resp.StatusCode)
	}
	if resp, _ := signInWith(func() string { return code }); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the same code a second time got %d; want 401", resp.StatusCode)
	}
}

func TestInvitationAndResetLinks(t *testing.T) {
	e := newEnv(t, backends[0].open(t))
	e.user(t, e.orgA, "owner@acme.example", roster.RoleOwner)
	e.user(t, e.orgA, "admin@acme.example", roster.RoleAdmin)
	owner := e.signedIn(t, "owner@acme.example")
	admin := e.signedIn(t, "admin@acme.example")
	base := "/orgs/" + e.orgA.ID
	if resp, _ := admin.post(base+"/invitations", url.Values{"email": {"boss@acme.example"}, "role": {"OWNER"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an admin inviting an OWNER got %d; want 403", resp.StatusCode)
	}
	resp, body := admin.post(base+"/invitations", url.Values{"email": {"new@acme.example"}, "name": {"New Person"}, "role": {"MEMBER"}})
	if resp.StatusCode != 200 {
		t.Fatalf("invite: %d %s", resp.StatusCode, body)
	}
	link := html.UnescapeString(find(t, body, `id="invite-link">([^<]+)<`))
	if len(e.mailer.sent) != 1 || e.mailer.sent[0].To != "new@acme.example" || !strings.Contains(e.mailer.sent[0].Body, link) ||
		!strings.Contains(body, "It was emailed to them") {
		t.Errorf("the invitation was not mailed with its link: %+v", e.mailer.sent)
	}
	e.mailer.err = errors.New("relay refused")
	if resp, body := admin.post(base+"/invitations", url.Values{"email": {"other@acme.example"}, "role": {"VIEWER"}}); resp.StatusCode != 200 ||
		!strings.Contains(body, "could not be sent") || !strings.Contains(body, `id="invite-link"`) {
		t.Errorf("a failed mail: %d; want the page with the link and the failure", resp.StatusCode)
	}
	path := strings.TrimPrefix(link, e.srv.URL)
	anon := e.browser(t)
	if resp, body := anon.get(path); resp.StatusCode != 200 || !strings.Contains(body, "new@acme.example") {
		t.Fatalf("the invitation page: %d %s", resp.StatusCode, body)
	}
	if resp, _ := anon.post(path, url.Values{"password": {"a new password"}, "confirm": {"another one!"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("two different passwords got %d; want 400", resp.StatusCode)
	}
	if resp, _ := anon.postFrom(path, url.Values{"password": {"a new password"}, "confirm": {"a new password"}}, "cross-site"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site post of the link's form got %d; want 403", resp.StatusCode)
	}
	if resp, _ := anon.post(path, url.Values{"password": {"a new password"}, "confirm": {"a new password"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("setting the password: %d", resp.StatusCode)
	}
	if resp, _ := anon.get(path); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the used invitation answers %d; want 404", resp.StatusCode)
	}
	if resp, _ := e.browser(t).post("/login", url.Values{"email": {"new@acme.example"}, "password": {"a new password"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the invited member's sign-in got %d", resp.StatusCode)
	}

	m, _ := e.st.GetMemberByEmail(t.Context(), e.orgA.ID, "new@acme.example")
	if resp, _ := admin.post(base+"/members/"+m.ID+"/reset-link", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an admin asking for a reset link got %d; want 403 (owners only)", resp.StatusCode)
	}
	resp, body = owner.post(base+"/members/"+m.ID+"/reset-link", nil)
	reset := strings.TrimPrefix(html.UnescapeString(find(t, body, `id="reset-link">([^<]+)<`)), e.srv.URL)
	if resp.StatusCode != 200 {
		t.Fatalf("reset link: %d", resp.StatusCode)
	}
	if resp, _ := anon.post(reset, url.Values{"password": {"reset password!"}, "confirm": {"reset password!"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	if resp, _ := e.browser(t).post("/login", url.Values{"email": {"new@acme.example"}, "password": {"a new password"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the old password after a reset got %d; want 401", resp.StatusCode)
	}
}
