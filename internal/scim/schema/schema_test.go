package schema

import (
	"strings"
	"testing"
)

// walk calls f for every attribute of s, with its dotted path and parent (nil at top level).
func walk(s *Schema, f func(path string, a, parent *Attribute)) {
	for _, a := range s.Attributes {
		f(a.Name, a, nil)
		for _, sa := range a.SubAttributes {
			f(a.Name+"."+sa.Name, sa, a)
		}
	}
}

func TestEveryCharacteristicIsSetAndValid(t *testing.T) {
	types := map[Type]bool{String: true, Boolean: true, Decimal: true, Integer: true, DateTime: true, Binary: true, Reference: true, Complex: true}
	mutabilities := map[Mutability]bool{ReadOnly: true, ReadWrite: true, Immutable: true, WriteOnly: true}
	returned := map[Returned]bool{Always: true, Never: true, Default: true, Request: true}
	uniqueness := map[Uniqueness]bool{None: true, Server: true, Global: true}
	for _, s := range []*Schema{User, Group, EnterpriseUser} {
		walk(s, func(path string, a, parent *Attribute) {
			where := s.Name + ":" + path
			if !types[a.Type] || !mutabilities[a.Mutability] || !returned[a.Returned] || !uniqueness[a.Uniqueness] {
				t.Errorf("%s has an unset or unknown characteristic: %+v", where, *a)
			}
			if a.Description == "" {
				t.Errorf("%s has no description", where)
			}
			if (a.Type == Complex) != (len(a.SubAttributes) > 0) {
				t.Errorf("%s: only complex attributes have sub-attributes, and they all do (RFC 7643 section 2.3.8)", where)
			}
			if parent != nil && a.Type == Complex {
				t.Errorf("%s: a sub-attribute cannot be complex (RFC 7643 section 2.3.8)", where)
			}
			if (a.Type == Reference) != (len(a.ReferenceTypes) > 0) {
				t.Errorf("%s: reference attributes, and only they, list referenceTypes (RFC 7643 section 7)", where)
			}
			if len(a.CanonicalValues) > 0 && a.Type != String {
				t.Errorf("%s: canonical values on a %s attribute", where, a.Type)
			}
		})
	}
}

func TestNamesAreUniqueIgnoringCase(t *testing.T) {
	check := func(where string, attrs []*Attribute) {
		seen := map[string]bool{}
		for _, a := range attrs {
			k := strings.ToLower(a.Name)
			if seen[k] {
				t.Errorf("%s defines %q twice", where, a.Name)
			}
			seen[k] = true
		}
	}
	for _, s := range []*Schema{User, Group, EnterpriseUser} {
		check(s.Name, s.Attributes)
		for _, a := range s.Attributes {
			check(s.Name+":"+a.Name, a.SubAttributes)
		}
	}
}

func TestAttrAndSubIgnoreCase(t *testing.T) {
	tests := []struct {
		name string
		got  *Attribute
		want string
	}{
		{"User.Attr finds userName in another case", User.Attr("USERNAME"), "userName"},
		{"User.Attr finds x509Certificates in lower case", User.Attr("x509certificates"), "x509Certificates"},
		{"Sub finds name.givenName in another case", User.Attr("name").Sub("GIVENNAME"), "givenName"},
		{"Sub finds groups.$ref", User.Attr("groups").Sub("$REF"), "$ref"},
		{"Group.Attr finds members", Group.Attr("Members"), "members"},
		{"EnterpriseUser.Attr finds manager.displayName", EnterpriseUser.Attr("manager").Sub("displayname"), "displayName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got == nil || tt.got.Name != tt.want {
				t.Errorf("got %v, want %q", tt.got, tt.want)
			}
		})
	}
	if User.Attr("shoeSize") != nil || User.Attr("name").Sub("shoeSize") != nil {
		t.Error("an unknown name resolved")
	}
	var none *Attribute
	if none.Sub("value") != nil {
		t.Error("Sub on a nil attribute returned something")
	}
}

func TestCommonAttributesFollowRFC7643Section31(t *testing.T) {
	for _, s := range []*Schema{User, Group} {
		id := s.Attr("id")
		if id == nil || id.Returned != Always || id.Mutability != ReadOnly || !id.CaseExact || id.Uniqueness != Server {
			t.Errorf("%s id = %+v, want returned always, readOnly, caseExact, uniqueness server", s.Name, id)
		}
		ext := s.Attr("externalId")
		if ext == nil || !ext.CaseExact || ext.Mutability != ReadWrite {
			t.Errorf("%s externalId = %+v, want caseExact, readWrite", s.Name, ext)
		}
		m := s.Attr("meta")
		if m == nil || m.Type != Complex || m.Mutability != ReadOnly {
			t.Fatalf("%s meta = %+v, want a readOnly complex attribute", s.Name, m)
		}
		for _, sub := range []string{"resourceType", "created", "lastModified", "location", "version"} {
			if a := m.Sub(sub); a == nil || a.Mutability != ReadOnly {
				t.Errorf("%s meta.%s = %+v, want a readOnly sub-attribute", s.Name, sub, a)
			}
		}
		for _, a := range s.Attributes[:3] {
			if !IsCommon(a) {
				t.Errorf("%s: %s heads the list but is not common", s.Name, a.Name)
			}
		}
		for _, a := range s.Attributes[3:] {
			if IsCommon(a) {
				t.Errorf("%s: %s is marked common", s.Name, a.Name)
			}
		}
	}
	if EnterpriseUser.Attr("id") != nil {
		t.Error("an extension schema has the common attribute id")
	}
}

func TestCharacteristicsTheServerReliesOn(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"userName is required, server-unique and case-insensitive", User.Attr("userName").Required && User.Attr("userName").Uniqueness == Server && !User.Attr("userName").CaseExact},
		{"password is write-only and never returned", User.Attr("password").Mutability == WriteOnly && User.Attr("password").Returned == Never},
		{"active is a boolean", User.Attr("active").Type == Boolean},
		{"groups is read-only", User.Attr("groups").Mutability == ReadOnly && User.Attr("groups").Sub("value").Mutability == ReadOnly},
		{"groups.type is direct or indirect", strings.Join(User.Attr("groups").Sub("type").CanonicalValues, ",") == "direct,indirect"},
		{"x509Certificates.value is binary", User.Attr("x509Certificates").Sub("value").Type == Binary},
		{"members.value is immutable", Group.Attr("members").Sub("value").Mutability == Immutable},
		{"members.type is User or Group", strings.Join(Group.Attr("members").Sub("type").CanonicalValues, ",") == "User,Group"},
		{"manager.displayName is read-only", EnterpriseUser.Attr("manager").Sub("displayName").Mutability == ReadOnly},
		{"manager is single-valued", !EnterpriseUser.Attr("manager").MultiValued},
	}
	for _, tt := range tests {
		if !tt.ok {
			t.Error(tt.name + ": not so")
		}
	}
}

func TestLookupIgnoresCase(t *testing.T) {
	if Lookup(strings.ToUpper(EnterpriseUserSchema)) != EnterpriseUser {
		t.Error("Lookup of the upper-cased enterprise URN failed")
	}
	if Lookup("urn:example:nothing") != nil {
		t.Error("Lookup of an unknown URN found something")
	}
	if LookupResourceType("user") != UserResource || LookupResourceType("Device") != nil {
		t.Error("LookupResourceType is wrong")
	}
}
