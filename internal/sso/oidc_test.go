package sso_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/sso/ssotest"
)

// oidcConnection registers provider p for the organization.
func (e *env) oidcConnection(t *testing.T, p *ssotest.OIDCProvider, extra string) string {
	t.Helper()
	body := `{"name":"Test OIDC","issuer":"` + p.Issuer() + `","clientId":"` + p.ClientID + `","clientSecret":"` + p.ClientSecret + `"`
	if extra != "" {
		body += "," + extra
	}
	body += "}"
	var v struct {
		ID          string `json:"id"`
		RedirectURI string `json:"redirectUri"`
		Secret      string `json:"clientSecret"`
	}
	if code := e.api(t, "POST", "/oidc/connections", body, &v); code != 201 {
		t.Fatalf("creating the OIDC connection: %d", code)
	}
	if v.RedirectURI != e.base+"/oidc/callback" || v.Secret != "" {
		t.Errorf("connection shows redirectUri %q and secret %q; want our callback and no secret", v.RedirectURI, v.Secret)
	}
	return v.ID
}

// oidcLogin runs a whole login in a redirect-following browser and returns where it ended.
func (e *env) oidcLogin(t *testing.T, c *http.Client, connID string) *http.Response {
	t.Helper()
	resp, err := c.Get(e.base + "/oidc/authorize/" + e.orgID + "?connection=" + connID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestOIDCLogin(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.open(t))
			p := ssotest.NewOIDCProvider(t)
			p.SetEmail("ada@acme.test")
			conn := e.oidcConnection(t, p, "")

			t.Run("the code flow with PKCE, state and nonce signs the member in", func(t *testing.T) {
				c := followingBrowser(t)
				resp := e.oidcLogin(t, c, conn)
				if resp.StatusCode != 200 || resp.Request.URL.Path != "/session" {
					t.Fatalf("login ended at %s with %d; want 200 at /session", resp.Request.URL, resp.StatusCode)
				}
				if code, who := e.whoami(t, c); code != 200 || who["email"] != "ada@acme.test" || who["id"] != e.memberID {
					t.Errorf("GET /session = %d %v", code, who)
				}
			})
			t.Run("after the provider rotates its key, the new key's tokens verify (the JWKS is read again)", func(t *testing.T) {
				fetches := p.JWKSFetches
				p.Rotate(t)
				c := followingBrowser(t)
				if resp := e.oidcLogin(t, c, conn); resp.StatusCode != 200 {
					t.Fatalf("login after rotation ended with %d", resp.StatusCode)
				}
				if p.JWKSFetches <= fetches {
					t.Errorf("JWKS fetched %d times, before %d: an unknown kid must refresh it", p.JWKSFetches, fetches)
				}
			})
			t.Run("a callback in a browser that did not start the login is refused", func(t *testing.T) {
				starter := browser(t)
				resp, err := starter.Get(e.base + "/oidc/authorize/" + e.orgID + "?connection=" + conn)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				// The provider's redirect back, opened in the victim's browser.
				toIdP := resp.Header.Get("Location")
				idpResp, err := browser(t).Get(toIdP)
				if err != nil {
					t.Fatal(err)
				}
				idpResp.Body.Close()
				victim := browser(t)
				cb, err := victim.Get(idpResp.Header.Get("Location"))
				if err != nil {
					t.Fatal(err)
				}
				cb.Body.Close()
				if cb.StatusCode != 400 {
					t.Errorf("callback without the state cookie answered %d; want 400", cb.StatusCode)
				}
				if code, _ := e.whoami(t, victim); code != 401 {
					t.Errorf("the victim got a session")
				}
			})
		})
	}
}

// TestOIDCAttacks: each bad ID token is refused, starts no session, and is audited.
func TestOIDCAttacks(t *testing.T) {
	cases := []struct {
		name   string
		reason string
		setup  func(p *ssotest.OIDCProvider)
	}{
		{"an ID token with another login's nonce is refused", "nonce_mismatch", func(p *ssotest.OIDCProvider) {
			p.Tamper = func(c map[string]any) { c["nonce"] = "n_someone-else" }
		}},
		{"an ID token without a nonce is refused", "nonce_mismatch", func(p *ssotest.OIDCProvider) {
			p.Tamper = func(c map[string]any) { delete(c, "nonce") }
		}},
		{"an ID token issued to another client is refused", "wrong_audience", func(p *ssotest.OIDCProvider) {
			p.Tamper = func(c map[string]any) { c["aud"] = "another-client" }
		}},
		{"an ID token signed with a key id the provider never published is refused", "signature_invalid", func(p *ssotest.OIDCProvider) {
			p.SignWithUnpublishedKey = true
		}},
		{"an expired ID token is refused", "expired", func(p *ssotest.OIDCProvider) {
			p.Tamper = func(c map[string]any) { c["exp"] = time.Now().Add(-10 * time.Minute).Unix() }
		}},
		{"an ID token from another issuer is refused", "wrong_issuer", func(p *ssotest.OIDCProvider) {
			p.Tamper = func(c map[string]any) { c["iss"] = "https://evil.example" }
		}},
		{"an ID token whose email the provider has not verified is refused", "email_unverified", func(p *ssotest.OIDCProvider) {
			p.Tamper = func(c map[string]any) { c["email_verified"] = false }
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.open(t))
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					p := ssotest.NewOIDCProvider(t)
					p.SetEmail("ada@acme.test")
					conn := e.oidcConnection(t, p, "")
					c.setup(p)
					br := followingBrowser(t)
					resp := e.oidcLogin(t, br, conn)
					if resp.StatusCode < 400 {
						t.Fatalf("login answered %d at %s; want a refusal", resp.StatusCode, resp.Request.URL)
					}
					if code, _ := e.whoami(t, br); code != 401 {
						t.Errorf("GET /session = %d after a refused login; want 401", code)
					}
					if r := e.refusals(t); len(r) == 0 || r[0] != c.reason {
						t.Errorf("newest refusal reasons %v; want %q", r, c.reason)
					}
				})
			}
		})
	}
}

func TestOIDCConnectionManagement(t *testing.T) {
	e := newEnv(t, backends[0].open(t))
	p := ssotest.NewOIDCProvider(t)
	cases := []struct {
		name, body string
		want       int
	}{
		{"an issuer without discovery is refused", `{"name":"x","issuer":"` + p.Issuer() + `/nope","clientId":"c","clientSecret":"s"}`, 400},
		{"a missing client secret is refused", `{"name":"x","issuer":"` + p.Issuer() + `","clientId":"c"}`, 400},
		{"a non-URL issuer is refused", `{"name":"x","issuer":"not a url","clientId":"c","clientSecret":"s"}`, 400},
		{"a bad domain is refused", `{"name":"x","issuer":"` + p.Issuer() + `","clientId":"c","clientSecret":"s","domains":["*.acme.test"]}`, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body map[string]any
			if code := e.api(t, "POST", "/oidc/connections", c.body, &body); code != c.want {
				t.Errorf("got %d %v; want %d", code, body, c.want)
			}
		})
	}
	t.Run("the client secret is stored encrypted and never shown", func(t *testing.T) {
		id := e.oidcConnection(t, p, "")
		c, err := e.st.GetOIDCConnection(t.Context(), e.orgID, id)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(c.ClientSecretEnc, p.ClientSecret) || c.ClientSecretEnc == "" {
			t.Errorf("stored secret %q is not encrypted", c.ClientSecretEnc)
		}
		var list struct {
			Connections []map[string]any `json:"connections"`
		}
		e.api(t, "GET", "/oidc/connections", "", &list)
		b, _ := json.Marshal(list)
		if strings.Contains(string(b), p.ClientSecret) || strings.Contains(string(b), c.ClientSecretEnc) {
			t.Errorf("the listing shows the secret: %s", b)
		}
		var del map[string]any
		if code := e.api(t, "DELETE", "/oidc/connections/"+url.PathEscape(id), "", &del); code != 200 {
			t.Errorf("delete answered %d", code)
		}
	})
}
