package scim

import (
	"net/http"
	"strings"

	"github.com/rosterhq/roster/internal/scim/schema"
)

// ServiceProviderConfig answers RFC 7643 section 5. It tells the truth: every feature it
// lists as supported is implemented, with the limits enforced.
func (h *Handler) ServiceProviderConfig(w http.ResponseWriter, r *http.Request) error {
	type supported struct {
		Supported bool `json:"supported"`
	}
	type bulk struct {
		Supported      bool `json:"supported"`
		MaxOperations  int  `json:"maxOperations"`
		MaxPayloadSize int  `json:"maxPayloadSize"`
	}
	type filterCfg struct {
		Supported  bool `json:"supported"`
		MaxResults int  `json:"maxResults"`
	}
	type pagination struct {
		Cursor                  bool   `json:"cursor"`
		Index                   bool   `json:"index"`
		DefaultPaginationMethod string `json:"defaultPaginationMethod"`
		DefaultPageSize         int    `json:"defaultPageSize"`
		MaxPageSize             int    `json:"maxPageSize"`
	}
	type scheme struct {
		Type             string `json:"type"`
		Name             string `json:"name"`
		Description      string `json:"description"`
		SpecURI          string `json:"specUri,omitempty"`
		DocumentationURI string `json:"documentationUri,omitempty"`
		Primary          bool   `json:"primary,omitempty"`
	}
	type metaDoc struct {
		ResourceType string `json:"resourceType"`
		Location     string `json:"location"`
	}
	doc := struct {
		Schemas               []string   `json:"schemas"`
		DocumentationURI      string     `json:"documentationUri"`
		Patch                 supported  `json:"patch"`
		Bulk                  bulk       `json:"bulk"`
		Filter                filterCfg  `json:"filter"`
		ChangePassword        supported  `json:"changePassword"`
		Sort                  supported  `json:"sort"`
		ETag                  supported  `json:"etag"`
		Pagination            pagination `json:"pagination"`
		AuthenticationSchemes []scheme   `json:"authenticationSchemes"`
		Meta                  metaDoc    `json:"meta"`
	}{
		Schemas:          []string{SPCSchema},
		DocumentationURI: "https://github.com/rosterhq/roster/blob/main/docs/scim.md",
		Patch:            supported{true},
		Bulk:             bulk{true, MaxBulkOperations, MaxBulkPayload},
		Filter:           filterCfg{true, MaxResults},
		ChangePassword:   supported{false},
		Sort:             supported{true},
		ETag:             supported{true},
		Pagination:       pagination{Cursor: true, Index: true, DefaultPaginationMethod: "index", DefaultPageSize: DefaultCount, MaxPageSize: MaxResults},
		AuthenticationSchemes: []scheme{
			{Type: "oauthbearertoken", Name: "OAuth Bearer Token", Description: "A directory token (scim_…) created for this directory.",
				SpecURI: "https://www.rfc-editor.org/rfc/rfc6750", Primary: true},
			{Type: "httpbasic", Name: "HTTP Basic", Description: "An organization API key: public key (pk-org-…) as user name, secret key (sk-org-…) as password; acts on the organization's default directory.",
				SpecURI: "https://www.rfc-editor.org/rfc/rfc7617"},
		},
		Meta: metaDoc{ResourceType: "ServiceProviderConfig", Location: h.BaseURL + "/scim/v2/ServiceProviderConfig"},
	}
	write(w, http.StatusOK, doc)
	return nil
}

// discoveryList wraps discovery documents in a ListResponse (RFC 7644 section 4).
func discoveryList(w http.ResponseWriter, docs []any) {
	write(w, http.StatusOK, map[string]any{
		"schemas": []string{ListResponseSchema}, "totalResults": len(docs), "itemsPerPage": len(docs),
		"startIndex": 1, "Resources": docs,
	})
}

// ResourceTypes answers GET /ResourceTypes.
func (h *Handler) ResourceTypes(w http.ResponseWriter, r *http.Request) error {
	discoveryList(w, schema.ResourceTypesDocument(h.BaseURL))
	return nil
}

// ResourceType answers GET /ResourceTypes/{id}.
func (h *Handler) ResourceType(w http.ResponseWriter, r *http.Request) error {
	d, ok := schema.ResourceTypeDocument(r.PathValue("id"), h.BaseURL)
	if !ok {
		return &ProtocolError{Status: http.StatusNotFound, Detail: "no resource type " + r.PathValue("id")}
	}
	write(w, http.StatusOK, d)
	return nil
}

// Schemas answers GET /Schemas.
func (h *Handler) Schemas(w http.ResponseWriter, r *http.Request) error {
	discoveryList(w, schema.SchemasDocument(h.BaseURL))
	return nil
}

// Schema answers GET /Schemas/{id}.
func (h *Handler) Schema(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	d, ok := schema.SchemaDocument(id, h.BaseURL)
	if !ok {
		// Some clients URL-encode the colons of the URN, or send it in another case.
		d, ok = schema.SchemaDocument(strings.ReplaceAll(id, "%3A", ":"), h.BaseURL)
	}
	if !ok {
		return &ProtocolError{Status: http.StatusNotFound, Detail: "no schema " + id}
	}
	write(w, http.StatusOK, d)
	return nil
}
