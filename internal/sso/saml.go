package sso

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/template"
	"time"

	saml2 "github.com/russellhaering/gosaml2"
	"github.com/russellhaering/gosaml2/types"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// SAMLInput is the body of POST /saml/connections and PATCH /saml/connections/{id}; absent
// fields keep their value on PATCH. The IdP is described by metadataXml, by metadataUrl
// (read through the outbound client), or by entityId, ssoUrl and certificates.
type SAMLInput struct {
	Name             *string                  `json:"name"`
	MetadataXML      *string                  `json:"metadataXml"`
	MetadataURL      *string                  `json:"metadataUrl"`
	EntityID         *string                  `json:"entityId"`
	SSOURL           *string                  `json:"ssoUrl"`
	SLOURL           *string                  `json:"sloUrl"`
	Certificates     *[]string                `json:"certificates"`
	IdPInitiated     *bool                    `json:"idpInitiated"`
	JIT              *bool                    `json:"jit"`
	Enabled          *bool                    `json:"enabled"`
	AttributeMapping *roster.AttributeMapping `json:"attributeMapping"`
	Domains          *[]string                `json:"domains"`
}

// SAMLView is a SAML connection as the API shows it, with the values to paste into the IdP.
type SAMLView struct {
	roster.SAMLConnection
	SPEntityID    string       `json:"spEntityId"`
	ACSURL        string       `json:"acsUrl"`
	IdPInitACSURL string       `json:"idpInitiatedAcsUrl"`
	SPMetadataURL string       `json:"spMetadataUrl"`
	Domains       []DomainView `json:"domains"`
}

func (s *Service) samlView(ctx context.Context, c *roster.SAMLConnection) (*SAMLView, error) {
	doms, err := s.domainsOf(ctx, c.OrgID, c.ID)
	if err != nil {
		return nil, err
	}
	return &SAMLView{SAMLConnection: *c, SPEntityID: s.SPEntityID(c.OrgID), ACSURL: s.ACSURL(),
		IdPInitACSURL: s.ConnectionACSURL(c.ID), SPMetadataURL: s.SPEntityID(c.OrgID), Domains: doms}, nil
}

// ListSAML lists the organization's SAML connections.
func (s *Service) ListSAML(ctx context.Context, orgID string) ([]SAMLView, error) {
	cs, err := s.cfg.Store.ListSAMLConnections(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := []SAMLView{}
	for i := range cs {
		v, err := s.samlView(ctx, &cs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, nil
}

// CreateSAML adds a SAML connection.
func (s *Service) CreateSAML(ctx context.Context, actor roster.Actor, orgID string, in SAMLInput) (*SAMLView, error) {
	c := &roster.SAMLConnection{OrgID: orgID, Enabled: true}
	if in.Name == nil {
		return nil, roster.E(roster.Invalid, "name is required")
	}
	if in.MetadataXML == nil && in.MetadataURL == nil && in.EntityID == nil {
		return nil, roster.E(roster.Invalid, "describe the IdP with metadataXml, metadataUrl, or entityId, ssoUrl and certificates")
	}
	return s.saveSAML(ctx, actor, c, in, true)
}

// UpdateSAML changes a SAML connection.
func (s *Service) UpdateSAML(ctx context.Context, actor roster.Actor, orgID, id string, in SAMLInput) (*SAMLView, error) {
	c, err := s.cfg.Store.GetSAMLConnection(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	return s.saveSAML(ctx, actor, c, in, false)
}

// DeleteSAML deletes a SAML connection.
func (s *Service) DeleteSAML(ctx context.Context, actor roster.Actor, orgID, id string) error {
	return s.cfg.Store.Tx(ctx, actor, func(tx store.Tx) error { return tx.DeleteSAMLConnection(ctx, orgID, id) })
}

func (s *Service) saveSAML(ctx context.Context, actor roster.Actor, c *roster.SAMLConnection, in SAMLInput, create bool) (*SAMLView, error) {
	if in.Name != nil {
		name, err := roster.CleanName("name", *in.Name)
		if err != nil {
			return nil, err
		}
		c.Name = name
	}
	var md *idpMetadata
	switch {
	case in.MetadataXML != nil && in.MetadataURL != nil:
		return nil, roster.E(roster.Invalid, "give metadataXml or metadataUrl, not both")
	case in.MetadataXML != nil:
		var err error
		if md, err = parseIdPMetadata([]byte(*in.MetadataXML)); err != nil {
			return nil, err
		}
	case in.MetadataURL != nil:
		u, err := checkURL("metadataUrl", *in.MetadataURL)
		if err != nil {
			return nil, err
		}
		raw, err := s.fetch(ctx, u)
		if err != nil {
			return nil, roster.E(roster.Invalid, "metadataUrl could not be read: %v", err)
		}
		if md, err = parseIdPMetadata(raw); err != nil {
			return nil, err
		}
		c.MetadataURL = u
	}
	if md != nil {
		c.EntityID, c.SSOURL, c.SLOURL, c.Certificates = md.entityID, md.ssoURL, md.sloURL, md.certs
	}
	if in.EntityID != nil {
		c.EntityID = strings.TrimSpace(*in.EntityID)
	}
	if in.SSOURL != nil {
		c.SSOURL = strings.TrimSpace(*in.SSOURL)
	}
	if in.SLOURL != nil {
		c.SLOURL = strings.TrimSpace(*in.SLOURL)
	}
	if in.Certificates != nil {
		certs, err := normalizeCerts(*in.Certificates)
		if err != nil {
			return nil, err
		}
		c.Certificates = certs
	}
	if in.IdPInitiated != nil {
		c.IdPInitiated = *in.IdPInitiated
	}
	if in.JIT != nil {
		c.JIT = *in.JIT
	}
	if in.Enabled != nil {
		c.Enabled = *in.Enabled
	}
	if in.AttributeMapping != nil {
		if err := checkMapping(*in.AttributeMapping); err != nil {
			return nil, err
		}
		c.AttributeMapping = *in.AttributeMapping
	}
	if c.EntityID == "" || len(c.EntityID) > 1024 {
		return nil, roster.E(roster.Invalid, "entityId is required (the IdP's issuer), at most 1024 characters")
	}
	if _, err := checkURL("ssoUrl", c.SSOURL); err != nil {
		return nil, err
	}
	if c.SLOURL != "" {
		if _, err := checkURL("sloUrl", c.SLOURL); err != nil {
			return nil, err
		}
	}
	if len(c.Certificates) == 0 {
		return nil, roster.E(roster.Invalid, "at least one IdP signing certificate is required")
	}
	var domains []string
	if in.Domains != nil {
		var err error
		if domains, err = cleanDomains(*in.Domains); err != nil {
			return nil, err
		}
	}
	err := s.cfg.Store.Tx(ctx, actor, func(tx store.Tx) error {
		var err error
		if create {
			err = tx.CreateSAMLConnection(ctx, c)
		} else {
			err = tx.UpdateSAMLConnection(ctx, c)
		}
		if err != nil || in.Domains == nil {
			return err
		}
		return tx.SetConnectionDomains(ctx, c.OrgID, c.ID, domains, challengeFor)
	})
	if err != nil {
		return nil, err
	}
	return s.samlView(ctx, c)
}

func checkMapping(m roster.AttributeMapping) error {
	if _, ok := roster.MappingPresets[m.Preset]; m.Preset != "" && !ok {
		return roster.E(roster.Invalid, "attributeMapping.preset must be okta, entra or google")
	}
	for _, v := range []string{m.Email, m.FirstName, m.LastName, m.Name, m.Groups} {
		if len(v) > 512 {
			return roster.E(roster.Invalid, "attribute names are at most 512 characters")
		}
	}
	return nil
}

func checkURL(field, raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(raw) > 2048 {
		return "", roster.E(roster.Invalid, "%s must be an absolute https (or http) URL", field)
	}
	return u.String(), nil
}

// fetch reads an admin-typed URL through the outbound client.
func (s *Service) fetch(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.cfg.Outbound.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	return io.ReadAll(resp.Body)
}

type idpMetadata struct {
	entityID, ssoURL, sloURL string
	certs                    []string
}

// parseIdPMetadata reads an IdP's EntityDescriptor: its entity id, HTTP-Redirect SSO and SLO
// endpoints, and signing certificates.
func parseIdPMetadata(raw []byte) (*idpMetadata, error) {
	var ed types.EntityDescriptor
	if err := xml.Unmarshal(raw, &ed); err != nil {
		// Some IdPs wrap their descriptor in EntitiesDescriptor.
		var eds struct {
			Entities []types.EntityDescriptor `xml:"EntityDescriptor"`
		}
		if err2 := xml.Unmarshal(raw, &eds); err2 != nil || len(eds.Entities) != 1 {
			return nil, roster.E(roster.Invalid, "metadata is not a SAML EntityDescriptor")
		}
		ed = eds.Entities[0]
	}
	idp := ed.IDPSSODescriptor
	if ed.EntityID == "" || idp == nil {
		return nil, roster.E(roster.Invalid, "metadata has no IDPSSODescriptor with an entityID")
	}
	md := &idpMetadata{entityID: ed.EntityID}
	for _, sso := range idp.SingleSignOnServices {
		if sso.Binding == saml2.BindingHttpRedirect {
			md.ssoURL = sso.Location
		}
	}
	if md.ssoURL == "" {
		return nil, roster.E(roster.Invalid, "metadata has no SingleSignOnService with the HTTP-Redirect binding")
	}
	for _, slo := range idp.SingleLogoutServices {
		if slo.Binding == saml2.BindingHttpRedirect {
			md.sloURL = slo.Location
		}
	}
	var raws []string
	for _, kd := range idp.KeyDescriptors {
		if kd.Use != "" && kd.Use != "signing" {
			continue
		}
		for _, c := range kd.KeyInfo.X509Data.X509Certificates {
			raws = append(raws, c.Data)
		}
	}
	certs, err := normalizeCerts(raws)
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, roster.E(roster.Invalid, "metadata has no signing certificate")
	}
	md.certs = certs
	return md, nil
}

// normalizeCerts parses certificates given as PEM or bare base64 DER and returns them as PEM.
func normalizeCerts(in []string) ([]string, error) {
	out := []string{}
	for i, c := range in {
		cert, err := parseCert(c)
		if err != nil {
			return nil, roster.E(roster.Invalid, "certificates[%d] is not an X.509 certificate in PEM or base64: %v", i, err)
		}
		out = append(out, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})))
	}
	if len(out) > 10 {
		return nil, roster.E(roster.Invalid, "at most 10 certificates")
	}
	return out, nil
}

func parseCert(s string) (*x509.Certificate, error) {
	s = strings.TrimSpace(s)
	if b, _ := pem.Decode([]byte(s)); b != nil {
		return x509.ParseCertificate(b.Bytes)
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// serviceProvider is gosaml2's view of one connection, answering at acs.
func (s *Service) serviceProvider(c *roster.SAMLConnection, acs string, now time.Time) (*saml2.SAMLServiceProvider, error) {
	store := &dsig.MemoryX509CertificateStore{}
	for _, p := range c.Certificates {
		cert, err := parseCert(p)
		if err != nil {
			return nil, err
		}
		store.Roots = append(store.Roots, cert)
	}
	return &saml2.SAMLServiceProvider{
		IdentityProviderSSOURL:      c.SSOURL,
		IdentityProviderSSOBinding:  saml2.BindingHttpRedirect,
		IdentityProviderSLOURL:      c.SLOURL,
		IdentityProviderIssuer:      c.EntityID,
		AssertionConsumerServiceURL: acs,
		ServiceProviderIssuer:       s.SPEntityID(c.OrgID),
		ServiceProviderSLOURL:       s.cfg.BaseURL + "/saml/logout/callback",
		AudienceURI:                 s.SPEntityID(c.OrgID),
		IDPCertificateStore:         store,
		NameIdFormat:                saml2.NameIdFormatEmailAddress,
		AllowMissingAttributes:      true,
		Clock:                       dsig.NewFakeClockAt(now),
		MaximumDecompressedBodySize: MaxCallbackBytes,
	}, nil
}

var metadataTemplate = template.Must(template.New("md").Funcs(template.FuncMap{"xml": xmlEscape}).Parse(`<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{{xml .EntityID}}">
  <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{{xml .SLO}}"/>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{{xml .SLO}}"/>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{{xml .ACS}}" index="0" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
`))

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// Metadata renders the organization's SP metadata. It exists before any connection, so an
// admin can register Roster at the IdP first.
func (s *Service) Metadata(ctx context.Context, orgID string) ([]byte, error) {
	if _, err := s.cfg.Store.GetOrganization(ctx, orgID); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	err := metadataTemplate.Execute(&b, struct{ EntityID, ACS, SLO string }{s.SPEntityID(orgID), s.ACSURL(), s.cfg.BaseURL + "/saml/logout/callback"})
	return b.Bytes(), err
}

// samlAuthorize starts an SP-initiated login: a login state, then the URL of the IdP with
// an AuthnRequest (HTTP-Redirect binding) whose RelayState names the state.
func (s *Service) samlAuthorize(ctx context.Context, c *roster.SAMLConnection, returnTo string, bind bool) (string, string, error) {
	now := s.now()
	sp, err := s.serviceProvider(c, s.ACSURL(), now)
	if err != nil {
		return "", "", err
	}
	doc, err := sp.BuildAuthRequestDocumentNoSig()
	if err != nil {
		return "", "", err
	}
	reqID := doc.Root().SelectAttrValue("ID", "")
	if reqID == "" {
		return "", "", fmt.Errorf("AuthnRequest without an ID")
	}
	st := &roster.LoginState{ID: randomID("rs_"), OrgID: c.OrgID, ConnectionID: c.ID, Protocol: roster.ProtocolSAML,
		RequestID: reqID, ReturnTo: returnTo, CreatedAt: now, ExpiresAt: now.Add(LoginStateTTL)}
	if bind {
		// The browser gets this value in a cookie; the callback must bring it back.
		st.Nonce = randomID("b_")
	}
	if err := s.cfg.Store.Tx(ctx, roster.SystemActor("sso"), func(tx store.Tx) error { return tx.CreateLoginState(ctx, st) }); err != nil {
		return "", "", err
	}
	u, err := sp.BuildAuthURLRedirect(st.ID, doc)
	return u, st.Nonce, err
}

// refusal is a sign-in refused for a reason that goes to the audit log.
type refusal struct {
	reason string // stable code, e.g. "signature_invalid"
	msg    string // what the person signing in is told
	status int
	err    error // the library's detail, logged and audited, never shown
}

func (r *refusal) Error() string { return r.reason + ": " + r.msg }

func refuse(status int, reason, msg string, err error) *refusal {
	return &refusal{reason: reason, msg: msg, status: status, err: err}
}

// samlIdentity is what a verified assertion says about the person.
type samlIdentity struct {
	email, name  string
	groups       []string
	nameID       string
	sessionIndex string
}

// verifySAML checks an encoded SAML response against connection c, received at acs. With
// wantRequestID it must answer that AuthnRequest (SP-initiated); without, it must be
// unsolicited (IdP-initiated, allowed by the caller).
func (s *Service) verifySAML(ctx context.Context, c *roster.SAMLConnection, acs, encoded, wantRequestID string) (*samlIdentity, error) {
	now := s.now()
	sp, err := s.serviceProvider(c, acs, now)
	if err != nil {
		return nil, err
	}
	resp, err := sp.ValidateEncodedResponse(encoded)
	if err != nil {
		return nil, classifySAMLError(err)
	}
	if !resp.SignatureValidated && !allAssertionsSigned(resp) {
		return nil, refuse(401, "signature_missing", "the response is not signed", nil)
	}
	if len(resp.Assertions) != 1 {
		return nil, refuse(400, "assertion_count", "the response must carry exactly one assertion", fmt.Errorf("%d assertions", len(resp.Assertions)))
	}
	a := &resp.Assertions[0]
	if a.ID == "" {
		return nil, refuse(400, "invalid_response", "the assertion has no ID", nil)
	}
	warn, err := sp.VerifyAssertionConditions(a)
	if err != nil {
		return nil, refuse(400, "invalid_conditions", "the assertion's conditions are incomplete", err)
	}
	notBefore, _ := time.Parse(time.RFC3339, a.Conditions.NotBefore)
	notOnOrAfter, _ := time.Parse(time.RFC3339, a.Conditions.NotOnOrAfter)
	if warn.InvalidTime {
		window := fmt.Errorf("valid %s to %s, now %s", a.Conditions.NotBefore, a.Conditions.NotOnOrAfter, now.Format(time.RFC3339))
		if now.Add(s.cfg.Skew).Before(notBefore) {
			return nil, refuse(401, "not_yet_valid", "the assertion is not valid yet (check the IdP's clock)", window)
		}
		if !now.Add(-s.cfg.Skew).Before(notOnOrAfter) {
			return nil, refuse(401, "expired", "the assertion has expired", window)
		}
	}
	if len(a.Conditions.AudienceRestrictions) == 0 {
		return nil, refuse(401, "audience_missing", "the assertion has no AudienceRestriction", nil)
	}
	if warn.NotInAudience {
		return nil, refuse(401, "wrong_audience", "the assertion is for another service provider (Audience must be "+s.SPEntityID(c.OrgID)+")", nil)
	}
	if warn.OneTimeUse || warn.ProxyRestriction != nil {
		// Both are honoured by the replay cache and by not relaying assertions.
	}
	got := ""
	if a.Subject != nil && a.Subject.SubjectConfirmation != nil && a.Subject.SubjectConfirmation.SubjectConfirmationData != nil {
		got = a.Subject.SubjectConfirmation.SubjectConfirmationData.InResponseTo
	}
	switch {
	case wantRequestID == "" && (got != "" || resp.InResponseTo != ""):
		return nil, refuse(401, "in_response_to_mismatch", "the response answers a request this login did not make", nil)
	case wantRequestID != "" && (got != wantRequestID || (resp.InResponseTo != "" && resp.InResponseTo != wantRequestID)):
		return nil, refuse(401, "in_response_to_mismatch", "the response answers another login request",
			fmt.Errorf("InResponseTo %q / %q, want %q", got, resp.InResponseTo, wantRequestID))
	}
	exp := notOnOrAfter.Add(s.cfg.Skew)
	if exp.Before(now.Add(LoginStateTTL)) {
		exp = now.Add(LoginStateTTL)
	}
	err = s.cfg.Store.Tx(ctx, roster.SystemActor("sso"), func(tx store.Tx) error { return tx.RecordAssertion(ctx, c.OrgID, c.ID, a.ID, exp) })
	if roster.KindOf(err) == roster.Conflict {
		return nil, refuse(401, "replayed", "this assertion was already used", nil)
	}
	if err != nil {
		return nil, err
	}
	return samlClaims(a, c.AttributeMapping.Resolved(roster.DefaultMapping)), nil
}

// allAssertionsSigned: gosaml2 keeps only signature-verified assertions of an unsigned
// response and fails when any is unsigned, so a response it returns is signed somewhere;
// this is the belt to that brace.
func allAssertionsSigned(resp *types.Response) bool {
	for _, a := range resp.Assertions {
		if !a.SignatureValidated {
			return false
		}
	}
	return len(resp.Assertions) > 0
}

func samlClaims(a *types.Assertion, m roster.AttributeMapping) *samlIdentity {
	id := &samlIdentity{}
	if a.Subject != nil && a.Subject.NameID != nil {
		id.nameID = a.Subject.NameID.Value
	}
	if a.AuthnStatement != nil {
		id.sessionIndex = a.AuthnStatement.SessionIndex
	}
	vals := map[string][]string{}
	if a.AttributeStatement != nil {
		for _, at := range a.AttributeStatement.Attributes {
			for _, v := range at.Values {
				vals[at.Name] = append(vals[at.Name], strings.TrimSpace(v.Value))
			}
		}
	}
	first := func(k string) string {
		if v := vals[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	id.email = first(m.Email)
	if id.email == "" && strings.Contains(id.nameID, "@") {
		id.email = id.nameID
	}
	id.name = first(m.Name)
	if id.name == "" {
		id.name = strings.TrimSpace(first(m.FirstName) + " " + first(m.LastName))
	}
	id.groups = vals[m.Groups]
	return id
}

// classifySAMLError turns gosaml2's error into a refusal reason.
func classifySAMLError(err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, dsig.ErrMissingSignature):
		return refuse(401, "signature_missing", "the response is not signed", err)
	case strings.Contains(msg, "Signature") || strings.Contains(msg, "signature") || strings.Contains(msg, "Reference") ||
		strings.Contains(msg, "certificate") || strings.Contains(msg, "Digest"):
		return refuse(401, "signature_invalid", "the response's signature does not verify with the connection's certificates", err)
	case strings.Contains(msg, "Recipient"):
		return refuse(401, "wrong_recipient", "the assertion is addressed to another endpoint (Recipient)", err)
	case strings.Contains(msg, "Destination"):
		return refuse(401, "wrong_destination", "the response is addressed to another endpoint (Destination)", err)
	case strings.Contains(msg, "Issuer"):
		return refuse(401, "wrong_issuer", "the response comes from another IdP than this connection's", err)
	case strings.Contains(msg, "Expired") || strings.Contains(msg, "NotOnOrAfter"):
		return refuse(401, "expired", "the assertion is expired", err)
	case strings.Contains(msg, "StatusCode"):
		return refuse(401, "idp_refused", "the IdP did not sign you in", err)
	case strings.Contains(msg, "unexpected parent") || strings.Contains(msg, "both signed and unsigned"):
		return refuse(401, "signature_invalid", "the response's structure is not allowed (signature wrapping)", err)
	}
	return refuse(400, "invalid_response", "the SAML response is malformed", err)
}
