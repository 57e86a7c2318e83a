package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/store/sqlstore"
)

// TestTwoServersOnOnePostgreSQLAreOneOAuthProvider starts two replicas at once: they agree on
// one signing key per algorithm and publish the same JWKS, and a grant started on one is
// refreshed on the other, whose refresh token, reused on the first, revokes the grant on both.
func TestTwoServersOnOnePostgreSQLAreOneOAuthProvider(t *testing.T) {
	e := replicasEnv(t)
	f := newFixture(t, e, "Acme")
	one, two := serve(t, e), serve(t, e)

	kids := func(base string) []string {
		resp, err := http.Get(base + "/oauth/jwks")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var set struct {
			Keys []struct{ Kid, Alg string } `json:"keys"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range set.Keys {
			out = append(out, k.Alg+":"+k.Kid)
		}
		return out
	}
	k1, k2 := kids(one.url), kids(two.url)
	if len(k1) != 2 || !cmp.Equal(k1, k2) {
		t.Fatalf("JWKS of the replicas: %v and %v; want the same RS256 and ES256 keys", k1, k2)
	}

	code, app := call(t, "POST", one.url+"/oauth/apps", basic(f.pk, f.sk), map[string]any{"name": "Host app",
		"redirectUris": []string{"https://app.example/cb"}, "scopes": []string{"openid", "offline_access"}})
	if code != 201 {
		t.Fatalf("creating the app on replica one = %d %v", code, app)
	}
	clientID, secret := app["clientId"].(string), app["clientSecret"].(string)

	// A member and an authorization code, as consent leaves them.
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, e("ROSTER_DATABASE"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := &roster.Member{OrgID: f.orgID, Email: "ann@acme.example"}
	verifier := rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	codeValue := "code-" + rand.Text()
	codeHash := sha256.Sum256([]byte(codeValue))
	a, err := st.LookupOAuthClient(ctx, clientID)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Tx(ctx, roster.SystemActor("test"), func(tx store.Tx) error {
		if err := tx.CreateMember(ctx, m); err != nil {
			return err
		}
		return tx.CreateOAuthCode(ctx, &roster.OAuthCode{OrgID: f.orgID, AppID: a.ID, UserID: m.ID, Hash: codeHash[:],
			RedirectURI: "https://app.example/cb", Scopes: []string{"openid", "offline_access"},
			CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]), AuthTime: time.Now(), ExpiresAt: time.Now().Add(time.Minute)})
	}); err != nil {
		t.Fatal(err)
	}

	token := func(base string, v url.Values) (int, map[string]any) {
		req, _ := http.NewRequest("POST", base+"/oauth/token", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(clientID, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		return resp.StatusCode, body
	}
	status, first := token(one.url, url.Values{"grant_type": {"authorization_code"}, "code": {codeValue},
		"redirect_uri": {"https://app.example/cb"}, "code_verifier": {verifier}})
	if status != 200 {
		t.Fatalf("code exchange on replica one = %d %v", status, first)
	}
	status, second := token(two.url, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)}})
	if status != 200 {
		t.Fatalf("refresh on replica two = %d %v", status, second)
	}
	status, reuse := token(one.url, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)}})
	if status != 400 || reuse["error"] != "invalid_grant" {
		t.Fatalf("reusing the first refresh token on replica one = %d %v, want invalid_grant", status, reuse)
	}
	status, after := token(two.url, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second["refresh_token"].(string)}})
	if status != 400 || after["error"] != "invalid_grant" {
		t.Errorf("the rotated refresh token on replica two after the reuse = %d %v, want invalid_grant (family revoked)", status, after)
	}
}
