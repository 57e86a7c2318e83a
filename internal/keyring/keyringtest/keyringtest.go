// Package keyringtest gives tests a keyring of their own.
package keyringtest

import (
	"testing"

	"github.com/rosterhq/roster/internal/keyring"
)

// New returns a keyring of one freshly generated key.
func New(t testing.TB) *keyring.Keyring {
	t.Helper()
	spec, err := keyring.Generate()
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}
