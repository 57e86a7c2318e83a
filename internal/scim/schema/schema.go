package schema

import "strings"

// Schema URNs of the resources Roster serves (RFC 7643 sections 4.1, 4.2 and 4.3) and of
// the discovery documents that describe them (RFC 7643 sections 6 and 7).
const (
	UserSchema           = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupSchema          = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseUserSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

	// SchemaSchema is the "schemas" value of a schema definition (RFC 7643 section 7).
	SchemaSchema = "urn:ietf:params:scim:schemas:core:2.0:Schema"
	// ResourceTypeSchema is the "schemas" value of a resource type (RFC 7643 section 6).
	ResourceTypeSchema = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
)

// Type is an attribute's data type (RFC 7643 section 2.3).
type Type string

// The data types of RFC 7643 section 2.3, spelled as in the "type" characteristic.
const (
	String    Type = "string"
	Boolean   Type = "boolean"
	Decimal   Type = "decimal"
	Integer   Type = "integer"
	DateTime  Type = "dateTime"
	Binary    Type = "binary"
	Reference Type = "reference"
	Complex   Type = "complex"
)

// Mutability says whether and when a client may change an attribute (RFC 7643 section 2.2,
// "mutability").
type Mutability string

// The mutability values of RFC 7643 section 2.2.
const (
	// ReadOnly attributes are set by the service provider; a client's values are ignored.
	ReadOnly Mutability = "readOnly"
	// ReadWrite attributes may be set and changed by a client.
	ReadWrite Mutability = "readWrite"
	// Immutable attributes may be set when the value is added, never changed afterwards.
	Immutable Mutability = "immutable"
	// WriteOnly attributes may be set but are never returned (password).
	WriteOnly Mutability = "writeOnly"
)

// Returned says when an attribute appears in a response (RFC 7643 section 2.2,
// "returned"; RFC 7644 section 3.4.2.5 for the "attributes" and "excludedAttributes"
// parameters that it interacts with).
type Returned string

// The returned values of RFC 7643 section 2.2.
const (
	// Always: returned whatever "attributes" or "excludedAttributes" say (id).
	Always Returned = "always"
	// Never: never returned (password).
	Never Returned = "never"
	// Default: returned unless excluded, or unless "attributes" names other attributes only.
	Default Returned = "default"
	// Request: returned only when named in "attributes".
	Request Returned = "request"
)

// Uniqueness says over what set a value must be unique (RFC 7643 section 2.2,
// "uniqueness"). Roster's "server" scope is one SCIM directory (DESIGN section 5).
type Uniqueness string

// The uniqueness values of RFC 7643 section 2.2.
const (
	None   Uniqueness = "none"
	Server Uniqueness = "server"
	Global Uniqueness = "global"
)

// Attribute is one attribute definition with the characteristics of RFC 7643 section 2.2,
// serialized with the field names of RFC 7643 section 7 ("attributes" of a schema
// definition). Type, Mutability, Returned and Uniqueness are always set in this package's
// definitions; the zero values of the boolean fields are the section 2.2 defaults.
type Attribute struct {
	Name            string       `json:"name"`
	Type            Type         `json:"type"`
	MultiValued     bool         `json:"multiValued"`
	Description     string       `json:"description"`
	Required        bool         `json:"required"`
	CanonicalValues []string     `json:"canonicalValues,omitempty"`
	CaseExact       bool         `json:"caseExact"`
	Mutability      Mutability   `json:"mutability"`
	Returned        Returned     `json:"returned"`
	Uniqueness      Uniqueness   `json:"uniqueness"`
	ReferenceTypes  []string     `json:"referenceTypes,omitempty"`
	SubAttributes   []*Attribute `json:"subAttributes,omitempty"`
}

// Sub returns the sub-attribute called name, compared case-insensitively as RFC 7643
// section 2.1 requires of attribute names, or nil if a has none by that name.
func (a *Attribute) Sub(name string) *Attribute {
	if a == nil {
		return nil
	}
	return find(a.SubAttributes, name)
}

// Schema is a schema definition (RFC 7643 section 7): its URN, a name, a description and
// its top-level attributes in the order of RFC 7643 section 8.7.1. The User and Group
// schemas also carry the common attributes of RFC 7643 section 3.1 first (see Common).
type Schema struct {
	ID          string
	Name        string
	Description string
	Attributes  []*Attribute
}

// Attr returns the top-level attribute called name, compared case-insensitively (RFC 7643
// section 2.1), or nil. It does not parse URN prefixes or dotted paths: ResourceType.Resolve
// does.
func (s *Schema) Attr(name string) *Attribute {
	if s == nil {
		return nil
	}
	return find(s.Attributes, name)
}

func find(attrs []*Attribute, name string) *Attribute {
	for _, a := range attrs {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

// schemas lists every schema Roster serves, in the order of RFC 7643 section 8.7.1, which
// is also the order of the /Schemas document.
var schemas = []*Schema{User, Group, EnterpriseUser}

// Lookup returns the schema whose URN is id, or nil. The comparison is case-insensitive,
// like that of attribute names (RFC 7643 section 2.1), because identity providers vary the
// case of URN-qualified names.
func Lookup(id string) *Schema {
	for _, s := range schemas {
		if strings.EqualFold(s.ID, id) {
			return s
		}
	}
	return nil
}
