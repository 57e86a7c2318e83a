package roster

import (
	"strings"
	"time"
)

// SSO protocols of a connection.
const (
	ProtocolSAML = "saml"
	ProtocolOIDC = "oidc"
)

// AttributeMapping says which SAML attributes (or OIDC claims) carry a member's email,
// names and groups. Empty fields fall back to the preset, then to the defaults of
// DefaultMapping.
type AttributeMapping struct {
	// Preset is "okta", "entra" or "google" (or empty): the attribute names those IdPs send.
	Preset    string `json:"preset,omitempty"`
	Email     string `json:"email,omitempty"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	Name      string `json:"name,omitempty"`
	Groups    string `json:"groups,omitempty"`
}

// MappingPresets are the attribute names of the common IdPs' default SAML apps.
var MappingPresets = map[string]AttributeMapping{
	// Okta: the attribute statements its set-up guide has admins add.
	"okta": {Email: "email", FirstName: "firstName", LastName: "lastName", Groups: "groups"},
	// Entra ID (Azure AD) sends claim URIs by default.
	"entra": {
		Email:     "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
		FirstName: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
		LastName:  "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
		Name:      "http://schemas.microsoft.com/identity/claims/displayname",
		Groups:    "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
	},
	// Google Workspace: the attribute names its guide has admins type in.
	"google": {Email: "email", FirstName: "firstName", LastName: "lastName", Groups: "groups"},
}

// DefaultMapping is used for fields neither the mapping nor its preset names. For OIDC the
// standard claims (email, given_name, family_name, name, groups) apply instead.
var DefaultMapping = AttributeMapping{Email: "email", FirstName: "firstName", LastName: "lastName", Name: "name", Groups: "groups"}

// Resolved fills the empty fields of m from its preset and then from def.
func (m AttributeMapping) Resolved(def AttributeMapping) AttributeMapping {
	p := MappingPresets[m.Preset]
	pick := func(a, b, c string) string {
		if a != "" {
			return a
		}
		if b != "" {
			return b
		}
		return c
	}
	return AttributeMapping{Preset: m.Preset,
		Email:     pick(m.Email, p.Email, def.Email),
		FirstName: pick(m.FirstName, p.FirstName, def.FirstName),
		LastName:  pick(m.LastName, p.LastName, def.LastName),
		Name:      pick(m.Name, p.Name, def.Name),
		Groups:    pick(m.Groups, p.Groups, def.Groups),
	}
}

// SAMLConnection is an organization's SAML 2.0 identity provider.
type SAMLConnection struct {
	ID    string `json:"id"`
	OrgID string `json:"orgId"`
	Name  string `json:"name"`
	// EntityID is the IdP's entity id: the Issuer its responses must carry.
	EntityID string `json:"entityId"`
	// SSOURL is the IdP's HTTP-Redirect single sign-on endpoint; SLOURL its single logout
	// endpoint (optional).
	SSOURL string `json:"ssoUrl"`
	SLOURL string `json:"sloUrl,omitempty"`
	// Certificates are the IdP's signing certificates (PEM); any of them may sign, so a
	// rotation adds the new one before the IdP switches.
	Certificates []string `json:"certificates"`
	// MetadataURL is where the IdP's metadata was read from, if it was.
	MetadataURL string `json:"metadataUrl,omitempty"`
	// IdPInitiated allows unsolicited responses at /saml/callback/{id}.
	IdPInitiated bool `json:"idpInitiated"`
	// JIT creates a member on first sign-in (never while a SCIM directory manages the org).
	JIT              bool             `json:"jit"`
	Enabled          bool             `json:"enabled"`
	AttributeMapping AttributeMapping `json:"attributeMapping"`
	CreatedAt        time.Time        `json:"createdAt"`
	UpdatedAt        time.Time        `json:"updatedAt"`
}

// OIDCConnection is an organization's OpenID Connect provider.
type OIDCConnection struct {
	ID       string `json:"id"`
	OrgID    string `json:"orgId"`
	Name     string `json:"name"`
	Issuer   string `json:"issuer"`
	ClientID string `json:"clientId"`
	// ClientSecretEnc is the client secret encrypted under the keyring; never rendered.
	ClientSecretEnc  string           `json:"-"`
	Scopes           []string         `json:"scopes"`
	JIT              bool             `json:"jit"`
	Enabled          bool             `json:"enabled"`
	AttributeMapping AttributeMapping `json:"attributeMapping"`
	CreatedAt        time.Time        `json:"createdAt"`
	UpdatedAt        time.Time        `json:"updatedAt"`
}

// SSODomain is a corporate email domain an organization claims for its SSO. Until it is
// verified (by the DNS TXT record _roster-challenge.<domain> carrying Challenge, or by the
// instance admin) it only routes sign-ins; once verified it may be enforced, and no other
// organization can verify it.
type SSODomain struct {
	OrgID        string     `json:"-"`
	Domain       string     `json:"domain"`
	ConnectionID string     `json:"connectionId,omitempty"`
	Challenge    string     `json:"-"`
	VerifiedAt   *time.Time `json:"verifiedAt,omitempty"`
	VerifiedBy   string     `json:"verifiedBy,omitempty"`
	CreatedAt    time.Time  `json:"createdAt"`
}

// Verified reports whether the domain has been verified.
func (d *SSODomain) Verified() bool { return d.VerifiedAt != nil }

// SSOSettings are an organization's SSO switches.
type SSOSettings struct {
	OrgID string `json:"orgId"`
	// Enforced means members whose email is in a verified domain sign in only through SSO.
	Enforced  bool      `json:"enforced"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// LoginState is a login in flight, kept server-side between the redirect to the IdP and its
// answer. ID is the SAML RelayState or the OIDC state; RequestID is the AuthnRequest ID the
// response's InResponseTo must name (the OIDC state for OIDC).
type LoginState struct {
	ID           string
	OrgID        string
	ConnectionID string
	Protocol     string
	RequestID    string
	Nonce        string
	VerifierEnc  string
	ReturnTo     string
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// EmailDomain returns the lower-cased part of an email after its last "@", or "".
func EmailDomain(email string) string {
	i := strings.LastIndexByte(email, '@')
	if i < 0 || i == len(email)-1 {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(email[i+1:]))
}
