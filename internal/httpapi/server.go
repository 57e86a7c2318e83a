package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"

	"github.com/rosterhq/roster/internal/admin"
	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/events"
	"github.com/rosterhq/roster/internal/keyring"
	"github.com/rosterhq/roster/internal/mail"
	"github.com/rosterhq/roster/internal/oauth"
	"github.com/rosterhq/roster/internal/outbound"
	"github.com/rosterhq/roster/internal/scim"
	"github.com/rosterhq/roster/internal/sso"
	"github.com/rosterhq/roster/internal/store"
)

// Deps is everything the HTTP surface needs, passed in by the caller (no globals).
type Deps struct {
	Store   store.Store
	Auth    *auth.Service
	Logger  *slog.Logger
	Metrics *Metrics
	// BaseURL is the public URL of the server (no trailing slash).
	BaseURL string
	// AdminKey enables the instance admin API when non-empty.
	AdminKey auth.Secret
	// MaxBodyBytes caps request bodies (default 1 MiB); larger ones get 413.
	MaxBodyBytes int64
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies auth.TrustedProxies
	// Limiter throttles failed authentication (default: 30 a minute per address and prefix).
	Limiter *auth.FailureLimiter
	// RequestLog records SCIM requests per directory (nil: not recorded).
	RequestLog *scim.RequestLog
	// Events manages webhook endpoints (default: one on Store without a keyring, which
	// refuses to create secrets).
	Events *events.Service
	// Keyring encrypts secrets Roster uses again (token-signing keys of the default OAuth
	// provider).
	Keyring *keyring.Keyring
	// OAuth is the OAuth 2.0 / OpenID Connect provider (default: one on Store and Keyring,
	// issuing for BaseURL).
	OAuth *oauth.Provider
	// Sessions reads and issues signed-in members' session cookies (default: one on Store
	// with the default lifetimes and TrustedProxies).
	Sessions *auth.Sessions
	// People signs members in with passwords, invitations, reset links and TOTP (default: one
	// on Store without a keyring, so without two-factor sign-in).
	People *auth.People
	// Mailer sends console invitations by email (nil: none are mailed).
	Mailer mail.Sender
	// SSO runs SAML and OIDC sign-in (default: one on Store and Sessions with no keyring,
	// which cannot create OIDC connections, and an outbound client that refuses private
	// addresses).
	SSO *sso.Service
}

// server is the assembled handler.
type server struct {
	Deps
	mux      *http.ServeMux
	scim     *scim.Handler
	console  *admin.Console
	adminSum [32]byte
}

// NewServer returns Roster's HTTP handler.
func NewServer(d Deps) http.Handler {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics(nil)
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 1 << 20
	}
	if d.Limiter == nil {
		d.Limiter = auth.NewFailureLimiter(auth.DefaultFailuresPerMinute)
	}
	d.BaseURL = strings.TrimSuffix(d.BaseURL, "/")
	if d.Events == nil {
		d.Events = events.NewService(d.Store, nil, nil)
	}
	if d.Sessions == nil {
		d.Sessions = auth.NewSessions(d.Store, auth.SessionConfig{TrustedProxies: d.TrustedProxies, BaseURL: d.BaseURL, Logger: d.Logger})
	}
	if d.OAuth == nil {
		d.OAuth = oauth.New(oauth.Config{Store: d.Store, Keyring: d.Keyring, Issuer: d.BaseURL, Logger: d.Logger,
			Limiter: d.Limiter, ClientIP: d.TrustedProxies.ClientIP, Sessions: d.Sessions, SSOLogin: SSOLogin(d.Store)})
	}
	if d.People == nil {
		d.People = auth.NewPeople(d.Store, auth.PeopleConfig{})
	}
	if d.SSO == nil {
		d.SSO = sso.New(sso.Config{Store: d.Store, Sessions: d.Sessions, BaseURL: d.BaseURL, Logger: d.Logger,
			Outbound: outbound.New(outbound.Options{UserAgent: "Roster-SSO/1"})})
	}
	s := &server{Deps: d, mux: http.NewServeMux(), scim: &scim.Handler{Store: d.Store, BaseURL: d.BaseURL, Logger: d.Logger}}
	cd := admin.Deps{Store: d.Store, Auth: d.Auth, People: d.People, Events: d.Events, Sessions: d.Sessions, SSO: d.SSO, Mailer: d.Mailer,
		Limiter: d.Limiter, Logger: d.Logger, BaseURL: d.BaseURL}
	if d.RequestLog != nil {
		cd.RequestLog = d.RequestLog
	}
	console, err := admin.New(cd)
	if err != nil {
		panic(err) // the embedded templates are part of the binary: a broken one is a build defect
	}
	s.console = console
	if d.AdminKey != "" {
		s.adminSum = sha256.Sum256([]byte(d.AdminKey.Reveal()))
	}
	s.routes()
	return s.middleware(http.HandlerFunc(s.dispatch))
}

// adminKeyMatches compares a presented admin key with the configured one in constant time
// (digests of equal length, so the key's length does not leak either).
func (s *server) adminKeyMatches(presented string) bool {
	if s.AdminKey == "" {
		return false
	}
	sum := sha256.Sum256([]byte(presented))
	return subtle.ConstantTimeCompare(sum[:], s.adminSum[:]) == 1
}
