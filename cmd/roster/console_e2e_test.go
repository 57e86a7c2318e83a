package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rosterhq/roster/internal/browsertest"
)

// screenshotDir is where the console test saves its screenshots: ROSTER_SCREENSHOTS (the
// docs are made with ROSTER_SCREENSHOTS=$PWD/docs/console), else the test's temporary
// directory.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("ROSTER_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestANewAdminGoesFromTheCLIToAProvisionedMemberInTheBrowser is the console's end-to-end
// path in headless Chromium: the first owner made with `roster user create` signs in, enables
// SCIM and reads the bearer token from the page; the test provisions a user with it, as an
// identity provider would, and finds the user on the Members page with the directory's
// default role; changes the role and finds the change in the audit log; creates a project key
// and uses it.
func TestANewAdminGoesFromTheCLIToAProvisionedMemberInTheBrowser(t *testing.T) {
	db := filepath.Join(t.TempDir(), "roster.db")
	e := env("ROSTER_DATABASE", db)
	orgID := cliJSON(t, e, "org", "create", "--name", "Acme")["id"].(string)
	out, errOut, code := cliStdin(t, e, "first owner password\n", "user", "create", "--org", orgID,
		"--email", "owner@acme.example", "--name", "Olivia Owner", "--password-stdin", "--json")
	if code != 0 {
		t.Fatalf("user create: %d %s", code, errOut)
	}
	ownerID := find(t, out, `"id": "([^"]+)"`)
	srv := serve(t, e)
	ctx := browsertest.New(t)
	shots := screenshotDir(t)
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v\nserver log:\n%s", what, err, srv.logs.String())
		}
	}
	text := func(sel chromedp.CSS) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	base := srv.url + "/orgs/" + orgID
	// unlabeled lists the page's form controls that a screen reader could not name, and the
	// buttons and links without text.
	unlabeled := func(page string) {
		t.Helper()
		bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(
			'input:not([type=hidden]), select, textarea, button, a[href]')).filter(function (el) {
			if (el.hidden || el.closest('[hidden]')) return false;
			if (el.tagName === 'BUTTON' || el.tagName === 'A') return el.textContent.trim() === '' && !el.getAttribute('aria-label');
			return el.labels.length === 0 && !el.getAttribute('aria-label');
		}).map(function (el) { return el.outerHTML.slice(0, 120); })`))
		if err != nil {
			t.Fatalf("checking labels on %s: %v", page, err)
		}
		if len(bad) > 0 {
			t.Errorf("%s has controls without a label or text:\n%s", page, strings.Join(bad, "\n"))
		}
	}

	do("set a laptop viewport", chromedp.EmulateViewport(1280, 860))
	do("open the sign-in page", chromedp.Navigate(srv.url+"/"), chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)))
	shot("login")
	unlabeled("login")
	do("sign in",
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "owner@acme.example"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "first owner password"),
		chromedp.Click(chromedp.Search(`//button[normalize-space()='Sign in']`)),
		chromedp.WaitVisible(chromedp.CSS(`table#members`)))
	if got := text(`h1`); got != "Members" {
		t.Fatalf("after sign-in the page is %q; want Members", got)
	}

	t.Run("enable SCIM, read the token from the page and provision a user with it", func(t *testing.T) {
		do("enable SCIM",
			chromedp.Click(chromedp.Search(`//nav//a[normalize-space()='SCIM provisioning']`)),
			chromedp.WaitVisible(chromedp.CSS(`select[name=defaultRole]`)),
			chromedp.SetValue(chromedp.CSS(`select[name=defaultRole]`), "MEMBER"),
			chromedp.Click(chromedp.Search(`//button[normalize-space()='Enable SCIM']`)),
			chromedp.WaitVisible(chromedp.ID("scim-token")))
		shot("scim")
		unlabeled("scim")
		token, scimURL := text(`#scim-token`), text(`#scim-url`)
		if !strings.HasPrefix(token, "scim_") || scimURL != srv.url+"/scim/v2" {
			t.Fatalf("the page shows token %q and URL %q", token, scimURL)
		}
		status, body := call(t, "POST", scimURL+"/Users", bearer(token), map[string]any{
			"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"userName": "grace@acme.example", "externalId": "00u1",
			"name":   map[string]string{"givenName": "Grace", "familyName": "Hopper"},
			"emails": []map[string]any{{"value": "grace@acme.example", "primary": true}},
			"active": true,
		})
		if status != 201 {
			t.Fatalf("SCIM create with the token from the page: %d %v", status, body)
		}
		// Without the page's token, the same request is refused: the token on the page is the
		// credential.
		if status, _ := call(t, "POST", scimURL+"/Users", bearer("scim_not-the-token"), map[string]any{}); status != 401 {
			t.Fatalf("a made-up token got %d; want 401", status)
		}
		do("open Members", chromedp.Navigate(base+"/members"), chromedp.WaitVisible(chromedp.CSS(`table#members`)))
		row := text(`table#members tbody`)
		if !strings.Contains(row, "grace@acme.example") || !strings.Contains(row, "SCIM: Okta") {
			t.Fatalf("Members does not show the provisioned user from the directory:\n%s", row)
		}
		sel, err := chromedp.Run(ctx, chromedp.Value(chromedp.Search(`//tr[td[contains(., 'grace@acme.example')]]//select`)))
		if err != nil || sel != "MEMBER" {
			t.Fatalf("the provisioned member's role is %q (%v); want the default role MEMBER", sel, err)
		}
		shot("members")
		unlabeled("members")
	})

	t.Run("change the role and find the change in the audit log", func(t *testing.T) {
		do("change the role",
			chromedp.SetValue(chromedp.Search(`//tr[td[contains(., 'grace@acme.example')]]//select`), "ADMIN"),
			chromedp.Click(chromedp.Search(`//tr[td[contains(., 'grace@acme.example')]]//button[normalize-space()='Save']`)),
			chromedp.WaitVisible(chromedp.CSS(`.notice.ok`)))
		sel, _ := chromedp.Run(ctx, chromedp.Value(chromedp.Search(`//tr[td[contains(., 'grace@acme.example')]]//select`)))
		if sel != "ADMIN" {
			t.Fatalf("after the change the role shows %q; want ADMIN", sel)
		}
		do("filter the audit log",
			chromedp.Click(chromedp.Search(`//nav//a[normalize-space()='Audit log']`)),
			chromedp.WaitVisible(chromedp.CSS(`input[name=action]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=action]`), "membership.role_changed"),
			chromedp.Click(chromedp.Search(`//button[normalize-space()='Filter']`)),
			chromedp.WaitVisible(chromedp.Search(`//table[@id='audit']//td[contains(., 'membership.role_changed')]`)))
		rows := text(`table#audit tbody`)
		if !strings.Contains(rows, "member "+ownerID) || !strings.Contains(rows, "membership.role_changed") {
			t.Fatalf("the audit log does not show the owner's role change:\n%s", rows)
		}
		shot("audit")
		unlabeled("audit")
	})

	t.Run("create a project key on the page and use it", func(t *testing.T) {
		do("create a project",
			chromedp.Click(chromedp.Search(`//nav//a[normalize-space()='Projects']`)),
			chromedp.WaitVisible(chromedp.CSS(`input[name=name]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Checkout"),
			chromedp.Click(chromedp.Search(`//button[normalize-space()='Create project']`)),
			chromedp.WaitVisible(chromedp.Search(`//h1[normalize-space()='Checkout']`)))
		do("create its key",
			chromedp.SendKeys(chromedp.CSS(`input[name=note]`), "checkout service"),
			chromedp.Click(chromedp.Search(`//button[normalize-space()='Create API key']`)),
			chromedp.WaitVisible(chromedp.ID("new-secret-key")))
		shot("project")
		unlabeled("project")
		pk, sk := text(`#new-public-key`), text(`#new-secret-key`)
		status, body := call(t, "GET", srv.url+"/api/public/projects", basic(pk, sk), nil)
		data, _ := body["data"].([]any)
		if status != 200 || len(data) != 1 || data[0].(map[string]any)["name"] != "Checkout" {
			t.Fatalf("GET /api/public/projects with the key from the page = %d %v", status, body)
		}
		do("reload the project page", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`table#api-keys`)))
		if keys := text(`table#api-keys`); strings.Contains(keys, sk) || !strings.Contains(keys, pk) {
			t.Fatalf("after a reload the keys table shows the secret, or not the key:\n%s", keys)
		}
	})

	t.Run("the other pages, on a laptop and on a phone", func(t *testing.T) {
		for _, p := range []string{"api-keys", "sso", "webhooks", "account"} {
			do("open "+p, chromedp.Navigate(base+"/"+p), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
			shot(p)
			unlabeled(p)
		}
		do("a phone's viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
			chromedp.Navigate(base+"/members"), chromedp.WaitVisible(chromedp.CSS(`table#members`)))
		// On a phone the table stacks: no horizontal scrolling of the page.
		wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if err != nil || wide {
			t.Errorf("the Members page scrolls sideways on a phone (%v)", err)
		}
		shot("members-phone")
	})

	t.Run("sign out ends the session", func(t *testing.T) {
		do("sign out", chromedp.EmulateViewport(1280, 860), chromedp.Navigate(base+"/members"),
			chromedp.Click(chromedp.Search(`//button[normalize-space()='Sign out']`)),
			chromedp.WaitVisible(chromedp.CSS(`input[name=email]`)))
		do("the members page again", chromedp.Navigate(base+"/members"), chromedp.WaitVisible(chromedp.CSS(`input[name=password]`)))
	})
}

// find returns the first submatch of pattern in s, or fails.
func find(t *testing.T, s, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %q in %q", pattern, s)
	}
	return m[1]
}
