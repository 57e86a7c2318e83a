package sso

import (
	"encoding/base64"
	"testing"
)

// FuzzParseIdPMetadata: an admin-supplied (or fetched) metadata document never panics the
// parser; it is accepted or refused as Invalid.
func FuzzParseIdPMetadata(f *testing.F) {
	f.Add([]byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="e"><md:IDPSSODescriptor>` +
		`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp/sso"/>` +
		`</md:IDPSSODescriptor></md:EntityDescriptor>`))
	f.Add([]byte(`<EntitiesDescriptor><EntityDescriptor entityID="x"/></EntitiesDescriptor>`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		md, err := parseIdPMetadata(raw)
		if err == nil && (md.entityID == "" || md.ssoURL == "" || len(md.certs) == 0) {
			t.Fatalf("accepted metadata without entity id, SSO URL or certificate: %+v", md)
		}
	})
}

// FuzzInResponseTo: reading the unverified InResponseTo of any posted body never panics.
func FuzzInResponseTo(f *testing.F) {
	f.Add(base64.StdEncoding.EncodeToString([]byte(`<samlp:Response InResponseTo="_abc"/>`)))
	f.Add("not base64")
	f.Fuzz(func(t *testing.T, encoded string) { _ = inResponseTo(encoded) })
}
