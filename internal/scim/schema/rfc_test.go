package schema

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the current output")

// exampleBase is the public base URL the golden documents are rendered with.
const exampleBase = "https://roster.example.com"

// The golden files hold the discovery documents exactly as served; a change to a definition
// shows up as a reviewable diff of them. Regenerate with: go test ./internal/scim/schema -update
func TestDiscoveryDocumentsMatchTheirGoldenFiles(t *testing.T) {
	tests := []struct {
		name string
		file string
		doc  any
	}{
		{"the Schemas document", "schemas.golden.json", SchemasDocument(exampleBase)},
		{"the ResourceTypes document", "resourcetypes.golden.json", ResourceTypesDocument(exampleBase)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.MarshalIndent(tt.doc, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(decode(t, want), decode(t, got)); diff != "" {
				t.Errorf("%s differs from %s (-golden +got); if the change is intended, run with -update:\n%s", tt.name, path, diff)
			}
		})
	}
}

// rfcAttribute is an attribute definition as RFC 7643 section 8.7.1 writes it: a
// characteristic the listing leaves out is nil, so the default can be applied explicitly.
type rfcAttribute struct {
	Name            string         `json:"name"`
	Type            *string        `json:"type"`
	MultiValued     *bool          `json:"multiValued"`
	Description     string         `json:"description"`
	Required        *bool          `json:"required"`
	CanonicalValues []string       `json:"canonicalValues"`
	CaseExact       *bool          `json:"caseExact"`
	Mutability      *string        `json:"mutability"`
	Returned        *string        `json:"returned"`
	Uniqueness      *string        `json:"uniqueness"`
	ReferenceTypes  []string       `json:"referenceTypes"`
	SubAttributes   []rfcAttribute `json:"subAttributes"`
}

type rfcSchema struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Attributes  []rfcAttribute `json:"attributes"`
}

// characteristics is an attribute with every characteristic of RFC 7643 section 2.2 made
// explicit, for comparing the RFC listing with what Roster serves.
type characteristics struct {
	Name            string
	Type            string
	MultiValued     bool
	Description     string
	Required        bool
	CanonicalValues []string
	CaseExact       bool
	Mutability      string
	Returned        string
	Uniqueness      string
	ReferenceTypes  []string
	SubAttributes   []characteristics
}

// explicit applies the defaults of RFC 7643 section 2.2 ("If not otherwise stated ...") to
// the characteristics a listing leaves out. Descriptions are compared with their white
// space collapsed: the RFC's lines wrap inside JSON strings.
func explicit(a rfcAttribute) characteristics {
	str := func(p *string, def string) string {
		if p == nil {
			return def
		}
		return *p
	}
	boolean := func(p *bool) bool { return p != nil && *p }
	c := characteristics{
		Name:            a.Name,
		Type:            str(a.Type, "string"),
		MultiValued:     boolean(a.MultiValued),
		Description:     strings.Join(strings.Fields(a.Description), " "),
		Required:        boolean(a.Required),
		CanonicalValues: a.CanonicalValues,
		CaseExact:       boolean(a.CaseExact),
		Mutability:      str(a.Mutability, "readWrite"),
		Returned:        str(a.Returned, "default"),
		Uniqueness:      str(a.Uniqueness, "none"),
		ReferenceTypes:  a.ReferenceTypes,
	}
	if len(c.CanonicalValues) == 0 {
		c.CanonicalValues = nil // "canonicalValues": [] is "none assigned"
	}
	if len(c.ReferenceTypes) == 0 {
		c.ReferenceTypes = nil
	}
	for _, s := range a.SubAttributes {
		c.SubAttributes = append(c.SubAttributes, explicit(s))
	}
	return c
}

// additions are the sub-attributes Roster serves beyond the RFC 7643 section 8.7.1 listing,
// each explained where it is defined. Nothing else may differ from the listing.
var additions = map[string]bool{
	UserSchema + ":addresses.primary": true,
	GroupSchema + ":members.display":  true,
}

// withoutAdditions drops the additions from a served schema's attributes, failing the test
// if one of them is missing (so this list cannot go stale).
func withoutAdditions(t *testing.T, schemaID string, attrs []characteristics) []characteristics {
	t.Helper()
	var out []characteristics
	for _, a := range attrs {
		var subs []characteristics
		for _, s := range a.SubAttributes {
			if additions[schemaID+":"+a.Name+"."+s.Name] {
				continue
			}
			subs = append(subs, s)
		}
		a.SubAttributes = subs
		out = append(out, a)
	}
	return out
}

// TestSchemasFollowRFC7643Section871 compares every attribute and sub-attribute of the RFC
// 7643 section 8.7.1 listing, transcribed in testdata/rfc7643-8.7.1.json (never rewritten
// by -update), with the Schemas document, characteristic by characteristic and in order.
func TestSchemasFollowRFC7643Section871(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "rfc7643-8.7.1.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rfc []rfcSchema
	if err := json.Unmarshal(raw, &rfc); err != nil {
		t.Fatal(err)
	}
	served, err := json.Marshal(SchemasDocument(exampleBase))
	if err != nil {
		t.Fatal(err)
	}
	var ours []rfcSchema
	if err := json.Unmarshal(served, &ours); err != nil {
		t.Fatal(err)
	}
	if len(ours) != len(rfc) {
		t.Fatalf("the Schemas document has %d schemas, RFC 7643 section 8.7.1 lists %d", len(ours), len(rfc))
	}
	for i, want := range rfc {
		got := ours[i]
		t.Run(want.Name, func(t *testing.T) {
			if got.ID != want.ID || got.Name != want.Name || got.Description != want.Description {
				t.Errorf("schema %d is %q %q %q, RFC lists %q %q %q", i, got.ID, got.Name, got.Description, want.ID, want.Name, want.Description)
			}
			var w, g []characteristics
			for _, a := range want.Attributes {
				w = append(w, explicit(a))
			}
			for _, a := range got.Attributes {
				g = append(g, explicit(a))
			}
			g = withoutAdditions(t, got.ID, g)
			if diff := cmp.Diff(w, g); diff != "" {
				t.Errorf("%s differs from RFC 7643 section 8.7.1 (-rfc +served):\n%s", want.ID, diff)
			}
		})
	}
	for path := range additions {
		urn, name, sub := SplitPath(path)
		if Lookup(urn).Attr(name).Sub(sub) == nil {
			t.Errorf("the addition %s is not defined any more: remove it from the list", path)
		}
	}
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not valid JSON: %v", err)
	}
	return v
}
