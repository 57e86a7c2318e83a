package schema

import "strings"

// ResourceType is a resource type definition (RFC 7643 section 6): the endpoint a kind of
// resource lives under, its core schema and the extension schemas it may carry.
type ResourceType struct {
	ID          string
	Name        string
	Endpoint    string
	Description string
	// Schema is the URN of the core schema.
	Schema     string
	Extensions []Extension
}

// Extension is one entry of a resource type's "schemaExtensions" (RFC 7643 section 6):
// an extension schema URN and whether every resource of the type must carry it.
type Extension struct {
	Schema   string `json:"schema"`
	Required bool   `json:"required"`
}

// UserResource is the User resource type (RFC 7643 section 6, example in section 8.6). The
// Enterprise User extension is optional: most identity providers send no enterprise
// attributes at all.
var UserResource = &ResourceType{
	ID:          "User",
	Name:        "User",
	Endpoint:    "/Users",
	Description: "User Account",
	Schema:      UserSchema,
	Extensions:  []Extension{{Schema: EnterpriseUserSchema, Required: false}},
}

// GroupResource is the Group resource type (RFC 7643 section 6, example in section 8.6).
var GroupResource = &ResourceType{
	ID:          "Group",
	Name:        "Group",
	Endpoint:    "/Groups",
	Description: "Group",
	Schema:      GroupSchema,
}

// resourceTypes lists the resource types in the order of the /ResourceTypes document.
var resourceTypes = []*ResourceType{UserResource, GroupResource}

// LookupResourceType returns the resource type whose id is id, compared case-insensitively,
// or nil.
func LookupResourceType(id string) *ResourceType {
	for _, rt := range resourceTypes {
		if strings.EqualFold(rt.ID, id) {
			return rt
		}
	}
	return nil
}

// Schemas returns the resource type's schemas: the core schema first, then its extensions
// in the order they are declared. This is the order in which an unqualified attribute name
// is looked up.
func (rt *ResourceType) Schemas() []*Schema {
	out := []*Schema{Lookup(rt.Schema)}
	for _, e := range rt.Extensions {
		out = append(out, Lookup(e.Schema))
	}
	return out
}

// Resolve finds the attribute an attribute reference names for this resource type (RFC 7644
// section 3.10): a schema URN (empty when the reference has none), an attribute name, and a
// sub-attribute name (empty for none). It returns the URN of the schema the attribute
// belongs to, in its canonical case, the attribute, and the sub-attribute (nil when sub is
// empty). All names compare case-insensitively (RFC 7643 section 2.1).
//
// An unqualified name is looked up in the core schema first, then in each extension, so
// "employeeNumber" resolves to the Enterprise User extension. A qualified name must belong
// to the schema its URN names, which must be one of this resource type's. The common
// attributes (id, externalId, meta) resolve against the core schema.
//
// For convenience name may also be a whole reference, when urn (and, for a dotted name,
// sub) are empty: "name.givenName" and "urn:…:enterprise:2.0:User:manager.value" are split
// as SplitPath splits them. A reference to a whole schema (a bare URN) names no attribute
// and does not resolve.
func (rt *ResourceType) Resolve(urn, name, sub string) (schemaURN string, attr *Attribute, subAttr *Attribute, ok bool) {
	if urn == "" && hasURNPrefix(name) {
		var s string
		urn, name, s = SplitPath(name)
		if s != "" {
			if sub != "" {
				return "", nil, nil, false
			}
			sub = s
		}
	}
	if sub == "" {
		name, sub, _ = strings.Cut(name, ".")
	}
	if name == "" {
		return "", nil, nil, false
	}
	for _, s := range rt.Schemas() {
		if s == nil || (urn != "" && !strings.EqualFold(urn, s.ID)) {
			continue
		}
		a := s.Attr(name)
		if a == nil {
			continue
		}
		if sub == "" {
			return s.ID, a, nil, true
		}
		sa := a.Sub(sub)
		if sa == nil {
			return "", nil, nil, false
		}
		return s.ID, a, sa, true
	}
	return "", nil, nil, false
}

// ResolvePath is Resolve for a whole attribute path as it appears in a filter, a PATCH path
// or an "attributes" parameter (RFC 7644 sections 3.4.2.2, 3.5.2 and 3.10), such as
// "userName", "name.givenName" or
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value".
func (rt *ResourceType) ResolvePath(path string) (schemaURN string, attr *Attribute, subAttr *Attribute, ok bool) {
	urn, name, sub := SplitPath(path)
	return rt.Resolve(urn, name, sub)
}

// SplitPath splits an attribute path (RFC 7644 section 3.10, the attrPath rule of section
// 3.4.2.2: [URI ":"] ATTRNAME ["." subAttr]) into its schema URN, attribute name and
// sub-attribute name, each empty when absent. A URN ends where a known schema URN ends
// (schema URNs themselves contain dots, as in "2.0"), or else at the last colon. A path that
// is exactly a known schema URN comes back as that URN with an empty name. Case is kept.
func SplitPath(path string) (urn, name, sub string) {
	rest := path
	if hasURNPrefix(path) {
		urn, rest = splitURN(path)
	}
	name, sub, _ = strings.Cut(rest, ".")
	return urn, name, sub
}

func hasURNPrefix(s string) bool {
	return len(s) >= 4 && strings.EqualFold(s[:4], "urn:")
}

// splitURN separates the URN of a URN-qualified path from the rest.
func splitURN(path string) (urn, rest string) {
	for _, s := range schemas {
		n := len(s.ID)
		if len(path) < n || !strings.EqualFold(path[:n], s.ID) {
			continue
		}
		if len(path) == n {
			return path, ""
		}
		if path[n] == ':' {
			return path[:n], path[n+1:]
		}
	}
	// An unknown schema: the attribute name is what follows the last colon, the colon
	// being the only separator an attribute name cannot contain (RFC 7643 section 2.1).
	if i := strings.LastIndex(path, ":"); i >= 0 {
		return path[:i], path[i+1:]
	}
	return path, ""
}
