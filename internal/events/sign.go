package events

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries the signatures of a delivery:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>", with a second v1 (the
// previous secret's) during a rotation's grace period, the new one first.
const SignatureHeader = "Roster-Signature"

// EventIDHeader carries the event id, for de-duplication by the receiver.
const EventIDHeader = "Roster-Event-Id"

// DefaultTolerance is how old a signature timestamp a receiver should accept.
const DefaultTolerance = 5 * time.Minute

// Sign computes the signature header value for body at time t with each secret in order.
// The HMAC key is the secret string's bytes.
func Sign(body []byte, t time.Time, secrets ...string) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=")
	b.WriteString(ts)
	for _, s := range secrets {
		b.WriteString(",v1=")
		b.WriteString(hex.EncodeToString(mac(s, ts, body)))
	}
	return b.String()
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// Errors of Verify.
var (
	ErrNoSignature    = errors.New("events: no valid signature")
	ErrStaleTimestamp = errors.New("events: signature timestamp outside the tolerance")
	ErrBadHeader      = errors.New("events: malformed signature header")
)

// Verify checks a Roster-Signature header against body with secret, as a receiver must: the
// timestamp within tolerance of now (either way), and one v1 value equal, compared in
// constant time. It is what docs/events.md shows receivers.
func Verify(header string, body []byte, secret string, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrBadHeader
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if s, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, s)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadHeader
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrStaleTimestamp
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return ErrNoSignature
}
