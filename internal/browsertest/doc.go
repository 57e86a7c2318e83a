// Package browsertest starts a real headless browser for end-to-end tests: Debian's
// chromium, driven through the DevTools protocol with github.com/chromedp/chromedp.
//
// Only tests import it. When chromium is not installed the test is skipped with the reason
// printed, except when the environment variable CI is set: there a missing browser fails
// the test, so a CI run can never pass by skipping the end-to-end logins (.ci/run installs
// chromium first).
package browsertest
