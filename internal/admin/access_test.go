package admin_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/events"
	"github.com/rosterhq/roster/internal/keyring/keyringtest"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// fixture is one of everything the console's pages act on, in one organization.
type fixture struct {
	org, member, project, pkey, okey, dir, group, webhook, delivery, link, saml string
}

// makeFixture creates a fresh fixture in org, so that each allowed change has its own
// target.
func makeFixture(t *testing.T, e *env, org *roster.Organization) fixture {
	t.Helper()
	ctx := t.Context()
	actor := roster.SystemActor("test")
	svc := auth.NewService(e.st, auth.Config{})
	f := fixture{org: org.ID}
	m := &roster.Member{OrgID: org.ID, Email: "target-" + roster.NewID()[24:] + "@example.com", Role: roster.RoleMember}
	p := &roster.Project{OrgID: org.ID, Name: "Project " + roster.NewID()}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.st.Tx(ctx, actor, func(tx store.Tx) error {
		if err := tx.CreateMember(ctx, m); err != nil {
			return err
		}
		return tx.CreateProject(ctx, p)
	}))
	f.member, f.project = m.ID, p.ID
	must(e.st.Tx(ctx, actor, func(tx store.Tx) error {
		return tx.SetProjectRoles(ctx, org.ID, []store.ProjectRoleChange{{ProjectID: p.ID, Member: m, Role: roster.RoleViewer, Source: roster.SourceAPI}})
	}))
	pk, _, err := svc.CreateProjectKey(ctx, actor, org.ID, p.ID, auth.KeyRequest{})
	must(err)
	ok, _, err := svc.CreateOrgKeyFrom(ctx, actor, org.ID, auth.KeyRequest{})
	must(err)
	d, _, err := svc.CreateDirectory(ctx, actor, org.ID, "Okta "+roster.NewID()[24:], roster.RoleNone)
	must(err)
	f.pkey, f.okey, f.dir = pk.ID, ok.ID, d.ID
	g := &roster.SCIMGroup{OrgID: org.ID, DirectoryID: d.ID, DisplayName: "Engineering", Resource: []byte(`{}`)}
	must(e.st.Tx(ctx, actor, func(tx store.Tx) error { return tx.CreateSCIMGroup(ctx, g, nil) }))
	f.group = g.ID
	must(e.st.Tx(ctx, actor, func(tx store.Tx) error {
		return tx.ReplaceGroupMappings(ctx, org.ID, d.ID, []roster.GroupRoleMapping{{GroupID: g.ID, Role: roster.RoleMember}})
	}))
	kr := keyringtest.New(t)
	w, _, err := events.NewService(e.st, kr, nil).CreateWebhook(ctx, actor, org.ID, "https://hooks.example.com/roster", nil)
	must(err)
	f.webhook = w.ID
	// One change after the endpoint exists, fanned out into a delivery to redeliver.
	must(e.st.Tx(ctx, actor, func(tx store.Tx) error {
		return tx.CreateProject(ctx, &roster.Project{OrgID: org.ID, Name: "Later " + roster.NewID()})
	}))
	claimed, err := e.st.ClaimWebhooks(ctx, "test", time.Now(), time.Minute, 100)
	must(err)
	for i := range claimed {
		if claimed[i].ID == w.ID {
			_, err := e.st.FanOut(ctx, &claimed[i], "test", 100)
			must(err)
		}
	}
	ds, _, err := e.st.ListDeliveries(ctx, org.ID, w.ID, store.Page{Limit: 1})
	must(err)
	if len(ds) == 0 {
		t.Fatal("the fixture's webhook got no delivery")
	}
	f.delivery = ds[0].ID
	sc := &roster.SAMLConnection{OrgID: org.ID, Name: "Okta " + roster.NewID()[24:], EntityID: "http://www.okta.com/exk1",
		SSOURL: "https://acme.okta.com/app/sso/saml", Certificates: []string{testCertPEM(t)}, Enabled: true}
	must(e.st.Tx(ctx, actor, func(tx store.Tx) error { return tx.CreateSAMLConnection(ctx, sc) }))
	f.saml = sc.ID
	_, link, _, err := e.people.Invite(ctx, actor, org.ID, "invitee-"+roster.NewID()[24:]+"@example.com", "", roster.RoleMember)
	must(err)
	f.link = link.ID
	return f
}

func (f fixture) path(tmpl string) string {
	return strings.NewReplacer("{cert}", certPEM, "{org}", f.org, "{member}", f.member, "{project}", f.project, "{pkey}", f.pkey,
		"{okey}", f.okey, "{dir}", f.dir, "{group}", f.group, "{saml}", f.saml, "{webhook}", f.webhook, "{delivery}", f.delivery, "{link}", f.link).Replace(tmpl)
}

// consoleRoutes are every page and form of /orgs/{orgId}/, with the least role each needs.
var consoleRoutes = []struct {
	method, path string
	form         url.Values
	min          roster.Role
}{
	{"GET", "/orgs/{org}/members", nil, roster.RoleViewer},
	{"GET", "/orgs/{org}/members?q=target&role=MEMBER&source=manual", nil, roster.RoleViewer},
	{"POST", "/orgs/{org}/members/{member}/role", url.Values{"role": {"VIEWER"}}, roster.RoleAdmin},
	{"POST", "/orgs/{org}/members/{member}/reset-link", nil, roster.RoleOwner},
	{"POST", "/orgs/{org}/invitations", url.Values{"email": {"new@example.com"}, "role": {"MEMBER"}}, roster.RoleAdmin},
	{"POST", "/orgs/{org}/invitations/{link}/revoke", nil, roster.RoleAdmin},
	{"GET", "/orgs/{org}/projects", nil, roster.RoleViewer},
	{"POST", "/orgs/{org}/projects", url.Values{"name": {"From the console"}}, roster.RoleAdmin},
	{"GET", "/orgs/{org}/projects/{project}", nil, roster.RoleViewer},
	{"POST", "/orgs/{org}/projects/{project}/rename", url.Values{"name": {"Renamed"}}, roster.RoleAdmin},
	{"POST", "/orgs/{org}/projects/{project}/members", url.Values{"email": {"owner@acme.example"}, "role": {"ADMIN"}}, roster.RoleAdmin},
	{"POST", "/orgs/{org}/projects/{project}/members/{member}/remove", nil, roster.RoleAdmin},
	{"POST", "/orgs/{org}/projects/{project}/keys", url.Values{"note": {"ci"}}, roster.RoleAdmin},
	{"POST", "/orgs/{org}/projects/{project}/keys/{pkey}/rotate", url.Values{"graceSeconds": {"60"}}, roster.RoleAdmin},
	{"POST", "/orgs/{org}/projects/{project}/keys/{pkey}/revoke", nil, roster.RoleAdmin},
	{"GET", "/orgs/{org}/api-keys", nil, roster.RoleViewer},
	{"POST", "/orgs/{org}/api-keys", url.Values{"note": {"ci"}}, roster.RoleAdmin},
	{"POST", "/orgs/{org}/api-keys/{okey}/rotate", url.Values{"graceSeconds": {"0"}}, roster.RoleAdmin},
	{"POST", "/orgs/{org}/api-keys/{okey}/revoke", nil, roster.RoleAdmin},
	{"GET", "/orgs/{org}/scim", nil, roster.RoleViewer},
	{"POST", "/orgs/{org}/scim", url.Values{"name": {"Entra"}, "defaultRole": {"VIEWER"}}, roster.RoleAdmin},
	{"GET", "/orgs/{org}/scim/{dir}", nil, roster.RoleViewer},
	{"POST", "/orgs/{org}/scim/{dir}/regenerate", url.Values{"graceSeconds": {"0"}}, roster.RoleAdmin},
	{"POST", "/orgs/{org}/scim/{dir}/settings", url.Values{"name": {"Okta"}, "defaultRole": {"MEMBER"}, "enabled": {"true"}}, roster.RoleAdmin},
	{"POST", "/orgs/{org}/scim/{dir}/group-mappings", url.Values{"groupId": {"{group}"}, "role": {"VIEWER"}}, roster.RoleAdmin},
	{"POST", "/orgs/{org}/scim/{dir}/group-mappings/remove", url.Values{"groupId": {"{group}"}, "role": {"MEMBER"}}, roster.RoleAdmin},
	{"GET", "/orgs/{org}/sso", nil, roster.RoleViewer},
	{"POST", "/orgs/{org}/sso/saml", url.Values{"name": {"Entra"}, "entityId": {"https://sts.windows.net/t/"}, "ssoUrl": {"https://login.microsoftonline.com/t/saml2"},
		"certificate": {"{cert}"}, "domains": {"acme-corp.example"}}, roster.RoleAdmin},
	{"POST", "/orgs/{org}/sso/saml/{saml}/toggle", url.Values{"enabled": {"false"}}, roster.RoleAdmin},
	{"POST", "/orgs/{org}/sso/enforce", url.Values{"enforced": {""}}, roster.RoleAdmin},
	{"GET", "/orgs/{org}/webhooks", nil, roster.RoleViewer},
	{"POST", "/orgs/{org}/webhooks", url.Values{"url": {"https://hooks.example.com/new"}, "eventTypes": {"user.created"}}, roster.RoleAdmin},
	{"GET", "/orgs/{org}/webhooks/{webhook}", nil, roster.RoleViewer},
	{"POST", "/orgs/{org}/webhooks/{webhook}/toggle", url.Values{"enabled": {"false"}}, roster.RoleAdmin},
	{"POST", "/orgs/{org}/webhooks/{webhook}/rotate-secret", url.Values{"graceSeconds": {"0"}}, roster.RoleAdmin},
	{"POST", "/orgs/{org}/webhooks/{webhook}/deliveries/{delivery}/redeliver", nil, roster.RoleAdmin},
	{"GET", "/orgs/{org}/audit", nil, roster.RoleViewer},
	{"GET", "/orgs/{org}/audit?action=membership.created&from=2020-01-01T00:00", nil, roster.RoleViewer},
	{"GET", "/orgs/{org}/audit/export", nil, roster.RoleViewer},
	{"GET", "/orgs/{org}/account", nil, roster.RoleNone},
	{"POST", "/orgs/{org}/account/totp/begin", nil, roster.RoleNone},
	// Deletions last: they take the fixture's rows with them.
	{"POST", "/orgs/{org}/members/{member}/remove", nil, roster.RoleAdmin},
	{"POST", "/orgs/{org}/scim/{dir}/delete", nil, roster.RoleAdmin},
	{"POST", "/orgs/{org}/sso/saml/{saml}/delete", nil, roster.RoleAdmin},
	{"POST", "/orgs/{org}/webhooks/{webhook}/delete", nil, roster.RoleAdmin},
	{"POST", "/orgs/{org}/projects/{project}/delete", nil, roster.RoleAdmin},
}

// form fills the fixture's ids into a route's form values.
func (f fixture) form(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		for _, x := range vs {
			out.Add(k, f.path(x))
		}
	}
	return out
}

func (b *browser) send(method, path string, form url.Values, site string) (*http.Response, string) {
	b.t.Helper()
	if method == "GET" {
		return b.get(path)
	}
	return b.postFrom(path, form, site)
}

func TestEveryPageAndFormChecksRoleOrganizationAndOrigin(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			e := newEnv(t, be.open(t))
			e.user(t, e.orgA, "owner@acme.example", roster.RoleOwner)
			for _, r := range []roster.Role{roster.RoleAdmin, roster.RoleMember, roster.RoleViewer, roster.RoleNone} {
				e.user(t, e.orgA, strings.ToLower(string(r))+"@acme.example", r)
			}
			e.user(t, e.orgB, "owner@beta.example", roster.RoleOwner)
			as := map[roster.Role]*browser{roster.RoleOwner: e.signedIn(t, "owner@acme.example")}
			for _, r := range []roster.Role{roster.RoleAdmin, roster.RoleMember, roster.RoleViewer, roster.RoleNone} {
				as[r] = e.signedIn(t, strings.ToLower(string(r))+"@acme.example")
			}
			other := e.signedIn(t, "owner@beta.example")
			anonymous := e.browser(t)
			shared := makeFixture(t, e, e.orgA)
			ofB := makeFixture(t, e, e.orgB)

			for _, rt := range consoleRoutes {
				name := rt.method + " " + rt.path
				t.Run(name, func(t *testing.T) {
					for _, r := range []roster.Role{roster.RoleOwner, roster.RoleAdmin, roster.RoleMember, roster.RoleViewer, roster.RoleNone} {
						if r.AtLeast(rt.min) {
							continue
						}
						resp, body := as[r].send(rt.method, shared.path(rt.path), shared.form(rt.form), "same-origin")
						if resp.StatusCode != http.StatusForbidden {
							t.Errorf("a %s member got %d; want 403 (it needs %s):\n%.300s", r, resp.StatusCode, rt.min, body)
						}
					}
					if resp, _ := other.send(rt.method, shared.path(rt.path), shared.form(rt.form), "same-origin"); resp.StatusCode != http.StatusNotFound {
						t.Errorf("an owner of another organization got %d; want 404", resp.StatusCode)
					}
					if strings.Count(rt.path, "{") > 1 {
						// org A's own path naming org B's resources
						mixed := strings.Replace(ofB.path(rt.path), ofB.org, shared.org, 1)
						if resp, _ := as[roster.RoleOwner].send(rt.method, mixed, ofB.form(rt.form), "same-origin"); resp.StatusCode != http.StatusNotFound {
							t.Errorf("org A's owner naming org B's resources (%s) got %d; want 404", mixed, resp.StatusCode)
						}
					}
					resp, _ := anonymous.send(rt.method, shared.path(rt.path), shared.form(rt.form), "same-origin")
					if want := map[string]int{"GET": http.StatusSeeOther, "POST": http.StatusUnauthorized}[rt.method]; resp.StatusCode != want {
						t.Errorf("without a session: %d; want %d", resp.StatusCode, want)
					}
					if rt.method == "GET" && !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
						t.Errorf("without a session the redirect goes to %q; want /login?next=…", resp.Header.Get("Location"))
					}
					if rt.method == "POST" {
						for _, site := range []string{"cross-site", "same-site"} {
							if resp, _ := as[roster.RoleOwner].send(rt.method, shared.path(rt.path), shared.form(rt.form), site); resp.StatusCode != http.StatusForbidden {
								t.Errorf("an owner's form posted from a %s page got %d; want 403", site, resp.StatusCode)
							}
						}
					}
					// The least role that may, on a fresh target: a page or a redirect after the change.
					f := makeFixture(t, e, e.orgA)
					resp, body := as[rt.min].send(rt.method, f.path(rt.path), f.form(rt.form), "same-origin")
					if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusSeeOther {
						t.Errorf("a %s member got %d; want 200 or 303:\n%.600s", rt.min, resp.StatusCode, body)
					}
				})
			}
		})
	}
}

var (
	certOnce sync.Once
	certPEM  string
)

// testCertPEM is a self-signed certificate, as an IdP's signing certificate.
func testCertPEM(t testing.TB) string {
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp.example"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		certPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	})
	return certPEM
}
