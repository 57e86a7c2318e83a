package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/roster"
)

var oauthAppShape = map[string]any{"id": "string", "clientId": "string", "clientSecret": "string", "name": "string",
	"redirectUris": []any{"string"}, "scopes": []any{"string", "string"}, "pkceRequired": "bool", "public": "bool",
	"allowedOrigins": []any{}, "idTokenSigningAlg": "string", "createdAt": "time", "updatedAt": "time"}

func TestOAuthAppManagement(t *testing.T) {
	onBackends(t, func(t *testing.T, o *oauthEnv) {
		basicA, basicB := basicAuth(o.a.pk, o.a.sk), basicAuth(o.b.pk, o.b.sk)
		created := o.json(t, http.StatusCreated, "POST", "/oauth/apps", basicA,
			`{"name":"Billing","redirectUris":["https://billing.example/cb"],"scopes":["openid","email"]}`)
		if diff := cmp.Diff(oauthAppShape, shapeOf(created)); diff != "" {
			t.Errorf("created app shape (-want +got):\n%s", diff)
		}
		id, secret := created["id"].(string), created["clientSecret"].(string)
		if !strings.HasPrefix(secret, "roster_cs_") || created["pkceRequired"] != true || created["idTokenSigningAlg"] != "RS256" {
			t.Errorf("created app %v: want a roster_cs_ secret, PKCE required and RS256 by default", created)
		}
		got := o.json(t, http.StatusOK, "GET", "/oauth/apps/"+id, basicA, "")
		if _, shown := got["clientSecret"]; shown {
			t.Errorf("GET shows the client secret again: %v", got)
		}
		list := o.json(t, http.StatusOK, "GET", "/oauth/apps", basicA, "")
		if n := len(list["data"].([]any)); n != 3 {
			t.Errorf("%d apps listed, want 3", n)
		}
		patched := o.json(t, http.StatusOK, "PATCH", "/oauth/apps/"+id, basicA,
			`{"redirectUris":["https://billing.example/cb","https://billing.example/cb2"],"allowedOrigins":["https://billing.example"],"idTokenSigningAlg":"ES256"}`)
		if len(patched["redirectUris"].([]any)) != 2 || patched["idTokenSigningAlg"] != "ES256" || patched["name"] != "Billing" {
			t.Errorf("patched app %v", patched)
		}

		for _, c := range []struct {
			name, method, path, authz, body string
			status                          int
			code                            string
		}{
			{"a name already used is 409", "POST", "/oauth/apps", basicA, `{"name":"billing","redirectUris":["https://x.example/cb"]}`, 409, "conflict"},
			{"no redirect URI is 400", "POST", "/oauth/apps", basicA, `{"name":"X"}`, 400, "invalid"},
			{"plain http to a public host is 400", "POST", "/oauth/apps", basicA, `{"name":"X","redirectUris":["http://x.example/cb"]}`, 400, "invalid"},
			{"a wildcard redirect URI is 400", "POST", "/oauth/apps", basicA, `{"name":"X","redirectUris":["https://*.x.example/cb"]}`, 400, "invalid"},
			{"a redirect URI with a fragment is 400", "POST", "/oauth/apps", basicA, `{"name":"X","redirectUris":["https://x.example/cb#f"]}`, 400, "invalid"},
			{"an unknown scope is 400", "POST", "/oauth/apps", basicA, `{"name":"X","redirectUris":["https://x.example/cb"],"scopes":["admin"]}`, 400, "invalid"},
			{"a public app without PKCE is 400", "POST", "/oauth/apps", basicA, `{"name":"X","public":true,"pkceRequired":false,"redirectUris":["https://x.example/cb"]}`, 400, "invalid"},
			{"an origin with a path is 400", "PATCH", "/oauth/apps/" + id, basicA, `{"allowedOrigins":["https://x.example/app"]}`, 400, "invalid"},
			{"an unknown algorithm is 400", "PATCH", "/oauth/apps/" + id, basicA, `{"idTokenSigningAlg":"HS256"}`, 400, "invalid"},
			{"org B cannot read A's app", "GET", "/oauth/apps/" + id, basicB, "", 404, "not_found"},
			{"org B cannot change A's app", "PATCH", "/oauth/apps/" + id, basicB, `{"name":"Stolen"}`, 404, "not_found"},
			{"org B cannot rotate A's secret", "POST", "/oauth/apps/" + id + "/rotate-secret", basicB, "", 404, "not_found"},
			{"org B cannot delete A's app", "DELETE", "/oauth/apps/" + id, basicB, "", 404, "not_found"},
			{"no credentials is 401", "GET", "/oauth/apps", "", "", 401, "unauthenticated"},
			{"a directory token is 401", "GET", "/oauth/apps", "Bearer " + o.a.token, "", 401, "unauthenticated"},
			{"a negative grace is 400", "POST", "/oauth/apps/" + id + "/rotate-secret", basicA, `{"graceSeconds":-1}`, 400, "invalid"},
		} {
			t.Run(c.name, func(t *testing.T) {
				res, raw := o.do(t, c.method, c.path, c.authz, c.body)
				if res.StatusCode != c.status {
					t.Fatalf("answered %d, want %d: %s", res.StatusCode, c.status, raw)
				}
				checkError(t, res, raw, false, c.code)
			})
		}
		if list := o.json(t, http.StatusOK, "GET", "/oauth/apps", basicB, ""); len(list["data"].([]any)) != 0 {
			t.Errorf("org B lists A's apps: %v", list)
		}

		// Rotation with a grace period: both secrets work until it ends, then only the new one.
		app := oauthClient{id: id, clientID: created["clientId"].(string), secret: secret, redirect: "https://billing.example/cb"}
		rotated := o.json(t, http.StatusOK, "POST", "/oauth/apps/"+id+"/rotate-secret", basicA, `{"graceSeconds":60}`)
		next := app
		next.secret = rotated["clientSecret"].(string)
		if next.secret == secret || rotated["previousSecretExpiresAt"] == nil {
			t.Fatalf("rotation answered %v", rotated)
		}
		authWorks := func(c oauthClient) bool {
			res, body := o.form(t, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, c.clientID, c.secret)
			return res.StatusCode == 400 && body["error"] == "invalid_grant" // authenticated, then refused the bogus grant
		}
		if !authWorks(app) || !authWorks(next) {
			t.Errorf("during the grace period: old secret works %v, new %v; want both", authWorks(app), authWorks(next))
		}
		o.clock.advance(61 * time.Second)
		if authWorks(app) || !authWorks(next) {
			t.Errorf("after the grace period: old secret works %v, new %v; want only the new", authWorks(app), authWorks(next))
		}
		now := o.json(t, http.StatusOK, "POST", "/oauth/apps/"+id+"/rotate-secret", basicA, "")
		if authWorks(next) {
			t.Errorf("a rotation without grace left the previous secret working")
		}
		next.secret = now["clientSecret"].(string)
		if !authWorks(next) {
			t.Errorf("the newest secret does not work")
		}
		if res, raw := o.do(t, "POST", "/oauth/apps/"+o.pub.id+"/rotate-secret", basicA, ""); res.StatusCode != 400 {
			t.Errorf("rotating a public app's secret answered %d %s, want 400", res.StatusCode, raw)
		}

		// Deleting the app ends its tokens.
		tok := o.tokens(t, "openid")
		if res, raw := o.do(t, "DELETE", "/oauth/apps/"+o.conf.id, basicA, ""); res.StatusCode != 200 {
			t.Fatalf("delete answered %d %s", res.StatusCode, raw)
		}
		if res, _ := o.userinfo(t, tok["access_token"].(string)); res.StatusCode != 401 {
			t.Errorf("a deleted app's token answers %d at userinfo, want 401", res.StatusCode)
		}
		recs, _, _ := o.st.ListAudit(t.Context(), o.a.orgID, auditFilter("oauth_app.secret_rotated"))
		if len(recs) != 2 || strings.Contains(string(recs[0].After), "roster_cs_") {
			t.Errorf("secret rotation audit: %d records, after %s", len(recs), recs[0].After)
		}
	})
}

func TestDiscoveryAndJWKS(t *testing.T) {
	onBackends(t, func(t *testing.T, o *oauthEnv) {
		d := o.json(t, http.StatusOK, "GET", "/.well-known/openid-configuration", "", "")
		want := map[string]any{
			"issuer":                                testBaseURL,
			"authorization_endpoint":                testBaseURL + "/oauth/authorize",
			"token_endpoint":                        testBaseURL + "/oauth/token",
			"userinfo_endpoint":                     testBaseURL + "/oauth/userinfo",
			"jwks_uri":                              testBaseURL + "/oauth/jwks",
			"revocation_endpoint":                   testBaseURL + "/oauth/revoke",
			"introspection_endpoint":                testBaseURL + "/oauth/introspect",
			"scopes_supported":                      []any{"openid", "profile", "email", "offline_access", "user.read", "org.read", "projects.read"},
			"response_types_supported":              []any{"code"},
			"grant_types_supported":                 []any{"authorization_code", "refresh_token"},
			"code_challenge_methods_supported":      []any{"S256"},
			"token_endpoint_auth_methods_supported": []any{"client_secret_basic", "client_secret_post", "none"},
			"id_token_signing_alg_values_supported": []any{"RS256", "ES256"},
			"subject_types_supported":               []any{"public"},
		}
		for k, v := range want {
			if diff := cmp.Diff(v, d[k]); diff != "" {
				t.Errorf("discovery %s (-want +got):\n%s", k, diff)
			}
		}

		// Rotation: a token signed before it still verifies against the JWKS, which now holds
		// the old and the new key of the algorithm.
		before := o.tokens(t, "openid")["id_token"].(string)
		kidBefore := jwsKid(t, before)
		if err := o.provider.Keys.Rotate(t.Context(), roster.AlgRS256); err != nil {
			t.Fatal(err)
		}
		after := o.tokens(t, "openid")["id_token"].(string)
		if jwsKid(t, after) == kidBefore {
			t.Errorf("tokens are still signed with the rotated-out key")
		}
		kids := jwksKids(t, o)
		if !kids[kidBefore] || !kids[jwsKid(t, after)] || len(kids) != 3 {
			t.Errorf("JWKS kids %v: want the retired and the new RS256 key and the ES256 key", kids)
		}
		// Once the retired key's tokens have expired, it leaves the JWKS.
		o.clock.advance(oauth2IDTokenTTL + 10*time.Minute)
		if kids := jwksKids(t, o); kids[kidBefore] || len(kids) != 2 {
			t.Errorf("JWKS kids after the retired key's tokens expired: %v", kids)
		}
	})
}

func TestCORSForPublicClients(t *testing.T) {
	onBackends(t, func(t *testing.T, o *oauthEnv) {
		for _, c := range []struct {
			origin string
			want   string
		}{{appOrigin, appOrigin}, {"https://evil.example", ""}} {
			res, _ := o.do(t, "OPTIONS", "/oauth/token", "", "", "Origin", c.origin, "Access-Control-Request-Method", "POST")
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != c.want || res.StatusCode != 204 {
				t.Errorf("preflight from %s: %d, Allow-Origin %q; want %q", c.origin, res.StatusCode, got, c.want)
			}
		}
		p := newPKCE()
		code := o.issueCode(t, o.pub, o.ann, []string{"openid"}, p.challenge)
		v := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {pubRedirect}, "code_verifier": {p.verifier}, "client_id": {o.pub.clientID}}
		res, body := o.form(t, "/oauth/token", v, "", "", "Origin", appOrigin)
		if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != appOrigin {
			t.Fatalf("token from the app's origin: %d %v, Allow-Origin %q", res.StatusCode, body, res.Header.Get("Access-Control-Allow-Origin"))
		}
		res, _ = o.userinfo(t, body["access_token"].(string), "Origin", appOrigin)
		if res.Header.Get("Access-Control-Allow-Origin") != appOrigin {
			t.Errorf("userinfo from the app's origin: Allow-Origin %q", res.Header.Get("Access-Control-Allow-Origin"))
		}
		// The confidential app allows no origin: its responses are not readable cross-origin.
		tok := o.tokens(t, "openid")
		res, _ = o.userinfo(t, tok["access_token"].(string), "Origin", appOrigin)
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("another app's token readable from %s: Allow-Origin %q", appOrigin, got)
		}
	})
}

func TestRevocationAndIntrospection(t *testing.T) {
	onBackends(t, func(t *testing.T, o *oauthEnv) {
		other := o.createApp(t, `{"name":"Resource server","redirectUris":["`+confRedirect+`"]}`, confRedirect)
		tok := o.tokens(t, "openid", "email", "offline_access")
		access := tok["access_token"].(string)
		introspect := func(c oauthClient, token string) map[string]any {
			res, body := o.form(t, "/oauth/introspect", url.Values{"token": {token}}, c.clientID, c.secret)
			if res.StatusCode != 200 {
				t.Fatalf("introspection answered %d %v", res.StatusCode, body)
			}
			return body
		}
		got := introspect(o.conf, access)
		if got["active"] != true || got["sub"] != o.ann.ID || got["client_id"] != o.conf.clientID || got["scope"] != "openid email offline_access" ||
			got["org_id"] != o.a.orgID || got["token_type"] != "Bearer" {
			t.Errorf("introspection by the holder: %v", got)
		}
		if got := introspect(other, access); got["active"] != false || len(got) != 1 {
			t.Errorf("introspection by another app: %v, want only active false", got)
		}
		if got := introspect(o.conf, "roster_at_unknown"); got["active"] != false {
			t.Errorf("introspection of an unknown token: %v", got)
		}
		res, body := o.form(t, "/oauth/introspect", url.Values{"token": {access}, "client_id": {o.pub.clientID}}, "", "")
		wantOAuthError(t, res, body, http.StatusUnauthorized, "invalid_client")

		revoke := func(c oauthClient, token string) int {
			res, _ := o.form(t, "/oauth/revoke", url.Values{"token": {token}}, c.clientID, c.secret)
			return res.StatusCode
		}
		if s := revoke(o.conf, "roster_at_unknown"); s != 200 {
			t.Errorf("revoking an unknown token answered %d, want 200", s)
		}
		if s := revoke(other, access); s != 200 || introspect(o.conf, access)["active"] != true {
			t.Errorf("another app revoking the token: %d, and it must stay active", s)
		}
		if s := revoke(o.conf, access); s != 200 || introspect(o.conf, access)["active"] != false {
			t.Errorf("the holder revoking the access token: %d, and it must be inactive", s)
		}
		if s := revoke(o.conf, access); s != 200 {
			t.Errorf("revoking again answered %d, want 200 (idempotent)", s)
		}
		// The refresh token of the grant is still usable: revoking an access token does not
		// end the grant; revoking the refresh token does.
		res, fresh := o.refresh(t, o.conf, tok["refresh_token"].(string))
		if res.StatusCode != 200 {
			t.Fatalf("refresh after revoking the access token: %d %v", res.StatusCode, fresh)
		}
		if s := revoke(o.conf, fresh["refresh_token"].(string)); s != 200 || introspect(o.conf, fresh["access_token"].(string))["active"] != false {
			t.Errorf("revoking the refresh token left the grant's access token active")
		}
		res, body = o.form(t, "/oauth/revoke", url.Values{"token": {access}}, o.conf.clientID, "wrong")
		wantOAuthError(t, res, body, http.StatusUnauthorized, "invalid_client")
		res, body = o.form(t, "/oauth/revoke", url.Values{"token": {access}, "token_type_hint": {"id_token"}}, o.conf.clientID, o.conf.secret)
		wantOAuthError(t, res, body, http.StatusBadRequest, "unsupported_token_type")
	})
}

func TestUserinfoNeedsAnOpenIDOrUserReadToken(t *testing.T) {
	onBackends(t, func(t *testing.T, o *oauthEnv) {
		userRead := o.tokens(t, "user.read", "email")
		if res, info := o.userinfo(t, userRead["access_token"].(string)); res.StatusCode != 200 || info["email"] != o.ann.Email {
			t.Errorf("userinfo with user.read: %d %v", res.StatusCode, info)
		}
		orgOnly := o.tokens(t, "org.read")
		res, _ := o.userinfo(t, orgOnly["access_token"].(string))
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
			t.Errorf("userinfo with org.read only: %d, WWW-Authenticate %q; want 403 insufficient_scope", res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
		res, _ = o.do(t, "GET", "/oauth/userinfo", "", "")
		if res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") != `Bearer realm="roster"` {
			t.Errorf("userinfo without a token: %d, WWW-Authenticate %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
		refreshTok := o.tokens(t, "openid", "offline_access")["refresh_token"].(string)
		if res, _ := o.userinfo(t, refreshTok); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("userinfo with a refresh token answered %d, want 401", res.StatusCode)
		}
	})
}

// jwsKid is the key id of a compact JWS.
func jwsKid(t *testing.T, raw string) string {
	t.Helper()
	_, kid := jwsHeader(t, raw)
	return kid
}

func jwksKids(t *testing.T, o *oauthEnv) map[string]bool {
	t.Helper()
	res, raw := o.do(t, "GET", "/oauth/jwks", "", "")
	if res.StatusCode != 200 {
		t.Fatalf("JWKS answered %d", res.StatusCode)
	}
	var set struct {
		Keys []struct {
			Kid, Alg, Use string
		} `json:"keys"`
	}
	if err := jsonUnmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, k := range set.Keys {
		out[k.Kid] = true
	}
	return out
}

const oauth2IDTokenTTL = time.Hour
