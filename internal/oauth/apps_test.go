package oauth

import "testing"

func TestRedirectURIsAtRegistration(t *testing.T) {
	for _, c := range []struct {
		uri string
		ok  bool
	}{
		{"https://app.example/callback", true},
		{"https://app.example:8443/cb?tenant=a", true},
		{"http://127.0.0.1:7777/callback", true},
		{"http://localhost/callback", true},
		{"http://[::1]:8080/cb", true},
		{"com.example.app:/oauth2redirect", true},
		{"http://app.example/callback", false},
		{"https://app.example/cb#fragment", false},
		{"https://*.app.example/cb", false},
		{"/relative/callback", false},
		{"javascript:alert(1)", false},
		{"myapp:/cb", false},
		{"https:///no-host", false},
	} {
		if err := validRedirectURI(c.uri); (err == nil) != c.ok {
			t.Errorf("validRedirectURI(%q) = %v, want ok %v", c.uri, err, c.ok)
		}
	}
}

func TestAllowedOrigins(t *testing.T) {
	for _, c := range []struct {
		origin string
		ok     bool
	}{
		{"https://spa.example", true},
		{"https://spa.example:8443", true},
		{"http://localhost:3000", true},
		{"http://spa.example", false},
		{"https://spa.example/", false},
		{"https://spa.example/app", false},
		{"https://user@spa.example", false},
		{"*", false},
		{"null", false},
	} {
		if err := validOrigin(c.origin); (err == nil) != c.ok {
			t.Errorf("validOrigin(%q) = %v, want ok %v", c.origin, err, c.ok)
		}
	}
}

func TestPKCEVerifierAndChallengeForms(t *testing.T) {
	// RFC 7636 appendix B.
	if got := s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("s256 of the RFC's verifier = %q", got)
	}
	for _, c := range []struct {
		v  string
		ok bool
	}{
		{"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", true},
		{"short", false},
		{"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX+", false},
	} {
		if validVerifier(c.v) != c.ok {
			t.Errorf("validVerifier(%q) = %v, want %v", c.v, !c.ok, c.ok)
		}
	}
	if !validChallenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM") || validChallenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw=cM") {
		t.Errorf("validChallenge misjudges the RFC's challenge")
	}
}
