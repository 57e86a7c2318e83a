package httpapi_test

import (
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/oauth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// onBackends runs fn on an OAuth environment of every backend.
func onBackends(t *testing.T, fn func(t *testing.T, o *oauthEnv)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, newOAuthEnv(t, b.open(t))) })
	}
}

func TestTokenEndpointClientAuthentication(t *testing.T) {
	onBackends(t, func(t *testing.T, o *oauthEnv) {
		code := func() (string, string) {
			p := newPKCE()
			return o.issueCode(t, o.conf, o.ann, []string{"openid"}, p.challenge), p.verifier
		}
		form := func(c, v string) url.Values {
			return url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {confRedirect}, "code_verifier": {v}}
		}
		t.Run("client_secret_basic is accepted", func(t *testing.T) {
			c, v := code()
			res, body := o.form(t, "/oauth/token", form(c, v), o.conf.clientID, o.conf.secret)
			if res.StatusCode != 200 || body["access_token"] == nil || body["token_type"] != "Bearer" {
				t.Fatalf("answered %d %v", res.StatusCode, body)
			}
		})
		t.Run("client_secret_post is accepted", func(t *testing.T) {
			c, v := code()
			f := form(c, v)
			f.Set("client_id", o.conf.clientID)
			f.Set("client_secret", o.conf.secret)
			if res, body := o.form(t, "/oauth/token", f, "", ""); res.StatusCode != 200 {
				t.Fatalf("answered %d %v", res.StatusCode, body)
			}
		})
		t.Run("a wrong secret is invalid_client with a Basic challenge", func(t *testing.T) {
			c, v := code()
			res, body := o.form(t, "/oauth/token", form(c, v), o.conf.clientID, "roster_cs_wrong")
			wantOAuthError(t, res, body, http.StatusUnauthorized, "invalid_client")
			if !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("WWW-Authenticate %q, want a Basic challenge", res.Header.Get("WWW-Authenticate"))
			}
		})
		t.Run("a confidential client without its secret is invalid_client", func(t *testing.T) {
			c, v := code()
			f := form(c, v)
			f.Set("client_id", o.conf.clientID)
			res, body := o.form(t, "/oauth/token", f, "", "")
			wantOAuthError(t, res, body, http.StatusUnauthorized, "invalid_client")
		})
		t.Run("an unknown client is invalid_client", func(t *testing.T) {
			res, body := o.form(t, "/oauth/token", form("x", "y"), "roster_client_nobody", "secret")
			wantOAuthError(t, res, body, http.StatusUnauthorized, "invalid_client")
		})
		t.Run("two authentication methods at once are invalid_request", func(t *testing.T) {
			c, v := code()
			f := form(c, v)
			f.Set("client_secret", o.conf.secret)
			res, body := o.form(t, "/oauth/token", f, o.conf.clientID, o.conf.secret)
			wantOAuthError(t, res, body, http.StatusBadRequest, "invalid_request")
		})
		t.Run("an unknown grant type is unsupported_grant_type", func(t *testing.T) {
			res, body := o.form(t, "/oauth/token", url.Values{"grant_type": {"password"}}, o.conf.clientID, o.conf.secret)
			wantOAuthError(t, res, body, http.StatusBadRequest, "unsupported_grant_type")
		})
		t.Run("a repeated parameter is invalid_request", func(t *testing.T) {
			f := url.Values{"grant_type": {"authorization_code", "refresh_token"}}
			res, body := o.form(t, "/oauth/token", f, o.conf.clientID, o.conf.secret)
			wantOAuthError(t, res, body, http.StatusBadRequest, "invalid_request")
		})
		t.Run("a JSON body is invalid_request", func(t *testing.T) {
			res, raw := o.do(t, "POST", "/oauth/token", basicAuth(o.conf.clientID, o.conf.secret), `{"grant_type":"authorization_code"}`)
			wantOAuthError(t, res, decodeObject(t, raw), http.StatusBadRequest, "invalid_request")
		})
		t.Run("a public client authenticates by client_id alone", func(t *testing.T) {
			p := newPKCE()
			c := o.issueCode(t, o.pub, o.ann, []string{"openid"}, p.challenge)
			if res, body := o.exchange(t, o.pub, c, pubRedirect, p.verifier); res.StatusCode != 200 {
				t.Fatalf("answered %d %v", res.StatusCode, body)
			}
		})
	})
}

func TestCodeExchangeIssuesTheGrantedTokens(t *testing.T) {
	onBackends(t, func(t *testing.T, o *oauthEnv) {
		body := o.tokens(t, "openid", "email", "offline_access", "projects.read")
		if body["refresh_token"] == nil || body["id_token"] == nil || body["scope"] != "openid email offline_access projects.read" ||
			body["expires_in"] != float64(3600) {
			t.Errorf("token response %v: want access, refresh and ID tokens for the granted scope", body)
		}
		without := o.tokens(t, "openid")
		if without["refresh_token"] != nil {
			t.Errorf("a refresh token was issued without offline_access: %v", without)
		}
		res, info := o.userinfo(t, body["access_token"].(string))
		want := map[string]any{"sub": o.ann.ID, "email": "ann@acme.example", "org_id": o.a.orgID, "org_role": "VIEWER",
			"projects": map[string]any{}}
		if res.StatusCode != 200 {
			t.Fatalf("userinfo answered %d %v", res.StatusCode, info)
		}
		if diff := cmp.Diff(want, info); diff != "" {
			t.Errorf("userinfo claims (-want +got):\n%s", diff)
		}
	})
}

// Attack: an authorization code presented twice. RFC 6749 section 4.1.2: refused, and the
// tokens already issued from it are revoked.
func TestAttackCodeReuseRevokesWhatItIssued(t *testing.T) {
	onBackends(t, func(t *testing.T, o *oauthEnv) {
		p := newPKCE()
		code := o.issueCode(t, o.conf, o.ann, []string{"openid", "offline_access"}, p.challenge)
		res, first := o.exchange(t, o.conf, code, confRedirect, p.verifier)
		if res.StatusCode != 200 {
			t.Fatalf("first exchange answered %d %v", res.StatusCode, first)
		}
		res, body := o.exchange(t, o.conf, code, confRedirect, p.verifier)
		wantOAuthError(t, res, body, http.StatusBadRequest, "invalid_grant")
		if res, _ := o.userinfo(t, first["access_token"].(string)); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("the access token issued from the reused code still answers %d at userinfo, want 401", res.StatusCode)
		}
		res, body = o.refresh(t, o.conf, first["refresh_token"].(string))
		wantOAuthError(t, res, body, http.StatusBadRequest, "invalid_grant")
	})
}

// Attack: PKCE mismatch and downgrade (RFC 7636 section 4.6, RFC 9700 section 2.1.1).
func TestAttackPKCEMismatchAndDowngrade(t *testing.T) {
	onBackends(t, func(t *testing.T, o *oauthEnv) {
		for _, c := range []struct {
			name, challenge, verifier string
		}{
			{"a verifier that does not match the challenge", newPKCE().challenge, newPKCE().verifier},
			{"no verifier for a code that had a challenge", newPKCE().challenge, ""},
			{"a verifier for a code that had no challenge (downgrade)", "", newPKCE().verifier},
			{"the challenge itself sent as the verifier (plain)", "", ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				challenge, verifier := c.challenge, c.verifier
				if challenge == "" && verifier == "" {
					p := newPKCE()
					challenge, verifier = p.challenge, p.challenge
				}
				code := o.issueCode(t, o.conf, o.ann, []string{"openid"}, challenge)
				res, body := o.exchange(t, o.conf, code, confRedirect, verifier)
				wantOAuthError(t, res, body, http.StatusBadRequest, "invalid_grant")
			})
		}
	})
}

// Attack: a code redeemed with another redirect URI than its request's (RFC 6749 section
// 4.1.3), or by another client.
func TestAttackRedirectURIMismatchAndForeignClient(t *testing.T) {
	onBackends(t, func(t *testing.T, o *oauthEnv) {
		p := newPKCE()
		code := o.issueCode(t, o.conf, o.ann, []string{"openid"}, p.challenge)
		for _, uri := range []string{"https://app.example/callback/", "https://evil.example/callback", ""} {
			c := o.issueCode(t, o.conf, o.ann, []string{"openid"}, p.challenge)
			res, body := o.exchange(t, o.conf, c, uri, p.verifier)
			wantOAuthError(t, res, body, http.StatusBadRequest, "invalid_grant")
		}
		// Another client presenting the code is refused, and the code stays the rightful
		// client's.
		other := o.createApp(t, `{"name":"Other","redirectUris":["`+confRedirect+`"]}`, confRedirect)
		res, body := o.exchange(t, other, code, confRedirect, p.verifier)
		wantOAuthError(t, res, body, http.StatusBadRequest, "invalid_grant")
		if res, body := o.exchange(t, o.conf, code, confRedirect, p.verifier); res.StatusCode != 200 {
			t.Errorf("the rightful client's exchange after another's attempt answered %d %v", res.StatusCode, body)
		}
	})
}

// Attack: a refresh token used twice. RFC 9700 section 4.14.2: the whole family is revoked.
func TestAttackRefreshTokenReuseRevokesTheFamily(t *testing.T) {
	onBackends(t, func(t *testing.T, o *oauthEnv) {
		first := o.tokens(t, "openid", "offline_access")
		old := first["refresh_token"].(string)
		res, second := o.refresh(t, o.conf, old)
		if res.StatusCode != 200 || second["refresh_token"] == nil || second["refresh_token"] == old || second["id_token"] == nil {
			t.Fatalf("refresh answered %d %v: want a new pair with an ID token", res.StatusCode, second)
		}
		res, body := o.refresh(t, o.conf, old)
		wantOAuthError(t, res, body, http.StatusBadRequest, "invalid_grant")
		res, body = o.refresh(t, o.conf, second["refresh_token"].(string))
		wantOAuthError(t, res, body, http.StatusBadRequest, "invalid_grant")
		for _, at := range []any{first["access_token"], second["access_token"]} {
			if res, _ := o.userinfo(t, at.(string)); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("an access token of the revoked family answers %d at userinfo, want 401", res.StatusCode)
			}
		}
		// Another grant of the same member is untouched.
		other := o.tokens(t, "openid", "offline_access")
		if res, body := o.refresh(t, o.conf, other["refresh_token"].(string)); res.StatusCode != 200 {
			t.Errorf("another grant's refresh answered %d %v", res.StatusCode, body)
		}
		recs, _, err := o.st.ListAudit(t.Context(), o.a.orgID, auditFilter("oauth_grant.revoked"))
		if err != nil || len(recs) != 1 {
			t.Errorf("%d oauth_grant.revoked audit records (%v), want 1", len(recs), err)
		}
	})
}

// Attack: scope escalation, at refresh (RFC 6749 section 6: no scope beyond the grant's) and
// by role (a NONE member is never granted org.read, however the code was made).
func TestAttackScopeEscalation(t *testing.T) {
	onBackends(t, func(t *testing.T, o *oauthEnv) {
		first := o.tokens(t, "openid", "offline_access")
		res, body := o.refresh(t, o.conf, first["refresh_token"].(string), "scope", "openid offline_access org.read")
		wantOAuthError(t, res, body, http.StatusBadRequest, "invalid_scope")
		res, body = o.refresh(t, o.conf, first["refresh_token"].(string), "scope", "openid offline_access")
		if res.StatusCode != 200 || body["scope"] != "openid offline_access" {
			t.Errorf("refresh narrowing to the granted scope answered %d %v", res.StatusCode, body)
		}

		none := o.member(t, o.a.orgID, "nobody@acme.example", roster.RoleNone)
		p := newPKCE()
		code := o.issueCode(t, o.conf, none, []string{"openid", "org.read", "projects.read"}, p.challenge)
		res, body = o.exchange(t, o.conf, code, confRedirect, p.verifier)
		if res.StatusCode != 200 || body["scope"] != "openid" {
			t.Errorf("a NONE member's tokens have scope %v (status %d), want only openid", body["scope"], res.StatusCode)
		}
	})
}

// Attack: expired codes, access tokens and refresh tokens.
func TestAttackExpiredTokens(t *testing.T) {
	onBackends(t, func(t *testing.T, o *oauthEnv) {
		p := newPKCE()
		code := o.issueCode(t, o.conf, o.ann, []string{"openid"}, p.challenge)
		live := o.tokens(t, "openid", "offline_access")
		o.clock.advance(oauth.DefaultCodeTTL + time.Second)
		res, body := o.exchange(t, o.conf, code, confRedirect, p.verifier)
		wantOAuthError(t, res, body, http.StatusBadRequest, "invalid_grant")

		o.clock.advance(oauth.DefaultAccessTokenTTL)
		res, info := o.userinfo(t, live["access_token"].(string))
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(res.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("an expired access token answers %d %v (WWW-Authenticate %q), want 401 invalid_token", res.StatusCode, info, res.Header.Get("WWW-Authenticate"))
		}
		res, intro := o.form(t, "/oauth/introspect", url.Values{"token": {live["access_token"].(string)}}, o.conf.clientID, o.conf.secret)
		if res.StatusCode != 200 || intro["active"] != false {
			t.Errorf("introspecting an expired token = %d %v, want active false", res.StatusCode, intro)
		}
		o.clock.advance(oauth.DefaultRefreshTokenTTL)
		res, body = o.refresh(t, o.conf, live["refresh_token"].(string))
		wantOAuthError(t, res, body, http.StatusBadRequest, "invalid_grant")
	})
}

// Attack: the tokens of a member suspended (or deleted) after they were issued.
func TestAttackTokensOfASuspendedMember(t *testing.T) {
	onBackends(t, func(t *testing.T, o *oauthEnv) {
		p := newPKCE()
		pending := o.issueCode(t, o.conf, o.ann, []string{"openid"}, p.challenge)
		live := o.tokens(t, "openid", "offline_access")
		o.suspend(t, o.ann)
		if res, _ := o.userinfo(t, live["access_token"].(string)); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("a suspended member's access token answers %d at userinfo, want 401", res.StatusCode)
		}
		res, body := o.refresh(t, o.conf, live["refresh_token"].(string))
		wantOAuthError(t, res, body, http.StatusBadRequest, "invalid_grant")
		res, body = o.exchange(t, o.conf, pending, confRedirect, p.verifier)
		wantOAuthError(t, res, body, http.StatusBadRequest, "invalid_grant")

		// Checked at use as well: a token whose member is suspended behind the store's back
		// (no revocation ran) is still refused.
		bob := o.member(t, o.a.orgID, "bob@acme.example", roster.RoleMember)
		p = newPKCE()
		code := o.issueCode(t, o.conf, bob, []string{"openid", "offline_access"}, p.challenge)
		_, tok := o.exchange(t, o.conf, code, confRedirect, p.verifier)
		pb := newPKCE()
		bobPending := o.issueCode(t, o.conf, bob, []string{"openid"}, pb.challenge)
		db := o.st.(interface{ WriteDB() *sql.DB }).WriteDB()
		if _, err := db.ExecContext(t.Context(), `UPDATE users SET status = 'suspended' WHERE id = $1`, bob.ID); err != nil {
			t.Fatal(err)
		}
		res, body = o.exchange(t, o.conf, bobPending, confRedirect, pb.verifier)
		wantOAuthError(t, res, body, http.StatusBadRequest, "invalid_grant")
		if res, _ := o.userinfo(t, tok["access_token"].(string)); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("an unrevoked token of a suspended member answers %d at userinfo, want 401", res.StatusCode)
		}
		res, body = o.refresh(t, o.conf, tok["refresh_token"].(string))
		wantOAuthError(t, res, body, http.StatusBadRequest, "invalid_grant")
		res, intro := o.form(t, "/oauth/introspect", url.Values{"token": {tok["access_token"].(string)}}, o.conf.clientID, o.conf.secret)
		if res.StatusCode != 200 || intro["active"] != false {
			t.Errorf("introspecting a suspended member's token = %d %v, want active false", res.StatusCode, intro)
		}
	})
}

func auditFilter(action string) store.AuditFilter {
	return store.AuditFilter{Action: action, Page: store.Page{Limit: 100}}
}
