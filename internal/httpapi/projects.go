package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// Projects (the Langfuse organization API): created, renamed and deleted by org key; a
// project key reads only its own project.

type projectBody struct {
	Name string `json:"name"`
	// Metadata absent keeps the stored one on update; null clears it.
	Metadata json.RawMessage `json:"metadata"`
	// Retention is accepted for Langfuse's clients, which send it, and ignored.
	Retention *int `json:"retention"`
}

func (b *projectBody) clean() (string, json.RawMessage, error) {
	name, err := roster.CleanName("name", b.Name)
	if err != nil {
		return "", nil, err
	}
	meta, err := roster.CleanMetadata(b.Metadata)
	return name, meta, err
}

func (s *server) organization(r *http.Request) (*roster.Organization, error) {
	return s.Store.GetOrganization(r.Context(), principal(r).OrgID)
}

func (s *server) createProject(w http.ResponseWriter, r *http.Request) error {
	var body projectBody
	if err := decodeJSON(r, &body, false); err != nil {
		return err
	}
	name, meta, err := body.clean()
	if err != nil {
		return err
	}
	p := principal(r)
	org, err := s.organization(r)
	if err != nil {
		return err
	}
	proj := &roster.Project{OrgID: p.OrgID, Name: name, Metadata: meta}
	if err := s.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error { return tx.CreateProject(r.Context(), proj) }); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, NewProject(proj, org))
	return nil
}

func (s *server) updateProject(w http.ResponseWriter, r *http.Request) error {
	var body projectBody
	if err := decodeJSON(r, &body, false); err != nil {
		return err
	}
	name, meta, err := body.clean()
	if err != nil {
		return err
	}
	p := principal(r)
	org, err := s.organization(r)
	if err != nil {
		return err
	}
	var proj *roster.Project
	err = s.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
		cur, err := tx.GetProject(r.Context(), p.OrgID, r.PathValue("projectId"))
		if err != nil {
			return err
		}
		next := *cur
		next.Name = name
		if body.Metadata != nil {
			next.Metadata = meta
		}
		proj = &next
		return tx.UpdateProject(r.Context(), proj)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, NewProject(proj, org))
	return nil
}

func (s *server) deleteProject(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if err := s.Store.Tx(r.Context(), p.Actor(), func(tx store.Tx) error {
		return tx.DeleteProject(r.Context(), p.OrgID, r.PathValue("projectId"))
	}); err != nil {
		return err
	}
	// Langfuse answers 202: its deletion runs in the background. Roster's is done already,
	// keys, memberships and mappings with it; the status is kept for its clients.
	writeJSON(w, http.StatusAccepted, deleted{Success: true, Message: "project deleted"})
	return nil
}

// listProjects reads the organization's projects in the listing's paging.
func (s *server) listProjects(r *http.Request) ([]Project, listPaging, string, error) {
	lp, err := parsePaging(r)
	if err != nil {
		return nil, lp, "", err
	}
	org, err := s.organization(r)
	if err != nil {
		return nil, lp, "", err
	}
	rows, next, err := s.Store.ListProjects(r.Context(), org.ID, lp.page)
	if err != nil {
		return nil, lp, "", err
	}
	out := make([]Project, len(rows))
	for i := range rows {
		out[i] = NewProject(&rows[i], org)
	}
	return out, lp, next, nil
}

// orgProjects answers GET /api/public/organizations/projects: {projects: [...]}.
func (s *server) orgProjects(w http.ResponseWriter, r *http.Request) error {
	out, lp, next, err := s.listProjects(r)
	if err != nil {
		return err
	}
	body := map[string]any{"projects": out}
	if err := lp.decorate(body, next, func() (int, error) { return s.Store.CountProjects(r.Context(), principal(r).OrgID) }); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// keyProjects answers GET /api/public/projects: {data: [Project]}, the key's own project for
// a project key, every project for an org key.
func (s *server) keyProjects(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p.Kind == auth.ProjectKey {
		org, err := s.organization(r)
		if err != nil {
			return err
		}
		proj, err := s.Store.GetProject(r.Context(), p.OrgID, p.ProjectID)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": []Project{NewProject(proj, org)}})
		return nil
	}
	out, lp, next, err := s.listProjects(r)
	if err != nil {
		return err
	}
	body := map[string]any{"data": out}
	if err := lp.decorate(body, next, func() (int, error) { return s.Store.CountProjects(r.Context(), p.OrgID) }); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}
