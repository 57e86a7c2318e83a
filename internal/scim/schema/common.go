package schema

// The common attributes of RFC 7643 section 3.1. Every resource has them, but they belong to
// no schema: RFC 7643 section 8.7.1 does not list them and section 3.1 says their
// characteristics take precedence over any schema that does. They are defined once here and
// placed first in the User and Group attribute lists, so that Schema.Attr("id") and
// ResourceType.Resolve find them and returnability, mutability and case rules come from
// one place; the schema documents leave them out (IsCommon).
var (
	// idAttr is "id": assigned by the service provider, never changed, returned whatever a
	// request's "attributes" or "excludedAttributes" say, compared case-sensitively (RFC
	// 7643 section 3.1). Section 3.1 calls it REQUIRED of every representation; Required
	// stays false because the characteristic governs what a client sends (RFC 7643 section
	// 2.2), and a client never sends an id.
	idAttr = &Attribute{
		Name:        "id",
		Type:        String,
		Description: "A unique identifier for a SCIM resource as defined by the service provider.",
		CaseExact:   true,
		Mutability:  ReadOnly,
		Returned:    Always,
		Uniqueness:  Server,
	}

	// externalIDAttr is "externalId": the provisioning client's own identifier, compared
	// case-sensitively (RFC 7643 section 3.1). Roster keeps it unique per directory
	// (DESIGN section 5), hence uniqueness "server".
	externalIDAttr = &Attribute{
		Name:        "externalId",
		Type:        String,
		Description: "A String that is an identifier for the resource as defined by the provisioning client.",
		CaseExact:   true,
		Mutability:  ReadWrite,
		Returned:    Default,
		Uniqueness:  Server,
	}

	// metaAttr is "meta": resource metadata owned by the service provider; a client's
	// values are ignored (RFC 7643 section 3.1).
	metaAttr = &Attribute{
		Name:        "meta",
		Type:        Complex,
		Description: "A complex attribute containing resource metadata.",
		Mutability:  ReadOnly,
		Returned:    Default,
		Uniqueness:  None,
		SubAttributes: []*Attribute{
			{
				Name:        "resourceType",
				Type:        String,
				Description: "The name of the resource type of the resource.",
				CaseExact:   true,
				Mutability:  ReadOnly,
				Returned:    Default,
				Uniqueness:  None,
			},
			{
				Name:        "created",
				Type:        DateTime,
				Description: "The DateTime that the resource was added to the service provider.",
				Mutability:  ReadOnly,
				Returned:    Default,
				Uniqueness:  None,
			},
			{
				Name:        "lastModified",
				Type:        DateTime,
				Description: "The most recent DateTime that the details of this resource were updated at the service provider.",
				Mutability:  ReadOnly,
				Returned:    Default,
				Uniqueness:  None,
			},
			{
				Name:           "location",
				Type:           Reference,
				Description:    "The URI of the resource being returned.",
				CaseExact:      true,
				Mutability:     ReadOnly,
				Returned:       Default,
				Uniqueness:     None,
				ReferenceTypes: []string{"uri"},
			},
			{
				// Compared as an entity tag (RFC 7644 section 3.14), so byte for byte.
				Name:        "version",
				Type:        String,
				Description: "The version of the resource being returned.",
				CaseExact:   true,
				Mutability:  ReadOnly,
				Returned:    Default,
				Uniqueness:  None,
			},
		},
	}
)

// Common returns the common attributes of RFC 7643 section 3.1 (id, externalId, meta), the
// same definitions that head the User and Group attribute lists.
func Common() []*Attribute { return []*Attribute{idAttr, externalIDAttr, metaAttr} }

// IsCommon reports whether a is one of the common attributes of RFC 7643 section 3.1 rather
// than an attribute of its schema. The schema documents skip these.
func IsCommon(a *Attribute) bool {
	return a == idAttr || a == externalIDAttr || a == metaAttr
}
