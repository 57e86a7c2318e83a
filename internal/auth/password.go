package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/rosterhq/roster/internal/roster"
)

// Passwords hashes and verifies the passwords of people (never of generated secrets, which
// are SHA-256: they have nothing to brute-force). It uses argon2id (RFC 9106) and runs at
// most Concurrency hashes at once: each costs Memory KiB and tens of milliseconds of CPU, so
// a burst of sign-ins queues instead of exhausting memory; a caller that waits longer than
// Wait gets a RateLimited error (429).
type Passwords struct {
	p    ArgonParams
	sem  chan struct{}
	wait time.Duration
	// dummy is verified against when a person has no password, so that an unknown email
	// costs as much time as a wrong password.
	dummy string
}

// ArgonParams are argon2id's cost parameters. The defaults are the second recommended
// option of RFC 9106 section 4 scaled to a server (OWASP's 19 MiB, 2 passes, 1 lane).
type ArgonParams struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultArgon are the cost parameters of new hashes.
var DefaultArgon = ArgonParams{Memory: 19 * 1024, Time: 2, Threads: 1}

// PasswordConfig tunes Passwords.
type PasswordConfig struct {
	Params ArgonParams
	// Concurrency is how many hashes run at once (default: the number of CPUs).
	Concurrency int
	// Wait is how long a caller waits for a slot (default 5s).
	Wait time.Duration
}

// Password length bounds: long enough to resist guessing at argon2id's cost (NIST SP
// 800-63B section 5.1.1.2 asks at least 8), short enough that hashing stays bounded.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 1024
)

// NewPasswords returns a hasher with cfg's settings.
func NewPasswords(cfg PasswordConfig) *Passwords {
	if cfg.Params.Memory == 0 {
		cfg.Params = DefaultArgon
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = runtime.NumCPU()
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 5 * time.Second
	}
	p := &Passwords{p: cfg.Params, sem: make(chan struct{}, cfg.Concurrency), wait: cfg.Wait}
	p.dummy = p.encode(make([]byte, 16), []byte("roster-dummy-password"))
	return p
}

// CheckPassword says whether a new password is acceptable.
func CheckPassword(pw string) error {
	switch n := utf8.RuneCountInString(pw); {
	case n < MinPasswordLen:
		return roster.E(roster.Invalid, "the password must be at least %d characters long", MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return roster.E(roster.Invalid, "the password must be at most %d bytes long", MaxPasswordLen)
	}
	return nil
}

func (p *Passwords) acquire(ctx context.Context) (func(), error) {
	t := time.NewTimer(p.wait)
	defer t.Stop()
	select {
	case p.sem <- struct{}{}:
		return func() { <-p.sem }, nil
	case <-t.C:
		return nil, roster.E(roster.RateLimited, "too many sign-ins at once; try again in a moment")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *Passwords) encode(salt, password []byte) string {
	key := argon2.IDKey(password, salt, p.p.Time, p.p.Memory, p.p.Threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.p.Memory, p.p.Time, p.p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Hash returns the PHC string form of password's argon2id hash with a fresh salt.
func (p *Passwords) Hash(ctx context.Context, password string) (string, error) {
	if err := CheckPassword(password); err != nil {
		return "", err
	}
	release, err := p.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	return p.encode(salt, []byte(password)), nil
}

// Verify reports whether password matches hash, in constant time. An empty hash (no
// password set) verifies against a dummy hash and answers false, taking as long as a real
// check. A hash made with other parameters is verified with its own.
func (p *Passwords) Verify(ctx context.Context, hash, password string) (bool, error) {
	if len(password) > MaxPasswordLen {
		return false, nil
	}
	real := hash != ""
	if !real {
		hash = p.dummy
	}
	params, salt, key, err := decodeArgon(hash)
	if err != nil {
		return false, err
	}
	release, err := p.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	got := argon2.IDKey([]byte(password), salt, params.Time, params.Memory, params.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1 && real, nil
}

// NeedsRehash reports whether hash was made with other parameters than new hashes use.
func (p *Passwords) NeedsRehash(hash string) bool {
	params, _, _, err := decodeArgon(hash)
	return err != nil || params != p.p
}

// decodeArgon parses "$argon2id$v=19$m=…,t=…,p=…$salt$key", bounding the parameters so a
// corrupt row cannot make a verification allocate without limit.
func decodeArgon(s string) (ArgonParams, []byte, []byte, error) {
	var pr ArgonParams
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return pr, nil, nil, fmt.Errorf("password hash is not an argon2id v=%d PHC string", argon2.Version)
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &pr.Memory, &pr.Time, &pr.Threads); err != nil {
		return pr, nil, nil, fmt.Errorf("password hash parameters: %w", err)
	}
	if pr.Memory < 8 || pr.Memory > 1<<20 || pr.Time < 1 || pr.Time > 16 || pr.Threads < 1 {
		return pr, nil, nil, fmt.Errorf("password hash parameters out of range")
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return pr, nil, nil, fmt.Errorf("password hash salt: %w", err)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return pr, nil, nil, fmt.Errorf("password hash key is malformed")
	}
	return pr, salt, key, nil
}
