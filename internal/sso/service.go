package sso

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/keyring"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// Defaults of Config.
const (
	// DefaultSkew is the clock difference tolerated between Roster and an IdP.
	DefaultSkew = 2 * time.Minute
	// LoginStateTTL is how long a login may stay at the IdP before its answer is refused.
	LoginStateTTL = 10 * time.Minute
	// MaxCallbackBytes caps the body of a SAML callback (a response with thousands of group
	// values stays far below it).
	MaxCallbackBytes = 512 << 10
)

// Resolver looks up the TXT records of a DNS name (net.Resolver.LookupTXT); tests inject
// their own.
type Resolver func(ctx context.Context, name string) ([]string, error)

// Config is what a Service needs.
type Config struct {
	Store    store.Store
	Sessions *auth.Sessions
	// Keyring encrypts OIDC client secrets and PKCE verifiers; without it OIDC connections
	// cannot be created.
	Keyring *keyring.Keyring
	// BaseURL is the public URL (no trailing slash): it makes the SP entity id, the ACS and
	// the OIDC redirect URI.
	BaseURL string
	// Outbound fetches IdP metadata, OIDC discovery, JWKS and tokens: the client of
	// internal/outbound, which refuses private addresses unless configured otherwise.
	Outbound *http.Client
	// Resolver checks domain challenges (default: the system resolver).
	Resolver Resolver
	// Now is the clock (default time.Now); Skew the tolerated clock difference.
	Now    func() time.Time
	Skew   time.Duration
	Logger *slog.Logger
}

// Service runs SSO for every organization.
type Service struct {
	cfg Config
	mu  sync.Mutex
	// providers caches OIDC discovery per connection, invalidated when the connection
	// changes (its UpdatedAt is part of the entry).
	providers map[string]*cachedProvider
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Skew <= 0 {
		cfg.Skew = DefaultSkew
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver.LookupTXT
	}
	if cfg.Outbound == nil {
		cfg.Outbound = &http.Client{Timeout: 10 * time.Second}
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	return &Service{cfg: cfg, providers: map[string]*cachedProvider{}}
}

// SPEntityID is the SAML entity id of the organization's service provider; it is also the
// Audience its assertions must carry.
func (s *Service) SPEntityID(orgID string) string { return s.cfg.BaseURL + "/saml/metadata/" + orgID }

// ACSURL is the assertion consumer service of SP-initiated logins.
func (s *Service) ACSURL() string { return s.cfg.BaseURL + "/saml/callback" }

// ConnectionACSURL is the assertion consumer service of one connection, the only place
// that accepts its IdP-initiated responses.
func (s *Service) ConnectionACSURL(connID string) string {
	return s.cfg.BaseURL + "/saml/callback/" + connID
}

// OIDCRedirectURL is the redirect URI to register at OIDC providers.
func (s *Service) OIDCRedirectURL() string { return s.cfg.BaseURL + "/oidc/callback" }

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// randomID is an unguessable identifier: 32 random bytes in base32 (rand.Text is 26
// characters of 5 bits; two of them).
func randomID(prefix string) string { return prefix + rand.Text() + rand.Text() }

// challengeFor makes a new DNS challenge value.
func challengeFor(string) string { return "roster-domain-verification=" + rand.Text() }

// ChallengeName is the DNS name whose TXT record proves control of domain.
func ChallengeName(domain string) string { return "_roster-challenge." + domain }

// cleanDomains validates and lower-cases a list of email domains.
func cleanDomains(in []string) ([]string, error) {
	out := []string{}
	seen := map[string]bool{}
	for _, d := range in {
		d = strings.ToLower(strings.TrimSpace(d))
		if !validDomain(d) {
			return nil, roster.E(roster.Invalid, "domain %q is not a valid DNS name such as example.com", d)
		}
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	if len(out) > 100 {
		return nil, roster.E(roster.Invalid, "at most 100 domains per connection")
	}
	return out, nil
}

func validDomain(d string) bool {
	if len(d) < 3 || len(d) > 253 || !strings.Contains(d, ".") || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// DomainView is a claimed domain as the API shows it, with the DNS record that verifies it.
type DomainView struct {
	Domain       string     `json:"domain"`
	ConnectionID string     `json:"connectionId,omitempty"`
	Verified     bool       `json:"verified"`
	VerifiedAt   *time.Time `json:"verifiedAt,omitempty"`
	VerifiedBy   string     `json:"verifiedBy,omitempty"`
	// Challenge is the TXT record to publish (absent once verified).
	Challenge *Challenge `json:"challenge,omitempty"`
}

// Challenge is a DNS TXT record to publish.
type Challenge struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

func domainView(d roster.SSODomain) DomainView {
	v := DomainView{Domain: d.Domain, ConnectionID: d.ConnectionID, Verified: d.Verified(), VerifiedAt: d.VerifiedAt, VerifiedBy: d.VerifiedBy}
	if !d.Verified() {
		v.Challenge = &Challenge{Type: "TXT", Name: ChallengeName(d.Domain), Value: d.Challenge}
	}
	return v
}

func (s *Service) domainsOf(ctx context.Context, orgID, connID string) ([]DomainView, error) {
	all, err := s.cfg.Store.ListSSODomains(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := []DomainView{}
	for _, d := range all {
		if connID == "" || d.ConnectionID == connID {
			out = append(out, domainView(d))
		}
	}
	return out, nil
}

// EnforceView is the answer of PATCH /saml/enforce.
type EnforceView struct {
	Enforced bool         `json:"enforced"`
	Domains  []DomainView `json:"domains"`
}

// SetEnforcement checks the DNS challenge of every claimed, unverified domain of the
// organization and, when enforced is not nil, turns enforcement on or off. Turning it on
// needs at least one verified domain and one enabled connection.
func (s *Service) SetEnforcement(ctx context.Context, actor roster.Actor, orgID string, enforced *bool) (*EnforceView, error) {
	if err := s.verifyByDNS(ctx, actor, orgID); err != nil {
		return nil, err
	}
	if enforced != nil {
		if *enforced {
			if err := s.canEnforce(ctx, orgID); err != nil {
				return nil, err
			}
		}
		if err := s.cfg.Store.Tx(ctx, actor, func(tx store.Tx) error { return tx.SetSSOEnforced(ctx, orgID, *enforced) }); err != nil {
			return nil, err
		}
	}
	return s.enforceView(ctx, orgID)
}

func (s *Service) enforceView(ctx context.Context, orgID string) (*EnforceView, error) {
	st, err := s.cfg.Store.GetSSOSettings(ctx, orgID)
	if err != nil {
		return nil, err
	}
	doms, err := s.domainsOf(ctx, orgID, "")
	if err != nil {
		return nil, err
	}
	return &EnforceView{Enforced: st.Enforced, Domains: doms}, nil
}

func (s *Service) canEnforce(ctx context.Context, orgID string) error {
	doms, err := s.cfg.Store.ListSSODomains(ctx, orgID)
	if err != nil {
		return err
	}
	verified := 0
	var pending []string
	for _, d := range doms {
		if d.Verified() {
			verified++
		} else {
			pending = append(pending, ChallengeName(d.Domain)+` TXT "`+d.Challenge+`"`)
		}
	}
	if verified == 0 {
		msg := "enforcement needs at least one verified domain: add domains to a connection"
		if len(pending) > 0 {
			msg = "enforcement needs at least one verified domain; publish " + strings.Join(pending, ", ")
		}
		return roster.E(roster.Invalid, "%s", msg)
	}
	if ok, err := s.hasEnabledConnection(ctx, orgID, ""); err != nil || ok {
		return err
	}
	return roster.E(roster.Invalid, "enforcement needs an enabled SAML or OIDC connection")
}

// hasEnabledConnection reports whether the organization has an enabled SAML or OIDC
// connection other than the one with id except ("" for none).
func (s *Service) hasEnabledConnection(ctx context.Context, orgID, except string) (bool, error) {
	samls, err := s.cfg.Store.ListSAMLConnections(ctx, orgID)
	if err != nil {
		return false, err
	}
	for _, c := range samls {
		if c.Enabled && c.ID != except {
			return true, nil
		}
	}
	oidcs, err := s.cfg.Store.ListOIDCConnections(ctx, orgID)
	if err != nil {
		return false, err
	}
	for _, c := range oidcs {
		if c.Enabled && c.ID != except {
			return true, nil
		}
	}
	return false, nil
}

// verifyByDNS looks up the challenge of each unverified domain and verifies those whose TXT
// record carries it. A domain another organization verified first stays unverified here.
func (s *Service) verifyByDNS(ctx context.Context, actor roster.Actor, orgID string) error {
	doms, err := s.cfg.Store.ListSSODomains(ctx, orgID)
	if err != nil {
		return err
	}
	for _, d := range doms {
		if d.Verified() {
			continue
		}
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		txts, err := s.cfg.Resolver(lctx, ChallengeName(d.Domain))
		cancel()
		if err != nil {
			s.cfg.Logger.Info("domain challenge lookup failed", "org_id", orgID, "domain", d.Domain, "err", err)
			continue
		}
		for _, txt := range txts {
			if strings.TrimSpace(txt) == d.Challenge {
				err := s.cfg.Store.Tx(ctx, actor, func(tx store.Tx) error { return tx.VerifyDomain(ctx, orgID, d.Domain, "dns") })
				if err != nil && roster.KindOf(err) != roster.Conflict {
					return err
				}
				break
			}
		}
	}
	return nil
}

// VerifyDomainAsAdmin is the instance admin's verification of a claimed domain, for
// organizations that cannot publish DNS records.
func (s *Service) VerifyDomainAsAdmin(ctx context.Context, actor roster.Actor, orgID, domain string) (*EnforceView, error) {
	domain = strings.ToLower(strings.TrimSpace(domain))
	if err := s.cfg.Store.Tx(ctx, actor, func(tx store.Tx) error { return tx.VerifyDomain(ctx, orgID, domain, "admin") }); err != nil {
		return nil, err
	}
	return s.enforceView(ctx, orgID)
}

// DisableEnforcement is the break-glass (roster sso disable): enforcement off, connections
// left as they are.
func (s *Service) DisableEnforcement(ctx context.Context, actor roster.Actor, orgID string) error {
	if _, err := s.cfg.Store.GetOrganization(ctx, orgID); err != nil {
		return err
	}
	return s.cfg.Store.Tx(ctx, actor, func(tx store.Tx) error { return tx.SetSSOEnforced(ctx, orgID, false) })
}

// CheckResult answers GET /saml/check: whether an email must sign in through SSO, and where.
type CheckResult struct {
	Email        string `json:"email"`
	SSORequired  bool   `json:"ssoRequired"`
	SSOAvailable bool   `json:"ssoAvailable"`
	OrgID        string `json:"orgId,omitempty"`
	ConnectionID string `json:"connectionId,omitempty"`
	Protocol     string `json:"protocol,omitempty"`
	AuthorizeURL string `json:"authorizeUrl,omitempty"`
}

// Check routes an email by its verified domain.
func (s *Service) Check(ctx context.Context, email string) (*CheckResult, error) {
	email = roster.NormalizeEmail(email)
	dom := roster.EmailDomain(email)
	if dom == "" {
		return nil, roster.E(roster.Invalid, "email must be an address such as ada@example.com")
	}
	res := &CheckResult{Email: email}
	d, st, err := s.cfg.Store.LookupVerifiedDomain(ctx, dom)
	if roster.KindOf(err) == roster.NotFound {
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	res.OrgID, res.SSORequired = d.OrgID, st.Enforced
	route, err := s.route(ctx, d.OrgID, "", email)
	if err != nil {
		return res, nil // no usable connection: password sign-in unless enforced
	}
	res.SSOAvailable, res.ConnectionID, res.Protocol = true, route.id, route.protocol
	res.AuthorizeURL = s.cfg.BaseURL + "/" + route.protocol + "/authorize/" + d.OrgID + "?connection=" + route.id
	return res, nil
}

// routeResult is the connection a login goes through.
type routeResult struct {
	protocol, id string
	saml         *roster.SAMLConnection
	oidc         *roster.OIDCConnection
}

// route picks the organization's connection for a login: by id, else by the email's
// domain, else the only enabled one.
func (s *Service) route(ctx context.Context, orgID, connID, email string, protocols ...string) (*routeResult, error) {
	samls, err := s.cfg.Store.ListSAMLConnections(ctx, orgID)
	if err != nil {
		return nil, err
	}
	oidcs, err := s.cfg.Store.ListOIDCConnections(ctx, orgID)
	if err != nil {
		return nil, err
	}
	want := func(p string) bool { return len(protocols) == 0 || contains(protocols, p) }
	var all []routeResult
	for i := range samls {
		if samls[i].Enabled && want(roster.ProtocolSAML) {
			all = append(all, routeResult{protocol: roster.ProtocolSAML, id: samls[i].ID, saml: &samls[i]})
		}
	}
	for i := range oidcs {
		if oidcs[i].Enabled && want(roster.ProtocolOIDC) {
			all = append(all, routeResult{protocol: roster.ProtocolOIDC, id: oidcs[i].ID, oidc: &oidcs[i]})
		}
	}
	if connID != "" {
		for i := range all {
			if all[i].id == connID {
				return &all[i], nil
			}
		}
		return nil, roster.E(roster.NotFound, "no enabled connection %s in this organization", connID)
	}
	if dom := roster.EmailDomain(email); dom != "" {
		doms, err := s.cfg.Store.ListSSODomains(ctx, orgID)
		if err != nil {
			return nil, err
		}
		for _, d := range doms {
			if d.Domain == dom && d.ConnectionID != "" {
				for i := range all {
					if all[i].id == d.ConnectionID {
						return &all[i], nil
					}
				}
			}
		}
	}
	if len(all) == 1 {
		return &all[0], nil
	}
	if len(all) == 0 {
		return nil, roster.E(roster.NotFound, "this organization has no enabled SSO connection")
	}
	return nil, roster.E(roster.Invalid, "this organization has several connections: pass connection=ID or email=ADDRESS")
}

// PurgeExpired deletes expired login states and replay-cache entries every interval until
// ctx ends.
func (s *Service) PurgeExpired(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.cfg.Store.PurgeSSOState(ctx, s.now()); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("purging SSO login state", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// keepsAnEnabledConnection refuses (Conflict) a change that would leave an organization that
// enforces SSO without an enabled connection, which would lock every member of its domains
// out: removing or disabling connection connID.
func (s *Service) keepsAnEnabledConnection(ctx context.Context, orgID, connID string) error {
	st, err := s.cfg.Store.GetSSOSettings(ctx, orgID)
	if err != nil || !st.Enforced {
		return err
	}
	if ok, err := s.hasEnabledConnection(ctx, orgID, connID); err != nil || ok {
		return err
	}
	return roster.E(roster.Conflict, "this is the organization's last enabled connection and SSO is enforced: turn enforcement off first (PATCH /saml/enforce {\"enforced\":false})")
}
