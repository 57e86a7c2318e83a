package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/httpapi"
	"github.com/rosterhq/roster/internal/roster"
)

// signIn starts a session for the member with email in tenant tn through the same
// auth.Sessions the server uses, and returns its cookie.
func signIn(t *testing.T, e *env, sessions *auth.Sessions, tn tenant, email string) *http.Cookie {
	t.Helper()
	m, err := e.st.GetMemberByEmail(t.Context(), tn.orgID, email)
	if err != nil {
		t.Fatalf("member %s: %v", email, err)
	}
	w := httptest.NewRecorder()
	if _, err := sessions.Start(w, httptest.NewRequest("POST", "/login", nil), m, roster.SessionPassword, ""); err != nil {
		t.Fatalf("Start: %v", err)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == auth.SessionCookie {
			return c
		}
	}
	t.Fatal("no session cookie")
	return nil
}

func sessionRequest(t *testing.T, e *env, c *http.Cookie) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+"/session", nil)
	if c != nil {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestGetSession(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t)
			var sessions *auth.Sessions
			e := newEnv(t, st, auth.Config{}, func(d *httpapi.Deps) {
				sessions = auth.NewSessions(d.Store, auth.SessionConfig{})
				d.Sessions = sessions
			})
			// A member provisioned by SCIM, then signed in.
			resp, body := e.do(t, "POST", "/scim/v2/Users", "Bearer "+e.a.token,
				`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@acme.test","emails":[{"value":"ada@acme.test","primary":true}],"roles":["MEMBER"]}`)
			if resp.StatusCode != 201 {
				t.Fatalf("SCIM create: %d %s", resp.StatusCode, body)
			}
			var scimUser struct{ ID string }
			json.Unmarshal(body, &scimUser)
			ck := signIn(t, e, sessions, e.a, "ada@acme.test")
			m, _ := e.st.GetMemberByEmail(t.Context(), e.a.orgID, "ada@acme.test")

			t.Run("without a session cookie GET /session answers 401 in the management error shape", func(t *testing.T) {
				status, body := sessionRequest(t, e, nil)
				if status != 401 || !strings.Contains(body, `"code":"unauthenticated"`) {
					t.Errorf("got %d %s; want 401 unauthenticated", status, body)
				}
			})
			t.Run("with a forged cookie it answers 401", func(t *testing.T) {
				status, _ := sessionRequest(t, e, &http.Cookie{Name: auth.SessionCookie, Value: strings.Repeat("A", 43)})
				if status != 401 {
					t.Errorf("got %d; want 401", status)
				}
			})
			t.Run("with the session cookie it names the member", func(t *testing.T) {
				status, body := sessionRequest(t, e, ck)
				var got map[string]string
				json.Unmarshal([]byte(body), &got)
				want := map[string]string{"id": m.ID, "email": "ada@acme.test", "orgId": e.a.orgID, "role": "MEMBER"}
				if status != 200 || !cmp.Equal(got, want) {
					t.Errorf("got %d %s; want 200 %v", status, body, want)
				}
			})
			t.Run("a SCIM suspension ends the session at once", func(t *testing.T) {
				resp, body := e.do(t, "PATCH", "/scim/v2/Users/"+scimUser.ID, "Bearer "+e.a.token,
					`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`)
				if resp.StatusCode != 200 {
					t.Fatalf("SCIM suspend: %d %s", resp.StatusCode, body)
				}
				if status, body := sessionRequest(t, e, ck); status != 401 {
					t.Errorf("after suspension GET /session = %d %s; want 401", status, body)
				}
			})
		})
	}
}
