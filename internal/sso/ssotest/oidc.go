package ssotest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// OIDCProvider is an OpenID Connect provider for tests: discovery, an authorization
// endpoint that signs Email in at once, a token endpoint that checks the client secret and
// PKCE verifier, and a JWKS that can rotate.
type OIDCProvider struct {
	Server       *httptest.Server
	ClientID     string
	ClientSecret string

	mu   sync.Mutex
	keys []signingKey // keys[0] signs; all are published
	// Email is who the provider signs in.
	Email string
	codes map[string]codeGrant
	// Tamper, when set, changes the ID token's claims before signing (wrong nonce, audience,
	// expiry...).
	Tamper func(claims map[string]any)
	// SignWithUnpublishedKey signs ID tokens with a key the JWKS never shows.
	SignWithUnpublishedKey bool
	// JWKSFetches counts JWKS reads.
	JWKSFetches int
}

type signingKey struct {
	kid string
	key *rsa.PrivateKey
}

type codeGrant struct {
	redirect, nonce, challenge, email string
}

// NewOIDCProvider starts a provider with one signing key.
func NewOIDCProvider(t testing.TB) *OIDCProvider {
	t.Helper()
	p := &OIDCProvider{ClientID: "roster-client", ClientSecret: "s3cret-" + rand.Text(), codes: map[string]codeGrant{}}
	p.keys = []signingKey{newKey(t)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /jwks", p.jwks)
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Server.Close)
	return p
}

func newKey(t testing.TB) signingKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{kid: "k-" + rand.Text()[:8], key: k}
}

// Issuer is the provider's issuer URL.
func (p *OIDCProvider) Issuer() string { return p.Server.URL }

// Rotate makes a new key the signing key, keeping the old one published.
func (p *OIDCProvider) Rotate(t testing.TB) {
	k := newKey(t)
	p.mu.Lock()
	p.keys = append([]signingKey{k}, p.keys...)
	p.mu.Unlock()
}

// SetEmail sets who the provider signs in.
func (p *OIDCProvider) SetEmail(e string) {
	p.mu.Lock()
	p.Email = e
	p.mu.Unlock()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (p *OIDCProvider) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, map[string]any{
		"issuer": p.Issuer(), "authorization_endpoint": p.Issuer() + "/authorize", "token_endpoint": p.Issuer() + "/token",
		"jwks_uri": p.Issuer() + "/jwks", "response_types_supported": []string{"code"},
		"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported": []string{"S256"},
	})
}

func (p *OIDCProvider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != p.ClientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "bad authorization request", 400)
		return
	}
	code := rand.Text()
	p.mu.Lock()
	p.codes[code] = codeGrant{redirect: q.Get("redirect_uri"), nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), email: p.Email}
	p.mu.Unlock()
	u, _ := url.Parse(q.Get("redirect_uri"))
	v := u.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (p *OIDCProvider) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id, sec, ok := r.BasicAuth()
	if !ok {
		id, sec = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.ClientID || sec != p.ClientSecret {
		writeJSON(w, 401, map[string]string{"error": "invalid_client"})
		return
	}
	p.mu.Lock()
	g, ok := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code"))
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !ok || g.redirect != r.PostForm.Get("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		writeJSON(w, 400, map[string]string{"error": "invalid_grant"})
		return
	}
	now := time.Now()
	claims := map[string]any{"iss": p.Issuer(), "sub": "sub-" + g.email, "aud": p.ClientID, "exp": now.Add(5 * time.Minute).Unix(),
		"iat": now.Unix(), "nonce": g.nonce, "email": g.email, "email_verified": true, "name": "Test Person"}
	p.mu.Lock()
	if p.Tamper != nil {
		p.Tamper(claims)
	}
	k := p.keys[0]
	if p.SignWithUnpublishedKey {
		k = signingKey{kid: "unpublished", key: mustKey()}
	}
	p.mu.Unlock()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k.key, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		writeJSON(w, 500, map[string]string{"error": err.Error()})
		return
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		writeJSON(w, 500, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, 200, map[string]any{"access_token": rand.Text(), "token_type": "Bearer", "expires_in": 300, "id_token": raw})
}

func mustKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

func (p *OIDCProvider) jwks(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.JWKSFetches++
	var set jose.JSONWebKeySet
	for _, k := range p.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.key.PublicKey, KeyID: k.kid, Algorithm: "RS256", Use: "sig"})
	}
	p.mu.Unlock()
	writeJSON(w, 200, set)
}
