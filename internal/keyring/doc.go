// Package keyring encrypts the secrets Roster must use again — webhook signing secrets, IdP
// client secrets, token-signing and SAML private keys — so that a copy of the database alone
// reveals none of them (DESIGN.md section 3).
//
// A keyring is the value of ROSTER_SECRET_KEY: one or more 32-byte AES-256 keys, each with an ID,
// shared by every replica. The first key is the primary and encrypts; every key decrypts. To
// rotate, prepend a new key and restart the replicas; ciphertexts made under the old key still
// decrypt, NeedsRotation reports them, and a background job re-encrypts them under the primary.
// Once none remain, the old key can be dropped from the spec. Without the variable, the embedded
// SQLite default keeps a generated key file beside its database (LoadOrCreateFile).
//
// Each value is sealed with AES-256-GCM (NIST SP 800-38D, an AEAD in the sense of RFC 5116)
// under a fresh random 96-bit nonce and stored as the printable text
//
//	v1.<keyID>.<base64url(nonce || ciphertext || tag)>
//
// with base64url as in RFC 4648 section 5, unpadded. The version and key ID are authenticated
// along with the caller's associated data, which should name the row and column a ciphertext
// belongs to (for example the org id and "webhook.secret"), so that a ciphertext copied into
// another row, or relabelled with another key ID, fails to decrypt instead of being accepted.
// Random nonces limit each key to 2^32 encryptions, far beyond the number of stored secrets.
//
// A Keyring never prints or logs key material: its String, Format and LogValue methods show key
// IDs only, and errors name entries by position or ID, never by their bytes.
package keyring
