package auth_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/auth"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func TestNewSecretShape(t *testing.T) {
	for _, prefix := range []string{auth.OrgPublicPrefix, auth.OrgSecretPrefix, auth.TokenPrefix, ""} {
		t.Run(fmt.Sprintf("prefix %q is followed by 43 base62 characters", prefix), func(t *testing.T) {
			s := auth.NewSecret(prefix)
			rest, ok := strings.CutPrefix(s, prefix)
			if !ok {
				t.Fatalf("NewSecret(%q) = %q: missing the prefix", prefix, s)
			}
			if len(rest) != 43 {
				t.Errorf("NewSecret(%q) = %q: %d random characters, want 43", prefix, s, len(rest))
			}
			if i := strings.IndexFunc(rest, func(r rune) bool { return !strings.ContainsRune(base62, r) }); i >= 0 {
				t.Errorf("NewSecret(%q) = %q: %q is not base62", prefix, s, rest[i])
			}
		})
	}
}

func TestNewSecretsAreDistinct(t *testing.T) {
	seen := make(map[string]bool, 1000)
	for range 1000 {
		s := auth.NewSecret(auth.TokenPrefix)
		if seen[s] {
			t.Fatalf("NewSecret returned %q twice", s)
		}
		seen[s] = true
	}
}

// Every base62 character must be equally likely: a biased alphabet would cost entropy. The
// bounds are loose (about 8 standard deviations for the per-character count, and a
// chi-square bound far in the tail of the 61-degree distribution), so the test never flakes
// yet catches a modulo bias or a missing character.
func TestNewSecretCharactersAreUniform(t *testing.T) {
	const total = 200_000
	counts := map[rune]int{}
	n := 0
	for n < total {
		for _, r := range strings.TrimPrefix(auth.NewSecret(auth.OrgSecretPrefix), auth.OrgSecretPrefix) {
			counts[r]++
			n++
		}
	}
	mean := float64(n) / 62
	chi2 := 0.0
	for _, r := range base62 {
		c := float64(counts[r])
		if c < 0.85*mean || c > 1.15*mean {
			t.Errorf("character %q appeared %d times in %d, want within 15%% of %.0f", r, counts[r], n, mean)
		}
		chi2 += (c - mean) * (c - mean) / mean
	}
	if len(counts) != 62 {
		t.Errorf("saw %d distinct characters, want 62", len(counts))
	}
	if chi2 > 200 {
		t.Errorf("chi-square over 62 characters = %.1f, want well under 200 (expected about 61)", chi2)
	}
}

func TestHashIsSHA256(t *testing.T) {
	// FIPS 180-2 appendix B.1.
	want, _ := hex.DecodeString("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
	if got := auth.Hash("abc"); !bytes.Equal(got, want) {
		t.Errorf("Hash(%q) = %x, want %x", "abc", got, want)
	}
	s := auth.NewSecret(auth.TokenPrefix)
	sum := sha256.Sum256([]byte(s))
	if got := auth.Hash(s); !bytes.Equal(got, sum[:]) {
		t.Errorf("Hash(%q) = %x, want its SHA-256 %x", s, got, sum)
	}
}

func TestEqual(t *testing.T) {
	a := auth.Hash("sk-org-one")
	b := auth.Hash("sk-org-two")
	tests := []struct {
		name string
		x, y []byte
		want bool
	}{
		{"a digest equals itself", a, a, true},
		{"a digest equals a copy of itself", a, bytes.Clone(a), true},
		{"different digests are not equal", a, b, false},
		{"digests differing in the last byte are not equal", a, append(bytes.Clone(a[:31]), a[31]^1), false},
		{"a digest does not equal its own prefix", a, a[:16], false},
		{"a digest does not equal itself with a byte appended", a, append(bytes.Clone(a), 0), false},
		{"a digest does not equal an empty value", a, nil, false},
		{"two empty values are not a match", nil, nil, false},
		{"equal values that are not SHA-256 digests are not a match", a[:16], a[:16], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := auth.Equal(tt.x, tt.y); got != tt.want {
				t.Errorf("Equal(%x, %x) = %v, want %v", tt.x, tt.y, got, tt.want)
			}
		})
	}
}

func TestDisplay(t *testing.T) {
	tests := []struct {
		name           string
		secret, prefix string
		want           string
	}{
		{"shows the prefix and the last four characters", "sk-org-0123456789abcdefWXYZ", auth.OrgSecretPrefix, "sk-org-...WXYZ"},
		{"a directory token shows its prefix too", "scim_abcdefgh1234", auth.TokenPrefix, "scim_...1234"},
		{"a value too short to have four characters of its own shows only the prefix", "sk-org-abc", auth.OrgSecretPrefix, "sk-org-..."},
		{"an empty value shows only the prefix", "", auth.OrgSecretPrefix, "sk-org-..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := auth.Display(tt.secret, tt.prefix); got != tt.want {
				t.Errorf("Display(%q, %q) = %q, want %q", tt.secret, tt.prefix, got, tt.want)
			}
		})
	}
	t.Run("a generated secret's display form does not reveal it", func(t *testing.T) {
		s := auth.NewSecret(auth.OrgSecretPrefix)
		d := auth.Display(s, auth.OrgSecretPrefix)
		if want := auth.OrgSecretPrefix + "..." + s[len(s)-4:]; d != want {
			t.Errorf("Display(%q) = %q, want %q", s, d, want)
		}
	})
}

func TestTokenDisplayPrefix(t *testing.T) {
	tests := []struct {
		name, token, want string
	}{
		{"keeps the prefix and six characters", "scim_abcdefghijklmnop", "scim_abcdef"},
		{"a value too short to show six characters shows only the prefix", "scim_abc", "scim_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := auth.TokenDisplayPrefix(tt.token); got != tt.want {
				t.Errorf("TokenDisplayPrefix(%q) = %q, want %q", tt.token, got, tt.want)
			}
		})
	}
}

func TestSecretIsRedacted(t *testing.T) {
	raw := auth.NewSecret(auth.TokenPrefix)
	s := auth.Secret(raw)
	if s.Reveal() != raw {
		t.Fatalf("Reveal() = %q, want %q", s.Reveal(), raw)
	}

	formats := []struct {
		name string
		out  string
	}{
		{"fmt %v", fmt.Sprintf("%v", s)},
		{"fmt %+v", fmt.Sprintf("%+v", s)},
		{"fmt %s", fmt.Sprintf("%s", s)},
		{"fmt %q", fmt.Sprintf("%q", s)},
		{"fmt %#v", fmt.Sprintf("%#v", s)},
		{"fmt Sprint", fmt.Sprint(s)},
		{"fmt Sprintln", fmt.Sprintln("token", s)},
		{"fmt %v inside a slice", fmt.Sprintf("%v", []auth.Secret{s})},
		{"fmt %v inside a map", fmt.Sprintf("%v", map[string]auth.Secret{"token": s})},
		{"fmt %+v inside a struct's exported field", fmt.Sprintf("%+v", struct{ Token auth.Secret }{s})},
		{"slog JSON handler", logWith(slog.NewJSONHandler, "token", s)},
		{"slog JSON handler, slog.Any", logWith(slog.NewJSONHandler, slog.Any("token", s))},
		{"slog JSON handler, inside a group", logWith(slog.NewJSONHandler, slog.Group("credential", "token", s))},
		{"slog text handler", logWith(slog.NewTextHandler, "token", s)},
		{"slog text handler, inside a group", logWith(slog.NewTextHandler, slog.Group("credential", "token", s))},
	}
	for _, f := range formats {
		t.Run(f.name+" prints it redacted", func(t *testing.T) {
			if strings.Contains(f.out, raw) {
				t.Errorf("output contains the secret: %s", f.out)
			}
			if !strings.Contains(f.out, "[REDACTED]") {
				t.Errorf("output does not say [REDACTED]: %s", f.out)
			}
		})
	}

	t.Run("the slog JSON handler writes the redacted value as the attribute's value", func(t *testing.T) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(logWith(slog.NewJSONHandler, "token", s)), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["token"] != "[REDACTED]" {
			t.Errorf(`"token" = %v, want "[REDACTED]"`, rec["token"])
		}
	})
}

// logWith logs one record with args through a handler made by newHandler and returns what it
// wrote.
func logWith[H slog.Handler](newHandler func(io.Writer, *slog.HandlerOptions) H, args ...any) string {
	var buf bytes.Buffer
	slog.New(newHandler(&buf, nil)).Info("authenticated", args...)
	return buf.String()
}
