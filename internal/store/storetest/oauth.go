package storetest

import (
	"crypto/rand"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// The OAuth provider's storage: apps, codes, tokens, consents and signing keys.
func init() {
	cases = append(cases, []storeCase{
		{"an OAuth app reads back by id, in its organization's list and by client id, with its origins", oauthAppReadsBack},
		{"an OAuth app update rewrites its settings and origins; a CORS preflight sees only live origins", oauthAppUpdate},
		{"OAuth app names are unique per organization, case-insensitively, and free in another", oauthAppUnique},
		{"org B never sees nor changes org A's OAuth apps, consents, codes and tokens", oauthIsolation},
		{"rotating a client secret with grace keeps the old hash until then, without grace drops it", oauthSecretRotation},
		{"a client looked up before its app changes is read afresh at once: updated, secret rotated, deleted", oauthClientLookupFresh},
		{"an authorization code is consumed once, even by concurrent exchanges; a lookup reads it with its member and spends nothing", oauthCodeOnce},
		{"a refresh token is used once, even by concurrent refreshes", oauthTokenUseOnce},
		{"revoking a family revokes its tokens and no other, with one audit record", oauthFamilyRevoke},
		{"suspending or deleting a member revokes its tokens and drops its unused codes", oauthMemberRevoke},
		{"deleting an OAuth app takes its codes, tokens and consents with it", oauthAppDeleteCascades},
		{"a consent is saved, replaced, and read back by app and member", oauthConsent},
		{"signing keys number their generations, retire the previous one, and concurrent rotations collide", oauthSigningKeys},
		{"purging drops expired codes and tokens and long-retired keys, and nothing live", oauthPurge},
	}...)
}

func newApp(orgID, name string) *roster.OAuthApp {
	return &roster.OAuthApp{OrgID: orgID, ClientID: "client-" + rand.Text(), Name: name,
		RedirectURIs: []string{"https://app.example/cb"}, Scopes: []string{"openid", "email"}, PKCERequired: true,
		AllowedOrigins: []string{"https://app.example"}, IDTokenAlg: roster.AlgRS256, SecretHash: sha("secret-" + rand.Text())}
}

func createApp(t *testing.T, s store.Store, orgID, name string) roster.OAuthApp {
	t.Helper()
	a := newApp(orgID, name)
	tx(t, s, func(tx store.Tx) error { return tx.CreateOAuthApp(t.Context(), a) })
	return *a
}

// grant stores a code and the tokens issued from it, as the token endpoint would.
func grant(t *testing.T, s store.Store, app roster.OAuthApp, userID string) (code roster.OAuthCode, access, refresh roster.OAuthToken) {
	t.Helper()
	n := now()
	code = roster.OAuthCode{ID: roster.NewID(), OrgID: app.OrgID, AppID: app.ID, UserID: userID, Hash: sha("code-" + rand.Text()),
		RedirectURI: app.RedirectURIs[0], Scopes: []string{"openid"}, AuthTime: n, ExpiresAt: n.Add(time.Minute)}
	access = roster.OAuthToken{OrgID: app.OrgID, AppID: app.ID, UserID: userID, Kind: roster.AccessToken, Hash: sha("at-" + rand.Text()),
		FamilyID: code.ID, Scopes: []string{"openid"}, AuthTime: n, ExpiresAt: n.Add(time.Hour)}
	refresh = access
	refresh.Kind, refresh.Hash, refresh.ExpiresAt = roster.RefreshToken, sha("rt-"+rand.Text()), n.Add(24*time.Hour)
	tx(t, s, func(tx store.Tx) error {
		if err := tx.CreateOAuthCode(t.Context(), &code); err != nil {
			return err
		}
		return tx.CreateOAuthTokens(t.Context(), &access, &refresh)
	})
	return code, access, refresh
}

// lookupToken reads a token, and checks that the member read with it is the one it was
// issued to.
func lookupToken(t *testing.T, s store.Store, hash []byte) *roster.OAuthToken {
	t.Helper()
	k, m, err := s.LookupOAuthToken(t.Context(), hash)
	if err != nil {
		t.Fatalf("LookupOAuthToken: %v", err)
	}
	want, err := s.GetMember(t.Context(), k.OrgID, k.UserID)
	if err != nil {
		t.Fatalf("GetMember of the token's member: %v", err)
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("LookupOAuthToken's member (-GetMember +read with the token):\n%s", diff)
	}
	return k
}

var appCmp = cmpopts.EquateEmpty()

func oauthAppReadsBack(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "Apps")
	a := createApp(t, s, org.ID, "Host app")
	b := createApp(t, s, org.ID, "Second app")
	if a.ID == "" || a.CreatedAt.IsZero() {
		t.Fatalf("CreateOAuthApp left id %q and createdAt %v", a.ID, a.CreatedAt)
	}
	got, err := s.GetOAuthApp(ctx, org.ID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&a, got, appCmp); diff != "" {
		t.Errorf("GetOAuthApp (-created +read):\n%s", diff)
	}
	byClient, err := s.LookupOAuthClient(ctx, a.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&a, byClient, appCmp); diff != "" {
		t.Errorf("LookupOAuthClient (-created +read):\n%s", diff)
	}
	list, err := s.ListOAuthApps(ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]roster.OAuthApp{a, b}, list, appCmp); diff != "" {
		t.Errorf("ListOAuthApps (-want +got):\n%s", diff)
	}
	if _, err := s.LookupOAuthClient(ctx, "no-such-client"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LookupOAuthClient of an unknown client = %v, want NotFound", err)
	}
	pub := newApp(org.ID, "Public")
	pub.Public, pub.SecretHash, pub.AllowedOrigins = true, nil, nil
	tx(t, s, func(tx store.Tx) error { return tx.CreateOAuthApp(ctx, pub) })
	got, err = s.GetOAuthApp(ctx, org.ID, pub.ID)
	if err != nil || !got.Public || got.SecretHash != nil || len(got.AllowedOrigins) != 0 {
		t.Errorf("public app reads back as %+v, %v; want public, no secret hash, no origins", got, err)
	}
}

func oauthAppUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "Apps")
	a := createApp(t, s, org.ID, "Host app")
	a.Name, a.RedirectURIs, a.Scopes = "Renamed", []string{"https://a.example/cb", "https://b.example/cb"}, []string{"openid"}
	a.PKCERequired, a.IDTokenAlg, a.AllowedOrigins = false, roster.AlgES256, []string{"https://b.example"}
	tx(t, s, func(tx store.Tx) error { return tx.UpdateOAuthApp(ctx, &a) })
	got, err := s.GetOAuthApp(ctx, org.ID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&a, got, appCmp); diff != "" {
		t.Errorf("after update (-want +got):\n%s", diff)
	}
	for origin, want := range map[string]bool{"https://b.example": true, "https://app.example": false, "https://evil.example": false} {
		ok, err := s.OAuthOriginAllowed(ctx, origin)
		if err != nil || ok != want {
			t.Errorf("OAuthOriginAllowed(%q) = %v, %v; want %v", origin, ok, err, want)
		}
	}
	missing := a
	missing.ID = roster.NewID()
	if err := s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.UpdateOAuthApp(ctx, &missing) }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("updating a missing app = %v, want NotFound", err)
	}
	recs := allAudit(t, s, org.ID, store.AuditFilter{TargetID: a.ID})
	if len(recs) != 2 || recs[0].Action != "oauth_app.updated" || recs[1].Action != "oauth_app.created" {
		t.Errorf("audit of the app = %v, want oauth_app.updated then oauth_app.created", actions(recs))
	}
}

func actions(recs []roster.AuditRecord) []string {
	return ids(recs, func(r roster.AuditRecord) string { return r.Action })
}

func oauthAppUnique(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := createOrg(t, s, "A")
	b := createOrg(t, s, "B")
	createApp(t, s, a.ID, "Host App")
	err := s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.CreateOAuthApp(ctx, newApp(a.ID, "host app")) })
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("second app named alike = %v, want Conflict", err)
	}
	createApp(t, s, b.ID, "host app")
	second := createApp(t, s, a.ID, "Other")
	second.Name = "HOST APP"
	if err := s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.UpdateOAuthApp(ctx, &second) }); !errors.Is(err, store.ErrConflict) {
		t.Errorf("renaming onto a taken name = %v, want Conflict", err)
	}
}

func oauthIsolation(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := createOrg(t, s, "A")
	b := createOrg(t, s, "B")
	app := createApp(t, s, a.ID, "A's app")
	m := createMember(t, s, a.ID, "ann@a.example", roster.RoleMember)
	_, access, refresh := grant(t, s, app, m.ID)
	tx(t, s, func(tx store.Tx) error {
		return tx.SaveOAuthConsent(ctx, &roster.OAuthConsent{OrgID: a.ID, AppID: app.ID, UserID: m.ID, Scopes: []string{"openid"}})
	})

	if _, err := s.GetOAuthApp(ctx, b.ID, app.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("org B reads A's app: %v, want NotFound", err)
	}
	if list, err := s.ListOAuthApps(ctx, b.ID); err != nil || len(list) != 0 {
		t.Errorf("org B lists %d apps (%v), want none", len(list), err)
	}
	if _, err := s.GetOAuthConsent(ctx, b.ID, app.ID, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("org B reads A's consent: %v, want NotFound", err)
	}
	other := app
	other.OrgID, other.Name = b.ID, "stolen"
	for name, fn := range map[string]func(tx store.Tx) error{
		"update": func(tx store.Tx) error { return tx.UpdateOAuthApp(ctx, &other) },
		"delete": func(tx store.Tx) error { return tx.DeleteOAuthApp(ctx, b.ID, app.ID) },
		"rotate": func(tx store.Tx) error {
			_, err := tx.RotateOAuthAppSecret(ctx, b.ID, app.ID, sha("x"), nil)
			return err
		},
		"consent": func(tx store.Tx) error {
			return tx.SaveOAuthConsent(ctx, &roster.OAuthConsent{OrgID: b.ID, AppID: app.ID, UserID: m.ID})
		},
	} {
		if err := s.Tx(ctx, testActor, fn); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("org B's %s of A's app = %v, want NotFound", name, err)
		}
	}
	tx(t, s, func(tx store.Tx) error {
		if ok, err := tx.UseOAuthToken(ctx, b.ID, refresh.ID); err != nil || ok {
			t.Errorf("org B uses A's refresh token: %v, %v; want false", ok, err)
		}
		if err := tx.RevokeOAuthToken(ctx, b.ID, access.ID); err != nil {
			return err
		}
		n, err := tx.RevokeOAuthFamily(ctx, b.ID, access.FamilyID, "test")
		if n != 0 {
			t.Errorf("org B revoked %d of A's tokens, want 0", n)
		}
		return err
	})
	for _, k := range []roster.OAuthToken{access, refresh} {
		if got := lookupToken(t, s, k.Hash); got.RevokedAt != nil || got.UsedAt != nil {
			t.Errorf("A's %s token changed by org B: revoked %v, used %v", k.Kind, got.RevokedAt, got.UsedAt)
		}
	}
	if got, _ := s.GetOAuthApp(ctx, a.ID, app.ID); got == nil || got.Name != app.Name {
		t.Errorf("A's app after org B's writes = %+v, want unchanged", got)
	}
}

func oauthSecretRotation(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "Apps")
	app := createApp(t, s, org.ID, "App")
	until := now().Add(time.Hour)
	var got *roster.OAuthApp
	tx(t, s, func(tx store.Tx) (err error) {
		got, err = tx.RotateOAuthAppSecret(ctx, org.ID, app.ID, sha("new"), &until)
		return err
	})
	if !cmp.Equal(got.SecretHash, sha("new")) || !cmp.Equal(got.PrevSecretHash, app.SecretHash) || got.PrevSecretExpiresAt == nil || !got.PrevSecretExpiresAt.Equal(until) {
		t.Errorf("after rotation with grace: secret %x, previous %x until %v; want new, old until %v", got.SecretHash, got.PrevSecretHash, got.PrevSecretExpiresAt, until)
	}
	tx(t, s, func(tx store.Tx) (err error) {
		got, err = tx.RotateOAuthAppSecret(ctx, org.ID, app.ID, sha("newer"), nil)
		return err
	})
	if !cmp.Equal(got.SecretHash, sha("newer")) || got.PrevSecretHash != nil || got.PrevSecretExpiresAt != nil {
		t.Errorf("after rotation without grace: secret %x, previous %x until %v; want newer and no previous", got.SecretHash, got.PrevSecretHash, got.PrevSecretExpiresAt)
	}
	recs := allAudit(t, s, org.ID, store.AuditFilter{Action: "oauth_app.secret_rotated"})
	if len(recs) != 2 {
		t.Errorf("%d oauth_app.secret_rotated records, want 2", len(recs))
	}
}

// oauthClientLookupFresh looks a client up before each change (a cache would keep it) and
// right after, when the change must be seen.
func oauthClientLookupFresh(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "Apps")
	app := createApp(t, s, org.ID, "App")
	lookup := func() *roster.OAuthApp {
		t.Helper()
		a, err := s.LookupOAuthClient(ctx, app.ClientID)
		if err != nil {
			t.Fatalf("LookupOAuthClient: %v", err)
		}
		return a
	}
	lookup()
	app.RedirectURIs = []string{"https://moved.example/cb"}
	tx(t, s, func(tx store.Tx) error { return tx.UpdateOAuthApp(ctx, &app) })
	if got := lookup(); !slices.Equal(got.RedirectURIs, app.RedirectURIs) {
		t.Errorf("after an update the client's redirect URIs are %q, want %q", got.RedirectURIs, app.RedirectURIs)
	}
	tx(t, s, func(tx store.Tx) error {
		_, err := tx.RotateOAuthAppSecret(ctx, org.ID, app.ID, sha("rotated"), nil)
		return err
	})
	if got := lookup(); !cmp.Equal(got.SecretHash, sha("rotated")) {
		t.Errorf("after a rotation the client's secret hash is %x, want the new one", got.SecretHash)
	}
	tx(t, s, func(tx store.Tx) error { return tx.DeleteOAuthApp(ctx, org.ID, app.ID) })
	if _, err := s.LookupOAuthClient(ctx, app.ClientID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LookupOAuthClient of a deleted app = %v, want NotFound", err)
	}
}

func oauthCodeOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "Apps")
	app := createApp(t, s, org.ID, "App")
	m := createMember(t, s, org.ID, "ann@a.example", roster.RoleMember)
	code, _, _ := grant(t, s, app, m.ID)
	for range 2 { // a lookup spends nothing
		c, member, err := s.LookupOAuthCode(ctx, code.Hash)
		if err != nil {
			t.Fatalf("LookupOAuthCode: %v", err)
		}
		want := code
		want.CreatedAt = c.CreatedAt
		if diff := cmp.Diff(&want, c); diff != "" {
			t.Errorf("looked-up code (-stored +read):\n%s", diff)
		}
		if diff := cmp.Diff(&m, member); diff != "" {
			t.Errorf("the code's member (-created +read with the code):\n%s", diff)
		}
	}
	if _, _, err := s.LookupOAuthCode(ctx, sha("never issued")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("looking up an unknown code = %v, want NotFound", err)
	}
	const n = 8
	var wg sync.WaitGroup
	fresh := make(chan *roster.OAuthCode, n)
	for range n {
		wg.Go(func() {
			_ = s.Tx(ctx, testActor, func(tx store.Tx) error {
				c, err := tx.ConsumeOAuthCode(ctx, code.Hash)
				if err != nil {
					t.Errorf("ConsumeOAuthCode: %v", err)
					return err
				}
				if c.UsedAt == nil {
					fresh <- c
				}
				return nil
			})
		})
	}
	wg.Wait()
	close(fresh)
	var got []*roster.OAuthCode
	for c := range fresh {
		got = append(got, c)
	}
	if len(got) != 1 {
		t.Fatalf("%d of %d concurrent exchanges got the code unused, want exactly 1", len(got), n)
	}
	want := code
	want.CreatedAt = got[0].CreatedAt
	if diff := cmp.Diff(&want, got[0]); diff != "" {
		t.Errorf("consumed code (-stored +read):\n%s", diff)
	}
	err := s.Tx(ctx, testActor, func(tx store.Tx) error {
		_, err := tx.ConsumeOAuthCode(ctx, sha("never issued"))
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("consuming an unknown code = %v, want NotFound", err)
	}
}

func oauthTokenUseOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "Apps")
	app := createApp(t, s, org.ID, "App")
	m := createMember(t, s, org.ID, "ann@a.example", roster.RoleMember)
	_, _, refresh := grant(t, s, app, m.ID)
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range n {
		wg.Go(func() {
			_ = s.Tx(ctx, testActor, func(tx store.Tx) error {
				ok, err := tx.UseOAuthToken(ctx, org.ID, refresh.ID)
				if ok {
					mu.Lock()
					wins++
					mu.Unlock()
				}
				return err
			})
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d of %d concurrent refreshes used the token, want exactly 1", wins, n)
	}
	got := lookupToken(t, s, refresh.Hash)
	if got.UsedAt == nil || got.RevokedAt != nil || got.Kind != roster.RefreshToken || got.FamilyID != refresh.FamilyID {
		t.Errorf("refresh token after use = %+v; want used, not revoked, same family", got)
	}
	if _, _, err := s.LookupOAuthToken(ctx, sha("never issued")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("looking up an unknown token = %v, want NotFound", err)
	}
}

func oauthFamilyRevoke(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "Apps")
	app := createApp(t, s, org.ID, "App")
	m := createMember(t, s, org.ID, "ann@a.example", roster.RoleMember)
	code, access, refresh := grant(t, s, app, m.ID)
	_, otherAccess, _ := grant(t, s, app, m.ID)
	var n int
	tx(t, s, func(tx store.Tx) (err error) {
		n, err = tx.RevokeOAuthFamily(ctx, org.ID, code.ID, "refresh_token_reuse")
		return err
	})
	if n != 2 {
		t.Errorf("RevokeOAuthFamily revoked %d tokens, want 2", n)
	}
	for _, k := range []roster.OAuthToken{access, refresh} {
		if got := lookupToken(t, s, k.Hash); got.RevokedAt == nil || got.Active(now()) {
			t.Errorf("%s token of the family is still active", k.Kind)
		}
	}
	if got := lookupToken(t, s, otherAccess.Hash); got.RevokedAt != nil {
		t.Errorf("a token of another family was revoked")
	}
	recs := allAudit(t, s, org.ID, store.AuditFilter{Action: "oauth_grant.revoked"})
	if len(recs) != 1 || recs[0].Target.ID != code.ID {
		t.Errorf("audit of the revocation = %+v, want one oauth_grant.revoked of family %s", recs, code.ID)
	}
	// Revoking one token is idempotent.
	tx(t, s, func(tx store.Tx) error {
		if err := tx.RevokeOAuthToken(ctx, org.ID, otherAccess.ID); err != nil {
			return err
		}
		return tx.RevokeOAuthToken(ctx, org.ID, otherAccess.ID)
	})
	if got := lookupToken(t, s, otherAccess.Hash); got.RevokedAt == nil {
		t.Errorf("RevokeOAuthToken left the token live")
	}
}

func oauthMemberRevoke(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "Apps")
	app := createApp(t, s, org.ID, "App")
	ann := createMember(t, s, org.ID, "ann@a.example", roster.RoleMember)
	bob := createMember(t, s, org.ID, "bob@a.example", roster.RoleMember)
	_, annAccess, annRefresh := grant(t, s, app, ann.ID)
	_, bobAccess, _ := grant(t, s, app, bob.ID)
	unused := roster.OAuthCode{OrgID: org.ID, AppID: app.ID, UserID: ann.ID, Hash: sha("unused"), RedirectURI: "https://app.example/cb",
		AuthTime: now(), ExpiresAt: now().Add(time.Minute)}
	tx(t, s, func(tx store.Tx) error { return tx.CreateOAuthCode(ctx, &unused) })

	tx(t, s, func(tx store.Tx) error {
		cur, err := tx.GetMember(ctx, org.ID, ann.ID)
		if err != nil {
			return err
		}
		next := *cur
		next.Status = roster.MemberSuspended
		return tx.UpdateMember(ctx, cur, &next)
	})
	for _, k := range []roster.OAuthToken{annAccess, annRefresh} {
		if got := lookupToken(t, s, k.Hash); got.RevokedAt == nil {
			t.Errorf("suspended member's %s token is not revoked", k.Kind)
		}
	}
	if got := lookupToken(t, s, bobAccess.Hash); got.RevokedAt != nil {
		t.Errorf("another member's token was revoked by the suspension")
	}
	err := s.Tx(ctx, testActor, func(tx store.Tx) error {
		_, err := tx.ConsumeOAuthCode(ctx, unused.Hash)
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the suspended member's unused code = %v, want NotFound (dropped)", err)
	}

	tx(t, s, func(tx store.Tx) error { return tx.DeleteMember(ctx, org.ID, bob.ID) })
	if got := lookupToken(t, s, bobAccess.Hash); got.RevokedAt == nil {
		t.Errorf("deleted member's access token is not revoked")
	}
}

func oauthAppDeleteCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "Apps")
	app := createApp(t, s, org.ID, "App")
	keep := createApp(t, s, org.ID, "Kept")
	m := createMember(t, s, org.ID, "ann@a.example", roster.RoleMember)
	code, access, _ := grant(t, s, app, m.ID)
	_, kept, _ := grant(t, s, keep, m.ID)
	tx(t, s, func(tx store.Tx) error {
		return tx.SaveOAuthConsent(ctx, &roster.OAuthConsent{OrgID: org.ID, AppID: app.ID, UserID: m.ID, Scopes: []string{"openid"}})
	})
	tx(t, s, func(tx store.Tx) error { return tx.DeleteOAuthApp(ctx, org.ID, app.ID) })
	if _, err := s.GetOAuthApp(ctx, org.ID, app.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted app reads as %v, want NotFound", err)
	}
	if _, err := s.LookupOAuthClient(ctx, app.ClientID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted app's client id finds %v, want NotFound", err)
	}
	if _, _, err := s.LookupOAuthToken(ctx, access.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted app's token finds %v, want NotFound", err)
	}
	if _, err := s.GetOAuthConsent(ctx, org.ID, app.ID, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted app's consent finds %v, want NotFound", err)
	}
	err := s.Tx(ctx, testActor, func(tx store.Tx) error { _, err := tx.ConsumeOAuthCode(ctx, code.Hash); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted app's code = %v, want NotFound", err)
	}
	if ok, _ := s.OAuthOriginAllowed(ctx, "https://app.example"); !ok {
		t.Errorf("the kept app's origin is no longer allowed")
	}
	lookupToken(t, s, kept.Hash)
}

func oauthConsent(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "Apps")
	app := createApp(t, s, org.ID, "App")
	m := createMember(t, s, org.ID, "ann@a.example", roster.RoleMember)
	if _, err := s.GetOAuthConsent(ctx, org.ID, app.ID, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("consent before any = %v, want NotFound", err)
	}
	for _, scopes := range [][]string{{"openid"}, {"openid", "email", "org.read"}} {
		tx(t, s, func(tx store.Tx) error {
			return tx.SaveOAuthConsent(ctx, &roster.OAuthConsent{OrgID: org.ID, AppID: app.ID, UserID: m.ID, Scopes: scopes})
		})
		got, err := s.GetOAuthConsent(ctx, org.ID, app.ID, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(scopes, got.Scopes); diff != "" {
			t.Errorf("consented scopes (-saved +read):\n%s", diff)
		}
	}
	if recs := allAudit(t, s, org.ID, store.AuditFilter{Action: "oauth.consent_granted"}); len(recs) != 2 {
		t.Errorf("%d oauth.consent_granted records, want 2", len(recs))
	}
}

func signingKey(alg string) *roster.SigningKey {
	return &roster.SigningKey{ID: roster.NewID(), Alg: alg, PrivateEnc: "enc-" + rand.Text(), PublicJWK: []byte(`{"kty":"test"}`)}
}

func oauthSigningKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	before := now()
	first, second, ec := signingKey(roster.AlgRS256), signingKey(roster.AlgRS256), signingKey(roster.AlgES256)
	for _, k := range []*roster.SigningKey{first, ec, second} {
		tx(t, s, func(tx store.Tx) error { return tx.CreateSigningKey(ctx, k) })
	}
	if first.Generation != 1 || second.Generation != 2 || ec.Generation != 1 {
		t.Errorf("generations RS256 %d, %d and ES256 %d; want 1, 2 and 1", first.Generation, second.Generation, ec.Generation)
	}
	keys, err := s.SigningKeys(ctx, before.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*roster.SigningKey{}
	for i := range keys {
		got[keys[i].ID] = &keys[i]
	}
	if len(keys) != 3 || got[first.ID] == nil || got[first.ID].RetiredAt == nil || got[second.ID].RetiredAt != nil || got[ec.ID].RetiredAt != nil {
		t.Fatalf("SigningKeys = %+v; want all three, only the first RS256 key retired", keys)
	}
	if diff := cmp.Diff(second, got[second.ID]); diff != "" {
		t.Errorf("newest key (-created +read):\n%s", diff)
	}
	if keys, _ := s.SigningKeys(ctx, now().Add(time.Minute)); len(keys) != 2 {
		t.Errorf("keys not retired before a later time: %d, want the 2 current ones", len(keys))
	}

	// Replicas that rotate at once: each read the same newest generation and insert the next.
	const n = 6
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won, lost int
	for range n {
		wg.Go(func() {
			k := signingKey(roster.AlgES256)
			err := s.Tx(ctx, testActor, func(tx store.Tx) error {
				if err := tx.CreateSigningKey(ctx, k); err != nil {
					return err
				}
				return nil
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, store.ErrConflict):
				lost++
			default:
				t.Errorf("concurrent rotation: %v, want success or Conflict", err)
			}
		})
	}
	wg.Wait()
	if won+lost != n || won < 1 {
		t.Errorf("concurrent rotations: %d won, %d lost Conflict; want at least one winner", won, lost)
	}
	keys, _ = s.SigningKeys(ctx, now().Add(time.Minute))
	current := 0
	for _, k := range keys {
		if k.Alg == roster.AlgES256 && k.RetiredAt == nil {
			current++
		}
	}
	if current != 1 {
		t.Errorf("%d current ES256 keys after concurrent rotations, want exactly 1", current)
	}
}

func oauthPurge(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "Apps")
	app := createApp(t, s, org.ID, "App")
	m := createMember(t, s, org.ID, "ann@a.example", roster.RoleMember)
	_, access, refresh := grant(t, s, app, m.ID) // access expires in an hour, refresh in a day
	key := signingKey(roster.AlgRS256)
	tx(t, s, func(tx store.Tx) error { return tx.CreateSigningKey(ctx, key) })
	if _, err := s.PurgeOAuth(ctx, now().Add(2*time.Hour), now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.LookupOAuthToken(ctx, access.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired access token after purge: %v, want NotFound", err)
	}
	lookupToken(t, s, refresh.Hash)
	if keys, _ := s.SigningKeys(ctx, time.Time{}); len(keys) != 1 {
		t.Errorf("the current signing key was purged: %d keys left, want 1", len(keys))
	}
}
