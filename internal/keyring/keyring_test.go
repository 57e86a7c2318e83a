package keyring

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testKey returns a deterministic, non-zero 32-byte key distinct for each seed.
func testKey(seed byte) []byte {
	k := make([]byte, keySize)
	for i := range k {
		k[i] = seed + byte(i)
	}
	return k
}

func b64(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

// spellings lists every printable form of a key a leak could take.
func spellings(k []byte) []string {
	return []string{
		base64.StdEncoding.EncodeToString(k),
		base64.RawStdEncoding.EncodeToString(k),
		base64.URLEncoding.EncodeToString(k),
		base64.RawURLEncoding.EncodeToString(k),
		hex.EncodeToString(k),
		fmt.Sprint(k),
		string(k),
	}
}

func mustParse(t *testing.T, spec string) *Keyring {
	t.Helper()
	k, err := Parse(spec)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return k
}

func mustEncrypt(t *testing.T, k *Keyring, plaintext, ad string) string {
	t.Helper()
	ct, err := k.Encrypt([]byte(plaintext), []byte(ad))
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	return ct
}

var ciphertextForm = regexp.MustCompile(`^v1\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]+$`)

func TestRoundTrip(t *testing.T) {
	k := mustParse(t, "main:"+b64(testKey(1)))
	tests := []struct {
		name      string
		plaintext []byte
		ad        []byte
	}{
		{"a webhook secret bound to its row comes back", []byte("whsec_abc123"), []byte("org_1/webhook.secret")},
		{"an empty secret comes back empty", nil, []byte("org_1/x")},
		{"binary data comes back byte for byte", []byte{0, 1, 2, 0xff, '.', ','}, nil},
		{"a large private key comes back", bytes.Repeat([]byte("-----BEGIN KEY-----"), 500), []byte("org_2/saml.key")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := k.Encrypt(tt.plaintext, tt.ad)
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			if !ciphertextForm.MatchString(ct) {
				t.Errorf("ciphertext %q is not of the form v1.<id>.<base64url>", ct)
			}
			if !strings.HasPrefix(ct, "v1.main.") {
				t.Errorf("ciphertext %q does not name the primary key", ct)
			}
			got, err := k.Decrypt(ct, tt.ad)
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Errorf("Decrypt = %q, want %q", got, tt.plaintext)
			}
		})
	}
}

func TestEncryptingTwiceGivesDifferentCiphertexts(t *testing.T) {
	k := mustParse(t, b64(testKey(1)))
	a := mustEncrypt(t, k, "same", "ad")
	b := mustEncrypt(t, k, "same", "ad")
	if a == b {
		t.Errorf("two encryptions of the same plaintext are equal (%q); nonces must be random", a)
	}
}

func TestRotation(t *testing.T) {
	oldEntry := "old:" + b64(testKey(1))
	newEntry := "new:" + b64(testKey(2))
	before := mustParse(t, oldEntry)
	after := mustParse(t, newEntry+","+oldEntry)
	ad := []byte("org_1/idp.client_secret")

	oldCT := mustEncrypt(t, before, "s3cret", string(ad))
	got, err := after.Decrypt(oldCT, ad)
	if err != nil {
		t.Fatalf("a ciphertext made before the rotation does not decrypt after it: %v", err)
	}
	if string(got) != "s3cret" {
		t.Errorf("Decrypt = %q, want %q", got, "s3cret")
	}
	if !after.NeedsRotation(oldCT) {
		t.Errorf("NeedsRotation(old ciphertext) = false after a new primary was prepended")
	}
	if before.NeedsRotation(oldCT) {
		t.Errorf("NeedsRotation = true for a ciphertext under the primary")
	}

	newCT := mustEncrypt(t, after, string(got), string(ad))
	if !strings.HasPrefix(newCT, "v1.new.") {
		t.Errorf("re-encrypted ciphertext %q is not under the new primary", newCT)
	}
	if after.NeedsRotation(newCT) {
		t.Errorf("NeedsRotation(re-encrypted ciphertext) = true")
	}
	if _, err := before.Decrypt(newCT, ad); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("a replica without the new key: Decrypt error = %v, want ErrUnknownKey", err)
	}
	if diff := cmp.Diff([]string{"new", "old"}, after.IDs()); diff != "" {
		t.Errorf("IDs() mismatch (-want +got):\n%s", diff)
	}
	if got := after.PrimaryID(); got != "new" {
		t.Errorf("PrimaryID() = %q, want %q", got, "new")
	}
}

func TestNeedsRotationOfValuesThatAreNotCiphertexts(t *testing.T) {
	k := mustParse(t, "main:"+b64(testKey(1)))
	for _, v := range []string{"", "plain secret", "v2.main.AAAA", "v1.main."} {
		if !k.NeedsRotation(v) {
			t.Errorf("NeedsRotation(%q) = false, want true", v)
		}
	}
}

// flipBit returns ct with one bit of its decoded payload at index i inverted.
func flipBit(t *testing.T, ct string, i int) string {
	t.Helper()
	j := strings.LastIndexByte(ct, '.')
	raw, err := base64.RawURLEncoding.DecodeString(ct[j+1:])
	if err != nil {
		t.Fatal(err)
	}
	if i < 0 {
		i += len(raw)
	}
	raw[i] ^= 0x01
	return ct[:j+1] + base64.RawURLEncoding.EncodeToString(raw)
}

func TestTamperingIsDetected(t *testing.T) {
	k := mustParse(t, "a:"+b64(testKey(1))+",b:"+b64(testKey(2)))
	ad := "org_1/webhook.secret"
	ct := mustEncrypt(t, k, "whsec_0123456789", ad)
	payload := ct[len("v1.a."):]

	tests := []struct {
		name       string
		ciphertext string
	}{
		{"a flipped bit in the nonce", flipBit(t, ct, 0)},
		{"a flipped bit in the encrypted body", flipBit(t, ct, 14)},
		{"a flipped bit in the tag", flipBit(t, ct, -1)},
		{"a truncated payload", ct[:len(ct)-4]},
		{"a payload shorter than nonce and tag", "v1.a." + payload[:20]},
		{"a payload that is not base64url", "v1.a." + payload[:10] + "*" + payload[11:]},
		{"a ciphertext relabelled with another key of the keyring", "v1.b." + payload},
		{"another format version", "v2.a." + payload},
		{"a key ID that is not a valid ID", "v1.a!." + payload},
		{"a missing payload", "v1.a."},
		{"an empty string", ""},
		{"a secret stored in the clear", "whsec_0123456789"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := k.Decrypt(tt.ciphertext, []byte(ad))
			if !errors.Is(err, ErrDecrypt) {
				t.Fatalf("Decrypt = %q, %v; want ErrDecrypt", got, err)
			}
			if strings.Contains(err.Error(), "whsec") {
				t.Errorf("error %q echoes the input", err)
			}
		})
	}
}

func TestWrongAssociatedDataIsRejected(t *testing.T) {
	k := mustParse(t, b64(testKey(1)))
	ct := mustEncrypt(t, k, "secret", "org_1/webhook.secret")
	for _, ad := range []string{"org_2/webhook.secret", "org_1/idp.client_secret", ""} {
		if _, err := k.Decrypt(ct, []byte(ad)); !errors.Is(err, ErrDecrypt) {
			t.Errorf("Decrypt with associated data %q: error = %v, want ErrDecrypt", ad, err)
		}
	}
}

func TestUnknownKeyIsReported(t *testing.T) {
	a := mustParse(t, "a:"+b64(testKey(1)))
	b := mustParse(t, "b:"+b64(testKey(2)))
	ct := mustEncrypt(t, a, "secret", "ad")
	_, err := b.Decrypt(ct, []byte("ad"))
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Decrypt error = %v, want ErrUnknownKey", err)
	}
	if errors.Is(err, ErrDecrypt) {
		t.Errorf("an unknown key is also reported as ErrDecrypt: %v", err)
	}
	if !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("error %q does not name the missing key ID", err)
	}
}

func TestZeroKeyringCannotEncrypt(t *testing.T) {
	var k Keyring
	if _, err := k.Encrypt([]byte("x"), nil); err == nil {
		t.Error("Encrypt on a zero Keyring succeeded")
	}
	var nilRing *Keyring
	if _, err := nilRing.Decrypt("v1.a.AAAA", nil); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Decrypt on a nil Keyring: error = %v, want ErrUnknownKey", err)
	}
}

func TestParseAcceptsEveryDocumentedForm(t *testing.T) {
	key := testKey(7)
	sum := sha256.Sum256(key)
	derived := hex.EncodeToString(sum[:])[:8]
	tests := []struct {
		name    string
		spec    string
		wantIDs []string
	}{
		{"a named key in padded standard base64", "k1:" + base64.StdEncoding.EncodeToString(key), []string{"k1"}},
		{"a named key in unpadded URL-safe base64", "k1:" + base64.RawURLEncoding.EncodeToString(key), []string{"k1"}},
		{"a named key in unpadded standard base64", "k1:" + base64.RawStdEncoding.EncodeToString(key), []string{"k1"}},
		{"a named key in padded URL-safe base64", "k1:" + base64.URLEncoding.EncodeToString(key), []string{"k1"}},
		{"a bare key is named by the first 8 hex digits of its SHA-256", base64.StdEncoding.EncodeToString(key), []string{derived}},
		{"an ID of 32 characters using every allowed character class", strings.Repeat("aZ9_-", 6) + "xy:" + b64(key), []string{strings.Repeat("aZ9_-", 6) + "xy"}},
		{"several keys keep their order with the primary first", "new:" + b64(testKey(2)) + ",old:" + b64(key), []string{"new", "old"}},
		{"white space around entries and the spec is ignored", "\n new:" + b64(testKey(2)) + " , old:" + b64(key) + " \n", []string{"new", "old"}},
		{"one key may be listed under two IDs while it is renamed", "b:" + b64(key) + ",a:" + b64(key), []string{"b", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := Parse(tt.spec)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.wantIDs, k.IDs()); diff != "" {
				t.Errorf("IDs() mismatch (-want +got):\n%s", diff)
			}
			if got := k.PrimaryID(); got != tt.wantIDs[0] {
				t.Errorf("PrimaryID() = %q, want %q", got, tt.wantIDs[0])
			}
		})
	}
}

func TestParseSameKeyInAnyEncodingDecryptsTheSame(t *testing.T) {
	key := testKey(3)
	a := mustParse(t, "k:"+base64.StdEncoding.EncodeToString(key))
	b := mustParse(t, "k:"+base64.RawURLEncoding.EncodeToString(key))
	ct := mustEncrypt(t, a, "secret", "ad")
	if got, err := b.Decrypt(ct, []byte("ad")); err != nil || string(got) != "secret" {
		t.Errorf("Decrypt = %q, %v; want %q", got, err, "secret")
	}
}

func TestParseErrors(t *testing.T) {
	good := testKey(1)
	short := bytes.Repeat([]byte{0xab}, 16)
	long := bytes.Repeat([]byte{0xcd}, 33)
	tests := []struct {
		name     string
		spec     string
		want     string
		material [][]byte
	}{
		{"an empty spec has no keys", "", "spec is empty", nil},
		{"a spec of only white space has no keys", "  \n\t", "spec is empty", nil},
		{"an empty entry between commas is named by position", "a:" + b64(good) + ",,b:" + b64(testKey(2)), "entry 2 is empty", nil},
		{"a trailing comma leaves an empty entry", "a:" + b64(good) + ",", "entry 2 is empty", nil},
		{"a 16-byte key is too short for AES-256", "a:" + b64(short), `entry 1 (key ID "a"): the key is 16 bytes; AES-256 needs exactly 32`, [][]byte{short}},
		{"a 33-byte key is too long", b64(long), "entry 1: the key is 33 bytes", [][]byte{long}},
		{"a key that is not base64 is rejected without echoing it", "a:not*base64*at*all", `entry 1 (key ID "a"): the key is not valid base64`, [][]byte{[]byte("not*base64")}},
		{"a key in hex is not mistaken for base64 of the right length", "a:" + hex.EncodeToString(good), "the key is 48 bytes", [][]byte{good, []byte(hex.EncodeToString(good))}},
		{"an ID with nothing after the colon has no key", "a:", `entry 1 (key ID "a"): the key is missing`, nil},
		{"an empty ID is rejected", ":" + b64(good), "entry 1: the key ID must be 1 to 32 characters", [][]byte{good}},
		{"an ID of 33 characters is too long", strings.Repeat("a", 33) + ":" + b64(good), "entry 1: the key ID must be 1 to 32 characters", [][]byte{good}},
		{"an ID with a dot would break the ciphertext format", "a.b:" + b64(good), "the key ID must be", [][]byte{good}},
		{"an invalid ID is not echoed, as it may be a misplaced key", b64(good)[:10] + "/:" + b64(good), "entry 1: the key ID must be", [][]byte{good, []byte(b64(good)[:10])}},
		{"a key whose bytes are all zero is a placeholder", "a:" + b64(make([]byte, 32)), "all zero bytes", nil},
		{"a repeated ID is named with both positions", "a:" + b64(good) + ",b:" + b64(testKey(2)) + ",a:" + b64(testKey(3)), `entry 3: key ID "a" is already used by entry 1`, [][]byte{good, testKey(2), testKey(3)}},
		{"the same bare key twice derives a repeated ID", b64(good) + "," + b64(good), "is already used by entry 1", [][]byte{good}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := Parse(tt.spec)
			if err == nil {
				t.Fatalf("Parse succeeded with IDs %v, want an error containing %q", k.IDs(), tt.want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "keyring: ") {
				t.Errorf("error %q lacks the package prefix", msg)
			}
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
			for _, m := range tt.material {
				for _, s := range spellings(m) {
					if len(s) >= 8 && strings.Contains(msg, s) {
						t.Errorf("error %q contains key material %q", msg, s)
					}
				}
			}
		})
	}
}

func TestGenerateMakesAUsableEntry(t *testing.T) {
	a, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("Generate returned %q twice", a)
	}
	id, _, ok := strings.Cut(a, ":")
	if !ok {
		t.Fatalf("Generate() = %q, want ID:BASE64", a)
	}
	k := mustParse(t, a+","+b)
	if got := k.PrimaryID(); got != id {
		t.Errorf("PrimaryID() = %q, want %q", got, id)
	}
	ct := mustEncrypt(t, k, "x", "ad")
	if got, err := k.Decrypt(ct, []byte("ad")); err != nil || string(got) != "x" {
		t.Errorf("Decrypt = %q, %v", got, err)
	}
}

func TestKeyringNeverPrintsKeyMaterial(t *testing.T) {
	primary, secondary := testKey(1), testKey(2)
	k := mustParse(t, "primary:"+b64(primary)+","+b64(secondary))
	sum := sha256.Sum256(secondary)
	secondaryID := hex.EncodeToString(sum[:4])

	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("started", "keyring", k, "value", *k)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("started", "keyring", k, "value", *k)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		fmt.Fprintf(&buf, verb+"\n", k)
		fmt.Fprintf(&buf, verb+"\n", *k)
	}
	out := buf.String()

	for _, key := range [][]byte{primary, secondary} {
		for _, s := range spellings(key) {
			if strings.Contains(out, s) {
				t.Fatalf("output contains key material %q:\n%s", s, out)
			}
		}
	}
	for _, want := range []string{`"keyring":{"primary":"primary","ids":["primary","` + secondaryID + `"]}`, "keyring(primary=primary ids=primary," + secondaryID + ")"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
