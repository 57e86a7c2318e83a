package keyring

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreateFileCreatesAPrivateFileAndReusesIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roster.key")

	first, created, err := LoadOrCreateFile(path)
	if err != nil {
		t.Fatalf("first LoadOrCreateFile: %v", err)
	}
	if !created {
		t.Error("first LoadOrCreateFile reported created = false")
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Errorf("key file mode = %#o, want 0600", mode)
		}
	}
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(content), first.PrimaryID()+":") {
		t.Errorf("key file does not hold an ID:BASE64 spec for %q", first.PrimaryID())
	}

	ct := mustEncrypt(t, first, "secret", "ad")
	second, created, err := LoadOrCreateFile(path)
	if err != nil {
		t.Fatalf("second LoadOrCreateFile: %v", err)
	}
	if created {
		t.Error("second LoadOrCreateFile reported created = true")
	}
	if got, err := second.Decrypt(ct, []byte("ad")); err != nil || string(got) != "secret" {
		t.Errorf("the reloaded keyring cannot decrypt: %q, %v", got, err)
	}

	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only the key file (no temporary files left)", names)
	}
}

func TestLoadOrCreateFileReadsAnOperatorWrittenSpec(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roster.key")
	spec := "new:" + b64(testKey(2)) + ",old:" + b64(testKey(1))
	if err := os.WriteFile(path, []byte("\n  "+spec+"\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k, created, err := LoadOrCreateFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Error("created = true for an existing file")
	}
	if got := strings.Join(k.IDs(), ","); got != "new,old" {
		t.Errorf("IDs() = %q, want new,old", got)
	}
}

func TestLoadOrCreateFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"an empty key file is refused rather than replaced", "", "is empty"},
		{"a key file of only white space is refused", " \n", "is empty"},
		{"a key file with a short key names the file and the entry", "a:" + b64(testKey(1)[:16]), "roster.key: entry 1 (key ID \"a\"): the key is 16 bytes"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, string(rune('a'+i)), "roster.key")
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := LoadOrCreateFile(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "keyring: key file ") {
				t.Errorf("error %q does not start with the package and file", err)
			}
			after, _ := os.ReadFile(path)
			if string(after) != tt.content {
				t.Errorf("the broken key file was modified")
			}
		})
	}
}

func TestLoadOrCreateFileInAMissingDirectoryFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "roster.key")
	_, _, err := LoadOrCreateFile(path)
	if err == nil {
		t.Fatal("LoadOrCreateFile succeeded in a directory that does not exist")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the path", err)
	}
}

func TestConcurrentLoadOrCreateFileAgreesOnOneKey(t *testing.T) {
	const n = 8
	for round := range 20 {
		path := filepath.Join(t.TempDir(), "roster.key")
		rings := make([]*Keyring, n)
		created := make([]bool, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				rings[i], created[i], errs[i] = LoadOrCreateFile(path)
			})
		}
		close(start)
		wg.Wait()

		creators := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("round %d, goroutine %d: %v", round, i, errs[i])
			}
			if created[i] {
				creators++
			}
		}
		if creators != 1 {
			t.Errorf("round %d: %d callers report creating the file, want exactly 1", round, creators)
		}
		ct := mustEncrypt(t, rings[0], "shared", "ad")
		for i, k := range rings {
			if k.PrimaryID() != rings[0].PrimaryID() {
				t.Fatalf("round %d: goroutine %d got key %q, goroutine 0 got %q", round, i, k.PrimaryID(), rings[0].PrimaryID())
			}
			if got, err := k.Decrypt(ct, []byte("ad")); err != nil || string(got) != "shared" {
				t.Fatalf("round %d: goroutine %d cannot decrypt goroutine 0's ciphertext: %v", round, i, err)
			}
		}
	}
}
