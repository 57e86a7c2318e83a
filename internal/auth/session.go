package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// SessionCookie is the name of the cookie that carries a signed-in member's session token.
const SessionCookie = "roster_session"

// Session lifetimes. A session ends after DefaultSessionIdle without a request, and after
// DefaultSessionMaxAge in any case.
const (
	DefaultSessionIdle   = 12 * time.Hour
	DefaultSessionMaxAge = 7 * 24 * time.Hour
	// sessionTouchEvery is how stale a session's last-seen time may get before a request
	// writes it: at most one write a minute per session, never one per request.
	sessionTouchEvery = time.Minute
	// sessionTokenBytes is the entropy of a session token.
	sessionTokenBytes = 32
)

// SessionConfig tunes Sessions.
type SessionConfig struct {
	// Idle and MaxAge are the idle and absolute lifetimes (defaults above).
	Idle, MaxAge time.Duration
	// TrustedProxies decide, with TLS, when the cookie is Secure: a request over TLS, or from
	// a trusted proxy that says X-Forwarded-Proto: https.
	TrustedProxies TrustedProxies
	// BaseURL is the public URL; its origin is trusted by the cross-origin check even when a
	// proxy rewrites the Host header.
	BaseURL string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives failures to record a session's use (default: discard).
	Logger *slog.Logger
}

// Sessions issues, reads and ends the server-side sessions of signed-in members (the console
// after a password sign-in, SAML and OIDC logins, the OAuth provider's authorize step).
//
// The browser holds a random token of 32 bytes in the roster_session cookie (HttpOnly,
// SameSite=Lax, Path=/, Secure over TLS or behind a trusted https proxy); the database holds
// its SHA-256 only. Every read checks, in the database, that the session is within its idle
// and absolute lifetimes and that its member is active and still a member, so a suspension
// takes effect on the next request on every replica.
type Sessions struct {
	st  store.Store
	cfg SessionConfig
	cop *http.CrossOriginProtection
}

// NewSessions returns a Sessions on st.
func NewSessions(st store.Store, cfg SessionConfig) *Sessions {
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultSessionIdle
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultSessionMaxAge
	}
	if cfg.Idle > cfg.MaxAge {
		cfg.Idle = cfg.MaxAge
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cop := http.NewCrossOriginProtection()
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Scheme != "" && u.Host != "" {
		_ = cop.AddTrustedOrigin(u.Scheme + "://" + u.Host)
	}
	return &Sessions{st: st, cfg: cfg, cop: cop}
}

var errNoSession = roster.E(roster.Unauthenticated, "not signed in")

// Start begins a session for member m, signed in by method (through the SAML or OIDC
// connection connectionID, or "" for none), and sets the cookie on w. A session the request
// already carried is ended first, so a token planted before sign-in never becomes a
// signed-in one (session fixation). The store refuses a member that is not active (Forbidden)
// or not of its organization (NotFound).
func (s *Sessions) Start(w http.ResponseWriter, r *http.Request, m *roster.Member, method roster.SessionMethod, connectionID string) (*roster.Session, error) {
	ctx := r.Context()
	if old, _, err := s.Read(r); err == nil {
		if err := s.delete(ctx, old); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	var raw [sessionTokenBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	h := sha256.Sum256([]byte(token))
	now := s.cfg.Now().UTC().Truncate(time.Microsecond)
	meta := roster.RequestMetaFrom(ctx)
	sess := &roster.Session{
		OrgID: m.OrgID, UserID: m.ID, TokenHash: h[:], Method: method, ConnectionID: connectionID,
		IP: meta.IP, UserAgent: truncate(r.UserAgent(), 512),
		CreatedAt: now, LastSeenAt: now, IdleExpiresAt: now.Add(s.cfg.Idle), ExpiresAt: now.Add(s.cfg.MaxAge),
	}
	actor := roster.Actor{Type: roster.ActorMember, ID: m.ID}
	if err := s.st.Tx(ctx, actor, func(tx store.Tx) error { return tx.CreateSession(ctx, sess) }); err != nil {
		return nil, err
	}
	http.SetCookie(w, s.cookie(r, token, int(s.cfg.MaxAge/time.Second)))
	return sess, nil
}

// Read returns the live session of r and its member as of now, or an Unauthenticated error
// when r carries no session cookie or one that is unknown, expired, or whose member is
// suspended, deleted or removed. A read records the session's use and slides its idle
// expiry, at most once a minute per session.
func (s *Sessions) Read(r *http.Request) (*roster.Session, *roster.Member, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || !wellFormedToken(c.Value) {
		return nil, nil, errNoSession
	}
	h := sha256.Sum256([]byte(c.Value))
	now := s.cfg.Now().UTC().Truncate(time.Microsecond)
	sess, m, err := s.st.LookupSession(r.Context(), h[:], now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, errNoSession
	}
	if err != nil {
		return nil, nil, err
	}
	if subtle.ConstantTimeCompare(sess.TokenHash, h[:]) != 1 {
		return nil, nil, errNoSession
	}
	if now.Sub(sess.LastSeenAt) >= sessionTouchEvery {
		idle := now.Add(s.cfg.Idle)
		if idle.After(sess.ExpiresAt) {
			idle = sess.ExpiresAt
		}
		if err := s.st.TouchSession(r.Context(), sess.OrgID, sess.ID, now, idle); err != nil {
			s.cfg.Logger.Warn("recording a session's use", "org_id", sess.OrgID, "err", err)
		} else {
			sess.LastSeenAt, sess.IdleExpiresAt = now, idle
		}
	}
	return sess, m, nil
}

// Principal reads r's session (Read) and returns the member principal it authenticates.
func (s *Sessions) Principal(r *http.Request) (Principal, error) {
	sess, m, err := s.Read(r)
	if err != nil {
		return Principal{}, err
	}
	return Principal{Kind: Member, OrgID: m.OrgID, CredentialID: sess.ID, Member: m, Session: sess}, nil
}

// End ends r's session, if it has a live one, and clears the cookie either way (sign-out).
func (s *Sessions) End(w http.ResponseWriter, r *http.Request) error {
	http.SetCookie(w, s.cookie(r, "", -1))
	sess, _, err := s.Read(r)
	if err != nil {
		if roster.KindOf(err) == roster.Unauthenticated {
			return nil
		}
		return err
	}
	if err := s.delete(r.Context(), sess); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

func (s *Sessions) delete(ctx context.Context, sess *roster.Session) error {
	actor := roster.Actor{Type: roster.ActorMember, ID: sess.UserID}
	return s.st.Tx(ctx, actor, func(tx store.Tx) error { return tx.DeleteSession(ctx, sess.OrgID, sess.ID) })
}

// CheckOrigin refuses (Forbidden) a state-changing request that a browser sent from another
// origin, with Go's http.CrossOriginProtection (Sec-Fetch-Site, else Origin against Host).
// Every route that a session cookie authenticates and that changes state must pass it; safe
// methods (GET, HEAD, OPTIONS) always do. The SAML callbacks must not call it: IdPs POST to
// them cross-site by design, and they rely on the signed response and server-side login
// state instead.
func (s *Sessions) CheckOrigin(r *http.Request) error {
	if err := s.cop.Check(r); err != nil {
		return roster.E(roster.Forbidden, "cross-origin request refused: submit the form from this site")
	}
	return nil
}

// cookie is the session cookie carrying value; maxAge < 0 deletes it.
func (s *Sessions) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: SessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.TrustedProxies.ViaTrustedProxy(r),
	}
}

// wellFormedToken rejects cookie values that no session could have, before any lookup.
func wellFormedToken(v string) bool {
	if len(v) != base64.RawURLEncoding.EncodedLen(sessionTokenBytes) {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// PurgeExpired deletes expired sessions every interval until ctx ends. Expired sessions are
// already refused by every read; the purge only keeps the table small.
func (s *Sessions) PurgeExpired(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.st.PurgeSessions(ctx, s.cfg.Now()); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("purging expired sessions", "err", err)
		} else if n > 0 {
			s.cfg.Logger.Info("purged expired sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
