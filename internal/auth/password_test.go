package auth

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/roster"
)

// cheap keeps tests fast; the encoding and verification path is the same as the default's.
var cheap = PasswordConfig{Params: ArgonParams{Memory: 64, Time: 1, Threads: 1}}

func TestPasswords(t *testing.T) {
	p := NewPasswords(cheap)
	ctx := t.Context()
	hash, err := p.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q is not an argon2id PHC string with its parameters", hash)
	}
	if again, _ := p.Hash(ctx, "correct horse battery"); again == hash {
		t.Error("two hashes of one password are equal: the salt is not fresh")
	}
	for _, c := range []struct {
		name, hash, password string
		want                 bool
	}{
		{"the right password verifies", hash, "correct horse battery", true},
		{"a wrong password does not", hash, "correct horse batterY", false},
		{"an empty password does not", hash, "", false},
		{"no stored password never verifies, even against the dummy's own input", "", "roster-dummy-password", false},
		{"an over-long password does not, without hashing it", hash, strings.Repeat("x", MaxPasswordLen+1), false},
	} {
		got, err := p.Verify(ctx, c.hash, c.password)
		if err != nil || got != c.want {
			t.Errorf("%s: Verify = %v, %v; want %v", c.name, got, err, c.want)
		}
	}
	if ok, err := NewPasswords(PasswordConfig{}).Verify(ctx, hash, "correct horse battery"); !ok || err != nil {
		t.Errorf("a hash made with other parameters verifies with its own: %v, %v", ok, err)
	}
	if !NewPasswords(PasswordConfig{}).NeedsRehash(hash) || p.NeedsRehash(hash) {
		t.Error("NeedsRehash must tell hashes of other parameters apart")
	}
	for _, bad := range []string{"$2a$10$bcrypt", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$m=64,t=1,p=1$!!$!!"} {
		if _, err := p.Verify(ctx, bad, "x"); err == nil {
			t.Errorf("Verify(%q) accepted a malformed or unbounded hash", bad)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	for _, c := range []struct {
		pw string
		ok bool
	}{{"short", false}, {"ten chars!", true}, {"ÅÅÅÅÅÅÅÅÅÅ", true}, {strings.Repeat("a", MaxPasswordLen+1), false}} {
		if err := CheckPassword(c.pw); (err == nil) != c.ok {
			t.Errorf("CheckPassword(%q) = %v; want ok %v", c.pw, err, c.ok)
		}
	}
}

func TestPasswordsBoundConcurrency(t *testing.T) {
	p := NewPasswords(PasswordConfig{Params: cheap.Params, Concurrency: 1, Wait: 20 * time.Millisecond})
	release, err := p.acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Verify(t.Context(), "", "whatever password")
	if roster.KindOf(err) != roster.RateLimited {
		t.Errorf("a verification while the only slot is taken = %v; want RateLimited after the wait", err)
	}
	release()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := p.Hash(context.Background(), "a long enough password"); err != nil {
				t.Errorf("queued hash: %v", err)
			}
		})
	}
	wg.Wait()
}

func TestTOTPVectors(t *testing.T) {
	// RFC 6238 appendix B, SHA-1, 8 digits.
	seed := []byte("12345678901234567890")
	for _, c := range []struct {
		unix int64
		want string
	}{{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"}, {1234567890, "89005924"},
		{2000000000, "69279037"}, {20000000000, "65353130"}} {
		if got := HOTP(seed, uint64(TOTPStep(time.Unix(c.unix, 0))), 8); got != c.want {
			t.Errorf("T=%d: %s; want %s", c.unix, got, c.want)
		}
	}
}

func TestVerifyTOTP(t *testing.T) {
	seed := NewTOTPSecret()
	now := time.Unix(1_700_000_000, 0)
	step := TOTPStep(now)
	for _, c := range []struct {
		name string
		at   time.Time
		want bool
	}{
		{"the current code", now, true},
		{"the previous step's code (clock drift)", now.Add(-TOTPPeriod), true},
		{"the next step's code", now.Add(TOTPPeriod), true},
		{"a code two steps old", now.Add(-2 * TOTPPeriod), false},
	} {
		code := TOTPCode(seed, c.at)
		got, ok := VerifyTOTP(seed, code[:3]+" "+code[3:], now)
		if ok != c.want || (ok && got != TOTPStep(c.at)) {
			t.Errorf("%s: VerifyTOTP = %d, %v; want %v at step %d (now %d)", c.name, got, ok, c.want, TOTPStep(c.at), step)
		}
	}
	if _, ok := VerifyTOTP(seed, "12345", now); ok {
		t.Error("a 5-digit code verified")
	}
	uri := TOTPURI("Roster", "ada@example.com", seed)
	if !strings.HasPrefix(uri, "otpauth://totp/Roster:ada@example.com?") || !strings.Contains(uri, "secret="+TOTPSecretText(seed)) {
		t.Errorf("URI %q", uri)
	}
}
