package admin_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// idpMetadata is an IdP's SAML metadata document, as an admin downloads it from its IdP.
func idpMetadata(cert string) string {
	body := strings.Join(strings.Split(strings.TrimSpace(cert), "\n")[1:len(strings.Split(strings.TrimSpace(cert), "\n"))-1], "")
	return fmt.Sprintf(`<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="http://www.okta.com/exkTEST">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://acme.okta.com/app/exkTEST/sso/saml"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`, body)
}

func TestSSOPage(t *testing.T) {
	e := newEnv(t, backends[0].open(t))
	e.user(t, e.orgA, "admin@acme.example", roster.RoleAdmin)
	e.user(t, e.orgA, "viewer@acme.example", roster.RoleViewer)
	admin := e.signedIn(t, "admin@acme.example")
	base := "/orgs/" + e.orgA.ID + "/sso"

	t.Run("the values to paste are there before any connection", func(t *testing.T) {
		_, page := e.signedIn(t, "viewer@acme.example").get(base)
		for _, want := range []string{e.srv.URL + "/saml/callback", e.srv.URL + "/saml/metadata/" + e.orgA.ID, e.srv.URL + "/oidc/callback"} {
			if !strings.Contains(page, want) {
				t.Errorf("the SSO page lacks %s", want)
			}
		}
		if strings.Contains(page, `action="`+base+`/saml"`) {
			t.Error("a viewer sees the form to add a connection")
		}
	})
	t.Run("a SAML connection from an uploaded metadata file", func(t *testing.T) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("name", "Okta")
		mw.WriteField("domains", "acme.example")
		fw, _ := mw.CreateFormFile("metadataFile", "okta.xml")
		fw.Write([]byte(idpMetadata(testCertPEM(t))))
		mw.Close()
		req, _ := http.NewRequest("POST", e.srv.URL+base+"/saml", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, body := admin.do(req)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("upload: %d %s", resp.StatusCode, body)
		}
		_, page := admin.get(base)
		if !strings.Contains(page, "http://www.okta.com/exkTEST") || !strings.Contains(page, "acme.example") || !strings.Contains(page, "_roster-challenge.acme.example") {
			t.Errorf("the page does not show the connection, its domain and the DNS record to publish:\n%s", page)
		}
	})
	t.Run("bad input is a 400, never a 500", func(t *testing.T) {
		for name, form := range map[string]url.Values{
			"no IdP description":       {"name": {"X"}},
			"a certificate that isn't": {"name": {"X"}, "entityId": {"urn:x"}, "ssoUrl": {"https://idp.example/sso"}, "certificate": {"hello"}},
			"broken metadata":          {"name": {"X"}, "metadataXml": {"<md:EntityDescriptor"}},
		} {
			if resp, _ := admin.post(base+"/saml", form); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: %d; want 400", name, resp.StatusCode)
			}
		}
		resp, _ := admin.post(base+"/oidc", url.Values{"name": {"G"}, "issuer": {"http://127.0.0.1:1/"}, "clientId": {"c"}, "clientSecret": {"s"}})
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("an OIDC issuer that cannot be reached (loopback) got %d; want a 4xx", resp.StatusCode)
		}
	})
	t.Run("enforcement needs a verified domain, then password sign-in is refused and SSO offered", func(t *testing.T) {
		if resp, _ := admin.post(base+"/enforce", url.Values{"enforced": {"true"}}); resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("enforcing without a verified domain got %d; want a 4xx", resp.StatusCode)
		}
		if err := e.st.Tx(t.Context(), roster.SystemActor("test"), func(tx store.Tx) error {
			return tx.VerifyDomain(t.Context(), e.orgA.ID, "acme.example", "admin")
		}); err != nil {
			t.Fatal(err)
		}
		if resp, _ := admin.post(base+"/enforce", url.Values{"enforced": {"true"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("enforce: %d", resp.StatusCode)
		}
		if _, page := admin.get(base); !strings.Contains(page, "enforced</span>") {
			t.Error("the page does not say SSO is enforced")
		}
		resp, body := e.browser(t).post("/login", url.Values{"email": {"viewer@acme.example"}, "password": {password}})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Sign in through SSO") || len(resp.Cookies()) != 0 {
			t.Errorf("a password sign-in where SSO is enforced: %d, cookies %v; want 403 offering SSO", resp.StatusCode, resp.Cookies())
		}
		resp, _ = e.browser(t).get("/login/sso?email=" + url.QueryEscape("viewer@acme.example"))
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, e.srv.URL+"/saml/authorize/"+e.orgA.ID+"?connection=") {
			t.Errorf("/login/sso = %d to %q; want the SAML authorize URL of Acme's connection", resp.StatusCode, loc)
		}
		if resp, _ := e.browser(t).get("/login/sso?email=" + url.QueryEscape("someone@elsewhere.example")); resp.StatusCode != http.StatusNotFound {
			t.Errorf("/login/sso for a domain without SSO got %d; want 404", resp.StatusCode)
		}
		if resp, _ := admin.post(base+"/enforce", url.Values{"enforced": {"false"}}); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("stop enforcing: %d", resp.StatusCode)
		}
	})
}
