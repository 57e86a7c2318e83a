package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rosterhq/roster/internal/browsertest"
)

// TestBrowserFollowsRedirectsAndKeepsCookies checks what the end-to-end logins rely on: the
// browser posts a form, follows a 303, and sends back an HttpOnly SameSite=Lax cookie.
func TestBrowserFollowsRedirectsAndKeepsCookies(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><body><form method="post" action="/login"><button id="go">go</button></form></body></html>`)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "c", Value: "v1", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, "/whoami", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("c")
		if err != nil {
			fmt.Fprint(w, `<p id="who">no cookie</p>`)
			return
		}
		fmt.Fprintf(w, `<p id="who">cookie %s</p>`, c.Value)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"), chromedp.Click(chromedp.ID("go"))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("who"))); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("who")))
	if err != nil {
		t.Fatal(err)
	}
	if got != "cookie v1" {
		t.Errorf("page says %q; want %q", got, "cookie v1")
	}
}
