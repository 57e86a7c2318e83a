package sso_test

import (
	"testing"

	"github.com/rosterhq/roster/internal/sso/ssotest"
)

// BenchmarkSAMLLogin is one whole SP-initiated login as Roster serves it: the authorize
// redirect (a login state written), then the callback (signature verification of a 2048-bit
// RSA signature, the replay-cache insert, the login state consumed, the session written).
// The IdP's signing is outside the timer.
//
//	go test -run XXX -bench SAMLLogin ./internal/sso/
func BenchmarkSAMLLogin(b *testing.B) {
	e := newEnv(b, backends[0].open(b))
	idp := ssotest.NewSAMLIdP(b)
	conn := e.samlConnection(b, idp, "")
	for b.Loop() {
		b.StopTimer()
		br := browser(b)
		b.StartTimer()
		ar, relay := e.startSAML(b, br, conn)
		b.StopTimer()
		l := login{e, idp, ar, relay}
		enc := ssotest.Encode(b, l.signedAssertion(b, l.valid()))
		b.StartTimer()
		if resp := e.post(b, br, "/saml/callback", enc, relay); resp.StatusCode != 303 {
			b.Fatalf("callback answered %d", resp.StatusCode)
		}
	}
}
