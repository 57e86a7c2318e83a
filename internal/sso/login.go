package sso

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// identity is a person an IdP vouched for, through connection connID of protocol.
type identity struct {
	protocol, connID string
	email, name      string
	jit              bool
	// domains are the connection's domains: when it has any, the email must be in one.
	domains []string
}

// signIn turns a verified identity into a session: the member with that email (created
// just in time when the connection allows it and no SCIM directory manages the
// organization), refused when suspended or deleted.
func (s *Service) signIn(w http.ResponseWriter, r *http.Request, orgID string, id identity) error {
	ctx := r.Context()
	email := roster.NormalizeEmail(id.email)
	if email == "" || roster.EmailDomain(email) == "" {
		return refuse(403, "email_missing", "the identity provider sent no email address (check the attribute mapping)", nil)
	}
	if len(id.domains) > 0 && !contains(id.domains, roster.EmailDomain(email)) {
		return refuse(403, "domain_not_allowed", "this connection signs in only "+strings.Join(id.domains, ", ")+" addresses", nil)
	}
	m, err := s.cfg.Store.GetMemberByEmail(ctx, orgID, email)
	switch {
	case roster.KindOf(err) == roster.NotFound:
		m, err = s.createJIT(ctx, orgID, id, email)
		if err != nil {
			return err
		}
	case err != nil:
		return err
	}
	if m.Status != roster.MemberActive {
		return refuse(403, "member_"+string(m.Status), "your membership in this organization is "+string(m.Status), nil)
	}
	method := roster.SessionSAML
	if id.protocol == roster.ProtocolOIDC {
		method = roster.SessionOIDC
	}
	if _, err := s.cfg.Sessions.Start(w, r, m, method, id.connID); err != nil {
		if roster.KindOf(err) == roster.Forbidden {
			return refuse(403, "member_inactive", "your membership in this organization is not active", err)
		}
		return err
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (s *Service) createJIT(ctx context.Context, orgID string, id identity, email string) (*roster.Member, error) {
	if !id.jit {
		return nil, refuse(403, "member_unknown", "you are not a member of this organization; ask an admin to add you", nil)
	}
	dirs, err := s.cfg.Store.ListDirectories(ctx, orgID)
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		if d.Enabled {
			return nil, refuse(403, "member_unknown", "you are not a member of this organization yet; your IdP provisions members by SCIM", nil)
		}
	}
	m := &roster.Member{OrgID: orgID, Email: email, Name: id.name, Role: roster.RoleNone}
	actor := roster.SystemActor("sso:" + id.connID)
	if err := s.cfg.Store.Tx(ctx, actor, func(tx store.Tx) error { return tx.CreateMember(ctx, m) }); err != nil {
		if roster.KindOf(err) == roster.Conflict { // created by a concurrent login
			return s.cfg.Store.GetMemberByEmail(ctx, orgID, email)
		}
		return nil, err
	}
	return m, nil
}

// refused records a refused sign-in in the organization's audit log and shows the person
// a page saying why. Errors that are not refusals (the database is down) are returned.
func (s *Service) refused(w http.ResponseWriter, r *http.Request, orgID string, target roster.Target, email string, err error) error {
	var rf *refusal
	if !errors.As(err, &rf) {
		if k := roster.KindOf(err); k == roster.Internal {
			return err
		}
		rf = refuse(statusOfKind(roster.KindOf(err)), "invalid_request", roster.MessageOf(err), err)
	}
	detail := map[string]string{"reason": rf.reason, "message": rf.msg}
	if email != "" {
		detail["email"] = roster.NormalizeEmail(email)
	}
	if rf.err != nil {
		d := rf.err.Error()
		if len(d) > 500 {
			d = d[:500]
		}
		detail["detail"] = d
	}
	meta := roster.RequestMetaFrom(r.Context())
	s.cfg.Logger.Warn("sso login refused", "org_id", orgID, "target", target.ID, "reason", rf.reason, "request_id", meta.RequestID, "err", rf.err)
	if orgID != "" {
		actor := roster.SystemActor("sso")
		if aerr := s.cfg.Store.Tx(r.Context(), actor, func(tx store.Tx) error {
			return tx.RecordLoginRefused(r.Context(), orgID, target, detail)
		}); aerr != nil && roster.KindOf(aerr) != roster.NotFound {
			return aerr
		}
	}
	writePage(w, rf.status, "Sign-in refused", rf.msg+" (reason: "+rf.reason+"; request id "+meta.RequestID+")")
	return nil
}

// statusOfKind is the status of a refused sign-in: the kind's, or 400 for an error that is
// not the caller's.
func statusOfKind(k roster.Kind) int {
	if s := k.HTTPStatus(); s < http.StatusInternalServerError {
		return s
	}
	return http.StatusBadRequest
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} · Roster</title></head>
<body><main><h1 id="title">{{.Title}}</h1><p id="message">{{.Message}}</p></main></body></html>
`))

// writePage answers a browser with a small HTML page.
func writePage(w http.ResponseWriter, status int, title, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, struct{ Title, Message string }{title, message})
}

// safeReturnTo keeps a return path only when it stays on this site: a path starting with
// one slash, not "//" nor "/\".
func safeReturnTo(p string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || len(p) > 2048 ||
		strings.ContainsAny(p, "\r\n") {
		return ""
	}
	return p
}
