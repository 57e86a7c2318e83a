package sso_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/sso"
	"github.com/rosterhq/roster/internal/sso/ssotest"
	"github.com/rosterhq/roster/internal/store"
)

func TestSAMLConnectionManagement(t *testing.T) {
	e := newEnv(t, backends[0].open(t))
	idp := ssotest.NewSAMLIdP(t)
	idp2 := ssotest.NewSAMLIdP(t)
	cases := []struct {
		name string
		body string
		want int
	}{
		{"a connection from a metadata URL is read through the outbound client", `{"name":"Okta","metadataUrl":"` + idp.MetadataURL() + `"}`, 201},
		{"a connection from entity id, SSO URL and two certificates (a rotation) is accepted",
			`{"name":"Manual","entityId":"` + idp.EntityID + `","ssoUrl":"` + idp.SSOURL() + `","certificates":` + jsonString([]string{idp.CertPEM(), idp2.CertPEM()}) + `}`, 201},
		{"a metadata document that is not SAML is refused", `{"name":"x","metadataXml":"<html/>"}`, 400},
		{"a certificate that is not X.509 is refused", `{"name":"x","entityId":"e","ssoUrl":"https://idp.example/sso","certificates":["bm90IGEgY2VydA=="]}`, 400},
		{"a connection without certificates is refused", `{"name":"x","entityId":"e","ssoUrl":"https://idp.example/sso"}`, 400},
		{"an unknown preset is refused", `{"name":"x","metadataXml":` + jsonString(idp.Metadata()) + `,"attributeMapping":{"preset":"acme"}}`, 400},
		{"a body without an IdP is refused", `{"name":"x"}`, 400},
		{"a metadata URL on an unreachable host is refused with a clear error", `{"name":"x","metadataUrl":"http://127.0.0.1:1/md"}`, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body map[string]any
			if code := e.api(t, "POST", "/saml/connections", c.body, &body); code != c.want {
				t.Errorf("got %d %v; want %d", code, body, c.want)
			}
		})
	}
	t.Run("the connection shows what to paste into the IdP", func(t *testing.T) {
		var v sso.SAMLView
		e.api(t, "POST", "/saml/connections", `{"name":"Shown","metadataXml":`+jsonString(idp.Metadata())+`,"domains":["Acme.test"]}`, &v)
		if v.SPEntityID != e.base+"/saml/metadata/"+e.orgID || v.ACSURL != e.base+"/saml/callback" || v.IdPInitACSURL != e.base+"/saml/callback/"+v.ID {
			t.Errorf("view %+v", v)
		}
		if len(v.Domains) != 1 || v.Domains[0].Domain != "acme.test" || v.Domains[0].Challenge == nil ||
			v.Domains[0].Challenge.Name != "_roster-challenge.acme.test" {
			t.Errorf("domains %+v; want acme.test with its TXT challenge", v.Domains)
		}
		var patched sso.SAMLView
		if code := e.api(t, "PATCH", "/saml/connections/"+v.ID, `{"idpInitiated":true,"certificates":`+jsonString([]string{idp.CertPEM(), idp2.CertPEM()})+`}`, &patched); code != 200 ||
			!patched.IdPInitiated || len(patched.Certificates) != 2 || patched.Name != "Shown" {
			t.Errorf("PATCH = %d %+v", code, patched)
		}
	})
	t.Run("another organization's key cannot see or change the connection", func(t *testing.T) {
		var list struct{ Connections []sso.SAMLView }
		e.api(t, "GET", "/saml/connections", "", &list)
		other, err := e.svc.CreateOrganization(t.Context(), roster.SystemActor("t"), "Other")
		if err != nil {
			t.Fatal(err)
		}
		k, sec, _ := e.svc.CreateOrgKey(t.Context(), roster.SystemActor("t"), other.ID, "", nil)
		for _, m := range []string{"PATCH", "DELETE"} {
			req, _ := http.NewRequest(m, e.base+"/saml/connections/"+list.Connections[0].ID, strings.NewReader(`{"name":"x"}`))
			req.SetBasicAuth(k.PublicKey, sec)
			resp, _ := http.DefaultClient.Do(req)
			resp.Body.Close()
			if resp.StatusCode != 404 {
				t.Errorf("%s by another org answered %d; want 404", m, resp.StatusCode)
			}
		}
	})
	t.Run("SP metadata exists before any connection and names our ACS", func(t *testing.T) {
		resp, err := http.Get(e.base + "/saml/metadata/" + e.orgID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`entityID="`+e.base+"/saml/metadata/"+e.orgID+`"`)) ||
			!bytes.Contains(b, []byte(`Location="`+e.base+`/saml/callback"`)) {
			t.Errorf("metadata %d %s", resp.StatusCode, b)
		}
		resp, _ = http.Get(e.base + "/saml/metadata/org_missing")
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("metadata of a missing organization answered %d", resp.StatusCode)
		}
	})
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestEnforcement(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.open(t))
			idp := ssotest.NewSAMLIdP(t)
			var v sso.SAMLView
			if code := e.api(t, "POST", "/saml/connections", `{"name":"Okta","metadataXml":`+jsonString(idp.Metadata())+`,"domains":["acme.test"]}`, &v); code != 201 {
				t.Fatalf("create: %d", code)
			}
			sessions := auth.NewSessions(e.st, auth.SessionConfig{})
			passwordSignIn := func(t *testing.T, email string) error {
				m, err := e.st.GetMemberByEmail(t.Context(), e.orgID, email)
				if err != nil {
					t.Fatal(err)
				}
				_, err = sessions.Start(httptestRecorder(), newReq(), m, roster.SessionPassword, "")
				return err
			}

			t.Run("enforcement without a verified domain is refused, naming the TXT record to publish", func(t *testing.T) {
				var body struct{ Error struct{ Message string } }
				code := e.api(t, "PATCH", "/saml/enforce", `{"enforced":true}`, &body)
				if code != 400 || !strings.Contains(body.Error.Message, "_roster-challenge.acme.test") {
					t.Errorf("got %d %q", code, body.Error.Message)
				}
			})
			t.Run("a published challenge verifies the domain and enforcement turns on", func(t *testing.T) {
				e.dns.set("_roster-challenge.acme.test", "unrelated=1")
				e.dns.set("_roster-challenge.acme.test", v.Domains[0].Challenge.Value)
				var view sso.EnforceView
				if code := e.api(t, "PATCH", "/saml/enforce", `{"enforced":true}`, &view); code != 200 || !view.Enforced ||
					len(view.Domains) != 1 || !view.Domains[0].Verified || view.Domains[0].VerifiedBy != "dns" {
					t.Fatalf("got %d %+v", code, view)
				}
			})
			t.Run("/saml/check says the domain requires SSO and where to start", func(t *testing.T) {
				resp, err := http.Get(e.base + "/saml/check?email=Someone@ACME.test")
				if err != nil {
					t.Fatal(err)
				}
				var res sso.CheckResult
				json.NewDecoder(resp.Body).Decode(&res)
				resp.Body.Close()
				if !res.SSORequired || res.OrgID != e.orgID || res.ConnectionID != v.ID ||
					res.AuthorizeURL != e.base+"/saml/authorize/"+e.orgID+"?connection="+v.ID {
					t.Errorf("check = %+v", res)
				}
				resp, _ = http.Get(e.base + "/saml/check?email=someone@elsewhere.test")
				res = sso.CheckResult{}
				json.NewDecoder(resp.Body).Decode(&res)
				resp.Body.Close()
				if res.SSORequired || res.SSOAvailable || res.OrgID != "" {
					t.Errorf("check of an unclaimed domain = %+v", res)
				}
			})
			t.Run("a password sign-in of an enforced domain never becomes a session", func(t *testing.T) {
				if err := passwordSignIn(t, "ada@acme.test"); roster.KindOf(err) != roster.Forbidden {
					t.Errorf("password sign-in under enforcement: %v; want Forbidden", err)
				}
			})
			t.Run("another organization cannot verify the same domain", func(t *testing.T) {
				other, _ := e.svc.CreateOrganization(t.Context(), roster.SystemActor("t"), "Squatter")
				err := e.st.Tx(t.Context(), roster.SystemActor("t"), func(tx store.Tx) error {
					if err := tx.SetConnectionDomains(t.Context(), other.ID, "", []string{"acme.test"}, func(string) string { return "x" }); err != nil {
						return err
					}
					return tx.VerifyDomain(t.Context(), other.ID, "acme.test", "dns")
				})
				if roster.KindOf(err) != roster.Conflict {
					t.Errorf("second verification: %v; want Conflict", err)
				}
			})
			t.Run("the break-glass turns enforcement off and password sign-in works again", func(t *testing.T) {
				if err := sso.New(sso.Config{Store: e.st}).DisableEnforcement(t.Context(), roster.SystemActor("cli"), e.orgID); err != nil {
					t.Fatal(err)
				}
				if err := passwordSignIn(t, "ada@acme.test"); err != nil {
					t.Errorf("password sign-in after the break-glass: %v", err)
				}
			})
			t.Run("the instance admin can verify a domain for an organization without DNS access", func(t *testing.T) {
				e.api(t, "PATCH", "/saml/connections/"+v.ID, `{"domains":["acme.test","acme-corp.test"]}`, nil)
				req, _ := http.NewRequest("POST", e.base+"/api/admin/organizations/"+e.orgID+"/sso/domains/acme-corp.test/verify", nil)
				req.Header.Set("Authorization", "Bearer "+e.adminKey)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var view sso.EnforceView
				json.NewDecoder(resp.Body).Decode(&view)
				resp.Body.Close()
				verified := map[string]string{}
				for _, d := range view.Domains {
					verified[d.Domain] = d.VerifiedBy
				}
				if resp.StatusCode != 200 || verified["acme-corp.test"] != "admin" || verified["acme.test"] != "dns" {
					t.Errorf("got %d %+v", resp.StatusCode, view)
				}
			})
		})
	}
}

func httptestRecorder() http.ResponseWriter { return httptest.NewRecorder() }

func newReq() *http.Request { return httptest.NewRequest("POST", "/login", nil) }
