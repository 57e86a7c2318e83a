package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// Single sign-on: connections, domains, enforcement, login state and the replay cache.
func init() {
	cases = append(cases, []storeCase{
		{"SAML and OIDC connections read back, update and delete, each audited", ssoConnections},
		{"org B neither sees nor changes org A's connections, domains and settings", isolationSSO},
		{"a domain verified by one organization cannot be verified by another", ssoDomainOneOrg},
		{"a login state is consumed once and not after it expires", ssoLoginStateOnce},
		{"an assertion id is accepted once per connection", ssoReplayCache},
		{"a password session is refused for a verified domain the organization enforces SSO on", ssoEnforcedPassword},
	}...)
}

func samlConn(orgID string) *roster.SAMLConnection {
	return &roster.SAMLConnection{OrgID: orgID, Name: "Okta", EntityID: "http://idp.example/entity", SSOURL: "https://idp.example/sso",
		Certificates: []string{"-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----"}, Enabled: true,
		AttributeMapping: roster.AttributeMapping{Preset: "okta"}}
}

func ssoConnections(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "acme")
	c := samlConn(org.ID)
	tx(t, s, func(tx store.Tx) error { return tx.CreateSAMLConnection(ctx, c) })
	got, err := s.GetSAMLConnection(ctx, org.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("SAML connection read back differs:\n%s", diff)
	}
	if byID, err := s.LookupSAMLConnection(ctx, c.ID); err != nil || byID.OrgID != org.ID {
		t.Errorf("LookupSAMLConnection = %+v, %v; want the connection of %s", byID, err, org.ID)
	}
	c.Certificates = append(c.Certificates, "second")
	c.IdPInitiated = true
	tx(t, s, func(tx store.Tx) error { return tx.UpdateSAMLConnection(ctx, c) })
	list, _ := s.ListSAMLConnections(ctx, org.ID)
	if len(list) != 1 || len(list[0].Certificates) != 2 || !list[0].IdPInitiated {
		t.Errorf("after update: %+v", list)
	}
	o := &roster.OIDCConnection{OrgID: org.ID, Name: "Okta OIDC", Issuer: "https://idp.example", ClientID: "cid", ClientSecretEnc: "enc",
		Scopes: []string{"openid", "email"}, Enabled: true}
	tx(t, s, func(tx store.Tx) error { return tx.CreateOIDCConnection(ctx, o) })
	gotO, err := s.GetOIDCConnection(ctx, org.ID, o.ID)
	if err != nil || gotO.ClientSecretEnc != "enc" || !cmp.Equal(gotO.Scopes, o.Scopes) {
		t.Errorf("OIDC connection read back: %+v, %v", gotO, err)
	}
	tx(t, s, func(tx store.Tx) error { return tx.DeleteSAMLConnection(ctx, org.ID, c.ID) })
	tx(t, s, func(tx store.Tx) error { return tx.DeleteOIDCConnection(ctx, org.ID, o.ID) })
	if _, err := s.GetSAMLConnection(ctx, org.ID, c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted SAML connection: %v", err)
	}
	for _, a := range []string{"saml_connection.created", "saml_connection.updated", "saml_connection.deleted", "oidc_connection.created", "oidc_connection.deleted"} {
		if recs := allAudit(t, s, org.ID, store.AuditFilter{Action: a}); len(recs) != 1 {
			t.Errorf("%d audit records of %s; want 1", len(recs), a)
		} else if a == "oidc_connection.created" && strings.Contains(string(recs[0].After), `"enc"`) {
			t.Errorf("the audit record of an OIDC connection carries its encrypted secret: %s", recs[0].After)
		}
	}
}

func isolationSSO(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := createOrg(t, s, "a")
	b := createOrg(t, s, "b")
	c := samlConn(a.ID)
	tx(t, s, func(tx store.Tx) error {
		if err := tx.CreateSAMLConnection(ctx, c); err != nil {
			return err
		}
		return tx.SetConnectionDomains(ctx, a.ID, c.ID, []string{"acme.test"}, func(string) string { return "ch" })
	})
	if _, err := s.GetSAMLConnection(ctx, b.ID, c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("org B reads org A's connection: %v", err)
	}
	if l, _ := s.ListSAMLConnections(ctx, b.ID); len(l) != 0 {
		t.Errorf("org B lists org A's connections: %+v", l)
	}
	if l, _ := s.ListSSODomains(ctx, b.ID); len(l) != 0 {
		t.Errorf("org B lists org A's domains: %+v", l)
	}
	cb := *c
	cb.OrgID = b.ID
	cb.Name = "stolen"
	for name, fn := range map[string]func(tx store.Tx) error{
		"update": func(tx store.Tx) error { return tx.UpdateSAMLConnection(ctx, &cb) },
		"delete": func(tx store.Tx) error { return tx.DeleteSAMLConnection(ctx, b.ID, c.ID) },
		"verify": func(tx store.Tx) error { return tx.VerifyDomain(ctx, b.ID, "acme.test", "admin") },
	} {
		if err := s.Tx(ctx, testActor, fn); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("org B's %s of org A's SSO rows: %v; want NotFound", name, err)
		}
	}
	tx(t, s, func(tx store.Tx) error { return tx.SetSSOEnforced(ctx, a.ID, true) })
	if st, _ := s.GetSSOSettings(ctx, b.ID); st.Enforced {
		t.Error("org A's enforcement shows in org B's settings")
	}
	if got, _ := s.GetSAMLConnection(ctx, a.ID, c.ID); got.Name != "Okta" {
		t.Errorf("org A's connection changed to %q", got.Name)
	}
}

func ssoDomainOneOrg(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := createOrg(t, s, "a")
	b := createOrg(t, s, "b")
	for _, o := range []roster.Organization{a, b} {
		tx(t, s, func(tx store.Tx) error {
			return tx.SetConnectionDomains(ctx, o.ID, "", []string{"Shared.Test"}, func(d string) string { return "ch-" + o.ID })
		})
	}
	if _, _, err := s.LookupVerifiedDomain(ctx, "shared.test"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an unverified domain is found: %v", err)
	}
	tx(t, s, func(tx store.Tx) error { return tx.VerifyDomain(ctx, a.ID, "shared.test", "dns") })
	err := s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.VerifyDomain(ctx, b.ID, "shared.test", "dns") })
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("verifying a domain another organization verified: %v; want Conflict", err)
	}
	d, st, err := s.LookupVerifiedDomain(ctx, "SHARED.test")
	if err != nil || d.OrgID != a.ID || d.VerifiedBy != "dns" || st.OrgID != a.ID {
		t.Errorf("LookupVerifiedDomain = %+v %+v %v; want org A's, by dns", d, st, err)
	}
	doms, _ := s.ListSSODomains(ctx, b.ID)
	if len(doms) != 1 || doms[0].Verified() || doms[0].Challenge != "ch-"+b.ID {
		t.Errorf("org B's claim = %+v; want unverified with its own challenge", doms)
	}
}

func ssoLoginStateOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "acme")
	at := now()
	st := &roster.LoginState{ID: "state-1", OrgID: org.ID, ConnectionID: "c", Protocol: roster.ProtocolSAML, RequestID: "_req1",
		ReturnTo: "/x", ExpiresAt: at.Add(10 * time.Minute)}
	tx(t, s, func(tx store.Tx) error { return tx.CreateLoginState(ctx, st) })
	found, err := s.FindLoginState(ctx, "_req1", at)
	if err != nil || found.ID != "state-1" {
		t.Fatalf("FindLoginState = %+v, %v", found, err)
	}
	if byID, err := s.GetLoginState(ctx, "state-1", at); err != nil || byID.RequestID != "_req1" {
		t.Errorf("GetLoginState = %+v, %v", byID, err)
	}
	if _, err := s.GetLoginState(ctx, "state-1", at.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetLoginState of an expired state: %v; want NotFound", err)
	}
	var got *roster.LoginState
	tx(t, s, func(tx store.Tx) error {
		var err error
		got, err = tx.ConsumeLoginState(ctx, "state-1", at)
		return err
	})
	if got.RequestID != "_req1" || got.ReturnTo != "/x" || got.OrgID != org.ID {
		t.Errorf("consumed %+v", got)
	}
	err = s.Tx(ctx, testActor, func(tx store.Tx) error { _, err := tx.ConsumeLoginState(ctx, "state-1", at); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second consumption: %v; want NotFound", err)
	}
	if _, err := s.GetLoginState(ctx, "state-1", at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetLoginState of a used state: %v; want NotFound", err)
	}
	old := &roster.LoginState{ID: "state-2", OrgID: org.ID, ConnectionID: "c", Protocol: roster.ProtocolOIDC, RequestID: "state-2",
		ExpiresAt: at.Add(time.Minute)}
	tx(t, s, func(tx store.Tx) error { return tx.CreateLoginState(ctx, old) })
	err = s.Tx(ctx, testActor, func(tx store.Tx) error {
		_, err := tx.ConsumeLoginState(ctx, "state-2", at.Add(time.Minute))
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an expired state: %v; want NotFound", err)
	}
	if _, err := s.FindLoginState(ctx, "state-2", at.Add(2*time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FindLoginState of an expired state: %v", err)
	}
}

func ssoReplayCache(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "acme")
	at := now()
	tx(t, s, func(tx store.Tx) error { return tx.RecordAssertion(ctx, org.ID, "c1", "_a1", at.Add(time.Hour)) })
	err := s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.RecordAssertion(ctx, org.ID, "c1", "_a1", at.Add(time.Hour)) })
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("a replayed assertion: %v; want Conflict", err)
	}
	tx(t, s, func(tx store.Tx) error { return tx.RecordAssertion(ctx, org.ID, "c2", "_a1", at.Add(time.Hour)) })
	tx(t, s, func(tx store.Tx) error { return tx.RecordAssertion(ctx, org.ID, "c1", "_old", at) })
	n, err := s.PurgeSSOState(ctx, at.Add(time.Minute))
	if err != nil || n != 1 {
		t.Errorf("PurgeSSOState = %d, %v; want the one expired entry", n, err)
	}
	err = s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.RecordAssertion(ctx, org.ID, "c1", "_a1", at.Add(time.Hour)) })
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("a live entry must survive the purge: %v", err)
	}
}

func ssoEnforcedPassword(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "acme")
	m := createMember(t, s, org.ID, "ada@acme.test", roster.RoleMember)
	other := createMember(t, s, org.ID, "bob@contractor.test", roster.RoleMember)
	tx(t, s, func(tx store.Tx) error {
		if err := tx.SetConnectionDomains(ctx, org.ID, "", []string{"acme.test"}, func(string) string { return "ch" }); err != nil {
			return err
		}
		if err := tx.VerifyDomain(ctx, org.ID, "acme.test", "admin"); err != nil {
			return err
		}
		return tx.SetSSOEnforced(ctx, org.ID, true)
	})
	at := now()
	sess, _ := newSession(m, at, time.Hour, day)
	sess.Method = roster.SessionPassword
	err := s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.CreateSession(ctx, sess) })
	if roster.KindOf(err) != roster.Forbidden {
		t.Errorf("a password session in an enforced domain: %v; want Forbidden", err)
	}
	sess, _ = newSession(m, at, time.Hour, day) // method saml
	tx(t, s, func(tx store.Tx) error { return tx.CreateSession(ctx, sess) })
	sess, _ = newSession(other, at, time.Hour, day)
	sess.Method = roster.SessionPassword
	tx(t, s, func(tx store.Tx) error { return tx.CreateSession(ctx, sess) })
}
