package auth

import (
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/roster"
)

func TestImportedKeyPairsAreCheckedAndGeneratedOnesCarryTheirPrefixes(t *testing.T) {
	pk, sk, err := keyPair("", "", ProjectPublicPrefix, ProjectSecretPrefix, true)
	if err != nil || !strings.HasPrefix(pk, "pk-") || strings.HasPrefix(pk, "pk-org-") || !strings.HasPrefix(sk, "sk-") {
		t.Fatalf("generated %q %q %v", pk, sk, err)
	}
	long := strings.Repeat("a", 20)
	for _, c := range []struct {
		name, pk, sk string
		project      bool
		ok           bool
	}{
		{"a project pair imported as sent", "pk-lf-" + long, "sk-lf-" + long, true, true},
		{"an org pair imported as sent", "pk-org-" + long, "sk-org-" + long, false, true},
		{"a public key alone", "pk-lf-" + long, "", true, false},
		{"a secret key alone", "", "sk-lf-" + long, true, false},
		{"a project key with the org prefix", "pk-org-" + long, "sk-org-" + long, true, false},
		{"a wrong prefix", "pub-" + long, "sk-" + long, true, false},
		{"too short", "pk-abc", "sk-" + long, true, false},
		{"too long", "pk-" + strings.Repeat("a", 300), "sk-" + long, true, false},
		{"a colon in the public key", "pk-a:" + long, "sk-" + long, true, false},
		{"a space in the secret", "pk-" + long, "sk-a " + long, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			pubPrefix, secPrefix := ProjectPublicPrefix, ProjectSecretPrefix
			if !c.project {
				pubPrefix, secPrefix = OrgPublicPrefix, OrgSecretPrefix
			}
			gotPK, gotSK, err := keyPair(c.pk, c.sk, pubPrefix, secPrefix, c.project)
			if c.ok && (err != nil || gotPK != c.pk || gotSK != c.sk) {
				t.Errorf("= %q %q %v; want the pair as sent", gotPK, gotSK, err)
			}
			if !c.ok && roster.KindOf(err) != roster.Invalid {
				t.Errorf("= %v; want Invalid", err)
			}
		})
	}
}
