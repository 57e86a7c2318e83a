package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// Credential prefixes (DESIGN.md section 3).
const (
	OrgPublicPrefix = "pk-org-"
	OrgSecretPrefix = "sk-org-"
	TokenPrefix     = "scim_"
)

// secretChars is the length of the random part of every generated secret: 43 base62
// characters carry 256 bits of entropy.
const secretChars = 43

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewSecret returns prefix followed by 43 uniformly random base62 characters (256 bits).
// Base62 keeps secrets free of the punctuation that shells, URLs and Basic auth treat
// specially, and lets a double-click select the whole value.
func NewSecret(prefix string) string {
	out := make([]byte, len(prefix), len(prefix)+secretChars)
	copy(out, prefix)
	var buf [64]byte
	for len(out) < cap(out) {
		if _, err := rand.Read(buf[:]); err != nil {
			panic("crypto/rand failed: " + err.Error())
		}
		for _, b := range buf {
			// 248 = 4*62: rejecting bytes at or above it keeps every character equally likely.
			if b < 248 && len(out) < cap(out) {
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out)
}

// Hash is the at-rest form of a generated secret. Generated secrets carry 256 bits of
// entropy, so a fast hash is enough: there is nothing to brute-force.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Equal compares two digests in constant time.
func Equal(a, b []byte) bool {
	return len(a) == sha256.Size && subtle.ConstantTimeCompare(a, b) == 1
}

// Display returns the shown-forever form of a secret: its prefix, an ellipsis and its last
// four characters (`sk-org-...a1b2`), enough to tell keys apart and nothing to guess with.
func Display(secret, prefix string) string {
	if len(secret) < len(prefix)+4 {
		return prefix + "..."
	}
	return prefix + "..." + secret[len(secret)-4:]
}

// TokenDisplayPrefix is the part of a directory token kept in clear to tell tokens apart.
func TokenDisplayPrefix(token string) string {
	if len(token) > len(TokenPrefix)+6 {
		return token[:len(TokenPrefix)+6]
	}
	return TokenPrefix
}

// Secret is a string that must never reach a log: slog and fmt print it redacted.
type Secret string

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// String implements fmt.Stringer.
func (Secret) String() string { return "[REDACTED]" }

// GoString implements fmt.GoStringer, so %#v redacts too.
func (Secret) GoString() string { return "[REDACTED]" }

// Reveal returns the secret itself, for the one place that must compare or send it.
func (s Secret) Reveal() string { return string(s) }

// Format implements fmt.Formatter, so no verb (%d, %x, %q…) prints the secret.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[REDACTED]")) }
