package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// TOTP second factor (RFC 6238): HMAC-SHA-1 (RFC 4226), 30-second steps from the Unix
// epoch, 6 digits, the defaults every authenticator app reads from an otpauth:// URI.
const (
	TOTPPeriod = 30 * time.Second
	TOTPDigits = 6
	// totpSkew is how many steps before and after now are accepted, for clock drift and
	// typing time (RFC 6238 section 5.2 recommends at most one).
	totpSkew = 1
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTOTPSecret returns a fresh 160-bit seed (RFC 4226 section 4 asks at least 128).
func NewTOTPSecret() []byte {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return b
}

// TOTPSecretText is the base32 form of a seed that people type into an authenticator.
func TOTPSecretText(seed []byte) string { return b32.EncodeToString(seed) }

// TOTPURI is the otpauth:// URI (the de-facto Key URI Format) of a seed.
func TOTPURI(issuer, account string, seed []byte) string {
	label := url.PathEscape(issuer) + ":" + url.PathEscape(account)
	v := url.Values{"secret": {TOTPSecretText(seed)}, "issuer": {issuer}, "algorithm": {"SHA1"},
		"digits": {fmt.Sprint(TOTPDigits)}, "period": {fmt.Sprint(int(TOTPPeriod / time.Second))}}
	return "otpauth://totp/" + label + "?" + v.Encode()
}

// TOTPStep is the time step of t (RFC 6238 section 4.2: T = floor((t - T0) / X)).
func TOTPStep(t time.Time) int64 { return t.Unix() / int64(TOTPPeriod/time.Second) }

// HOTP is the RFC 4226 section 5.3 value of seed at counter, with digits digits.
func HOTP(seed []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, seed)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, code%mod)
}

// TOTPCode is the code of seed at time t.
func TOTPCode(seed []byte, t time.Time) string { return HOTP(seed, uint64(TOTPStep(t)), TOTPDigits) }

// VerifyTOTP checks code against the steps around now and answers the step it matched, so
// the caller can refuse a second use of the same step (RFC 6238 section 5.2). Spaces in the
// code are ignored.
func VerifyTOTP(seed []byte, code string, now time.Time) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != TOTPDigits {
		return 0, false
	}
	step := TOTPStep(now)
	matched, found := int64(0), 0
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		want := HOTP(seed, uint64(step+d), TOTPDigits)
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			matched, found = step+d, 1
		}
	}
	return matched, found == 1
}
