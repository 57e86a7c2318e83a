package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/roster"
)

// The OAuth provider's storage (store.OAuthReader, OAuthWriter and OAuthMaintenance).

const oauthAppCols = `id, org_id, client_id, name, redirect_uris, scopes, pkce_required, public, id_token_alg,
	secret_hash, prev_secret_hash, prev_secret_expires_at, created_at, updated_at, allowed_origins`

// oauthAppSelect reads apps with their allowed origins (the JSON column), in one query.
const oauthAppSelect = `SELECT ` + oauthAppCols + ` FROM oauth_apps`

func listJSON(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func parseList(s string) ([]string, error) {
	out := []string{}
	if s == "" {
		return out, nil
	}
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, err
	}
	return out, nil
}

func scanOAuthApp(sc interface{ Scan(...any) error }) (*roster.OAuthApp, error) {
	var a roster.OAuthApp
	var uris, scopes, origins string
	var prevExp sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&a.ID, &a.OrgID, &a.ClientID, &a.Name, &uris, &scopes, &a.PKCERequired, &a.Public, &a.IDTokenAlg,
		&a.SecretHash, &a.PrevSecretHash, &prevExp, &created, &updated, &origins); err != nil {
		return nil, err
	}
	var err error
	if a.RedirectURIs, err = parseList(uris); err != nil {
		return nil, err
	}
	if a.Scopes, err = parseList(scopes); err != nil {
		return nil, err
	}
	a.PrevSecretExpiresAt = fromNullMicros(prevExp)
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	if a.AllowedOrigins, err = parseList(origins); err != nil {
		return nil, err
	}
	return &a, nil
}

func (r reader) GetOAuthApp(ctx context.Context, orgID, id string) (*roster.OAuthApp, error) {
	a, err := scanOAuthApp(r.q.QueryRowContext(ctx, oauthAppSelect+` WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, r.notFound(err, "OAuth app")
	}
	return a, nil
}

func (r reader) LookupOAuthClient(ctx context.Context, clientID string) (*roster.OAuthApp, error) {
	a, err := scanOAuthApp(r.q.QueryRowContext(ctx, oauthAppSelect+` WHERE client_id = $1`, clientID))
	if err != nil {
		return nil, r.notFound(err, "OAuth app")
	}
	return a, nil
}

func (r reader) ListOAuthApps(ctx context.Context, orgID string) ([]roster.OAuthApp, error) {
	rows, err := r.q.QueryContext(ctx, oauthAppSelect+` WHERE org_id = $1 ORDER BY id`, orgID)
	if err != nil {
		return nil, r.d.translate(err)
	}
	var out []*roster.OAuthApp
	for rows.Next() {
		a, err := scanOAuthApp(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	list := make([]roster.OAuthApp, 0, len(out))
	for _, a := range out {
		list = append(list, *a)
	}
	return list, nil
}

func (r reader) OAuthOriginAllowed(ctx context.Context, origin string) (bool, error) {
	var n int
	if err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM oauth_app_origins WHERE origin = $1 LIMIT 1) x`, origin).Scan(&n); err != nil {
		return false, r.d.translate(err)
	}
	return n > 0, nil
}

// oauthAppSnap is an app in the audit log and its events: without secret hashes.
type oauthAppSnap struct {
	ID                  string     `json:"id"`
	ClientID            string     `json:"clientId"`
	Name                string     `json:"name"`
	RedirectURIs        []string   `json:"redirectUris"`
	Scopes              []string   `json:"scopes"`
	PKCERequired        bool       `json:"pkceRequired"`
	Public              bool       `json:"public"`
	AllowedOrigins      []string   `json:"allowedOrigins"`
	IDTokenAlg          string     `json:"idTokenSigningAlg"`
	PrevSecretExpiresAt *time.Time `json:"previousSecretExpiresAt,omitempty"`
}

func snapOAuthApp(a *roster.OAuthApp) *oauthAppSnap {
	return &oauthAppSnap{ID: a.ID, ClientID: a.ClientID, Name: a.Name, RedirectURIs: nonNil(a.RedirectURIs), Scopes: nonNil(a.Scopes),
		PKCERequired: a.PKCERequired, Public: a.Public, AllowedOrigins: nonNil(a.AllowedOrigins), IDTokenAlg: a.IDTokenAlg,
		PrevSecretExpiresAt: a.PrevSecretExpiresAt}
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func (t *txn) writeOrigins(ctx context.Context, a *roster.OAuthApp) error {
	if _, err := t.exec(ctx, `UPDATE oauth_apps SET allowed_origins = $3 WHERE org_id = $1 AND id = $2`, a.OrgID, a.ID,
		listJSON(a.AllowedOrigins)); err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM oauth_app_origins WHERE org_id = $1 AND app_id = $2`, a.OrgID, a.ID); err != nil {
		return err
	}
	for _, o := range a.AllowedOrigins {
		if _, err := t.exec(ctx, `INSERT INTO oauth_app_origins (org_id, app_id, origin) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			a.OrgID, a.ID, o); err != nil {
			return err
		}
	}
	return nil
}

func (t *txn) CreateOAuthApp(ctx context.Context, a *roster.OAuthApp) error {
	if a.ID == "" {
		a.ID = roster.NewID()
	}
	if _, err := t.GetOrganization(ctx, a.OrgID); err != nil {
		return err
	}
	a.CreatedAt, a.UpdatedAt = t.now, t.now
	a.AllowedOrigins = nonNil(a.AllowedOrigins)
	if _, err := t.exec(ctx, `INSERT INTO oauth_apps (`+oauthAppCols+`, name_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15)`,
		a.ID, a.OrgID, a.ClientID, a.Name, listJSON(a.RedirectURIs), listJSON(a.Scopes), a.PKCERequired, a.Public, a.IDTokenAlg,
		a.SecretHash, a.PrevSecretHash, nullMicros(a.PrevSecretExpiresAt), micros(t.now), listJSON(a.AllowedOrigins), strings.ToLower(a.Name)); err != nil {
		if roster.KindOf(err) == roster.Conflict {
			return roster.Wrap(roster.Conflict, err, fmt.Sprintf("an OAuth app named %q already exists in this organization", a.Name))
		}
		return err
	}
	if err := t.writeOrigins(ctx, a); err != nil {
		return err
	}
	return t.record(ctx, a.OrgID, "oauth_app.created", roster.Target{Type: "oauth_app", ID: a.ID}, nil, snapOAuthApp(a))
}

func (t *txn) UpdateOAuthApp(ctx context.Context, a *roster.OAuthApp) error {
	before, err := t.GetOAuthApp(ctx, a.OrgID, a.ID)
	if err != nil {
		return err
	}
	t.credentialsChanged = true // cached clients (credcache.go)
	if err := t.execOne(ctx, "OAuth app", `UPDATE oauth_apps SET name = $3, name_key = $4, redirect_uris = $5, scopes = $6,
		pkce_required = $7, id_token_alg = $8, updated_at = $9 WHERE org_id = $1 AND id = $2`,
		a.OrgID, a.ID, a.Name, strings.ToLower(a.Name), listJSON(a.RedirectURIs), listJSON(a.Scopes), a.PKCERequired, a.IDTokenAlg,
		micros(t.now)); err != nil {
		if roster.KindOf(err) == roster.Conflict {
			return roster.Wrap(roster.Conflict, err, fmt.Sprintf("an OAuth app named %q already exists in this organization", a.Name))
		}
		return err
	}
	if err := t.writeOrigins(ctx, a); err != nil {
		return err
	}
	after, err := t.GetOAuthApp(ctx, a.OrgID, a.ID)
	if err != nil {
		return err
	}
	*a = *after
	return t.record(ctx, a.OrgID, "oauth_app.updated", roster.Target{Type: "oauth_app", ID: a.ID}, snapOAuthApp(before), snapOAuthApp(after))
}

func (t *txn) DeleteOAuthApp(ctx context.Context, orgID, id string) error {
	before, err := t.GetOAuthApp(ctx, orgID, id)
	if err != nil {
		return err
	}
	t.credentialsChanged = true // cached clients (credcache.go)
	for _, q := range []string{
		`DELETE FROM oauth_tokens WHERE org_id = $1 AND app_id = $2`,
		`DELETE FROM oauth_codes WHERE org_id = $1 AND app_id = $2`,
		`DELETE FROM oauth_consents WHERE org_id = $1 AND app_id = $2`,
		`DELETE FROM oauth_app_origins WHERE org_id = $1 AND app_id = $2`,
	} {
		if _, err := t.exec(ctx, q, orgID, id); err != nil {
			return err
		}
	}
	if err := t.execOne(ctx, "OAuth app", `DELETE FROM oauth_apps WHERE org_id = $1 AND id = $2`, orgID, id); err != nil {
		return err
	}
	return t.record(ctx, orgID, "oauth_app.deleted", roster.Target{Type: "oauth_app", ID: id}, snapOAuthApp(before), nil)
}

func (t *txn) RotateOAuthAppSecret(ctx context.Context, orgID, id string, newHash []byte, prevUntil *time.Time) (*roster.OAuthApp, error) {
	before, err := t.GetOAuthApp(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	if before.Public {
		return nil, roster.E(roster.Invalid, "a public app has no client secret to rotate")
	}
	var prev []byte
	if prevUntil != nil {
		prev = before.SecretHash
	}
	t.credentialsChanged = true // cached clients (credcache.go)
	if err := t.execOne(ctx, "OAuth app", `UPDATE oauth_apps SET secret_hash = $3, prev_secret_hash = $4, prev_secret_expires_at = $5,
		updated_at = $6 WHERE org_id = $1 AND id = $2`, orgID, id, newHash, prev, nullMicros(prevUntil), micros(t.now)); err != nil {
		return nil, err
	}
	after, err := t.GetOAuthApp(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	snap := map[string]any{"id": id, "clientId": after.ClientID, "previousSecretExpiresAt": prevUntil}
	return after, t.record(ctx, orgID, "oauth_app.secret_rotated", roster.Target{Type: "oauth_app", ID: id}, nil, snap)
}

func (r reader) GetOAuthConsent(ctx context.Context, orgID, appID, userID string) (*roster.OAuthConsent, error) {
	var c roster.OAuthConsent
	var scopes string
	var created, updated int64
	err := r.q.QueryRowContext(ctx, `SELECT org_id, app_id, user_id, scopes, created_at, updated_at FROM oauth_consents
		WHERE org_id = $1 AND app_id = $2 AND user_id = $3`, orgID, appID, userID).Scan(&c.OrgID, &c.AppID, &c.UserID, &scopes, &created, &updated)
	if err != nil {
		return nil, r.notFound(err, "consent")
	}
	if c.Scopes, err = parseList(scopes); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &c, nil
}

func (t *txn) SaveOAuthConsent(ctx context.Context, c *roster.OAuthConsent) error {
	if _, err := t.GetOAuthApp(ctx, c.OrgID, c.AppID); err != nil {
		return err
	}
	if _, err := t.GetMember(ctx, c.OrgID, c.UserID); err != nil {
		return err
	}
	before, err := t.GetOAuthConsent(ctx, c.OrgID, c.AppID, c.UserID)
	if err != nil && roster.KindOf(err) != roster.NotFound {
		return err
	}
	c.Scopes = nonNil(c.Scopes)
	c.CreatedAt, c.UpdatedAt = t.now, t.now
	if before != nil {
		c.CreatedAt = before.CreatedAt
	}
	if _, err := t.exec(ctx, `INSERT INTO oauth_consents (org_id, app_id, user_id, scopes, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (app_id, user_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
		c.OrgID, c.AppID, c.UserID, listJSON(c.Scopes), micros(c.CreatedAt), micros(t.now)); err != nil {
		return err
	}
	var b any
	if before != nil {
		b = before
	}
	return t.record(ctx, c.OrgID, "oauth.consent_granted", roster.Target{Type: "member", ID: c.UserID}, b, c)
}

func (t *txn) CreateOAuthCode(ctx context.Context, c *roster.OAuthCode) error {
	if c.ID == "" {
		c.ID = roster.NewID()
	}
	c.CreatedAt = t.now
	_, err := t.exec(ctx, `INSERT INTO oauth_codes (id, org_id, app_id, user_id, code_hash, redirect_uri, scopes, code_challenge, nonce,
		auth_time, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		c.ID, c.OrgID, c.AppID, c.UserID, c.Hash, c.RedirectURI, listJSON(c.Scopes), c.CodeChallenge, c.Nonce,
		micros(c.AuthTime), micros(t.now), micros(c.ExpiresAt))
	return err
}

const oauthCodeCols = `id, org_id, app_id, user_id, code_hash, redirect_uri, scopes, code_challenge, nonce, auth_time, created_at,
	expires_at, used_at`

// scanOAuthCode scans oauthCodeCols, then into more.
func scanOAuthCode(sc interface{ Scan(...any) error }, more ...any) (*roster.OAuthCode, error) {
	var c roster.OAuthCode
	var scopes string
	var authTime, created, expires int64
	var used sql.NullInt64
	if err := sc.Scan(append([]any{&c.ID, &c.OrgID, &c.AppID, &c.UserID, &c.Hash, &c.RedirectURI, &scopes, &c.CodeChallenge,
		&c.Nonce, &authTime, &created, &expires, &used}, more...)...); err != nil {
		return nil, err
	}
	var err error
	if c.Scopes, err = parseList(scopes); err != nil {
		return nil, err
	}
	c.AuthTime, c.CreatedAt, c.ExpiresAt, c.UsedAt = fromMicros(authTime), fromMicros(created), fromMicros(expires), fromNullMicros(used)
	return &c, nil
}

func (r reader) LookupOAuthCode(ctx context.Context, hash []byte) (*roster.OAuthCode, *roster.Member, error) {
	var md memberDest
	c, err := scanOAuthCode(r.q.QueryRowContext(ctx, selectWithMember(oauthCodeCols, "oauth_codes")+` WHERE x.code_hash = $1`, hash), md.dest()...)
	if err != nil {
		return nil, nil, r.notFound(err, "authorization code")
	}
	return c, md.member(), nil
}

func (t *txn) ConsumeOAuthCode(ctx context.Context, hash []byte) (*roster.OAuthCode, error) {
	c, err := scanOAuthCode(t.q.QueryRowContext(ctx, `SELECT `+oauthCodeCols+` FROM oauth_codes WHERE code_hash = $1`, hash))
	if err != nil {
		return nil, t.notFound(err, "authorization code")
	}
	if c.UsedAt != nil {
		return c, nil
	}
	res, err := t.exec(ctx, `UPDATE oauth_codes SET used_at = $3 WHERE org_id = $1 AND id = $2 AND used_at IS NULL`, c.OrgID, c.ID, micros(t.now))
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, err
	} else if n == 0 {
		// A concurrent exchange used it first.
		now := t.now
		c.UsedAt = &now
	}
	return c, nil
}

const oauthTokenCols = `id, org_id, app_id, user_id, kind, token_hash, family_id, scopes, auth_time, created_at, expires_at, used_at, revoked_at`

func (t *txn) CreateOAuthTokens(ctx context.Context, toks ...*roster.OAuthToken) error {
	if len(toks) == 0 {
		return nil
	}
	// One statement for all (an access and a refresh token, usually), on PostgreSQL queued
	// to go with the commit.
	var q strings.Builder
	q.WriteString(`INSERT INTO oauth_tokens (` + oauthTokenCols + `) VALUES `)
	args := make([]any, 0, 11*len(toks))
	for i, k := range toks {
		if k.ID == "" {
			k.ID = roster.NewID()
		}
		k.CreatedAt = t.now
		if i > 0 {
			q.WriteString(", ")
		}
		n := len(args)
		q.WriteString("(")
		for j := 1; j <= 11; j++ {
			q.WriteString("$" + itoa(n+j) + ", ")
		}
		q.WriteString("NULL, NULL)")
		args = append(args, k.ID, k.OrgID, k.AppID, k.UserID, k.Kind, k.Hash, k.FamilyID, listJSON(k.Scopes), micros(k.AuthTime),
			micros(t.now), micros(k.ExpiresAt))
	}
	return t.execQueued(ctx, nil, q.String(), args...)
}

func (r reader) LookupOAuthToken(ctx context.Context, hash []byte) (*roster.OAuthToken, *roster.Member, error) {
	var k roster.OAuthToken
	var md memberDest
	var scopes string
	var authTime, created, expires int64
	var used, revoked sql.NullInt64
	err := r.q.QueryRowContext(ctx, selectWithMember(oauthTokenCols, "oauth_tokens")+` WHERE x.token_hash = $1`, hash).Scan(append([]any{&k.ID, &k.OrgID, &k.AppID, &k.UserID,
		&k.Kind, &k.Hash, &k.FamilyID, &scopes, &authTime, &created, &expires, &used, &revoked}, md.dest()...)...)
	if err != nil {
		return nil, nil, r.notFound(err, "token")
	}
	if k.Scopes, err = parseList(scopes); err != nil {
		return nil, nil, err
	}
	k.AuthTime, k.CreatedAt, k.ExpiresAt = fromMicros(authTime), fromMicros(created), fromMicros(expires)
	k.UsedAt, k.RevokedAt = fromNullMicros(used), fromNullMicros(revoked)
	return &k, md.member(), nil
}

func (t *txn) UseOAuthToken(ctx context.Context, orgID, id string) (bool, error) {
	res, err := t.exec(ctx, `UPDATE oauth_tokens SET used_at = $3 WHERE org_id = $1 AND id = $2 AND used_at IS NULL AND revoked_at IS NULL`,
		orgID, id, micros(t.now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *txn) RevokeOAuthToken(ctx context.Context, orgID, id string) error {
	_, err := t.exec(ctx, `UPDATE oauth_tokens SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL`, orgID, id, micros(t.now))
	return err
}

func (t *txn) RevokeOAuthFamily(ctx context.Context, orgID, familyID, reason string) (int, error) {
	res, err := t.exec(ctx, `UPDATE oauth_tokens SET revoked_at = $3 WHERE org_id = $1 AND family_id = $2 AND revoked_at IS NULL`,
		orgID, familyID, micros(t.now))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	return int(n), t.record(ctx, orgID, "oauth_grant.revoked", roster.Target{Type: "oauth_grant", ID: familyID}, nil,
		map[string]any{"familyId": familyID, "reason": reason, "revoked": n})
}

// revokeMemberOAuth revokes every live token of a member and forgets its unused codes: part
// of the transaction that suspends or deletes the member.
func (t *txn) revokeMemberOAuth(ctx context.Context, orgID, userID string) error {
	if _, err := t.exec(ctx, `UPDATE oauth_tokens SET revoked_at = $3 WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL`,
		orgID, userID, micros(t.now)); err != nil {
		return err
	}
	_, err := t.exec(ctx, `DELETE FROM oauth_codes WHERE org_id = $1 AND user_id = $2 AND used_at IS NULL`, orgID, userID)
	return err
}

func (r reader) SigningKeys(ctx context.Context, retiredAfter time.Time) ([]roster.SigningKey, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT id, alg, generation, private_enc, public_jwk, created_at, retired_at FROM oauth_signing_keys
		WHERE retired_at IS NULL OR retired_at > $1 ORDER BY generation DESC, id`, micros(retiredAfter))
	if err != nil {
		return nil, r.d.translate(err)
	}
	defer rows.Close()
	out := []roster.SigningKey{}
	for rows.Next() {
		var k roster.SigningKey
		var jwk string
		var created int64
		var retired sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Alg, &k.Generation, &k.PrivateEnc, &jwk, &created, &retired); err != nil {
			return nil, err
		}
		k.PublicJWK, k.CreatedAt, k.RetiredAt = []byte(jwk), fromMicros(created), fromNullMicros(retired)
		out = append(out, k)
	}
	return out, rows.Err()
}

func (t *txn) CreateSigningKey(ctx context.Context, k *roster.SigningKey) error {
	var max sql.NullInt64
	if err := t.q.QueryRowContext(ctx, `SELECT MAX(generation) FROM oauth_signing_keys WHERE alg = $1`, k.Alg).Scan(&max); err != nil {
		return t.d.translate(err)
	}
	k.Generation, k.CreatedAt, k.RetiredAt = max.Int64+1, t.now, nil
	if _, err := t.exec(ctx, `UPDATE oauth_signing_keys SET retired_at = $2 WHERE alg = $1 AND retired_at IS NULL`, k.Alg, micros(t.now)); err != nil {
		return err
	}
	_, err := t.exec(ctx, `INSERT INTO oauth_signing_keys (id, alg, generation, private_enc, public_jwk, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		k.ID, k.Alg, k.Generation, k.PrivateEnc, string(k.PublicJWK), micros(t.now))
	return err
}

func (s *Store) PurgeOAuth(ctx context.Context, cutoff, keysBefore time.Time) (int64, error) {
	var total int64
	err := s.raw(ctx, func(t *txn) error {
		total = 0
		for _, q := range []struct {
			sql string
			at  time.Time
		}{
			{`DELETE FROM oauth_codes WHERE expires_at < $1`, cutoff},
			{`DELETE FROM oauth_tokens WHERE expires_at < $1`, cutoff},
			{`DELETE FROM oauth_signing_keys WHERE retired_at IS NOT NULL AND retired_at < $1`, keysBefore},
		} {
			res, err := t.exec(ctx, q.sql, micros(q.at))
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			total += n
		}
		return nil
	})
	return total, err
}
