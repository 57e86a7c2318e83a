package schema

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// roundTrip marshals v and decodes it again as generic JSON, failing on invalid JSON.
func roundTrip(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not a JSON object: %v", err)
	}
	return m
}

func TestSchemasDocument(t *testing.T) {
	for _, base := range []string{"https://id.example.com", "https://id.example.com/"} {
		docs := SchemasDocument(base)
		var ids []string
		for _, d := range docs {
			m := roundTrip(t, d)
			id, _ := m["id"].(string)
			ids = append(ids, id)
			if diff := cmp.Diff([]any{SchemaSchema}, m["schemas"]); diff != "" {
				t.Errorf("%s schemas (-want +got):\n%s", id, diff)
			}
			want := map[string]any{"resourceType": "Schema", "location": "https://id.example.com/scim/v2/Schemas/" + id}
			if diff := cmp.Diff(want, m["meta"]); diff != "" {
				t.Errorf("base %q: %s meta (-want +got):\n%s", base, id, diff)
			}
			for _, key := range []string{"name", "description", "attributes"} {
				if m[key] == nil {
					t.Errorf("%s has no %s", id, key)
				}
			}
			for _, a := range m["attributes"].([]any) {
				switch name := a.(map[string]any)["name"]; name {
				case "id", "externalId", "meta":
					t.Errorf("%s lists the common attribute %s, which RFC 7643 section 8.7.1 leaves out", id, name)
				}
			}
		}
		if diff := cmp.Diff([]string{UserSchema, GroupSchema, EnterpriseUserSchema}, ids); diff != "" {
			t.Errorf("schema ids (-want +got):\n%s", diff)
		}
	}
}

func TestSchemaDocument(t *testing.T) {
	tests := []struct {
		name, id string
		wantID   string
		wantOK   bool
	}{
		{"the User schema", UserSchema, UserSchema, true},
		{"the enterprise extension by an upper-cased URN", strings.ToUpper(EnterpriseUserSchema), EnterpriseUserSchema, true},
		{"an unknown schema", "urn:example:nothing", "", false},
		{"a resource type name is not a schema id", "User", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := SchemaDocument(tt.id, "https://id.example.com")
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				return
			}
			if got := roundTrip(t, d)["id"]; got != tt.wantID {
				t.Errorf("id = %v, want %s", got, tt.wantID)
			}
		})
	}
}

func TestResourceTypesDocument(t *testing.T) {
	docs := ResourceTypesDocument("https://id.example.com/")
	if len(docs) != 2 {
		t.Fatalf("%d resource types, want 2", len(docs))
	}
	want := []map[string]any{
		{
			"schemas":          []any{ResourceTypeSchema},
			"id":               "User",
			"name":             "User",
			"endpoint":         "/Users",
			"description":      "User Account",
			"schema":           UserSchema,
			"schemaExtensions": []any{map[string]any{"schema": EnterpriseUserSchema, "required": false}},
			"meta":             map[string]any{"resourceType": "ResourceType", "location": "https://id.example.com/scim/v2/ResourceTypes/User"},
		},
		{
			"schemas":          []any{ResourceTypeSchema},
			"id":               "Group",
			"name":             "Group",
			"endpoint":         "/Groups",
			"description":      "Group",
			"schema":           GroupSchema,
			"schemaExtensions": []any{},
			"meta":             map[string]any{"resourceType": "ResourceType", "location": "https://id.example.com/scim/v2/ResourceTypes/Group"},
		},
	}
	for i, d := range docs {
		if diff := cmp.Diff(want[i], roundTrip(t, d)); diff != "" {
			t.Errorf("resource type %d (-want +got):\n%s", i, diff)
		}
	}
}

func TestResourceTypeDocument(t *testing.T) {
	d, ok := ResourceTypeDocument("group", "https://id.example.com")
	if !ok || roundTrip(t, d)["endpoint"] != "/Groups" {
		t.Errorf("ResourceTypeDocument(group) = %v, %v", d, ok)
	}
	if _, ok := ResourceTypeDocument("Device", "https://id.example.com"); ok {
		t.Error("an unknown resource type was found")
	}
}

func TestDocumentsDoNotShareTheDefinitions(t *testing.T) {
	d, _ := SchemaDocument(UserSchema, "https://id.example.com")
	doc := d.(schemaDoc)
	var emails *Attribute
	for _, a := range doc.Attributes {
		if a.Name == "emails" {
			emails = a
		}
	}
	if emails == nil {
		t.Fatal("the User document has no emails")
	}
	emails.SubAttributes[2].CanonicalValues[0] = "changed"
	emails.Mutability = ReadOnly
	if User.Attr("emails").Sub("type").CanonicalValues[0] != "work" || User.Attr("emails").Mutability != ReadWrite {
		t.Error("changing a document changed the definitions")
	}
	rt, _ := ResourceTypeDocument("User", "https://id.example.com")
	rt.(resourceTypeDoc).SchemaExtensions[0].Required = true
	if UserResource.Extensions[0].Required {
		t.Error("changing a document changed the User resource type")
	}
}
