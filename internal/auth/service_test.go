package auth_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/store/sqlstore"
	"github.com/rosterhq/roster/internal/store/sqlstore/sqltest"
)

var testActor = roster.SystemActor("auth-test")

// forEachStore runs test on a fresh SQLite store and on a fresh PostgreSQL database (skipped
// with the reason printed when ROSTER_TEST_POSTGRES is unset).
func forEachStore(t *testing.T, test func(t *testing.T, st store.Store)) {
	t.Helper()
	backends := []struct {
		name string
		open func(testing.TB) *sqlstore.Store
	}{
		{"sqlite", func(tb testing.TB) *sqlstore.Store { return sqltest.SQLite(tb) }},
		{"postgres", func(tb testing.TB) *sqlstore.Store { return sqltest.Postgres(tb) }},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			test(t, b.open(t))
		})
	}
}

// clock is a settable clock for Config.Now, safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is one organization on a store, with a Service whose clock the test moves.
type env struct {
	st    store.Store
	clock *clock
	svc   *auth.Service
	org   *roster.Organization
}

// newEnv creates an organization on st. cfg.Now, when unset, is a fresh test clock.
func newEnv(t testing.TB, st store.Store, cfg auth.Config) *env {
	t.Helper()
	e := &env{st: st, clock: newClock()}
	if cfg.Now == nil {
		cfg.Now = e.clock.Now
	}
	e.svc = auth.NewService(st, cfg)
	org, err := e.svc.CreateOrganization(context.Background(), testActor, "Acme")
	if err != nil {
		t.Fatalf("CreateOrganization: %v", err)
	}
	e.org = org
	return e
}

func (e *env) orgKey(t testing.TB, expiresAt *time.Time) (*roster.APIKey, string) {
	t.Helper()
	key, secret, err := e.svc.CreateOrgKey(context.Background(), testActor, e.org.ID, "test key", expiresAt)
	if err != nil {
		t.Fatalf("CreateOrgKey: %v", err)
	}
	return key, secret
}

func (e *env) directory(t testing.TB, name string) (*roster.Directory, string) {
	t.Helper()
	dir, token, err := e.svc.CreateDirectory(context.Background(), testActor, e.org.ID, name, roster.RoleNone)
	if err != nil {
		t.Fatalf("CreateDirectory: %v", err)
	}
	return dir, token
}

func (e *env) regenerate(t testing.TB, dirID string, grace time.Duration) (*roster.DirectoryToken, string) {
	t.Helper()
	tok, token, err := e.svc.RegenerateToken(context.Background(), testActor, e.org.ID, dirID, grace)
	if err != nil {
		t.Fatalf("RegenerateToken(grace %v): %v", grace, err)
	}
	return tok, token
}

// wantAccepted fails unless token opens dir.
func (e *env) wantAccepted(t testing.TB, token string, dir *roster.Directory) auth.Principal {
	t.Helper()
	p, err := e.svc.AuthenticateBearer(context.Background(), token)
	if err != nil {
		t.Fatalf("AuthenticateBearer: %v, want accepted", err)
	}
	if p.Kind != auth.DirectoryToken || p.OrgID != e.org.ID || p.CredentialID == "" || p.Directory == nil || p.Directory.ID != dir.ID {
		t.Fatalf("AuthenticateBearer = %+v, want a directory token principal of directory %s in org %s", p, dir.ID, e.org.ID)
	}
	return p
}

// wantRefused fails unless err is an authentication failure whose message contains msg.
func wantRefused(t testing.TB, p auth.Principal, err error, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted as %+v, want refused", p)
	}
	if k := roster.KindOf(err); k != roster.Unauthenticated {
		t.Errorf("error kind = %v (%v), want unauthenticated", k, err)
	}
	if got := roster.MessageOf(err); !strings.Contains(got, msg) {
		t.Errorf("message = %q, want it to contain %q", got, msg)
	}
	if p != (auth.Principal{}) {
		t.Errorf("refusal came with principal %+v, want the zero principal", p)
	}
}

func wantKind(t testing.TB, err error, want roster.Kind) {
	t.Helper()
	if got := roster.KindOf(err); err == nil || got != want {
		t.Errorf("error = %v (kind %v), want kind %v", err, got, want)
	}
}

func TestCreateOrgKey(t *testing.T) {
	t.Parallel()
	st := sqltest.SQLite(t)
	e := newEnv(t, st, auth.Config{})
	ctx := context.Background()

	t.Run("issues a prefixed pair, stores the secret's digest and shows its display form", func(t *testing.T) {
		key, secret := e.orgKey(t, nil)
		if !strings.HasPrefix(key.PublicKey, auth.OrgPublicPrefix) || len(key.PublicKey) != len(auth.OrgPublicPrefix)+43 {
			t.Errorf("public key %q: want %s and 43 characters", key.PublicKey, auth.OrgPublicPrefix)
		}
		if !strings.HasPrefix(secret, auth.OrgSecretPrefix) || len(secret) != len(auth.OrgSecretPrefix)+43 {
			t.Errorf("secret key %q: want %s and 43 characters", secret, auth.OrgSecretPrefix)
		}
		stored, err := st.GetOrgKey(ctx, e.org.ID, key.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(stored.SecretHash, auth.Hash(secret)) {
			t.Errorf("stored digest %x, want SHA-256 of the secret", stored.SecretHash)
		}
		if want := auth.Display(secret, auth.OrgSecretPrefix); stored.DisplaySecretKey != want {
			t.Errorf("stored display form %q, want %q", stored.DisplaySecretKey, want)
		}
		if stored.Note != "test key" {
			t.Errorf("note = %q", stored.Note)
		}
	})
	t.Run("an expiry in the past is refused", func(t *testing.T) {
		past := e.clock.Now().Add(-time.Second)
		_, _, err := e.svc.CreateOrgKey(ctx, testActor, e.org.ID, "", &past)
		wantKind(t, err, roster.Invalid)
	})
	t.Run("an expiry of right now is refused", func(t *testing.T) {
		now := e.clock.Now()
		_, _, err := e.svc.CreateOrgKey(ctx, testActor, e.org.ID, "", &now)
		wantKind(t, err, roster.Invalid)
	})
	t.Run("a note longer than 1000 characters is refused", func(t *testing.T) {
		_, _, err := e.svc.CreateOrgKey(ctx, testActor, e.org.ID, strings.Repeat("n", 1001), nil)
		wantKind(t, err, roster.Invalid)
	})
	t.Run("a key for an organization that does not exist is refused", func(t *testing.T) {
		_, _, err := e.svc.CreateOrgKey(ctx, testActor, roster.NewID(), "", nil)
		wantKind(t, err, roster.NotFound)
	})
}

func TestAuthenticateBasic(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		e := newEnv(t, st, auth.Config{})
		key, secret := e.orgKey(t, nil)
		other, otherSecret := e.orgKey(t, nil)

		tests := []struct {
			name           string
			public, secret string
			wantKey        *roster.APIKey // nil: refused
			wantMsg        string
		}{
			{"the pair as issued is accepted", key.PublicKey, secret, key, ""},
			{"a second key of the organization is accepted too", other.PublicKey, otherSecret, other, ""},
			{"a wrong secret is refused", key.PublicKey, auth.NewSecret(auth.OrgSecretPrefix), nil, "invalid credentials"},
			{"another key's secret is refused", key.PublicKey, otherSecret, nil, "invalid credentials"},
			{"the secret's display form is refused", key.PublicKey, key.DisplaySecretKey, nil, "invalid credentials"},
			{"an empty secret is refused", key.PublicKey, "", nil, "invalid credentials"},
			{"the secret with a character missing is refused", key.PublicKey, secret[:len(secret)-1], nil, "invalid credentials"},
			{"an unknown public key is refused", "pk-org-unknown", secret, nil, "invalid credentials"},
			{"a pair of the right shape that was never issued is refused", auth.NewSecret(auth.OrgPublicPrefix), auth.NewSecret(auth.OrgSecretPrefix), nil, "invalid credentials"},
			{"the secret sent as the public key is refused", secret, secret, nil, "invalid credentials"},
			{"a public key in the wrong case is refused", strings.ToUpper(key.PublicKey), secret, nil, "invalid credentials"},
			{"an empty pair is refused", "", "", nil, "invalid credentials"},
			{"a public key longer than 256 bytes is refused", key.PublicKey + strings.Repeat("x", 256), secret, nil, "invalid credentials"},
			{"a secret longer than 256 bytes is refused", key.PublicKey, secret + strings.Repeat("x", 256), nil, "invalid credentials"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p, err := e.svc.AuthenticateBasic(ctx, tt.public, tt.secret)
				if tt.wantKey == nil {
					wantRefused(t, p, err, tt.wantMsg)
					return
				}
				if err != nil {
					t.Fatalf("AuthenticateBasic: %v, want accepted", err)
				}
				want := auth.Principal{Kind: auth.OrgKey, OrgID: e.org.ID, CredentialID: tt.wantKey.ID}
				if diff := cmp.Diff(want, p); diff != "" {
					t.Errorf("principal (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(roster.Actor{Type: roster.ActorOrgKey, ID: tt.wantKey.ID}, p.Actor()); diff != "" {
					t.Errorf("actor (-want +got):\n%s", diff)
				}
			})
		}

		t.Run("a key authenticates as its own organization, and two organizations' keys do not mix", func(t *testing.T) {
			e2 := newEnv(t, st, auth.Config{})
			key2, secret2 := e2.orgKey(t, nil)
			p, err := e.svc.AuthenticateBasic(ctx, key2.PublicKey, secret2)
			if err != nil {
				t.Fatal(err)
			}
			if p.OrgID != e2.org.ID || p.CredentialID != key2.ID {
				t.Errorf("principal %+v, want org %s key %s", p, e2.org.ID, key2.ID)
			}
			if _, err := e.svc.AuthenticateBasic(ctx, key.PublicKey, secret2); err == nil {
				t.Error("org A's public key with org B's secret was accepted")
			}
		})

		t.Run("a refused attempt records no use; an accepted one does", func(t *testing.T) {
			e := newEnv(t, st, auth.Config{})
			key, secret := e.orgKey(t, nil)
			uses := e.svc.LastUsed()
			_, _ = e.svc.AuthenticateBasic(ctx, key.PublicKey, "sk-org-wrong")
			if got := uses.Overlay(store.OrgKeyCredential, key.ID, nil); got != nil {
				t.Errorf("a refused attempt recorded a use at %v", got)
			}
			if _, err := e.svc.AuthenticateBasic(ctx, key.PublicKey, secret); err != nil {
				t.Fatal(err)
			}
			got := uses.Overlay(store.OrgKeyCredential, key.ID, nil)
			if want := e.clock.Now(); got == nil || !got.Equal(want) {
				t.Errorf("use recorded at %v, want %v", got, want)
			}
		})
	})
}

func TestAuthenticateBasicExpiry(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		e := newEnv(t, st, auth.Config{})
		expires := e.clock.Now().Add(time.Hour)
		expiring, expiringSecret := e.orgKey(t, &expires)
		forever, foreverSecret := e.orgKey(t, nil)

		steps := []struct {
			name        string
			advance     time.Duration
			key         *roster.APIKey
			secret      string
			wantRefused bool
		}{
			{"a key with an expiry works before it", 0, expiring, expiringSecret, false},
			{"it still works a second before its expiry", time.Hour - time.Second, expiring, expiringSecret, false},
			{"it is refused at its expiry", time.Second, expiring, expiringSecret, true},
			{"it stays refused after its expiry", 24 * time.Hour, expiring, expiringSecret, true},
			{"a key without an expiry still works years later", 10 * 365 * 24 * time.Hour, forever, foreverSecret, false},
		}
		for _, s := range steps {
			e.clock.Advance(s.advance)
			p, err := e.svc.AuthenticateBasic(ctx, s.key.PublicKey, s.secret)
			if s.wantRefused {
				t.Run(s.name, func(t *testing.T) { wantRefused(t, p, err, "expired") })
				continue
			}
			t.Run(s.name, func(t *testing.T) {
				if err != nil || p.CredentialID != s.key.ID {
					t.Errorf("AuthenticateBasic = %+v, %v; want key %s", p, err, s.key.ID)
				}
			})
		}
	})
}

func TestAuthenticateBearer(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()

		t.Run("a new directory's token is accepted", func(t *testing.T) {
			e := newEnv(t, st, auth.Config{})
			dir, token := e.directory(t, "Okta")
			if !strings.HasPrefix(token, auth.TokenPrefix) || len(token) != len(auth.TokenPrefix)+43 {
				t.Errorf("token %q: want %s and 43 characters", token, auth.TokenPrefix)
			}
			if dir.TokenPrefix != auth.TokenDisplayPrefix(token) {
				t.Errorf("directory shows token prefix %q, want %q", dir.TokenPrefix, auth.TokenDisplayPrefix(token))
			}
			if want := e.clock.Now().Add(roster.DefaultTokenTTL); dir.TokenExpiresAt == nil || !dir.TokenExpiresAt.Equal(want) {
				t.Errorf("token expires at %v, want %v (a year from now)", dir.TokenExpiresAt, want)
			}
			p := e.wantAccepted(t, token, dir)
			if diff := cmp.Diff(roster.Actor{Type: roster.ActorDirectory, ID: dir.ID}, p.Actor()); diff != "" {
				t.Errorf("actor (-want +got):\n%s", diff)
			}
			if p.Directory.Name != "Okta" || p.Directory.OrgID != e.org.ID || !p.Directory.Enabled || p.Directory.DefaultRole != roster.RoleNone {
				t.Errorf("principal's directory = %+v", p.Directory)
			}
		})

		t.Run("tokens that were never issued are refused", func(t *testing.T) {
			e := newEnv(t, st, auth.Config{})
			_, token := e.directory(t, "Okta")
			tests := []struct {
				name, token, msg string
			}{
				{"a token of the right shape from nowhere", auth.NewSecret(auth.TokenPrefix), "invalid, expired or revoked token"},
				{"the token with a character changed", token[:len(token)-1] + flip(token[len(token)-1]), "invalid, expired or revoked token"},
				{"the token's display prefix", auth.TokenDisplayPrefix(token), "invalid, expired or revoked token"},
				{"the token without its scim_ prefix", strings.TrimPrefix(token, auth.TokenPrefix), "invalid credentials"},
				{"an org secret key", auth.NewSecret(auth.OrgSecretPrefix), "invalid credentials"},
				{"an empty token", "", "invalid credentials"},
				{"a token longer than 256 bytes", token + strings.Repeat("x", 256), "invalid credentials"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					p, err := e.svc.AuthenticateBearer(ctx, tt.token)
					wantRefused(t, p, err, tt.msg)
				})
			}
		})

		t.Run("each token opens only its own directory", func(t *testing.T) {
			e := newEnv(t, st, auth.Config{})
			okta, oktaToken := e.directory(t, "Okta")
			entra, entraToken := e.directory(t, "Entra ID")
			e.wantAccepted(t, oktaToken, okta)
			e.wantAccepted(t, entraToken, entra)
		})

		t.Run("regenerating without grace refuses the old token at once", func(t *testing.T) {
			e := newEnv(t, st, auth.Config{})
			dir, old := e.directory(t, "Okta")
			tok, fresh := e.regenerate(t, dir.ID, 0)
			p, err := e.svc.AuthenticateBearer(ctx, old)
			wantRefused(t, p, err, "revoked")
			if got := e.wantAccepted(t, fresh, dir); got.CredentialID != tok.ID {
				t.Errorf("new token authenticated as credential %s, want %s", got.CredentialID, tok.ID)
			}
			if tok.Prefix != auth.TokenDisplayPrefix(fresh) || !bytes.Equal(tok.Hash, auth.Hash(fresh)) {
				t.Errorf("new token row = %+v, want prefix %q and the token's digest", tok, auth.TokenDisplayPrefix(fresh))
			}
			if want := e.clock.Now().Add(roster.DefaultTokenTTL); !tok.ExpiresAt.Equal(want) {
				t.Errorf("new token expires at %v, want %v", tok.ExpiresAt, want)
			}
		})

		t.Run("regenerating with an hour's grace keeps the old token for that hour only", func(t *testing.T) {
			e := newEnv(t, st, auth.Config{})
			dir, old := e.directory(t, "Okta")
			_, fresh := e.regenerate(t, dir.ID, time.Hour)
			e.wantAccepted(t, old, dir)
			e.wantAccepted(t, fresh, dir)
			e.clock.Advance(time.Hour - time.Second)
			e.wantAccepted(t, old, dir)
			e.clock.Advance(2 * time.Second)
			p, err := e.svc.AuthenticateBearer(ctx, old)
			wantRefused(t, p, err, "expired")
			e.wantAccepted(t, fresh, dir)
		})

		t.Run("a second rotation never extends the grace of the first", func(t *testing.T) {
			e := newEnv(t, st, auth.Config{})
			dir, first := e.directory(t, "Okta")
			_, second := e.regenerate(t, dir.ID, time.Minute)
			_, third := e.regenerate(t, dir.ID, time.Hour)
			e.clock.Advance(2 * time.Minute)
			p, err := e.svc.AuthenticateBearer(ctx, first)
			wantRefused(t, p, err, "revoked")
			e.wantAccepted(t, second, dir)
			e.wantAccepted(t, third, dir)
		})

		t.Run("a token is refused once its lifetime has passed", func(t *testing.T) {
			e := newEnv(t, st, auth.Config{TokenTTL: 24 * time.Hour})
			if e.svc.TokenTTL() != 24*time.Hour {
				t.Errorf("TokenTTL() = %v, want 24h", e.svc.TokenTTL())
			}
			dir, token := e.directory(t, "Okta")
			e.clock.Advance(24*time.Hour - time.Second)
			e.wantAccepted(t, token, dir)
			e.clock.Advance(2 * time.Second)
			p, err := e.svc.AuthenticateBearer(ctx, token)
			wantRefused(t, p, err, "expired")
		})

		t.Run("a disabled directory's token is refused, and accepted again once re-enabled", func(t *testing.T) {
			e := newEnv(t, st, auth.Config{})
			dir, token := e.directory(t, "Okta")
			off, on := false, true
			got, err := e.svc.UpdateDirectory(ctx, testActor, e.org.ID, dir.ID, auth.DirectoryPatch{Enabled: &off})
			if err != nil {
				t.Fatal(err)
			}
			if got.Enabled {
				t.Error("UpdateDirectory returned the directory still enabled")
			}
			p, err := e.svc.AuthenticateBearer(ctx, token)
			wantRefused(t, p, err, "disabled")
			if _, err := e.svc.UpdateDirectory(ctx, testActor, e.org.ID, dir.ID, auth.DirectoryPatch{Enabled: &on}); err != nil {
				t.Fatal(err)
			}
			e.wantAccepted(t, token, dir)
		})

		t.Run("a directory of another organization cannot be rotated or updated", func(t *testing.T) {
			e := newEnv(t, st, auth.Config{})
			other := newEnv(t, st, auth.Config{})
			dir, token := e.directory(t, "Okta")
			_, _, err := other.svc.RegenerateToken(ctx, testActor, other.org.ID, dir.ID, 0)
			wantKind(t, err, roster.NotFound)
			off := false
			_, err = other.svc.UpdateDirectory(ctx, testActor, other.org.ID, dir.ID, auth.DirectoryPatch{Enabled: &off})
			wantKind(t, err, roster.NotFound)
			e.wantAccepted(t, token, dir)
		})
	})
}

// flip returns a base62 character different from c.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestRegenerateTokenGrace(t *testing.T) {
	t.Parallel()
	st := sqltest.SQLite(t)
	e := newEnv(t, st, auth.Config{})
	dir, _ := e.directory(t, "Okta")
	tests := []struct {
		name  string
		grace time.Duration
		ok    bool
	}{
		{"no grace is allowed", 0, true},
		{"an hour's grace is allowed", time.Hour, true},
		{"exactly MaxGrace is allowed", auth.MaxGrace, true},
		{"grace beyond MaxGrace is refused", auth.MaxGrace + time.Second, false},
		{"a negative grace is refused", -time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, token, err := e.svc.RegenerateToken(context.Background(), testActor, e.org.ID, dir.ID, tt.grace)
			if tt.ok {
				if err != nil || token == "" {
					t.Errorf("RegenerateToken(%v) = %q, %v; want a new token", tt.grace, token, err)
				}
				return
			}
			wantKind(t, err, roster.Invalid)
			if !strings.Contains(roster.MessageOf(err), "graceSeconds") {
				t.Errorf("message %q does not name graceSeconds", roster.MessageOf(err))
			}
		})
	}
	t.Run("an unknown directory is not found", func(t *testing.T) {
		_, _, err := e.svc.RegenerateToken(context.Background(), testActor, e.org.ID, roster.NewID(), 0)
		wantKind(t, err, roster.NotFound)
	})
}

func TestDirectoryDefaultRole(t *testing.T) {
	t.Parallel()
	st := sqltest.SQLite(t)
	e := newEnv(t, st, auth.Config{})
	ctx := context.Background()
	tests := []struct {
		name string
		role roster.Role
		want roster.Role // "" means refused as invalid
	}{
		{"no role means NONE", "", roster.RoleNone},
		{"NONE is allowed", roster.RoleNone, roster.RoleNone},
		{"VIEWER is allowed", roster.RoleViewer, roster.RoleViewer},
		{"MEMBER is allowed", roster.RoleMember, roster.RoleMember},
		{"ADMIN is allowed", roster.RoleAdmin, roster.RoleAdmin},
		{"OWNER is refused: provisioning never makes owners", roster.RoleOwner, ""},
		{"an unknown role is refused", "SUPERUSER", ""},
	}
	for _, tt := range tests {
		t.Run("creating: "+tt.name, func(t *testing.T) {
			dir, token, err := e.svc.CreateDirectory(ctx, testActor, e.org.ID, "Okta", tt.role)
			if tt.want == "" {
				wantKind(t, err, roster.Invalid)
				if dir != nil || token != "" {
					t.Errorf("a refused directory came back: %+v, token %q", dir, token)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if dir.DefaultRole != tt.want {
				t.Errorf("default role = %q, want %q", dir.DefaultRole, tt.want)
			}
		})
	}
	dir, _ := e.directory(t, "Okta")
	for _, tt := range tests {
		if tt.role == "" {
			continue
		}
		t.Run("updating: "+tt.name, func(t *testing.T) {
			role := tt.role
			got, err := e.svc.UpdateDirectory(ctx, testActor, e.org.ID, dir.ID, auth.DirectoryPatch{DefaultRole: &role})
			if tt.want == "" {
				wantKind(t, err, roster.Invalid)
				stored, err := st.GetDirectory(ctx, e.org.ID, dir.ID)
				if err != nil {
					t.Fatal(err)
				}
				if stored.DefaultRole == tt.role {
					t.Errorf("a refused update was stored: default role %q", stored.DefaultRole)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.DefaultRole != tt.want {
				t.Errorf("default role = %q, want %q", got.DefaultRole, tt.want)
			}
		})
	}
	t.Run("a blank name is refused", func(t *testing.T) {
		_, _, err := e.svc.CreateDirectory(ctx, testActor, e.org.ID, "  ", roster.RoleNone)
		wantKind(t, err, roster.Invalid)
	})
}

func TestDefaultDirectory(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()

		t.Run("it is created on first use and the same one is returned after", func(t *testing.T) {
			e := newEnv(t, st, auth.Config{})
			first, err := e.svc.DefaultDirectory(ctx, testActor, e.org.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !first.IsDefault || !first.Enabled || first.DefaultRole != roster.RoleNone || first.OrgID != e.org.ID {
				t.Errorf("default directory = %+v, want an enabled default directory with role NONE", first)
			}
			again, err := e.svc.DefaultDirectory(ctx, testActor, e.org.ID)
			if err != nil {
				t.Fatal(err)
			}
			if again.ID != first.ID {
				t.Errorf("second call returned directory %s, want %s", again.ID, first.ID)
			}
			wantDirectories(t, st, e.org.ID, 1)
		})

		t.Run("concurrent first uses agree on one directory", func(t *testing.T) {
			e := newEnv(t, st, auth.Config{})
			const n = 8
			ids := make([]string, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					d, err := e.svc.DefaultDirectory(ctx, testActor, e.org.ID)
					errs[i] = err
					if err == nil {
						ids[i] = d.ID
					}
				})
			}
			close(start)
			wg.Wait()
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("call %d: %v", i, errs[i])
				}
				if ids[i] != ids[0] {
					t.Errorf("call %d returned directory %s, call 0 returned %s", i, ids[i], ids[0])
				}
			}
			wantDirectories(t, st, e.org.ID, 1)
		})

		t.Run("each organization gets its own", func(t *testing.T) {
			a := newEnv(t, st, auth.Config{})
			b := newEnv(t, st, auth.Config{})
			da, err := a.svc.DefaultDirectory(ctx, testActor, a.org.ID)
			if err != nil {
				t.Fatal(err)
			}
			db, err := b.svc.DefaultDirectory(ctx, testActor, b.org.ID)
			if err != nil {
				t.Fatal(err)
			}
			if da.ID == db.ID || da.OrgID != a.org.ID || db.OrgID != b.org.ID {
				t.Errorf("org A got %+v, org B got %+v", da, db)
			}
		})
	})
}

func wantDirectories(t *testing.T, st store.Store, orgID string, n int) {
	t.Helper()
	dirs, err := st.ListDirectories(context.Background(), orgID)
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) != n {
		t.Errorf("%d directories, want %d: %+v", len(dirs), n, dirs)
	}
}

func TestCheckExpiry(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		var logs bytes.Buffer
		e := newEnv(t, st, auth.Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
		dir, token := e.directory(t, "Okta")
		tokenID := e.wantAccepted(t, token, dir).CredentialID
		keyExpires := e.clock.Now().Add(400 * 24 * time.Hour)
		key, secret := e.orgKey(t, &keyExpires)

		list, err := e.svc.CheckExpiry(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 0 || logs.Len() != 0 {
			t.Fatalf("a year before expiry CheckExpiry reported %+v and logged %q, want nothing", list, logs.String())
		}

		// 25 days before the token expires; the key is 60 days off.
		e.clock.Advance(340 * 24 * time.Hour)
		list, err = e.svc.CheckExpiry(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.Expiring{{Kind: store.DirectoryTokenCredential, ID: tokenID, OrgID: e.org.ID, DirectoryID: dir.ID, ExpiresAt: *dir.TokenExpiresAt}}
		if diff := cmp.Diff(want, list); diff != "" {
			t.Errorf("CheckExpiry (-want +got):\n%s", diff)
		}

		t.Run("the warning names the credential and not its secret", func(t *testing.T) {
			line := logs.String()
			recs := logRecords(t, logs.Bytes())
			if len(recs) != 1 {
				t.Fatalf("%d log records, want 1:\n%s", len(recs), line)
			}
			rec := recs[0]
			wantFields := map[string]any{
				"level":         "WARN",
				"kind":          "scim_token",
				"credential_id": tokenID,
				"org_id":        e.org.ID,
				"directory_id":  dir.ID,
				"days_left":     25.0,
			}
			for k, v := range wantFields {
				if rec[k] != v {
					t.Errorf("%s = %v, want %v", k, rec[k], v)
				}
			}
			if !strings.Contains(rec["msg"].(string), "expires") {
				t.Errorf("msg = %q, want it to say the credential expires", rec["msg"])
			}
			for what, s := range secretForms(token) {
				if strings.Contains(line, s) {
					t.Errorf("log contains the token's %s: %s", what, line)
				}
			}
		})

		t.Run("an org key inside the window is reported and logged as well", func(t *testing.T) {
			logs.Reset()
			e.clock.Advance(40 * 24 * time.Hour) // the token is gone, the key has 20 days left
			list, err := e.svc.CheckExpiry(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := []store.Expiring{{Kind: store.OrgKeyCredential, ID: key.ID, OrgID: e.org.ID, ExpiresAt: keyExpires}}
			if diff := cmp.Diff(want, list); diff != "" {
				t.Errorf("CheckExpiry (-want +got):\n%s", diff)
			}
			line := logs.String()
			if !strings.Contains(line, key.ID) || !strings.Contains(line, `"days_left":20`) {
				t.Errorf("log does not name key %s with 20 days left: %s", key.ID, line)
			}
			for what, s := range secretForms(secret) {
				if strings.Contains(line, s) {
					t.Errorf("log contains the secret key's %s: %s", what, line)
				}
			}
		})
	})
}

// secretForms lists the ways a secret could leak: itself, its random tail, and its digest in
// the encodings a log might use.
func secretForms(secret string) map[string]string {
	h := auth.Hash(secret)
	return map[string]string{
		"value":                secret,
		"last 20 characters":   secret[len(secret)-20:],
		"digest in hex":        hex.EncodeToString(h),
		"digest in upper hex":  strings.ToUpper(hex.EncodeToString(h)),
		"digest in base64":     base64.StdEncoding.EncodeToString(h),
		"digest in URL base64": base64.RawURLEncoding.EncodeToString(h),
		"digest as raw bytes":  string(h),
	}
}

func TestPrincipalActor(t *testing.T) {
	dir := &roster.Directory{ID: "dir-1", OrgID: "org-1"}
	tests := []struct {
		name string
		p    auth.Principal
		want roster.Actor
	}{
		{"the admin key acts as admin_key", auth.Principal{Kind: auth.Admin}, roster.Actor{Type: roster.ActorAdminKey, ID: "admin"}},
		{"an org key acts as itself", auth.Principal{Kind: auth.OrgKey, OrgID: "org-1", CredentialID: "key-1"}, roster.Actor{Type: roster.ActorOrgKey, ID: "key-1"}},
		{"a directory token acts as its directory, not as the token", auth.Principal{Kind: auth.DirectoryToken, OrgID: "org-1", CredentialID: "tok-1", Directory: dir}, roster.Actor{Type: roster.ActorDirectory, ID: "dir-1"}},
		{"nobody acts as the anonymous system", auth.Principal{}, roster.Actor{Type: roster.ActorSystem, ID: "anonymous"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.p.Actor()); diff != "" {
				t.Errorf("Actor (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPrincipalInContext(t *testing.T) {
	t.Run("a context without a principal is anonymous", func(t *testing.T) {
		if p := auth.PrincipalFrom(context.Background()); p.Kind != auth.None {
			t.Errorf("PrincipalFrom = %+v, want kind None", p)
		}
	})
	t.Run("the principal put in comes back out", func(t *testing.T) {
		want := auth.Principal{Kind: auth.OrgKey, OrgID: "org-1", CredentialID: "key-1"}
		if diff := cmp.Diff(want, auth.PrincipalFrom(auth.WithPrincipal(context.Background(), want))); diff != "" {
			t.Errorf("PrincipalFrom (-want +got):\n%s", diff)
		}
	})
}

// The database must never hold a generated secret in clear: only its digest (DESIGN.md
// section 3). This reads the SQLite files themselves, main database and write-ahead log,
// while the store is open and after it is closed.
func TestSecretsAreNeverStoredInClear(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := sqltest.SQLitePath(t)
	st, err := sqlstore.Open(ctx, path, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := newEnv(t, st, auth.Config{})
	key, secret := e.orgKey(t, nil)
	dir, token := e.directory(t, "Okta")
	_, rotated := e.regenerate(t, dir.ID, time.Hour)
	if _, err := e.svc.AuthenticateBasic(ctx, key.PublicKey, secret); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateBearer(ctx, rotated); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.LastUsed().Flush(ctx); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"org secret key": secret, "directory token": token, "rotated directory token": rotated}

	check := func(t *testing.T) {
		files, err := filepath.Glob(path + "*")
		if err != nil {
			t.Fatal(err)
		}
		var all []byte
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, b...)
			for name, s := range secrets {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("%s holds the %s in clear", filepath.Base(f), name)
				}
			}
		}
		// The digests are there: the files read are the ones the store wrote.
		for name, s := range secrets {
			if !bytes.Contains(all, auth.Hash(s)) {
				t.Errorf("the %s's digest is in none of %v", name, files)
			}
		}
	}
	t.Run("while the store is open, in the database and its write-ahead log", check)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	t.Run("after the store is closed", check)
}

// logRecords splits a JSON log into its records.
func logRecords(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}
