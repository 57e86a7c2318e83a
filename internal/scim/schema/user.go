package schema

// User is the core User schema (RFC 7643 section 4.1), attribute for attribute and
// characteristic for characteristic as RFC 7643 section 8.7.1 lists it, after the common
// attributes of RFC 7643 section 3.1. Where the listing leaves a characteristic out, the
// default of RFC 7643 section 2.2 is written in (caseExact false, uniqueness none).
var User = &Schema{
	ID:          UserSchema,
	Name:        "User",
	Description: "User Account",
	Attributes: append(Common(),
		&Attribute{
			// Unique per directory and compared case-insensitively, but returned as sent
			// (DESIGN section 5; RFC 7643 section 4.1.1).
			Name:        "userName",
			Type:        String,
			Description: "Unique identifier for the User, typically used by the user to directly authenticate to the service provider. Each User MUST include a non-empty userName value. This identifier MUST be unique across the service provider's entire set of Users. REQUIRED.",
			Required:    true,
			CaseExact:   false,
			Mutability:  ReadWrite,
			Returned:    Default,
			Uniqueness:  Server,
		},
		&Attribute{
			Name:        "name",
			Type:        Complex,
			Description: "The components of the user's real name. Providers MAY return just the full name as a single string in the formatted sub-attribute, or they MAY return just the individual component attributes using the other sub-attributes, or they MAY return both. If both variants are returned, they SHOULD be describing the same name, with the formatted name indicating how the component attributes should be combined.",
			Mutability:  ReadWrite,
			Returned:    Default,
			Uniqueness:  None,
			SubAttributes: []*Attribute{
				text("formatted", "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display (e.g., 'Ms. Barbara J Jensen, III')."),
				text("familyName", "The family name of the User, or last name in most Western languages (e.g., 'Jensen' given the full name 'Ms. Barbara J Jensen, III')."),
				text("givenName", "The given name of the User, or first name in most Western languages (e.g., 'Barbara' given the full name 'Ms. Barbara J Jensen, III')."),
				text("middleName", "The middle name(s) of the User (e.g., 'Jane' given the full name 'Ms. Barbara J Jensen, III')."),
				text("honorificPrefix", "The honorific prefix(es) of the User, or title in most Western languages (e.g., 'Ms.' given the full name 'Ms. Barbara J Jensen, III')."),
				text("honorificSuffix", "The honorific suffix(es) of the User, or suffix in most Western languages (e.g., 'III' given the full name 'Ms. Barbara J Jensen, III')."),
			},
		},
		text("displayName", "The name of the User, suitable for display to end-users. The name SHOULD be the full name of the User being described, if known."),
		text("nickName", "The casual way to address the user in real life, e.g., 'Bob' or 'Bobby' instead of 'Robert'. This attribute SHOULD NOT be used to represent a User's username (e.g., 'bjensen' or 'mpepperidge')."),
		&Attribute{
			Name:           "profileUrl",
			Type:           Reference,
			Description:    "A fully qualified URL pointing to a page representing the User's online profile.",
			Mutability:     ReadWrite,
			Returned:       Default,
			Uniqueness:     None,
			ReferenceTypes: []string{"external"},
		},
		text("title", "The user's title, such as \"Vice President.\""),
		text("userType", "Used to identify the relationship between the organization and the user. Typical values used might be 'Contractor', 'Employee', 'Intern', 'Temp', 'External', and 'Unknown', but any value may be used."),
		text("preferredLanguage", "Indicates the User's preferred written or spoken language. Generally used for selecting a localized user interface; e.g., 'en_US' specifies the language English and country US."),
		text("locale", "Used to indicate the User's default location for purposes of localizing items such as currency, date time format, or numerical representations."),
		text("timezone", "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'."),
		&Attribute{
			Name:        "active",
			Type:        Boolean,
			Description: "A Boolean value indicating the User's administrative status.",
			Mutability:  ReadWrite,
			Returned:    Default,
			Uniqueness:  None,
		},
		&Attribute{
			// Accepted on create and replace, never stored in clear, never returned (RFC
			// 7643 section 4.1.1).
			Name:        "password",
			Type:        String,
			Description: "The User's cleartext password. This attribute is intended to be used as a means to specify an initial password when creating a new User or to reset an existing User's password.",
			Mutability:  WriteOnly,
			Returned:    Never,
			Uniqueness:  None,
		},
		&Attribute{
			Name:        "emails",
			Type:        Complex,
			MultiValued: true,
			Description: "Email addresses for the user. The value SHOULD be canonicalized by the service provider, e.g., 'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'. Canonical type values of 'work', 'home', and 'other'.",
			Mutability:  ReadWrite,
			Returned:    Default,
			Uniqueness:  None,
			SubAttributes: []*Attribute{
				// RFC 7643 section 8.7.1 repeats the description of "emails" here.
				text("value", "Email addresses for the user. The value SHOULD be canonicalized by the service provider, e.g., 'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'. Canonical type values of 'work', 'home', and 'other'."),
				display(ReadWrite),
				label("A label indicating the attribute's function, e.g., 'work' or 'home'.", "work", "home", "other"),
				primary("A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred mailing address or primary email address. The primary attribute value 'true' MUST appear no more than once."),
			},
		},
		&Attribute{
			Name:        "phoneNumbers",
			Type:        Complex,
			MultiValued: true,
			Description: "Phone numbers for the User. The value SHOULD be canonicalized by the service provider according to the format specified in RFC 3966, e.g., 'tel:+1-201-555-0123'. Canonical type values of 'work', 'home', 'mobile', 'fax', 'pager', and 'other'.",
			Mutability:  ReadWrite,
			Returned:    Default,
			Uniqueness:  None,
			SubAttributes: []*Attribute{
				text("value", "Phone number of the User."),
				display(ReadWrite),
				label("A label indicating the attribute's function, e.g., 'work', 'home', 'mobile'.", "work", "home", "mobile", "fax", "pager", "other"),
				primary("A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred phone number or primary phone number. The primary attribute value 'true' MUST appear no more than once."),
			},
		},
		&Attribute{
			Name:        "ims",
			Type:        Complex,
			MultiValued: true,
			Description: "Instant messaging addresses for the User.",
			Mutability:  ReadWrite,
			Returned:    Default,
			Uniqueness:  None,
			SubAttributes: []*Attribute{
				text("value", "Instant messaging address for the User."),
				display(ReadWrite),
				label("A label indicating the attribute's function, e.g., 'aim', 'gtalk', 'xmpp'.", "aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"),
				primary("A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred messenger or primary messenger. The primary attribute value 'true' MUST appear no more than once."),
			},
		},
		&Attribute{
			Name:        "photos",
			Type:        Complex,
			MultiValued: true,
			Description: "URLs of photos of the User.",
			Mutability:  ReadWrite,
			Returned:    Default,
			Uniqueness:  None,
			SubAttributes: []*Attribute{
				{
					Name:           "value",
					Type:           Reference,
					Description:    "URL of a photo of the User.",
					Mutability:     ReadWrite,
					Returned:       Default,
					Uniqueness:     None,
					ReferenceTypes: []string{"external"},
				},
				display(ReadWrite),
				label("A label indicating the attribute's function, i.e., 'photo' or 'thumbnail'.", "photo", "thumbnail"),
				primary("A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred photo or thumbnail. The primary attribute value 'true' MUST appear no more than once."),
			},
		},
		&Attribute{
			Name:        "addresses",
			Type:        Complex,
			MultiValued: true,
			Description: "A physical mailing address for this User. Canonical type values of 'work', 'home', and 'other'. This attribute is a complex type with the following sub-attributes.",
			Mutability:  ReadWrite,
			Returned:    Default,
			Uniqueness:  None,
			SubAttributes: []*Attribute{
				text("formatted", "The full mailing address, formatted for display or use with a mailing label. This attribute MAY contain newlines."),
				text("streetAddress", "The full street address component, which may include house number, street name, P.O. box, and multi-line extended street address information. This attribute MAY contain newlines."),
				text("locality", "The city or locality component."),
				text("region", "The state or region component."),
				text("postalCode", "The zip code or postal code component."),
				text("country", "The country name component."),
				label("A label indicating the attribute's function, e.g., 'work' or 'home'.", "work", "home", "other"),
				// Not in the RFC 7643 section 8.7.1 listing, which ends addresses at
				// "type"; an addition. Section 2.4 gives every multi-valued attribute a
				// "primary" sub-attribute, the section 8.2 example sends one on an
				// address, the "emails" primary description above speaks of "the
				// preferred mailing address", and identity providers send it.
				primary("A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred mailing address. The primary attribute value 'true' MUST appear no more than once."),
			},
		},
		&Attribute{
			// Derived from group memberships and owned by the service provider (RFC 7643
			// section 4.1.2): clients change them through the Group resource.
			Name:        "groups",
			Type:        Complex,
			MultiValued: true,
			Description: "A list of groups to which the user belongs, either through direct membership, through nested groups, or dynamically calculated.",
			Mutability:  ReadOnly,
			Returned:    Default,
			Uniqueness:  None,
			SubAttributes: []*Attribute{
				{
					Name:        "value",
					Type:        String,
					Description: "The identifier of the User's group.",
					Mutability:  ReadOnly,
					Returned:    Default,
					Uniqueness:  None,
				},
				{
					// Section 8.7.1 allows "User" as well as "Group" here although
					// the prose (section 4.1.2) speaks only of Group resources;
					// section 8.7.1 is followed.
					Name:           "$ref",
					Type:           Reference,
					Description:    "The URI of the corresponding 'Group' resource to which the user belongs.",
					Mutability:     ReadOnly,
					Returned:       Default,
					Uniqueness:     None,
					ReferenceTypes: []string{"User", "Group"},
				},
				display(ReadOnly),
				{
					Name:            "type",
					Type:            String,
					Description:     "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.",
					CanonicalValues: []string{"direct", "indirect"},
					Mutability:      ReadOnly,
					Returned:        Default,
					Uniqueness:      None,
				},
			},
		},
		&Attribute{
			Name:        "entitlements",
			Type:        Complex,
			MultiValued: true,
			Description: "A list of entitlements for the User that represent a thing the User has.",
			Mutability:  ReadWrite,
			Returned:    Default,
			Uniqueness:  None,
			SubAttributes: []*Attribute{
				text("value", "The value of an entitlement."),
				display(ReadWrite),
				label("A label indicating the attribute's function."),
				primary("A Boolean value indicating the 'primary' or preferred attribute value for this attribute. The primary attribute value 'true' MUST appear no more than once."),
			},
		},
		&Attribute{
			// Roster reads an org role from here (DESIGN section 5); section 8.7.1 defines
			// no canonical values, so none are advertised.
			Name:        "roles",
			Type:        Complex,
			MultiValued: true,
			Description: "A list of roles for the User that collectively represent who the User is, e.g., 'Student', 'Faculty'.",
			Mutability:  ReadWrite,
			Returned:    Default,
			Uniqueness:  None,
			SubAttributes: []*Attribute{
				text("value", "The value of a role."),
				display(ReadWrite),
				label("A label indicating the attribute's function."),
				primary("A Boolean value indicating the 'primary' or preferred attribute value for this attribute. The primary attribute value 'true' MUST appear no more than once."),
			},
		},
		&Attribute{
			Name:        "x509Certificates",
			Type:        Complex,
			MultiValued: true,
			Description: "A list of certificates issued to the User.",
			Mutability:  ReadWrite,
			Returned:    Default,
			Uniqueness:  None,
			SubAttributes: []*Attribute{
				{
					// Base64 of one DER-encoded certificate (RFC 7643 section 4.1.2).
					Name:        "value",
					Type:        Binary,
					Description: "The value of an X.509 certificate.",
					Mutability:  ReadWrite,
					Returned:    Default,
					Uniqueness:  None,
				},
				display(ReadWrite),
				label("A label indicating the attribute's function."),
				primary("A Boolean value indicating the 'primary' or preferred attribute value for this attribute. The primary attribute value 'true' MUST appear no more than once."),
			},
		},
	),
}

// text is a single-valued, optional, case-insensitive, read-write string attribute returned
// by default with no uniqueness: the characteristics RFC 7643 section 8.7.1 gives most
// simple attributes and sub-attributes.
func text(name, description string) *Attribute {
	return &Attribute{
		Name:        name,
		Type:        String,
		Description: description,
		Mutability:  ReadWrite,
		Returned:    Default,
		Uniqueness:  None,
	}
}

// display is the "display" sub-attribute of a multi-valued attribute (RFC 7643 section
// 2.4). Section 8.7.1 calls it READ-ONLY in every description yet gives it the mutability
// of its siblings (readWrite, or readOnly under "groups"); the mutability is followed.
func display(m Mutability) *Attribute {
	return &Attribute{
		Name:        "display",
		Type:        String,
		Description: "A human-readable name, primarily used for display purposes. READ-ONLY.",
		Mutability:  m,
		Returned:    Default,
		Uniqueness:  None,
	}
}

// label is the "type" sub-attribute of a multi-valued attribute (RFC 7643 section 2.4)
// with its canonical values, if any.
func label(description string, canonical ...string) *Attribute {
	a := text("type", description)
	a.CanonicalValues = canonical
	return a
}

// primary is the "primary" sub-attribute of a multi-valued attribute (RFC 7643 section
// 2.4): at most one value of the attribute may have it true.
func primary(description string) *Attribute {
	return &Attribute{
		Name:        "primary",
		Type:        Boolean,
		Description: description,
		Mutability:  ReadWrite,
		Returned:    Default,
		Uniqueness:  None,
	}
}
