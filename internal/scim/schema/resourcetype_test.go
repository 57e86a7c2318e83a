package schema

import "testing"

func TestResolve(t *testing.T) {
	const enterprise = EnterpriseUserSchema
	tests := []struct {
		name           string
		rt             *ResourceType
		urn, attr, sub string
		wantURN        string
		wantAttr       string
		wantSub        string // "" for none
		wantOK         bool
	}{
		{"an unqualified core attribute resolves to the core schema", UserResource, "", "userName", "", UserSchema, "userName", "", true},
		{"attribute names are case-insensitive", UserResource, "", "USERNAME", "", UserSchema, "userName", "", true},
		{"a sub-attribute given separately resolves", UserResource, "", "name", "givenName", UserSchema, "name", "givenName", true},
		{"a dotted name resolves to its sub-attribute", UserResource, "", "name.givenName", "", UserSchema, "name", "givenName", true},
		{"a sub-attribute of a multi-valued attribute resolves", UserResource, "", "emails.value", "", UserSchema, "emails", "value", true},
		{"sub-attribute names are case-insensitive", UserResource, "", "Emails", "VALUE", UserSchema, "emails", "value", true},
		{"a URN-qualified extension path resolves to the extension", UserResource, "", enterprise + ":manager.value", "", enterprise, "manager", "value", true},
		{"a URN given separately resolves", UserResource, enterprise, "manager", "value", enterprise, "manager", "value", true},
		{"a URN-qualified core attribute resolves", UserResource, "", UserSchema + ":userName", "", UserSchema, "userName", "", true},
		{"the URN prefix is case-insensitive", UserResource, "", "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:username", "", UserSchema, "userName", "", true},
		{"an unqualified extension attribute resolves to the extension", UserResource, "", "employeeNumber", "", enterprise, "employeeNumber", "", true},
		{"the common attribute id resolves to the core schema", UserResource, "", "id", "", UserSchema, "id", "", true},
		{"a meta sub-attribute resolves", UserResource, "", "meta.lastModified", "", UserSchema, "meta", "lastModified", true},
		{"a Group's members.value resolves", GroupResource, "", "members.value", "", GroupSchema, "members", "value", true},
		{"an unknown attribute does not resolve", UserResource, "", "shoeSize", "", "", "", "", false},
		{"an unknown sub-attribute does not resolve", UserResource, "", "name.nickname", "", "", "", "", false},
		{"a sub-attribute of a simple attribute does not resolve", UserResource, "", "userName.value", "", "", "", "", false},
		{"a core attribute under the extension URN does not resolve", UserResource, enterprise, "userName", "", "", "", "", false},
		{"an extension attribute on a Group does not resolve", GroupResource, "", "employeeNumber", "", "", "", "", false},
		{"a schema the resource type lacks does not resolve", GroupResource, "", UserSchema + ":userName", "", "", "", "", false},
		{"a bare extension URN names no attribute", UserResource, "", enterprise, "", "", "", "", false},
		{"an empty name does not resolve", UserResource, "", "", "", "", "", "", false},
		{"a dotted name with a sub-attribute as well does not resolve", UserResource, "", enterprise + ":manager.value", "displayName", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			urn, attr, sub, ok := tt.rt.Resolve(tt.urn, tt.attr, tt.sub)
			if ok != tt.wantOK {
				t.Fatalf("Resolve(%q, %q, %q) ok = %v, want %v", tt.urn, tt.attr, tt.sub, ok, tt.wantOK)
			}
			if !ok {
				if urn != "" || attr != nil || sub != nil {
					t.Errorf("a failed Resolve returned %q, %v, %v", urn, attr, sub)
				}
				return
			}
			if urn != tt.wantURN {
				t.Errorf("schema = %q, want %q", urn, tt.wantURN)
			}
			if attr == nil || attr.Name != tt.wantAttr {
				t.Errorf("attribute = %v, want %q", attr, tt.wantAttr)
			}
			switch {
			case tt.wantSub == "" && sub != nil:
				t.Errorf("sub-attribute = %q, want none", sub.Name)
			case tt.wantSub != "" && (sub == nil || sub.Name != tt.wantSub):
				t.Errorf("sub-attribute = %v, want %q", sub, tt.wantSub)
			}
		})
	}
}

func TestResolvePathAgreesWithResolve(t *testing.T) {
	for _, path := range []string{"userName", "name.givenName", EnterpriseUserSchema + ":manager.value", UserSchema + ":emails.type", "nope"} {
		u1, a1, s1, ok1 := UserResource.ResolvePath(path)
		u2, a2, s2, ok2 := UserResource.Resolve("", path, "")
		if u1 != u2 || a1 != a2 || s1 != s2 || ok1 != ok2 {
			t.Errorf("ResolvePath(%q) and Resolve(\"\", %q, \"\") disagree", path, path)
		}
	}
}

func TestSplitPath(t *testing.T) {
	tests := []struct {
		name, path, urn, attr, sub string
	}{
		{"a plain name", "userName", "", "userName", ""},
		{"a dotted name", "name.givenName", "", "name", "givenName"},
		{"a known URN whose version has a dot", EnterpriseUserSchema + ":manager.value", EnterpriseUserSchema, "manager", "value"},
		{"a known URN in another case keeps its case", "urn:ietf:params:scim:schemas:core:2.0:user:userName", "urn:ietf:params:scim:schemas:core:2.0:user", "userName", ""},
		{"a bare known URN", EnterpriseUserSchema, EnterpriseUserSchema, "", ""},
		{"an unknown URN splits at the last colon", "urn:example:params:1.0:Thing:size.width", "urn:example:params:1.0:Thing", "size", "width"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			urn, attr, sub := SplitPath(tt.path)
			if urn != tt.urn || attr != tt.attr || sub != tt.sub {
				t.Errorf("SplitPath(%q) = %q, %q, %q; want %q, %q, %q", tt.path, urn, attr, sub, tt.urn, tt.attr, tt.sub)
			}
		})
	}
}

func TestResourceTypeSchemasListCoreThenExtensions(t *testing.T) {
	got := UserResource.Schemas()
	if len(got) != 2 || got[0] != User || got[1] != EnterpriseUser {
		t.Errorf("User resource schemas = %v, want User then EnterpriseUser", got)
	}
	if got := GroupResource.Schemas(); len(got) != 1 || got[0] != Group {
		t.Errorf("Group resource schemas = %v, want Group", got)
	}
}
