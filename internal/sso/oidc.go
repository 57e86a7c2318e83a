package sso

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// OIDCInput is the body of POST /oidc/connections and PATCH /oidc/connections/{id}.
type OIDCInput struct {
	Name             *string                  `json:"name"`
	Issuer           *string                  `json:"issuer"`
	ClientID         *string                  `json:"clientId"`
	ClientSecret     *string                  `json:"clientSecret"`
	Scopes           *[]string                `json:"scopes"`
	JIT              *bool                    `json:"jit"`
	Enabled          *bool                    `json:"enabled"`
	AttributeMapping *roster.AttributeMapping `json:"attributeMapping"`
	Domains          *[]string                `json:"domains"`
}

// OIDCView is an OIDC connection as the API shows it (never its secret).
type OIDCView struct {
	roster.OIDCConnection
	RedirectURI string       `json:"redirectUri"`
	Domains     []DomainView `json:"domains"`
}

func (s *Service) oidcView(ctx context.Context, c *roster.OIDCConnection) (*OIDCView, error) {
	doms, err := s.domainsOf(ctx, c.OrgID, c.ID)
	if err != nil {
		return nil, err
	}
	return &OIDCView{OIDCConnection: *c, RedirectURI: s.OIDCRedirectURL(), Domains: doms}, nil
}

// ListOIDC lists the organization's OIDC connections.
func (s *Service) ListOIDC(ctx context.Context, orgID string) ([]OIDCView, error) {
	cs, err := s.cfg.Store.ListOIDCConnections(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := []OIDCView{}
	for i := range cs {
		v, err := s.oidcView(ctx, &cs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, nil
}

// CreateOIDC adds an OIDC connection, after reading the issuer's discovery document.
func (s *Service) CreateOIDC(ctx context.Context, actor roster.Actor, orgID string, in OIDCInput) (*OIDCView, error) {
	if in.Name == nil || in.Issuer == nil || in.ClientID == nil || in.ClientSecret == nil {
		return nil, roster.E(roster.Invalid, "name, issuer, clientId and clientSecret are required")
	}
	c := &roster.OIDCConnection{OrgID: orgID, Enabled: true, Scopes: []string{"openid", "email", "profile"}}
	return s.saveOIDC(ctx, actor, c, in, true)
}

// UpdateOIDC changes an OIDC connection.
func (s *Service) UpdateOIDC(ctx context.Context, actor roster.Actor, orgID, id string, in OIDCInput) (*OIDCView, error) {
	c, err := s.cfg.Store.GetOIDCConnection(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	return s.saveOIDC(ctx, actor, c, in, false)
}

// DeleteOIDC deletes an OIDC connection.
func (s *Service) DeleteOIDC(ctx context.Context, actor roster.Actor, orgID, id string) error {
	err := s.cfg.Store.Tx(ctx, actor, func(tx store.Tx) error { return tx.DeleteOIDCConnection(ctx, orgID, id) })
	if err == nil {
		s.mu.Lock()
		delete(s.providers, id)
		s.mu.Unlock()
	}
	return err
}

func secretAD(orgID, connID string) []byte {
	return []byte("oidc-client-secret:" + orgID + ":" + connID)
}

func (s *Service) saveOIDC(ctx context.Context, actor roster.Actor, c *roster.OIDCConnection, in OIDCInput, create bool) (*OIDCView, error) {
	if in.Name != nil {
		name, err := roster.CleanName("name", *in.Name)
		if err != nil {
			return nil, err
		}
		c.Name = name
	}
	issuerChanged := false
	if in.Issuer != nil {
		u, err := checkURL("issuer", *in.Issuer)
		if err != nil {
			return nil, err
		}
		issuerChanged = u != c.Issuer
		c.Issuer = strings.TrimSuffix(u, "/")
		if strings.HasSuffix(*in.Issuer, "/") {
			c.Issuer = u // issuers are compared exactly: keep the slash the IdP uses
		}
	}
	if in.ClientID != nil {
		id := strings.TrimSpace(*in.ClientID)
		if id == "" || len(id) > 512 {
			return nil, roster.E(roster.Invalid, "clientId is required, at most 512 characters")
		}
		c.ClientID = id
	}
	if in.Scopes != nil {
		sc := []string{"openid"}
		for _, v := range *in.Scopes {
			v = strings.TrimSpace(v)
			if v != "" && v != "openid" && !strings.ContainsAny(v, " \"\\") {
				sc = append(sc, v)
			}
		}
		c.Scopes = sc
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
	var domains []string
	if in.Domains != nil {
		var err error
		if domains, err = cleanDomains(*in.Domains); err != nil {
			return nil, err
		}
	}
	if create {
		c.ID = roster.NewID()
	}
	if in.ClientSecret != nil {
		if s.cfg.Keyring == nil {
			return nil, roster.E(roster.Invalid, "OIDC connections need ROSTER_SECRET_KEY (or the generated key file) to encrypt the client secret")
		}
		sec := strings.TrimSpace(*in.ClientSecret)
		if sec == "" || len(sec) > 4096 {
			return nil, roster.E(roster.Invalid, "clientSecret is required, at most 4096 characters")
		}
		enc, err := s.cfg.Keyring.Encrypt([]byte(sec), secretAD(c.OrgID, c.ID))
		if err != nil {
			return nil, err
		}
		c.ClientSecretEnc = enc
	}
	if create || issuerChanged {
		if _, err := s.discover(ctx, c.Issuer); err != nil {
			return nil, roster.E(roster.Invalid, "issuer %s: OpenID discovery failed: %v", c.Issuer, err)
		}
	}
	err := s.cfg.Store.Tx(ctx, actor, func(tx store.Tx) error {
		var err error
		if create {
			err = tx.CreateOIDCConnection(ctx, c)
		} else {
			err = tx.UpdateOIDCConnection(ctx, c)
		}
		if err != nil || in.Domains == nil {
			return err
		}
		return tx.SetConnectionDomains(ctx, c.OrgID, c.ID, domains, challengeFor)
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	delete(s.providers, c.ID)
	s.mu.Unlock()
	return s.oidcView(ctx, c)
}

type cachedProvider struct {
	updatedAt time.Time
	provider  *oidc.Provider
}

func (s *Service) clientContext(ctx context.Context) context.Context {
	ctx = oidc.ClientContext(ctx, s.cfg.Outbound)
	return context.WithValue(ctx, oauth2.HTTPClient, s.cfg.Outbound)
}

// discover reads the issuer's discovery document through the outbound client.
func (s *Service) discover(ctx context.Context, issuer string) (*oidc.Provider, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	// The provider keeps the client (not this context) for its JWKS reads.
	return oidc.NewProvider(oidc.ClientContext(ctx, s.cfg.Outbound), issuer)
}

// provider returns the connection's cached provider, discovering it on first use and after
// the connection changed. Its key set fetches the JWKS again when a token names an unknown
// key id, which follows the provider's key rotation.
func (s *Service) provider(ctx context.Context, c *roster.OIDCConnection) (*oidc.Provider, error) {
	s.mu.Lock()
	cp := s.providers[c.ID]
	s.mu.Unlock()
	if cp != nil && cp.updatedAt.Equal(c.UpdatedAt) {
		return cp.provider, nil
	}
	p, err := s.discover(ctx, c.Issuer)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.providers[c.ID] = &cachedProvider{updatedAt: c.UpdatedAt, provider: p}
	s.mu.Unlock()
	return p, nil
}

func (s *Service) oauthConfig(c *roster.OIDCConnection, p *oidc.Provider) (*oauth2.Config, error) {
	if s.cfg.Keyring == nil {
		return nil, errors.New("no keyring to decrypt the client secret")
	}
	sec, err := s.cfg.Keyring.Decrypt(c.ClientSecretEnc, secretAD(c.OrgID, c.ID))
	if err != nil {
		return nil, fmt.Errorf("decrypting the client secret: %w", err)
	}
	return &oauth2.Config{ClientID: c.ClientID, ClientSecret: string(sec), Endpoint: p.Endpoint(),
		RedirectURL: s.OIDCRedirectURL(), Scopes: c.Scopes}, nil
}

func verifierAD(stateID string) []byte { return []byte("oidc-pkce:" + stateID) }

// oidcAuthorize starts an OIDC login: state, nonce and PKCE verifier kept server-side, then
// the provider's authorization URL.
func (s *Service) oidcAuthorize(ctx context.Context, c *roster.OIDCConnection, returnTo string) (string, string, error) {
	p, err := s.provider(ctx, c)
	if err != nil {
		return "", "", roster.E(roster.Invalid, "the identity provider cannot be reached: %v", err)
	}
	cfg, err := s.oauthConfig(c, p)
	if err != nil {
		return "", "", err
	}
	if s.cfg.Keyring == nil {
		return "", "", errors.New("no keyring")
	}
	now := s.now()
	stateID := randomID("os_")
	verifier := oauth2.GenerateVerifier()
	enc, err := s.cfg.Keyring.Encrypt([]byte(verifier), verifierAD(stateID))
	if err != nil {
		return "", "", err
	}
	st := &roster.LoginState{ID: stateID, OrgID: c.OrgID, ConnectionID: c.ID, Protocol: roster.ProtocolOIDC, RequestID: stateID,
		Nonce: randomID("n_"), VerifierEnc: enc, ReturnTo: returnTo, CreatedAt: now, ExpiresAt: now.Add(LoginStateTTL)}
	if err := s.cfg.Store.Tx(ctx, roster.SystemActor("sso"), func(tx store.Tx) error { return tx.CreateLoginState(ctx, st) }); err != nil {
		return "", "", err
	}
	return cfg.AuthCodeURL(stateID, oauth2.S256ChallengeOption(verifier), oidc.Nonce(st.Nonce)), stateID, nil
}

// oidcIdentity is what a verified ID token (and the userinfo it may need) says.
type oidcIdentity struct {
	email, name, subject string
	groups               []string
}

// oidcExchange redeems the code of login state st and verifies the ID token.
func (s *Service) oidcExchange(ctx context.Context, c *roster.OIDCConnection, st *roster.LoginState, code string) (*oidcIdentity, error) {
	p, err := s.provider(ctx, c)
	if err != nil {
		return nil, refuse(502, "idp_unreachable", "the identity provider cannot be reached", err)
	}
	cfg, err := s.oauthConfig(c, p)
	if err != nil {
		return nil, err
	}
	verifier, err := s.cfg.Keyring.Decrypt(st.VerifierEnc, verifierAD(st.ID))
	if err != nil {
		return nil, err
	}
	cctx := s.clientContext(ctx)
	tok, err := cfg.Exchange(cctx, code, oauth2.VerifierOption(string(verifier)))
	if err != nil {
		return nil, refuse(401, "code_exchange_failed", "the identity provider refused the authorization code", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, refuse(401, "id_token_missing", "the identity provider returned no ID token", nil)
	}
	v := p.Verifier(&oidc.Config{ClientID: c.ClientID, Now: s.cfg.Now})
	idt, err := v.Verify(cctx, raw)
	if err != nil {
		return nil, classifyOIDCError(err)
	}
	if idt.Nonce != st.Nonce {
		return nil, refuse(401, "nonce_mismatch", "the ID token was issued for another login (nonce)", nil)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, refuse(400, "id_token_invalid", "the ID token's claims cannot be read", err)
	}
	m := c.AttributeMapping.Resolved(roster.AttributeMapping{Email: "email", FirstName: "given_name", LastName: "family_name",
		Name: "name", Groups: "groups"})
	str := func(k string) string { v, _ := claims[k].(string); return strings.TrimSpace(v) }
	id := &oidcIdentity{subject: idt.Subject, email: str(m.Email), name: str(m.Name)}
	if id.name == "" {
		id.name = strings.TrimSpace(str(m.FirstName) + " " + str(m.LastName))
	}
	if ev, ok := claims["email_verified"].(bool); ok && !ev {
		return nil, refuse(403, "email_unverified", "the identity provider says this email address is not verified", nil)
	}
	if gs, ok := claims[m.Groups].([]any); ok {
		for _, g := range gs {
			if s, ok := g.(string); ok {
				id.groups = append(id.groups, s)
			}
		}
	}
	return id, nil
}

func classifyOIDCError(err error) error {
	msg := err.Error()
	var exp *oidc.TokenExpiredError
	switch {
	case errors.As(err, &exp):
		return refuse(401, "expired", "the ID token has expired", err)
	case strings.Contains(msg, "audience"):
		return refuse(401, "wrong_audience", "the ID token was issued to another client (audience)", err)
	case strings.Contains(msg, "issuer") || strings.Contains(msg, "issued by"):
		return refuse(401, "wrong_issuer", "the ID token comes from another issuer", err)
	case strings.Contains(msg, "signature") || strings.Contains(msg, "key") || strings.Contains(msg, "jwks"):
		return refuse(401, "signature_invalid", "the ID token's signature does not verify with the provider's keys", err)
	}
	return refuse(401, "id_token_invalid", "the ID token is not valid", err)
}
