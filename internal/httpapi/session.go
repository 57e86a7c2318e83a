package httpapi

import (
	"net/http"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
)

// Routes that a session cookie authenticates (the console, the OAuth provider's authorize
// step, GET /session) wrap their handlers with these.

// member requires a signed-in member: the principal (auth.Member) is put in the context,
// and a request without a live session gets 401. State-changing methods also pass the
// cross-origin check (csrf).
func (s *server) member(next http.Handler) http.Handler {
	return s.csrf(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.Sessions.Principal(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		infoFrom(r.Context()).orgID = p.OrgID
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	}))
}

// optionalMember puts the signed-in member's principal in the context when the request
// carries a live session, and lets the request through anonymous otherwise (a page that
// shows a sign-in form or redirects). A database failure is still an error.
func (s *server) optionalMember(next http.Handler) http.Handler {
	return s.csrf(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.Sessions.Principal(r)
		switch {
		case err == nil:
			infoFrom(r.Context()).orgID = p.OrgID
			r = r.WithContext(auth.WithPrincipal(r.Context(), p))
		case roster.KindOf(err) != roster.Unauthenticated:
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// csrf refuses cross-origin state-changing browser requests (403) before next runs; GET,
// HEAD and OPTIONS pass. Every cookie-authenticated route that changes state needs it,
// including sign-in and sign-out forms. The SAML callbacks are the exception by design: an
// IdP POSTs to them from its own origin, and they find their login state server-side.
func (s *server) csrf(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Sessions.CheckOrigin(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sessionBody is GET /session: who is signed in.
type sessionBody struct {
	ID    string      `json:"id"`
	Email string      `json:"email"`
	OrgID string      `json:"orgId"`
	Role  roster.Role `json:"role"`
}

// getSession answers the signed-in member (DESIGN.md section 2), or 401.
func (s *server) getSession(w http.ResponseWriter, r *http.Request) error {
	m := principal(r).Member
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, sessionBody{ID: m.ID, Email: m.Email, OrgID: m.OrgID, Role: m.Role})
	return nil
}
