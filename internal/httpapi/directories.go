package httpapi

import (
	"net/http"
	"sort"
	"strconv"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// SCIM directory management (/scim/directories…), by organization key. Every query is scoped
// to the key's organization: another organization's directory id answers 404.

func (s *server) directoryJSON(d *roster.Directory) Directory {
	return Directory{
		ID: d.ID, OrgID: d.OrgID, Name: d.Name, DefaultRole: d.DefaultRole, Enabled: d.Enabled,
		IsDefault: d.IsDefault, SCIMBaseURL: SCIMBaseURL(s.BaseURL), TokenPrefix: d.TokenPrefix,
		TokenExpiresAt: d.TokenExpiresAt, TokenLastUsedAt: d.TokenLastUsed,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
}

func (s *server) listDirectories(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	dirs, err := s.Store.ListDirectories(r.Context(), p.OrgID)
	if err != nil {
		return err
	}
	out := make([]Directory, 0, len(dirs))
	for i := range dirs {
		out = append(out, s.directoryJSON(&dirs[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"directories": out})
	return nil
}

func (s *server) getDirectory(w http.ResponseWriter, r *http.Request) error {
	d, err := s.Store.GetDirectory(r.Context(), principal(r).OrgID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.directoryJSON(d))
	return nil
}

func (s *server) createDirectory(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Name        string `json:"name"`
		DefaultRole string `json:"defaultRole"`
	}
	if err := decodeJSON(r, &body, false); err != nil {
		return err
	}
	role := roster.RoleNone
	if body.DefaultRole != "" {
		var err error
		if role, err = roster.ParseRole(body.DefaultRole); err != nil {
			return err
		}
	}
	p := principal(r)
	d, token, err := s.Auth.CreateDirectory(r.Context(), p.Actor(), p.OrgID, body.Name, role)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, NewDirectoryCreated(d, token, s.BaseURL))
	return nil
}

func (s *server) updateDirectory(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Name        *string `json:"name"`
		Enabled     *bool   `json:"enabled"`
		DefaultRole *string `json:"defaultRole"`
	}
	if err := decodeJSON(r, &body, false); err != nil {
		return err
	}
	patch := auth.DirectoryPatch{Name: body.Name, Enabled: body.Enabled}
	if body.DefaultRole != nil {
		role, err := roster.ParseRole(*body.DefaultRole)
		if err != nil {
			return err
		}
		patch.DefaultRole = &role
	}
	p := principal(r)
	d, err := s.Auth.UpdateDirectory(r.Context(), p.Actor(), p.OrgID, r.PathValue("id"), patch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.directoryJSON(d))
	return nil
}

func (s *server) deleteDirectory(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	id := r.PathValue("id")
	if err := s.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
		return tx.DeleteDirectory(r.Context(), p.OrgID, id)
	}); err != nil {
		return err
	}
	if s.RequestLog != nil {
		s.RequestLog.Forget(id)
	}
	writeJSON(w, http.StatusOK, deleted{Success: true, Message: "directory deleted"})
	return nil
}

func (s *server) regenerateToken(w http.ResponseWriter, r *http.Request) error {
	grace, err := decodeGrace(r)
	if err != nil {
		return err
	}
	p := principal(r)
	tok, token, err := s.Auth.RegenerateToken(r.Context(), p.Actor(), p.OrgID, r.PathValue("id"), grace)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, TokenRegenerated{ID: tok.DirectoryID, Token: token, TokenExpiresAt: tok.ExpiresAt})
	return nil
}

// directoryRequests answers the directory's SCIM request log, newest first.
func (s *server) directoryRequests(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	id := r.PathValue("id")
	if _, err := s.Store.GetDirectory(r.Context(), p.OrgID, id); err != nil {
		return err
	}
	n := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 1000 {
			return roster.E(roster.Invalid, "limit must be a number from 1 to 1000")
		}
	}
	if s.RequestLog != nil {
		if err := s.RequestLog.Flush(r.Context()); err != nil {
			return err
		}
	}
	entries, err := s.Store.ListSCIMRequests(r.Context(), p.OrgID, id, n)
	if err != nil {
		return err
	}
	if s.RequestLog != nil {
		// Successful reads are kept in memory only; merge them in, newest first.
		entries = append(entries, s.RequestLog.Reads(id)...)
		sort.SliceStable(entries, func(i, j int) bool { return entries[i].At.After(entries[j].At) })
		if len(entries) > n {
			entries = entries[:n]
		}
	}
	type entry struct {
		roster.SCIMRequest
		LatencyMs float64 `json:"latencyMs"`
	}
	out := make([]entry, len(entries))
	for i, e := range entries {
		out[i] = entry{SCIMRequest: e, LatencyMs: float64(e.Latency.Microseconds()) / 1000}
	}
	writeJSON(w, http.StatusOK, map[string]any{"requests": out})
	return nil
}
