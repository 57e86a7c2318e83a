package oauth

import (
	"context"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// AppInput is what an admin sets on an app; nil fields of an update stay as they are.
type AppInput struct {
	Name           *string
	RedirectURIs   *[]string
	Scopes         *[]string
	PKCERequired   *bool
	Public         *bool
	AllowedOrigins *[]string
	IDTokenAlg     *string
}

// Limits on app settings, so that one app cannot bloat every lookup of its client.
const (
	maxRedirectURIs = 20
	maxOrigins      = 20
	maxURILen       = 2000
)

// validRedirectURI checks a redirect URI at registration (RFC 6749 section 3.1.2, RFC 8252
// section 7, RFC 9700 section 2.1): absolute, without a fragment, HTTPS, or HTTP to a
// loopback address only, or a private-use scheme of a native app (reverse domain name, with
// a dot). It is later matched exactly, as a string.
func validRedirectURI(s string) error {
	if len(s) > maxURILen {
		return roster.E(roster.Invalid, "redirectUris: a URI is longer than %d characters", maxURILen)
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() {
		return roster.E(roster.Invalid, "redirectUris: %q is not an absolute URI", s)
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return roster.E(roster.Invalid, "redirectUris: %q has a fragment", s)
	}
	if strings.Contains(s, "*") {
		return roster.E(roster.Invalid, "redirectUris: %q has a wildcard: redirect URIs match exactly", s)
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return roster.E(roster.Invalid, "redirectUris: %q has no host", s)
		}
	case "http":
		if !isLoopback(u.Hostname()) {
			return roster.E(roster.Invalid, "redirectUris: %q: plain http is allowed only to a loopback address (localhost, 127.0.0.1, [::1])", s)
		}
	default:
		if !strings.Contains(u.Scheme, ".") {
			return roster.E(roster.Invalid, "redirectUris: %q: use https, http to loopback, or a private-use scheme in reverse domain form (com.example.app)", s)
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validOrigin checks a CORS origin: scheme, host and optional port, nothing else.
func validOrigin(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" ||
		u.Fragment != "" || u.User != nil || s != u.Scheme+"://"+u.Host {
		return roster.E(roster.Invalid, "allowedOrigins: %q is not an origin (scheme://host[:port])", s)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return roster.E(roster.Invalid, "allowedOrigins: %q: plain http is allowed only for loopback addresses", s)
	}
	return nil
}

func dedupe(v []string) []string {
	out := []string{}
	for _, s := range v {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// apply validates in and writes it over a.
func apply(a *roster.OAuthApp, in AppInput, creating bool) error {
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if name == "" || len(name) > 200 {
			return roster.E(roster.Invalid, "name is required (at most 200 characters)")
		}
		a.Name = name
	} else if creating {
		return roster.E(roster.Invalid, "name is required")
	}
	if in.RedirectURIs != nil {
		uris := dedupe(*in.RedirectURIs)
		if len(uris) == 0 || len(uris) > maxRedirectURIs {
			return roster.E(roster.Invalid, "redirectUris: between 1 and %d URIs are required", maxRedirectURIs)
		}
		for _, u := range uris {
			if err := validRedirectURI(u); err != nil {
				return err
			}
		}
		a.RedirectURIs = uris
	} else if creating {
		return roster.E(roster.Invalid, "redirectUris is required")
	}
	if in.Scopes != nil {
		scopes := dedupe(*in.Scopes)
		for _, s := range scopes {
			if !roster.KnownScope(s) {
				return roster.E(roster.Invalid, "scopes: unknown scope %q (known: %s)", s, strings.Join(roster.Scopes, ", "))
			}
		}
		a.Scopes = scopes
	} else if creating {
		a.Scopes = []string{roster.ScopeOpenID, roster.ScopeProfile, roster.ScopeEmail}
	}
	if in.Public != nil {
		if !creating && *in.Public != a.Public {
			return roster.E(roster.Invalid, "public cannot change after creation: create another app")
		}
		a.Public = *in.Public
	}
	if in.PKCERequired != nil {
		a.PKCERequired = *in.PKCERequired
	} else if creating {
		a.PKCERequired = true
	}
	if a.Public && !a.PKCERequired {
		if in.PKCERequired != nil && !*in.PKCERequired {
			return roster.E(roster.Invalid, "pkceRequired: a public app must use PKCE")
		}
		a.PKCERequired = true
	}
	if in.AllowedOrigins != nil {
		origins := dedupe(*in.AllowedOrigins)
		if len(origins) > maxOrigins {
			return roster.E(roster.Invalid, "allowedOrigins: at most %d origins", maxOrigins)
		}
		for _, o := range origins {
			if err := validOrigin(o); err != nil {
				return err
			}
		}
		a.AllowedOrigins = origins
	}
	if in.IDTokenAlg != nil {
		if !slices.Contains(Algs, *in.IDTokenAlg) {
			return roster.E(roster.Invalid, "idTokenSigningAlg must be RS256 or ES256")
		}
		a.IDTokenAlg = *in.IDTokenAlg
	} else if creating {
		a.IDTokenAlg = roster.AlgRS256
	}
	return nil
}

// CreateApp registers an app and returns it with its client secret (empty for a public app),
// the only time the secret is shown.
func (p *Provider) CreateApp(ctx context.Context, actor roster.Actor, orgID string, in AppInput) (*roster.OAuthApp, string, error) {
	a := &roster.OAuthApp{OrgID: orgID, AllowedOrigins: []string{}}
	if err := apply(a, in, true); err != nil {
		return nil, "", err
	}
	a.ClientID = auth.NewSecret(ClientIDPrefix)[:len(ClientIDPrefix)+24]
	secret := ""
	if !a.Public {
		secret = auth.NewSecret(ClientSecretPrefix)
		a.SecretHash = auth.Hash(secret)
	}
	if err := p.st.Tx(ctx, actor, func(tx store.Tx) error { return tx.CreateOAuthApp(ctx, a) }); err != nil {
		return nil, "", err
	}
	return a, secret, nil
}

// UpdateApp changes an app's settings.
func (p *Provider) UpdateApp(ctx context.Context, actor roster.Actor, orgID, id string, in AppInput) (*roster.OAuthApp, error) {
	var out *roster.OAuthApp
	err := p.st.Tx(ctx, actor, func(tx store.Tx) error {
		a, err := tx.GetOAuthApp(ctx, orgID, id)
		if err != nil {
			return err
		}
		if err := apply(a, in, false); err != nil {
			return err
		}
		out = a
		return tx.UpdateOAuthApp(ctx, a)
	})
	return out, err
}

// DeleteApp deletes an app; every token it holds stops working at once.
func (p *Provider) DeleteApp(ctx context.Context, actor roster.Actor, orgID, id string) error {
	return p.st.Tx(ctx, actor, func(tx store.Tx) error { return tx.DeleteOAuthApp(ctx, orgID, id) })
}

// RotateSecret gives an app a new client secret, returned once; the old one keeps working
// for grace (0: revoked at once), like every rotation in Roster.
func (p *Provider) RotateSecret(ctx context.Context, actor roster.Actor, orgID, id string, grace time.Duration) (*roster.OAuthApp, string, error) {
	secret := auth.NewSecret(ClientSecretPrefix)
	var until *time.Time
	if grace > 0 {
		t := p.now().Add(grace).UTC()
		until = &t
	}
	var out *roster.OAuthApp
	err := p.st.Tx(ctx, actor, func(tx store.Tx) (err error) {
		out, err = tx.RotateOAuthAppSecret(ctx, orgID, id, auth.Hash(secret), until)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return out, secret, nil
}
