package schema

// Group is the core Group schema (RFC 7643 section 4.2) as RFC 7643 section 8.7.1 lists it,
// after the common attributes of RFC 7643 section 3.1.
var Group = &Schema{
	ID:          GroupSchema,
	Name:        "Group",
	Description: "Group",
	Attributes: append(Common(),
		&Attribute{
			// The prose (RFC 7643 section 4.2) and this very description say REQUIRED,
			// but the normative listing of section 8.7.1 has "required": false, and that
			// listing is what this package follows. A group's handler that needs a name
			// must check for one itself.
			Name:        "displayName",
			Type:        String,
			Description: "A human-readable name for the Group. REQUIRED.",
			Required:    false,
			Mutability:  ReadWrite,
			Returned:    Default,
			Uniqueness:  None,
		},
		&Attribute{
			// Members are added and removed, never edited in place: every sub-attribute
			// is immutable (RFC 7643 section 4.2).
			Name:        "members",
			Type:        Complex,
			MultiValued: true,
			Description: "A list of members of the Group.",
			Mutability:  ReadWrite,
			Returned:    Default,
			Uniqueness:  None,
			SubAttributes: []*Attribute{
				{
					Name:        "value",
					Type:        String,
					Description: "Identifier of the member of this Group.",
					Mutability:  Immutable,
					Returned:    Default,
					Uniqueness:  None,
				},
				{
					Name:           "$ref",
					Type:           Reference,
					Description:    "The URI corresponding to a SCIM resource that is a member of this Group.",
					Mutability:     Immutable,
					Returned:       Default,
					Uniqueness:     None,
					ReferenceTypes: []string{"User", "Group"},
				},
				{
					Name:            "type",
					Type:            String,
					Description:     "A label indicating the type of resource, e.g., 'User' or 'Group'.",
					CanonicalValues: []string{"User", "Group"},
					Mutability:      Immutable,
					Returned:        Default,
					Uniqueness:      None,
				},
				{
					// Not in the RFC 7643 section 8.7.1 listing; an addition. Section
					// 2.4 gives multi-valued attributes a "display" sub-attribute, the
					// section 8.4 example returns one for each member, and identity
					// providers (Okta, the Entra ID test collection) send one. Immutable
					// like its siblings.
					Name:        "display",
					Type:        String,
					Description: "A human-readable name for the member, primarily used for display purposes.",
					Mutability:  Immutable,
					Returned:    Default,
					Uniqueness:  None,
				},
			},
		},
	),
}
