package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/roster"
)

const samlCols = `id, org_id, name, idp_entity_id, sso_url, slo_url, certificates, metadata_url, idp_initiated, jit, enabled,
	attribute_mapping, created_at, updated_at`

func scanSAML(sc interface{ Scan(...any) error }) (*roster.SAMLConnection, error) {
	var c roster.SAMLConnection
	var certs, mapping string
	var created, updated int64
	if err := sc.Scan(&c.ID, &c.OrgID, &c.Name, &c.EntityID, &c.SSOURL, &c.SLOURL, &certs, &c.MetadataURL, &c.IdPInitiated,
		&c.JIT, &c.Enabled, &mapping, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(certs), &c.Certificates); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(mapping), &c.AttributeMapping); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &c, nil
}

func (r reader) GetSAMLConnection(ctx context.Context, orgID, id string) (*roster.SAMLConnection, error) {
	c, err := scanSAML(r.q.QueryRowContext(ctx, `SELECT `+samlCols+` FROM saml_connections WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, r.notFound(err, "SAML connection")
	}
	return c, nil
}

func (r reader) LookupSAMLConnection(ctx context.Context, id string) (*roster.SAMLConnection, error) {
	c, err := scanSAML(r.q.QueryRowContext(ctx, `SELECT `+samlCols+` FROM saml_connections WHERE id = $1`, id))
	if err != nil {
		return nil, r.notFound(err, "SAML connection")
	}
	return c, nil
}

func (r reader) ListSAMLConnections(ctx context.Context, orgID string) ([]roster.SAMLConnection, error) {
	return listRows(ctx, r, scanSAML, `SELECT `+samlCols+` FROM saml_connections WHERE org_id = $1 ORDER BY id`, orgID)
}

func listRows[T any](ctx context.Context, r reader, scan func(interface{ Scan(...any) error }) (*T, error), q string, args ...any) ([]T, error) {
	rows, err := r.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, r.d.translate(err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (t *txn) CreateSAMLConnection(ctx context.Context, c *roster.SAMLConnection) error {
	if c.ID == "" {
		c.ID = roster.NewID()
	}
	if c.Certificates == nil {
		c.Certificates = []string{}
	}
	c.CreatedAt, c.UpdatedAt = t.now, t.now
	if _, err := t.exec(ctx, `INSERT INTO saml_connections (`+samlCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		c.ID, c.OrgID, c.Name, c.EntityID, c.SSOURL, c.SLOURL, mustJSON(c.Certificates), c.MetadataURL, c.IdPInitiated, c.JIT,
		c.Enabled, mustJSON(c.AttributeMapping), micros(c.CreatedAt), micros(c.UpdatedAt)); err != nil {
		return err
	}
	return t.record(ctx, c.OrgID, "saml_connection.created", roster.Target{Type: "saml_connection", ID: c.ID}, nil, c)
}

func (t *txn) UpdateSAMLConnection(ctx context.Context, c *roster.SAMLConnection) error {
	before, err := t.GetSAMLConnection(ctx, c.OrgID, c.ID)
	if err != nil {
		return err
	}
	c.CreatedAt, c.UpdatedAt = before.CreatedAt, t.now
	if err := t.execOne(ctx, "SAML connection", `UPDATE saml_connections SET name = $3, idp_entity_id = $4, sso_url = $5, slo_url = $6,
		certificates = $7, metadata_url = $8, idp_initiated = $9, jit = $10, enabled = $11, attribute_mapping = $12, updated_at = $13
		WHERE org_id = $1 AND id = $2`, c.OrgID, c.ID, c.Name, c.EntityID, c.SSOURL, c.SLOURL, mustJSON(c.Certificates), c.MetadataURL,
		c.IdPInitiated, c.JIT, c.Enabled, mustJSON(c.AttributeMapping), micros(t.now)); err != nil {
		return err
	}
	return t.record(ctx, c.OrgID, "saml_connection.updated", roster.Target{Type: "saml_connection", ID: c.ID}, before, c)
}

func (t *txn) DeleteSAMLConnection(ctx context.Context, orgID, id string) error {
	before, err := t.GetSAMLConnection(ctx, orgID, id)
	if err != nil {
		return err
	}
	if err := t.unlinkDomains(ctx, orgID, id); err != nil {
		return err
	}
	if err := t.execOne(ctx, "SAML connection", `DELETE FROM saml_connections WHERE org_id = $1 AND id = $2`, orgID, id); err != nil {
		return err
	}
	return t.record(ctx, orgID, "saml_connection.deleted", roster.Target{Type: "saml_connection", ID: id}, before, nil)
}

func (t *txn) unlinkDomains(ctx context.Context, orgID, connID string) error {
	_, err := t.exec(ctx, `UPDATE sso_domains SET connection_id = '' WHERE org_id = $1 AND connection_id = $2`, orgID, connID)
	return err
}

const oidcCols = `id, org_id, name, issuer, client_id, client_secret_enc, scopes, jit, enabled, attribute_mapping, created_at, updated_at`

func scanOIDC(sc interface{ Scan(...any) error }) (*roster.OIDCConnection, error) {
	var c roster.OIDCConnection
	var scopes, mapping string
	var created, updated int64
	if err := sc.Scan(&c.ID, &c.OrgID, &c.Name, &c.Issuer, &c.ClientID, &c.ClientSecretEnc, &scopes, &c.JIT, &c.Enabled,
		&mapping, &created, &updated); err != nil {
		return nil, err
	}
	c.Scopes = strings.Fields(scopes)
	if err := json.Unmarshal([]byte(mapping), &c.AttributeMapping); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &c, nil
}

func (r reader) GetOIDCConnection(ctx context.Context, orgID, id string) (*roster.OIDCConnection, error) {
	c, err := scanOIDC(r.q.QueryRowContext(ctx, `SELECT `+oidcCols+` FROM oidc_connections WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, r.notFound(err, "OIDC connection")
	}
	return c, nil
}

func (r reader) ListOIDCConnections(ctx context.Context, orgID string) ([]roster.OIDCConnection, error) {
	return listRows(ctx, r, scanOIDC, `SELECT `+oidcCols+` FROM oidc_connections WHERE org_id = $1 ORDER BY id`, orgID)
}

func (t *txn) CreateOIDCConnection(ctx context.Context, c *roster.OIDCConnection) error {
	if c.ID == "" {
		c.ID = roster.NewID()
	}
	if c.Scopes == nil {
		c.Scopes = []string{}
	}
	c.CreatedAt, c.UpdatedAt = t.now, t.now
	if _, err := t.exec(ctx, `INSERT INTO oidc_connections (`+oidcCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		c.ID, c.OrgID, c.Name, c.Issuer, c.ClientID, c.ClientSecretEnc, strings.Join(c.Scopes, " "), c.JIT, c.Enabled,
		mustJSON(c.AttributeMapping), micros(c.CreatedAt), micros(c.UpdatedAt)); err != nil {
		return err
	}
	return t.record(ctx, c.OrgID, "oidc_connection.created", roster.Target{Type: "oidc_connection", ID: c.ID}, nil, c)
}

func (t *txn) UpdateOIDCConnection(ctx context.Context, c *roster.OIDCConnection) error {
	before, err := t.GetOIDCConnection(ctx, c.OrgID, c.ID)
	if err != nil {
		return err
	}
	c.CreatedAt, c.UpdatedAt = before.CreatedAt, t.now
	if err := t.execOne(ctx, "OIDC connection", `UPDATE oidc_connections SET name = $3, issuer = $4, client_id = $5,
		client_secret_enc = $6, scopes = $7, jit = $8, enabled = $9, attribute_mapping = $10, updated_at = $11
		WHERE org_id = $1 AND id = $2`, c.OrgID, c.ID, c.Name, c.Issuer, c.ClientID, c.ClientSecretEnc, strings.Join(c.Scopes, " "),
		c.JIT, c.Enabled, mustJSON(c.AttributeMapping), micros(t.now)); err != nil {
		return err
	}
	return t.record(ctx, c.OrgID, "oidc_connection.updated", roster.Target{Type: "oidc_connection", ID: c.ID}, before, c)
}

func (t *txn) DeleteOIDCConnection(ctx context.Context, orgID, id string) error {
	before, err := t.GetOIDCConnection(ctx, orgID, id)
	if err != nil {
		return err
	}
	if err := t.unlinkDomains(ctx, orgID, id); err != nil {
		return err
	}
	if err := t.execOne(ctx, "OIDC connection", `DELETE FROM oidc_connections WHERE org_id = $1 AND id = $2`, orgID, id); err != nil {
		return err
	}
	return t.record(ctx, orgID, "oidc_connection.deleted", roster.Target{Type: "oidc_connection", ID: id}, before, nil)
}

const domainCols = `org_id, domain, connection_id, challenge, verified_at, verified_by, created_at`

func scanDomain(sc interface{ Scan(...any) error }) (*roster.SSODomain, error) {
	var d roster.SSODomain
	var verified sql.NullInt64
	var created int64
	if err := sc.Scan(&d.OrgID, &d.Domain, &d.ConnectionID, &d.Challenge, &verified, &d.VerifiedBy, &created); err != nil {
		return nil, err
	}
	d.VerifiedAt, d.CreatedAt = fromNullMicros(verified), fromMicros(created)
	return &d, nil
}

func (r reader) ListSSODomains(ctx context.Context, orgID string) ([]roster.SSODomain, error) {
	return listRows(ctx, r, scanDomain, `SELECT `+domainCols+` FROM sso_domains WHERE org_id = $1 ORDER BY domain`, orgID)
}

func (r reader) LookupVerifiedDomain(ctx context.Context, domain string) (*roster.SSODomain, *roster.SSOSettings, error) {
	d, err := scanDomain(r.q.QueryRowContext(ctx, `SELECT `+domainCols+` FROM sso_domains WHERE domain = $1 AND verified_at IS NOT NULL`,
		strings.ToLower(domain)))
	if err != nil {
		return nil, nil, r.notFound(err, "domain")
	}
	s, err := r.GetSSOSettings(ctx, d.OrgID)
	if err != nil {
		return nil, nil, err
	}
	return d, s, nil
}

func (r reader) GetSSOSettings(ctx context.Context, orgID string) (*roster.SSOSettings, error) {
	s := &roster.SSOSettings{OrgID: orgID}
	var updated int64
	err := r.q.QueryRowContext(ctx, `SELECT enforced, updated_at FROM sso_settings WHERE org_id = $1`, orgID).Scan(&s.Enforced, &updated)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return s, nil
	case err != nil:
		return nil, r.d.translate(err)
	}
	s.UpdatedAt = fromMicros(updated)
	return s, nil
}

func (t *txn) SetConnectionDomains(ctx context.Context, orgID, connID string, domains []string, challenge func(string) string) error {
	before, err := t.ListSSODomains(ctx, orgID)
	if err != nil {
		return err
	}
	have := map[string]roster.SSODomain{}
	for _, d := range before {
		have[d.Domain] = d
	}
	want := map[string]bool{}
	for _, d := range domains {
		d = strings.ToLower(d)
		want[d] = true
		cur, ok := have[d]
		switch {
		case !ok:
			if _, err := t.exec(ctx, `INSERT INTO sso_domains (org_id, domain, connection_id, challenge, created_at) VALUES ($1, $2, $3, $4, $5)`,
				orgID, d, connID, challenge(d), micros(t.now)); err != nil {
				return err
			}
		case cur.ConnectionID != connID:
			if _, err := t.exec(ctx, `UPDATE sso_domains SET connection_id = $3 WHERE org_id = $1 AND domain = $2`, orgID, d, connID); err != nil {
				return err
			}
		}
	}
	for _, d := range before {
		if d.ConnectionID == connID && !want[d.Domain] {
			if _, err := t.exec(ctx, `UPDATE sso_domains SET connection_id = '' WHERE org_id = $1 AND domain = $2`, orgID, d.Domain); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *txn) VerifyDomain(ctx context.Context, orgID, domain, by string) error {
	domain = strings.ToLower(domain)
	var verified sql.NullInt64
	err := t.q.QueryRowContext(ctx, `SELECT verified_at FROM sso_domains WHERE org_id = $1 AND domain = $2`, orgID, domain).Scan(&verified)
	if err != nil {
		return t.notFound(err, "domain")
	}
	if verified.Valid {
		return nil
	}
	if _, err := t.exec(ctx, `UPDATE sso_domains SET verified_at = $3, verified_by = $4 WHERE org_id = $1 AND domain = $2`,
		orgID, domain, micros(t.now), by); err != nil {
		if roster.KindOf(err) == roster.Conflict {
			return roster.E(roster.Conflict, "domain %s is verified by another organization", domain)
		}
		return err
	}
	return t.record(ctx, orgID, "sso_domain.verified", roster.Target{Type: "sso_domain", ID: domain}, nil,
		map[string]string{"domain": domain, "verifiedBy": by})
}

func (t *txn) SetSSOEnforced(ctx context.Context, orgID string, enforced bool) error {
	before, err := t.GetSSOSettings(ctx, orgID)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `INSERT INTO sso_settings (org_id, enforced, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (org_id) DO UPDATE SET enforced = excluded.enforced, updated_at = excluded.updated_at`, orgID, enforced, micros(t.now)); err != nil {
		return err
	}
	after := &roster.SSOSettings{OrgID: orgID, Enforced: enforced, UpdatedAt: t.now}
	return t.record(ctx, orgID, "sso.enforcement_changed", roster.Target{Type: "organization", ID: orgID}, before, after)
}

const loginStateCols = `id, org_id, connection_id, protocol, request_id, nonce, verifier_enc, return_to, created_at, expires_at`

func scanLoginState(sc interface{ Scan(...any) error }) (*roster.LoginState, error) {
	var s roster.LoginState
	var created, expires int64
	if err := sc.Scan(&s.ID, &s.OrgID, &s.ConnectionID, &s.Protocol, &s.RequestID, &s.Nonce, &s.VerifierEnc, &s.ReturnTo,
		&created, &expires); err != nil {
		return nil, err
	}
	s.CreatedAt, s.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &s, nil
}

func (r reader) FindLoginState(ctx context.Context, requestID string, now time.Time) (*roster.LoginState, error) {
	s, err := scanLoginState(r.q.QueryRowContext(ctx, `SELECT `+loginStateCols+` FROM sso_login_states
		WHERE request_id = $1 AND expires_at > $2`, requestID, micros(now)))
	if err != nil {
		return nil, r.notFound(err, "login state")
	}
	return s, nil
}

func (t *txn) CreateLoginState(ctx context.Context, s *roster.LoginState) error {
	if s.CreatedAt.IsZero() {
		s.CreatedAt = t.now
	}
	_, err := t.exec(ctx, `INSERT INTO sso_login_states (`+loginStateCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		s.ID, s.OrgID, s.ConnectionID, s.Protocol, s.RequestID, s.Nonce, s.VerifierEnc, s.ReturnTo, micros(s.CreatedAt), micros(s.ExpiresAt))
	return err
}

func (t *txn) ConsumeLoginState(ctx context.Context, id string, now time.Time) (*roster.LoginState, error) {
	s, err := scanLoginState(t.q.QueryRowContext(ctx, `SELECT `+loginStateCols+` FROM sso_login_states WHERE id = $1`, id))
	if err != nil {
		return nil, t.notFound(err, "login state")
	}
	// The delete decides: of two replicas consuming one state, one deletes the row.
	if err := t.execOne(ctx, "login state", `DELETE FROM sso_login_states WHERE id = $1`, id); err != nil {
		return nil, err
	}
	if !now.Before(s.ExpiresAt) {
		return nil, roster.E(roster.NotFound, "login state expired")
	}
	return s, nil
}

func (t *txn) RecordAssertion(ctx context.Context, orgID, connID, assertionID string, expiresAt time.Time) error {
	_, err := t.exec(ctx, `INSERT INTO saml_assertions_seen (connection_id, assertion_id, org_id, expires_at) VALUES ($1, $2, $3, $4)`,
		connID, assertionID, orgID, micros(expiresAt))
	if roster.KindOf(err) == roster.Conflict {
		return roster.E(roster.Conflict, "assertion %s was already used", assertionID)
	}
	return err
}

func (t *txn) RecordLoginRefused(ctx context.Context, orgID string, target roster.Target, detail map[string]string) error {
	return t.record(ctx, orgID, "sso.login_refused", target, nil, detail)
}

// PurgeSSOState deletes expired login states and replay-cache entries. A replay-cache entry
// is kept until its assertion has expired, so a replay is refused as long as it could pass.
func (s *Store) PurgeSSOState(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, q := range []string{`DELETE FROM sso_login_states WHERE expires_at <= $1`, `DELETE FROM saml_assertions_seen WHERE expires_at <= $1`} {
		res, err := s.w.ExecContext(ctx, q, micros(now))
		if err != nil {
			return total, s.d.translate(err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}
