package scim

import (
	"encoding/json"
	"net/http"

	"github.com/rosterhq/roster/internal/auth"
)

// Handler serves the SCIM endpoints. Routes are registered by the HTTP layer, which
// authenticates first and puts the principal (with its directory) in the request context.
type Handler struct {
	// BaseURL is the public URL of the server, for meta.location.
	BaseURL string
}

// ServiceProviderConfig answers RFC 7643 section 5. It tells the truth about what this
// server supports; features are switched on here as they are built.
func (h *Handler) ServiceProviderConfig(w http.ResponseWriter, r *http.Request) {
	type supported struct {
		Supported bool `json:"supported"`
	}
	type bulk struct {
		Supported      bool `json:"supported"`
		MaxOperations  int  `json:"maxOperations"`
		MaxPayloadSize int  `json:"maxPayloadSize"`
	}
	type filter struct {
		Supported  bool `json:"supported"`
		MaxResults int  `json:"maxResults"`
	}
	type scheme struct {
		Type        string `json:"type"`
		Name        string `json:"name"`
		Description string `json:"description"`
		Primary     bool   `json:"primary,omitempty"`
	}
	doc := map[string]any{
		"schemas":          []string{SPCSchema},
		"documentationUri": "https://github.com/rosterhq/roster/blob/main/docs/scim.md",
		"patch":            supported{false},
		"bulk":             bulk{false, 0, 0},
		"filter":           filter{false, 0},
		"changePassword":   supported{false},
		"sort":             supported{false},
		"etag":             supported{false},
		"authenticationSchemes": []scheme{
			{Type: "oauthbearertoken", Name: "Bearer token", Description: "A directory token (scim_…) created for this directory.", Primary: true},
			{Type: "httpbasic", Name: "HTTP Basic", Description: "An organization API key: public key (pk-org-…) as user name, secret key (sk-org-…) as password; acts on the organization's default directory."},
		},
		"meta": map[string]string{
			"resourceType": "ServiceProviderConfig",
			"location":     h.BaseURL + "/scim/v2/ServiceProviderConfig",
		},
	}
	write(w, http.StatusOK, doc)
}

// ListResponse is RFC 7644 section 3.4.2.
type ListResponse struct {
	Schemas      []string          `json:"schemas"`
	TotalResults int               `json:"totalResults"`
	StartIndex   int               `json:"startIndex"`
	ItemsPerPage int               `json:"itemsPerPage"`
	Resources    []json.RawMessage `json:"Resources"`
}

// ListUsers answers GET /Users for the authenticated directory.
func (h *Handler) ListUsers(w http.ResponseWriter, r *http.Request) {
	p := auth.PrincipalFrom(r.Context())
	if p.Directory == nil {
		WriteErrorStatus(w, http.StatusUnauthorized, "", "authentication required")
		return
	}
	write(w, http.StatusOK, ListResponse{
		Schemas:    []string{ListResponseSchema},
		StartIndex: 1,
		Resources:  []json.RawMessage{},
	})
}
