package scim

import (
	"encoding/json"
	"testing"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/scim/patch"
	"github.com/rosterhq/roster/internal/scim/schema"
)

// FuzzUserDecoder feeds arbitrary bodies to the User decoder: it must never panic, and what
// it accepts must be a document that encodes and has a userName.
func FuzzUserDecoder(f *testing.F) {
	for _, s := range []string{
		`{"userName":"a","active":"True","emails":[{"value":"a@b","primary":true},{"value":"c","primary":"true"}]}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x","name":{"givenName":1}}`,
		`{"userName":"x","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"id","employeeNumber":7}}`,
		`{"USERNAME":"x","Emails":"a@b","roles":["MEMBER"],"groups":[{"value":"g"}],"id":"forged","meta":{}}`,
		`[]`, `null`, `{"userName":null}`, `{"userName":"x","x509Certificates":[{"value":"AAAA"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := decodeDoc(body)
		if err != nil {
			return
		}
		nd, err := normalize(schema.UserResource, d)
		if err != nil {
			return
		}
		u := &roster.SCIMUser{}
		if err := userFields(nd, u); err != nil {
			return
		}
		if u.UserName == "" {
			t.Fatal("accepted a user without userName")
		}
		if _, err := json.Marshal(nd); err != nil {
			t.Fatalf("accepted a document that does not encode: %v", err)
		}
		if _, ok := nd["id"]; ok {
			t.Fatal("a client-sent id survived normalization")
		}
	})
}

// FuzzPatch feeds arbitrary PATCH bodies to a user: never a panic, and an accepted result is
// a document that normalizes or is refused with a SCIM error.
func FuzzPatch(f *testing.F) {
	for _, s := range []string{
		`{"Operations":[{"op":"replace","value":{"active":false}}]}`,
		`{"Operations":[{"op":"Add","path":"emails[type eq \"work\"].value","value":"x@y"}]}`,
		`{"Operations":[{"op":"remove","path":"members[value eq \"1\"]"}]}`,
		`{"Operations":[{"op":"add","value":{"name.givenName":"A","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager":"m"}}]}`,
		`{"Operations":[{"op":"replace","path":"emails","value":[{"value":"a","primary":true},{"value":"b","primary":true}]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ops, err := patch.Decode(body)
		if err != nil {
			return
		}
		doc := map[string]any{"id": "u1", "userName": "a", "active": true,
			"emails": []any{map[string]any{"value": "a@b", "type": "work", "primary": true}}}
		if _, err := patch.Apply(schema.UserResource, doc, ops); err != nil {
			return
		}
		if _, err := json.Marshal(doc); err != nil {
			t.Fatalf("a patched document does not encode: %v", err)
		}
		_, _ = normalize(schema.UserResource, doc)
		_, _, _ = patch.SplitMembers(ops)
	})
}
