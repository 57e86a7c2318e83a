package schema

import "strings"

// basePath is the path, under the public base URL, at which the discovery documents live
// (DESIGN section 2); their meta.location values are built on it.
const basePath = "/scim/v2"

// meta is the "meta" of a discovery document: its resource type and location (RFC 7643
// section 3.1; RFC 7644 section 4 says these documents carry meta.location).
type meta struct {
	ResourceType string `json:"resourceType"`
	Location     string `json:"location"`
}

// schemaDoc is a schema definition as served at /Schemas (RFC 7643 section 7).
type schemaDoc struct {
	Schemas     []string     `json:"schemas"`
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Attributes  []*Attribute `json:"attributes"`
	Meta        meta         `json:"meta"`
}

// resourceTypeDoc is a resource type as served at /ResourceTypes (RFC 7643 section 6).
type resourceTypeDoc struct {
	Schemas          []string    `json:"schemas"`
	ID               string      `json:"id"`
	Name             string      `json:"name"`
	Endpoint         string      `json:"endpoint"`
	Description      string      `json:"description"`
	Schema           string      `json:"schema"`
	SchemaExtensions []Extension `json:"schemaExtensions"`
	Meta             meta        `json:"meta"`
}

// SchemasDocument returns every schema Roster serves (User, Group, Enterprise User, in that
// order) as JSON-ready values for the /Schemas endpoint (RFC 7644 section 4). Each has the
// "schemas", "id", "name", "description" and "attributes" of RFC 7643 section 7 and a
// "meta" whose location is under baseURL, the public URL of the server ("https://host",
// a trailing slash allowed): {base}/scim/v2/Schemas/{id}.
//
// The attribute lists are those of RFC 7643 section 8.7.1 with every characteristic
// written out; the common attributes (id, externalId, meta) are left out, as section 8.7.1
// leaves them out. The values are fresh copies the caller may keep.
func SchemasDocument(baseURL string) []any {
	out := make([]any, 0, len(schemas))
	for _, s := range schemas {
		out = append(out, schemaDocument(s, baseURL))
	}
	return out
}

// SchemaDocument returns the /Schemas/{id} document of the schema whose URN is id (compared
// case-insensitively), as SchemasDocument renders it, or false if there is none.
func SchemaDocument(id, baseURL string) (any, bool) {
	s := Lookup(id)
	if s == nil {
		return nil, false
	}
	return schemaDocument(s, baseURL), true
}

// ResourceTypesDocument returns the User and Group resource types, in that order, as
// JSON-ready values for the /ResourceTypes endpoint (RFC 7644 section 4, RFC 7643 section
// 6), with meta.location {base}/scim/v2/ResourceTypes/{id}. "schemaExtensions" is always
// present, empty for Group, so clients need not tell a missing list from an empty one.
func ResourceTypesDocument(baseURL string) []any {
	out := make([]any, 0, len(resourceTypes))
	for _, rt := range resourceTypes {
		out = append(out, resourceTypeDocument(rt, baseURL))
	}
	return out
}

// ResourceTypeDocument returns the /ResourceTypes/{id} document of the resource type whose
// id is id (compared case-insensitively), or false if there is none.
func ResourceTypeDocument(id, baseURL string) (any, bool) {
	rt := LookupResourceType(id)
	if rt == nil {
		return nil, false
	}
	return resourceTypeDocument(rt, baseURL), true
}

func schemaDocument(s *Schema, baseURL string) schemaDoc {
	attrs := make([]*Attribute, 0, len(s.Attributes))
	for _, a := range s.Attributes {
		if !IsCommon(a) {
			attrs = append(attrs, clone(a))
		}
	}
	return schemaDoc{
		Schemas:     []string{SchemaSchema},
		ID:          s.ID,
		Name:        s.Name,
		Description: s.Description,
		Attributes:  attrs,
		Meta:        meta{ResourceType: "Schema", Location: location(baseURL, "Schemas", s.ID)},
	}
}

func resourceTypeDocument(rt *ResourceType, baseURL string) resourceTypeDoc {
	return resourceTypeDoc{
		Schemas:          []string{ResourceTypeSchema},
		ID:               rt.ID,
		Name:             rt.Name,
		Endpoint:         rt.Endpoint,
		Description:      rt.Description,
		Schema:           rt.Schema,
		SchemaExtensions: append([]Extension{}, rt.Extensions...),
		Meta:             meta{ResourceType: "ResourceType", Location: location(baseURL, "ResourceTypes", rt.ID)},
	}
}

// location is {base}/scim/v2/{endpoint}/{id}. Schema URNs go into the path as they are, as
// in the examples of RFC 7643 section 8.7: a colon is allowed in a path segment (RFC 3986
// section 3.3).
func location(baseURL, endpoint, id string) string {
	return strings.TrimRight(baseURL, "/") + basePath + "/" + endpoint + "/" + id
}

// clone copies an attribute definition deeply, so a document never shares slices with the
// package's definitions.
func clone(a *Attribute) *Attribute {
	c := *a
	c.CanonicalValues = append([]string(nil), a.CanonicalValues...)
	c.ReferenceTypes = append([]string(nil), a.ReferenceTypes...)
	c.SubAttributes = nil
	for _, s := range a.SubAttributes {
		c.SubAttributes = append(c.SubAttributes, clone(s))
	}
	return &c
}
