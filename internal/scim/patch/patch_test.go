package patch

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/scim/schema"
)

func doc(s string) map[string]any {
	var m map[string]any
	d := json.NewDecoder(stringsReader(s))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		panic(err)
	}
	return m
}

func TestApplyDoesWhatRFC7644AndTheIdentityProvidersExpect(t *testing.T) {
	base := `{"id":"u1","userName":"ada","active":true,"name":{"givenName":"Ada","familyName":"Lovelace"},
		"emails":[{"value":"ada@work","type":"work","primary":true},{"value":"ada@home","type":"home"}]}`
	for _, tc := range []struct {
		name, ops, want string
		touched         []string
	}{
		{"replace without a path sets each attribute (Okta deactivation)",
			`[{"op":"replace","value":{"active":false}}]`,
			`{"id":"u1","userName":"ada","active":false,"name":{"givenName":"Ada","familyName":"Lovelace"},"emails":[{"value":"ada@work","type":"work","primary":true},{"value":"ada@home","type":"home"}]}`,
			[]string{"active"}},
		{"dotted keys inside a value without a path are paths (Entra ID)",
			`[{"op":"add","value":{"name.givenName":"Augusta","title":"Countess"}}]`,
			`{"id":"u1","userName":"ada","active":true,"title":"Countess","name":{"givenName":"Augusta","familyName":"Lovelace"},"emails":[{"value":"ada@work","type":"work","primary":true},{"value":"ada@home","type":"home"}]}`,
			[]string{"name", "title"}},
		{"a value-filter path with a sub-attribute sets it on the match",
			`[{"op":"replace","path":"emails[type eq \"work\"].value","value":"a.l@work"}]`,
			`{"id":"u1","userName":"ada","active":true,"name":{"givenName":"Ada","familyName":"Lovelace"},"emails":[{"value":"a.l@work","type":"work","primary":true},{"value":"ada@home","type":"home"}]}`,
			[]string{"emails"}},
		{"a value-filter path that matches nothing creates the element it names",
			`[{"op":"add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1 555"}]`,
			`{"id":"u1","userName":"ada","active":true,"name":{"givenName":"Ada","familyName":"Lovelace"},"emails":[{"value":"ada@work","type":"work","primary":true},{"value":"ada@home","type":"home"}],"phoneNumbers":[{"type":"mobile","value":"+1 555"}]}`,
			[]string{"phonenumbers"}},
		{"remove with a filter removes the matching elements",
			`[{"op":"remove","path":"emails[type eq \"home\"]"}]`,
			`{"id":"u1","userName":"ada","active":true,"name":{"givenName":"Ada","familyName":"Lovelace"},"emails":[{"value":"ada@work","type":"work","primary":true}]}`,
			[]string{"emails"}},
		{"adding a primary element clears the primary of the others",
			`[{"op":"add","path":"emails","value":[{"value":"new@x","primary":true}]}]`,
			`{"id":"u1","userName":"ada","active":true,"name":{"givenName":"Ada","familyName":"Lovelace"},"emails":[{"value":"ada@work","type":"work","primary":false},{"value":"ada@home","type":"home"},{"value":"new@x","primary":true}]}`,
			[]string{"emails"}},
		{"adding a value that is there already adds nothing",
			`[{"op":"add","path":"emails","value":[{"value":"ada@home","type":"home"}]}]`,
			`{"id":"u1","userName":"ada","active":true,"name":{"givenName":"Ada","familyName":"Lovelace"},"emails":[{"value":"ada@work","type":"work","primary":true},{"value":"ada@home","type":"home"}]}`,
			[]string{"emails"}},
		{"the enterprise manager is set by its URN path and removed again",
			`[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m1"},
			  {"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"R&D"},
			  {"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]`,
			`{"id":"u1","userName":"ada","active":true,"name":{"givenName":"Ada","familyName":"Lovelace"},"emails":[{"value":"ada@work","type":"work","primary":true},{"value":"ada@home","type":"home"}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"}}`,
			[]string{"manager", "department"}},
		{"an id equal to the resource's own is ignored (Okta sends it)",
			`[{"op":"replace","value":{"id":"u1","userName":"ada2"}}]`,
			`{"id":"u1","userName":"ada2","active":true,"name":{"givenName":"Ada","familyName":"Lovelace"},"emails":[{"value":"ada@work","type":"work","primary":true},{"value":"ada@home","type":"home"}]}`,
			[]string{"username"}},
		{"unknown attributes are ignored",
			`[{"op":"replace","path":"favouriteColour","value":"blue"}]`,
			base, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops, err := Decode([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":` + tc.ops + `}`))
			if err != nil {
				t.Fatal(err)
			}
			d := doc(base)
			touched, err := Apply(schema.UserResource, d, ops)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if diff := cmp.Diff(doc(tc.want), d); diff != "" {
				t.Errorf("document (-want +got):\n%s", diff)
			}
			for _, k := range tc.touched {
				if !touched[k] {
					t.Errorf("%q not reported as touched: %v", k, touched)
				}
			}
		})
	}
}

func TestApplyIsAtomicAndRefusesWhatIsUnsafe(t *testing.T) {
	for _, tc := range []struct{ name, ops, scimType string }{
		{"changing the id", `[{"op":"replace","value":{"id":"other"}}]`, "mutability"},
		{"changing meta by path", `[{"op":"replace","path":"meta.created","value":"x"}]`, "mutability"},
		{"a bad path", `[{"op":"replace","path":"emails[type eq","value":"x"}]`, "invalidPath"},
		{"a value filter on a single-valued attribute", `[{"op":"replace","path":"userName[value eq \"x\"]","value":"x"}]`, "invalidPath"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops, err := Decode([]byte(`{"Operations":[{"op":"replace","path":"active","value":false},` + tc.ops[1:] + `}`))
			if err != nil {
				t.Fatal(err)
			}
			d := doc(`{"id":"u1","userName":"ada","active":true}`)
			_, err = Apply(schema.UserResource, d, ops)
			pe, ok := err.(*Error)
			if !ok || pe.ScimType != tc.scimType {
				t.Fatalf("err = %v, want scimType %s", err, tc.scimType)
			}
			if d["active"] != true {
				t.Errorf("a failed PATCH changed the document: %v", d)
			}
		})
	}
}

func TestDecodeRefusesMalformedRequests(t *testing.T) {
	for _, body := range []string{
		`{}`, `[]`, `{"Operations":[]}`,
		`{"schemas":["urn:wrong"],"Operations":[{"op":"add","path":"x","value":1}]}`,
		`{"Operations":[{"op":"merge","path":"x","value":1}]}`,
		`{"Operations":[{"op":"remove"}]}`,
		`{"Operations":[{"op":"add","path":"x"}]}`,
	} {
		if _, err := Decode([]byte(body)); err == nil {
			t.Errorf("Decode(%s) succeeded", body)
		}
	}
	ops, err := Decode([]byte(`{"Operations":[{"op":"Replace","path":"active","value":"False"}]}`))
	if err != nil || ops[0].Op != "replace" {
		t.Errorf("an op name in another case: %v %v", ops, err)
	}
}

func TestSplitMembersTakesOutEveryMemberChange(t *testing.T) {
	ops, err := Decode([]byte(`{"Operations":[
		{"op":"add","path":"members","value":[{"value":"u1","display":"Ada"},"u2"]},
		{"op":"remove","path":"members[value eq \"u3\" or value eq \"u4\"]"},
		{"op":"Remove","path":"members","value":[{"value":"u5"}]},
		{"op":"replace","value":{"displayName":"Eng","members":[{"value":"u6"}]}},
		{"op":"remove","path":"members"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	actions, rest, err := SplitMembers(ops)
	if err != nil {
		t.Fatal(err)
	}
	want := []MemberAction{
		{Kind: "add", Members: []Member{{Value: "u1", Display: "Ada"}, {Value: "u2"}}},
		{Kind: "remove", Members: []Member{{Value: "u3"}, {Value: "u4"}}},
		{Kind: "remove", Members: []Member{{Value: "u5"}}},
		{Kind: "replaceAll", Members: []Member{{Value: "u6"}}},
		{Kind: "removeAll"},
	}
	if diff := cmp.Diff(want, actions); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	if len(rest) != 1 || rest[0].Value.(map[string]any)["displayName"] != "Eng" {
		t.Errorf("rest = %+v, want the displayName change alone", rest)
	}
}
