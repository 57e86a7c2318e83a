package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package installs the browser.
const ChromiumPath = "/usr/bin/chromium"

// Timeout bounds everything one test does in its browser.
const Timeout = 60 * time.Second

// Find returns the path of the browser, or "" with the reason it was not found.
func Find() (path, reason string) {
	if p := os.Getenv("ROSTER_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", "ROSTER_CHROMIUM=" + p + ": " + err.Error()
		}
		return p, ""
	}
	if _, err := os.Stat(ChromiumPath); err == nil {
		return ChromiumPath, ""
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, ""
	}
	return "", ChromiumPath + " not found (install it with: apt-get install -y chromium)"
}

// New starts a fresh headless browser with an empty profile for t and returns the context
// of its first tab, for chromedp.Run and chromedp.Do. The browser is closed when the test
// ends. Without chromium the test is skipped, or fails when CI is set.
func New(t testing.TB) context.Context {
	t.Helper()
	path, reason := Find()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and no browser is available: %s", reason)
		}
		t.Skipf("skipping the browser test: %s", reason)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		// Tests run as root in containers, where the browser's sandbox cannot start; the
		// browser only ever loads pages the test itself serves on loopback.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
	)
	timeout, cancelTimeout := context.WithTimeout(context.Background(), Timeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(timeout, opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		cancelTimeout()
	})
	// Start the browser now, so that a browser that cannot start fails here and not in the
	// middle of the test's first step.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}
