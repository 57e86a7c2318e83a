package sqlstore

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/roster"
)

func TestUserSnapshotRendersAsEncodingJSONWould(t *testing.T) {
	for _, u := range []*roster.SCIMUser{
		{ID: "u1", DirectoryID: "d1", MemberID: "m1", UserName: "Ada@Example.com", ExternalID: "00u1", Active: true, Version: 3,
			Resource: json.RawMessage(`{"userName":"Ada@Example.com","name":{"givenName":"Ada \"the first\" <Lovelace>"}}`)},
		{ID: "u2", DirectoryID: "d1", UserName: "ünïcødé\u2028line\tsep", Active: false, Version: 1},
	} {
		want, err := json.Marshal(scimUserSnap{u})
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := json.Unmarshal(scimUserSnap{u}.snapshotJSON(), &a); err != nil {
			t.Fatalf("snapshotJSON of %s is not JSON: %v", u.ID, err)
		}
		_ = json.Unmarshal(want, &b)
		if diff := cmp.Diff(b, a); diff != "" {
			t.Errorf("snapshotJSON of %s differs from encoding/json's (-want +got):\n%s", u.ID, diff)
		}
	}
}
