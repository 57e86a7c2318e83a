package schema

// EnterpriseUser is the Enterprise User extension (RFC 7643 section 4.3) as RFC 7643 section
// 8.7.1 lists it. An extension carries no common attributes: they belong to the resource.
var EnterpriseUser = &Schema{
	ID:          EnterpriseUserSchema,
	Name:        "EnterpriseUser",
	Description: "Enterprise User",
	Attributes: []*Attribute{
		text("employeeNumber", "Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization."),
		text("costCenter", "Identifies the name of a cost center."),
		text("organization", "Identifies the name of an organization."),
		text("division", "Identifies the name of a division."),
		text("department", "Identifies the name of a department."),
		{
			Name:        "manager",
			Type:        Complex,
			Description: "The User's manager. A complex type that optionally allows service providers to represent organizational hierarchy by referencing the 'id' attribute of another User.",
			Mutability:  ReadWrite,
			Returned:    Default,
			Uniqueness:  None,
			SubAttributes: []*Attribute{
				// "value" and "$ref" say REQUIRED in their descriptions (and in RFC 7643
				// section 4.3) but are "required": false in the section 8.7.1 listing,
				// which is followed: identity providers often send a manager with a
				// value only.
				text("value", "The id of the SCIM resource representing the User's manager. REQUIRED."),
				{
					Name:           "$ref",
					Type:           Reference,
					Description:    "The URI of the SCIM resource representing the User's manager. REQUIRED.",
					Mutability:     ReadWrite,
					Returned:       Default,
					Uniqueness:     None,
					ReferenceTypes: []string{"User"},
				},
				{
					Name:        "displayName",
					Type:        String,
					Description: "The displayName of the User's manager. OPTIONAL and READ-ONLY.",
					Mutability:  ReadOnly,
					Returned:    Default,
					Uniqueness:  None,
				},
			},
		},
	},
}
