package oauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/rosterhq/roster/internal/keyring"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// Algs are the ID token signing algorithms, in the order discovery lists them.
var Algs = []string{roster.AlgRS256, roster.AlgES256}

// keyReload is how often a replica re-reads the signing keys, so that a rotation made by
// another replica is used within this long. The JWKS endpoint always reads the database, so
// a key is published before any replica signs with it.
const keyReload = 30 * time.Second

// Keys holds the instance's token-signing keys: one current key per algorithm, rotated by
// whichever replica first finds it older than the rotation period, and the retired keys,
// published until the ID tokens they signed have expired. Private keys are stored encrypted
// under the keyring.
type Keys struct {
	st  store.Store
	kr  *keyring.Keyring
	now func() time.Time
	// rotateAfter is the age at which a current key is replaced; publishFor is how long a
	// retired key stays in the JWKS (the ID token lifetime plus clock skew).
	rotateAfter, publishFor time.Duration

	mu       sync.Mutex
	loadedAt time.Time
	signers  map[string]*signer // by algorithm
}

type signer struct {
	kid string
	s   jose.Signer
}

func newKeys(st store.Store, kr *keyring.Keyring, now func() time.Time, rotateAfter, publishFor time.Duration) *Keys {
	return &Keys{st: st, kr: kr, now: now, rotateAfter: rotateAfter, publishFor: publishFor, signers: map[string]*signer{}}
}

// associated binds a private key's ciphertext to its row.
func associated(kid string) []byte { return []byte("oauth_signing_keys.private:" + kid) }

// generate makes a new key of alg, encrypted, with its public JWK.
func (k *Keys) generate(alg string) (*roster.SigningKey, error) {
	if k.kr == nil {
		return nil, roster.E(roster.Internal, "no keyring: token-signing keys cannot be stored (set ROSTER_SECRET_KEY)")
	}
	var priv crypto.Signer
	var err error
	switch alg {
	case roster.AlgRS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case roster.AlgES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, fmt.Errorf("unsupported signing algorithm %q", alg)
	}
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	id := roster.NewID()
	enc, err := k.kr.Encrypt(der, associated(id))
	clear(der)
	if err != nil {
		return nil, err
	}
	pub, err := json.Marshal(jose.JSONWebKey{Key: priv.Public(), KeyID: id, Algorithm: alg, Use: "sig"})
	if err != nil {
		return nil, err
	}
	return &roster.SigningKey{ID: id, Alg: alg, PrivateEnc: enc, PublicJWK: pub}, nil
}

// Rotate makes a new current key of alg at once, retiring the previous one (still published
// until its tokens expire). Another replica rotating at the same moment wins or loses the
// race cleanly: either way there is one current key.
func (k *Keys) Rotate(ctx context.Context, alg string) error {
	key, err := k.generate(alg)
	if err != nil {
		return err
	}
	err = k.st.Tx(ctx, roster.SystemActor("oauth-keys"), func(tx store.Tx) error { return tx.CreateSigningKey(ctx, key) })
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	k.mu.Lock()
	k.loadedAt = time.Time{} // reload on next use
	k.mu.Unlock()
	return nil
}

// Ensure makes sure every algorithm has a current key no older than the rotation period,
// rotating those that are missing or due.
func (k *Keys) Ensure(ctx context.Context) error {
	keys, err := k.st.SigningKeys(ctx, k.now())
	if err != nil {
		return err
	}
	for _, alg := range Algs {
		due := true
		for _, key := range keys {
			if key.Alg == alg && key.RetiredAt == nil && k.now().Sub(key.CreatedAt) < k.rotateAfter {
				due = false
			}
		}
		if due {
			if err := k.Rotate(ctx, alg); err != nil {
				return fmt.Errorf("rotating the %s signing key: %w", alg, err)
			}
		}
	}
	return nil
}

// Ready loads the signing keys, making the missing ones. Call it before a transaction that
// signs: Sign itself never writes (a write inside another transaction would wait on it).
func (k *Keys) Ready(ctx context.Context) error { return k.load(ctx, true) }

// load reads the current keys into signers when they are older than keyReload; with ensure,
// it makes those that are missing.
func (k *Keys) load(ctx context.Context, ensure bool) error {
	k.mu.Lock()
	fresh := !k.loadedAt.IsZero() && k.now().Sub(k.loadedAt) < keyReload && len(k.signers) == len(Algs)
	k.mu.Unlock()
	if fresh {
		return nil
	}
	keys, err := k.st.SigningKeys(ctx, k.now())
	if err != nil {
		return err
	}
	missing := false
	for _, alg := range Algs {
		found := false
		for _, key := range keys {
			found = found || (key.Alg == alg && key.RetiredAt == nil)
		}
		missing = missing || !found
	}
	if missing && ensure {
		if err := k.Ensure(ctx); err != nil {
			return err
		}
		if keys, err = k.st.SigningKeys(ctx, k.now()); err != nil {
			return err
		}
	}
	signers := map[string]*signer{}
	for _, key := range keys {
		if key.RetiredAt != nil || signers[key.Alg] != nil {
			continue
		}
		s, err := k.signer(key)
		if err != nil {
			return err
		}
		signers[key.Alg] = s
	}
	k.mu.Lock()
	k.signers, k.loadedAt = signers, k.now()
	k.mu.Unlock()
	return nil
}

func (k *Keys) signer(key roster.SigningKey) (*signer, error) {
	if k.kr == nil {
		return nil, roster.E(roster.Internal, "no keyring: token-signing keys cannot be read (set ROSTER_SECRET_KEY)")
	}
	der, err := k.kr.Decrypt(key.PrivateEnc, associated(key.ID))
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", key.ID, err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	clear(der)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", key.ID, err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(key.Alg), Key: jose.JSONWebKey{Key: priv, KeyID: key.ID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, err
	}
	return &signer{kid: key.ID, s: s}, nil
}

// Sign signs claims as a compact JWS with the current key of alg.
func (k *Keys) Sign(ctx context.Context, alg string, claims any) (string, error) {
	if err := k.load(ctx, false); err != nil {
		return "", err
	}
	k.mu.Lock()
	s := k.signers[alg]
	k.mu.Unlock()
	if s == nil {
		return "", fmt.Errorf("no current %s signing key", alg)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := s.s.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// JWKS is the JSON Web Key Set (RFC 7517 section 5) of every published key: the current ones
// and those retired less than publishFor ago. It reads the database every time, so a key is
// published as soon as any replica has made it.
func (k *Keys) JWKS(ctx context.Context) ([]byte, error) {
	keys, err := k.st.SigningKeys(ctx, k.now().Add(-k.publishFor))
	if err != nil {
		return nil, err
	}
	set := struct {
		Keys []json.RawMessage `json:"keys"`
	}{Keys: []json.RawMessage{}}
	for _, key := range keys {
		set.Keys = append(set.Keys, json.RawMessage(key.PublicJWK))
	}
	return json.Marshal(set)
}
