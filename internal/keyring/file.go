package keyring

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadOrCreateFile returns the keyring in the key file at path, creating the file with a new
// key when it does not exist; created reports which. It serves the embedded SQLite default,
// which keeps its key file beside the database when ROSTER_SECRET_KEY is unset (PostgreSQL
// deployments must set the variable, since their replicas share no disk).
//
// The file holds a spec as Parse reads it, surrounded by optional white space, so an operator
// can later copy it into ROSTER_SECRET_KEY. A new file is created with mode 0600 and appears
// whole or not at all: the spec is written to a temporary file in the same directory, synced,
// and hard-linked into place, which fails instead of replacing a file that another process
// created meanwhile. The loser of such a race discards its key and returns the winner's, so
// every caller ends up with the same key. The mode of an existing file is not checked; keeping
// it private is the operator's part.
func LoadOrCreateFile(path string) (k *Keyring, created bool, err error) {
	k, err = readKeyFile(path)
	if err == nil {
		return k, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}

	spec, err := Generate()
	if err != nil {
		return nil, false, err
	}
	k, err = Parse(spec)
	if err != nil {
		return nil, false, err
	}

	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, false, fmt.Errorf("keyring: create key file %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	err = writeAndClose(tmp, spec+"\n")
	if err != nil {
		return nil, false, fmt.Errorf("keyring: write key file %s: %w", path, err)
	}

	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			k, err := readKeyFile(path)
			return k, false, err
		}
		return nil, false, fmt.Errorf("keyring: create key file %s: %w", path, err)
	}
	syncDir(dir)
	return k, true, nil
}

// writeAndClose writes a private file durably before it is linked into place, so that a crash
// cannot leave a published key file that is empty.
func writeAndClose(f *os.File, content string) error {
	// CreateTemp already uses 0600; Chmod makes the promise explicit on every platform.
	err := f.Chmod(0o600)
	if err == nil {
		_, err = f.WriteString(content)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a new directory entry durable. It is best effort: some platforms cannot open
// or sync a directory, and the file's own contents are already synced.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// readKeyFile reads and parses a key file; a missing file yields an error wrapping
// fs.ErrNotExist, and no error contains the file's contents.
func readKeyFile(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: read key file: %w", err)
	}
	spec := strings.TrimSpace(string(b))
	clear(b)
	if spec == "" {
		return nil, fmt.Errorf("keyring: key file %s is empty", path)
	}
	k, err := parse(spec)
	if err != nil {
		return nil, fmt.Errorf("keyring: key file %s: %w", path, err)
	}
	return k, nil
}
