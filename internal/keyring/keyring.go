package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

const (
	// keySize is the AES-256 key length in bytes.
	keySize = 32
	// maxIDLen bounds key IDs so that ciphertext headers stay short.
	maxIDLen = 32
	// version is the first field of every ciphertext; a new layout would get a new version so
	// that old rows keep decrypting.
	version = "v1"
)

// ErrUnknownKey reports a ciphertext made under a key the keyring does not hold, typically
// because the key was dropped from ROSTER_SECRET_KEY before every row was re-encrypted, or
// because replicas run with different keyrings. It is distinct from ErrDecrypt so that operators
// are told to restore a key rather than to suspect tampering.
var ErrUnknownKey = errors.New("keyring: ciphertext was made under a key that is not in the keyring")

// ErrDecrypt reports a ciphertext that is malformed, was altered, or was made for other
// associated data (another row or column). Callers treat it as a corrupt secret; it never says
// which of these it was, because GCM cannot tell them apart.
var ErrDecrypt = errors.New("keyring: ciphertext cannot be decrypted")

// errNoKeys guards a zero Keyring, which was not made by Parse and cannot encrypt.
var errNoKeys = errors.New("keyring: the keyring holds no keys")

// Keyring is the ordered set of keys from ROSTER_SECRET_KEY. The first is the primary, used
// to encrypt; all decrypt. It is safe for concurrent use. Key bytes live only inside the AEAD
// values, and every way of printing a Keyring shows key IDs only.
type Keyring struct {
	keys []key // primary first, in spec order
	byID map[string]cipher.AEAD
}

// key is one entry of a Keyring.
type key struct {
	id   string
	aead cipher.AEAD
}

// Parse reads a keyring spec, the value of ROSTER_SECRET_KEY: keys separated by commas, each
// either "ID:BASE64" or a bare BASE64 key. BASE64 is standard or URL-safe base64, padded or
// not, of exactly 32 bytes; an ID is 1 to 32 characters of A-Z, a-z, 0-9, '_' and '-'. A bare
// key's ID is the first 8 hex digits of the SHA-256 of the key, so that a single unnamed key,
// the simplest spec, still gets a stable ID. The first key is the primary.
//
// Errors name entries by position and ID and never contain key material, so they are safe to
// print at startup.
func Parse(spec string) (*Keyring, error) {
	k, err := parse(spec)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return k, nil
}

// parse is Parse without the package prefix on errors, so that LoadOrCreateFile can name the
// file instead.
func parse(spec string) (*Keyring, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("no keys: the spec is empty")
	}
	entries := strings.Split(spec, ",")
	k := &Keyring{
		keys: make([]key, 0, len(entries)),
		byID: make(map[string]cipher.AEAD, len(entries)),
	}
	position := make(map[string]int, len(entries))
	for i, entry := range entries {
		n := i + 1
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return nil, fmt.Errorf("entry %d is empty", n)
		}
		id, encoded, named := strings.Cut(entry, ":")
		where := fmt.Sprintf("entry %d", n)
		if named {
			if !validID(id) {
				return nil, fmt.Errorf("%s: the key ID must be 1 to %d characters of A-Z, a-z, 0-9, '_' or '-'", where, maxIDLen)
			}
			where = fmt.Sprintf("entry %d (key ID %q)", n, id)
		} else {
			encoded = entry
		}
		raw, err := decodeKey(encoded)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if !named {
			sum := sha256.Sum256(raw)
			id = hex.EncodeToString(sum[:4])
		}
		if first, dup := position[id]; dup {
			clear(raw)
			return nil, fmt.Errorf("entry %d: key ID %q is already used by entry %d", n, id, first)
		}
		aead, err := newAEAD(raw)
		clear(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		position[id] = n
		k.keys = append(k.keys, key{id: id, aead: aead})
		k.byID[id] = aead
	}
	return k, nil
}

// keyEncodings are the base64 forms Parse accepts, strict so that a key has one spelling.
var keyEncodings = []*base64.Encoding{
	base64.StdEncoding.Strict(),
	base64.RawStdEncoding.Strict(),
	base64.URLEncoding.Strict(),
	base64.RawURLEncoding.Strict(),
}

// decodeKey decodes one key and checks its length; its errors never echo the input.
func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("the key is missing")
	}
	for _, enc := range keyEncodings {
		raw, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(raw) != keySize {
			clear(raw)
			return nil, fmt.Errorf("the key is %d bytes; AES-256 needs exactly %d", len(raw), keySize)
		}
		if allZero(raw) {
			return nil, errors.New("the key is all zero bytes, which looks like a placeholder; generate a random key")
		}
		return raw, nil
	}
	return nil, errors.New("the key is not valid base64 (standard or URL-safe)")
}

// newAEAD builds AES-256-GCM with random 96-bit nonces carried in front of the ciphertext.
func newAEAD(raw []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}

// validID reports whether id may name a key: it must not contain '.', which separates the
// fields of a ciphertext, nor ':' or ',', which separate the fields of a spec.
func validID(id string) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Generate returns a new spec entry "ID:BASE64" with a random ID and a random 32-byte key from
// crypto/rand, for an operator starting a keyring or rotating one (prepend the entry to
// ROSTER_SECRET_KEY). The key is unpadded URL-safe base64, which needs no quoting in a shell or
// an environment file.
func Generate() (string, error) {
	var id [6]byte
	raw := make([]byte, keySize)
	if _, err := rand.Read(id[:]); err != nil {
		return "", fmt.Errorf("keyring: generate key ID: %w", err)
	}
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("keyring: generate key: %w", err)
	}
	entry := "k" + hex.EncodeToString(id[:]) + ":" + base64.RawURLEncoding.EncodeToString(raw)
	clear(raw)
	return entry, nil
}

// Encrypt seals plaintext under the primary key, bound to associatedData, and returns the
// printable "v1.<keyID>.<base64url>" form to store. associatedData is not stored; pass the same
// bytes to Decrypt. It should identify the row and column (for example org id and column name)
// so that a ciphertext moved elsewhere fails to decrypt.
func (k *Keyring) Encrypt(plaintext, associatedData []byte) (string, error) {
	if k == nil || len(k.keys) == 0 {
		return "", errNoKeys
	}
	primary := k.keys[0]
	sealed := primary.aead.Seal(nil, nil, plaintext, bindHeader(primary.id, associatedData))
	return version + "." + primary.id + "." + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// Decrypt opens a ciphertext made by Encrypt with any key of the keyring, chosen by the key ID
// in the ciphertext. It returns an error wrapping ErrUnknownKey when that key is not held, and
// one wrapping ErrDecrypt when the ciphertext is malformed, altered, or was made for other
// associated data. Errors never contain the ciphertext, which might be a secret stored in the
// clear by mistake.
func (k *Keyring) Decrypt(ciphertext string, associatedData []byte) ([]byte, error) {
	id, payload, err := split(ciphertext)
	if err != nil {
		return nil, err
	}
	var aead cipher.AEAD
	if k != nil {
		aead = k.byID[id]
	}
	if aead == nil {
		return nil, fmt.Errorf("%w (key ID %q)", ErrUnknownKey, id)
	}
	sealed, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: the payload is not unpadded base64url", ErrDecrypt)
	}
	if len(sealed) < aead.Overhead() {
		return nil, fmt.Errorf("%w: the payload is too short", ErrDecrypt)
	}
	plaintext, err := aead.Open(nil, nil, sealed, bindHeader(id, associatedData))
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed (altered, or made for other associated data)", ErrDecrypt)
	}
	return plaintext, nil
}

// NeedsRotation reports whether ciphertext is not a well-formed ciphertext under the primary
// key, so that a background job can re-encrypt it (Decrypt, then Encrypt) after a new primary
// is prepended. Values that are not ciphertexts at all also report true; the job's Decrypt then
// says what is wrong with them.
func (k *Keyring) NeedsRotation(ciphertext string) bool {
	id, _, err := split(ciphertext)
	return err != nil || id != k.PrimaryID()
}

// PrimaryID returns the ID of the key that encrypts, for startup logs and for the rotation job
// to report progress. It is empty for a zero Keyring.
func (k *Keyring) PrimaryID() string {
	if k == nil || len(k.keys) == 0 {
		return ""
	}
	return k.keys[0].id
}

// IDs returns the IDs of every key, primary first, so that operators can see which keys a
// replica holds without seeing the keys.
func (k *Keyring) IDs() []string {
	if k == nil {
		return nil
	}
	ids := make([]string, len(k.keys))
	for i, key := range k.keys {
		ids[i] = key.id
	}
	return ids
}

// String shows key IDs only, so that a Keyring printed by mistake leaks nothing.
func (k *Keyring) String() string {
	if k == nil {
		return "keyring(nil)"
	}
	return fmt.Sprintf("keyring(primary=%s ids=%s)", k.PrimaryID(), strings.Join(k.IDs(), ","))
}

// GoString is String for %#v, which would otherwise print the struct's fields.
func (k *Keyring) GoString() string { return k.String() }

// Format prints String for every verb, so that no fmt verb (%d, %x, %+v …) walks the fields.
func (k *Keyring) Format(f fmt.State, verb rune) { _, _ = fmt.Fprint(f, k.String()) }

// LogValue implements slog.LogValuer so that a Keyring passed to a logger shows its key IDs
// and nothing else (DESIGN.md section 7, item 9).
func (k *Keyring) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("primary", k.PrimaryID()),
		slog.Any("ids", k.IDs()),
	)
}

// split parses "v1.<keyID>.<payload>" without echoing any of it in errors.
func split(ciphertext string) (id, payload string, err error) {
	v, rest, ok := strings.Cut(ciphertext, ".")
	if !ok || v != version {
		return "", "", fmt.Errorf("%w: not a %s ciphertext", ErrDecrypt, version)
	}
	id, payload, ok = strings.Cut(rest, ".")
	if !ok || !validID(id) || payload == "" {
		return "", "", fmt.Errorf("%w: malformed %s ciphertext", ErrDecrypt, version)
	}
	return id, payload, nil
}

// bindHeader prefixes the caller's associated data with the ciphertext's version and key ID,
// so that relabelling a ciphertext with another key of the same keyring fails authentication.
// Key IDs contain no '.', so the prefix ends unambiguously.
func bindHeader(id string, associatedData []byte) []byte {
	b := make([]byte, 0, len(version)+len(id)+2+len(associatedData))
	b = append(b, version...)
	b = append(b, '.')
	b = append(b, id...)
	b = append(b, '.')
	return append(b, associatedData...)
}
