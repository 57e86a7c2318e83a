package storetest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// The organization API's storage: projects, project keys, memberships, the last-OWNER guard.
func init() {
	cases = append(cases, []storeCase{
		{"a project reads back and pages by cursor and by offset in creation order", projectPaging},
		{"project names are unique per organization, case-insensitively, and free in another", projectUnique},
		{"org B never sees nor changes org A's projects, project keys and memberships", isolationOrgAPI},
		{"a project key is found by its public key until deleted, and an expiry is never extended", projectKeyLifecycle},
		{"deleting a project takes its keys and memberships with it", projectDeleteCascades},
		{"a batch of role changes writes one audit record per change and refuses to leave no OWNER", orgRolesBatch},
		{"members page by cursor and offset over live members only", memberPaging},
		{"a member update is a compare-and-swap on the member as read, its role included", memberUpdateCAS},
		{"a project key's last use is recorded and never moves back", projectKeyLastUsed},
	}...)
}

func createProject(t *testing.T, s store.Store, orgID, name string) roster.Project {
	t.Helper()
	p := &roster.Project{OrgID: orgID, Name: name, Metadata: []byte(`{"k":"v"}`)}
	tx(t, s, func(tx store.Tx) error { return tx.CreateProject(t.Context(), p) })
	return *p
}

func createMember(t *testing.T, s store.Store, orgID, email string, role roster.Role) roster.Member {
	t.Helper()
	m := &roster.Member{OrgID: orgID, Email: email, Role: role}
	tx(t, s, func(tx store.Tx) error { return tx.CreateMember(t.Context(), m) })
	return *m
}

func projectKey(orgID, projectID string) *roster.APIKey {
	secret := "sk-" + rand.Text()
	return &roster.APIKey{OrgID: orgID, ProjectID: projectID, PublicKey: "pk-" + rand.Text(), SecretHash: sha(secret),
		DisplaySecretKey: "sk-..." + secret[len(secret)-4:]}
}

func projectPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "Projects")
	var want []string
	for i := range 5 {
		want = append(want, createProject(t, s, org.ID, fmt.Sprintf("P%d", i)).ID)
	}
	got, err := s.GetProject(ctx, org.ID, want[0])
	if err != nil || got.Name != "P0" || string(got.Metadata) != `{"k":"v"}` {
		t.Fatalf("GetProject = %+v, %v", got, err)
	}
	var paged []string
	after := ""
	for {
		page, next, err := s.ListProjects(ctx, org.ID, store.ListPage{After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, ids(page, func(p roster.Project) string { return p.ID })...)
		if next == "" {
			break
		}
		after = next
	}
	if diff := cmp.Diff(want, paged); diff != "" {
		t.Errorf("paged by cursor (-want +got):\n%s", diff)
	}
	page, _, err := s.ListProjects(ctx, org.ID, store.ListPage{Offset: 4, Limit: 2})
	if err != nil || len(page) != 1 || page[0].ID != want[4] {
		t.Errorf("offset 4 = %v, %v; want [%s]", page, err, want[4])
	}
	if n, err := s.CountProjects(ctx, org.ID); n != 5 || err != nil {
		t.Errorf("CountProjects = %d, %v", n, err)
	}
}

func projectUnique(t *testing.T, s store.Store) {
	a, b := createOrg(t, s, "A"), createOrg(t, s, "B")
	createProject(t, s, a.ID, "Checkout")
	err := s.Tx(t.Context(), testActor, func(tx store.Tx) error {
		return tx.CreateProject(t.Context(), &roster.Project{OrgID: a.ID, Name: "CHECKOUT"})
	})
	wantErr(t, err, store.ErrConflict, "a second project named CHECKOUT")
	createProject(t, s, b.ID, "Checkout")
}

func isolationOrgAPI(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := createOrg(t, s, "A"), createOrg(t, s, "B")
	pa := createProject(t, s, a.ID, "Secret project")
	k := projectKey(a.ID, pa.ID)
	tx(t, s, func(tx store.Tx) error { return tx.CreateProjectKey(ctx, k) })
	m := createMember(t, s, a.ID, "ada@a.example", roster.RoleMember)
	if _, err := s.GetProject(ctx, b.ID, pa.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetProject(org B, project of A) = %v; want NotFound", err)
	}
	if list, _, _ := s.ListProjects(ctx, b.ID, store.ListPage{}); len(list) != 0 {
		t.Errorf("ListProjects(org B) = %v", list)
	}
	if _, err := s.GetProjectKey(ctx, b.ID, pa.ID, k.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetProjectKey(org B) = %v; want NotFound", err)
	}
	if list, _ := s.ListProjectKeys(ctx, b.ID, pa.ID); len(list) != 0 {
		t.Errorf("ListProjectKeys(org B) = %v", list)
	}
	if list, _, _ := s.ListMembers(ctx, b.ID, store.ListPage{}); len(list) != 0 {
		t.Errorf("ListMembers(org B) = %v", list)
	}
	if got, _ := s.MembersByID(ctx, b.ID, []string{m.ID}); len(got) != 0 {
		t.Errorf("MembersByID(org B) = %v", got)
	}
	err := s.Tx(ctx, testActor, func(tx store.Tx) error {
		return tx.UpdateProject(ctx, &roster.Project{ID: pa.ID, OrgID: b.ID, Name: "Hijacked"})
	})
	wantErr(t, err, store.ErrNotFound, "org B renaming A's project")
	err = s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.DeleteProject(ctx, b.ID, pa.ID) })
	wantErr(t, err, store.ErrNotFound, "org B deleting A's project")
	err = s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.DeleteProjectKey(ctx, b.ID, pa.ID, k.ID) })
	wantErr(t, err, store.ErrNotFound, "org B deleting A's project key")
	err = s.Tx(ctx, testActor, func(tx store.Tx) error {
		return tx.SetOrgRoles(ctx, b.ID, []store.RoleChange{{Before: &m, Role: roster.RoleAdmin}})
	})
	wantErr(t, err, store.ErrNotFound, "org B changing A's member")
	if got, err := s.GetProject(ctx, a.ID, pa.ID); err != nil || got.Name != "Secret project" {
		t.Errorf("A's project after B's attempts: %+v, %v", got, err)
	}
}

func projectKeyLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "Keys")
	p := createProject(t, s, org.ID, "P")
	k := projectKey(org.ID, p.ID)
	tx(t, s, func(tx store.Tx) error { return tx.CreateProjectKey(ctx, k) })
	got, err := s.LookupProjectKey(ctx, k.PublicKey)
	if err != nil || got.ID != k.ID || got.ProjectID != p.ID || !cmp.Equal(got.SecretHash, k.SecretHash) {
		t.Fatalf("LookupProjectKey = %+v, %v", got, err)
	}
	soon := now().Add(time.Hour)
	tx(t, s, func(tx store.Tx) error { return tx.ExpireProjectKey(ctx, org.ID, p.ID, k.ID, soon) })
	tx(t, s, func(tx store.Tx) error { return tx.ExpireProjectKey(ctx, org.ID, p.ID, k.ID, soon.Add(day)) })
	got, _ = s.GetProjectKey(ctx, org.ID, p.ID, k.ID)
	if got.ExpiresAt == nil || !got.ExpiresAt.Equal(soon) {
		t.Errorf("expiry %v after a later one was asked, want %v kept", got.ExpiresAt, soon)
	}
	tx(t, s, func(tx store.Tx) error { return tx.DeleteProjectKey(ctx, org.ID, p.ID, k.ID) })
	if _, err := s.LookupProjectKey(ctx, k.PublicKey); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a deleted key is found: %v", err)
	}
}

func projectDeleteCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "Cascade")
	p := createProject(t, s, org.ID, "Doomed")
	k := projectKey(org.ID, p.ID)
	tx(t, s, func(tx store.Tx) error { return tx.CreateProjectKey(ctx, k) })
	m := createMember(t, s, org.ID, "m@x.example", roster.RoleMember)
	tx(t, s, func(tx store.Tx) error {
		return tx.SetProjectRoles(ctx, org.ID, []store.ProjectRoleChange{{ProjectID: p.ID, Member: &m, Role: roster.RoleAdmin, Source: roster.SourceAPI}})
	})
	if pm, err := s.MemberProjects(ctx, org.ID, m.ID); err != nil || len(pm) != 1 || pm[0].Role != roster.RoleAdmin {
		t.Fatalf("MemberProjects = %v, %v", pm, err)
	}
	tx(t, s, func(tx store.Tx) error { return tx.DeleteProject(ctx, org.ID, p.ID) })
	if _, err := s.LookupProjectKey(ctx, k.PublicKey); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the key of a deleted project is found: %v", err)
	}
	if pm, _ := s.MemberProjects(ctx, org.ID, m.ID); len(pm) != 0 {
		t.Errorf("memberships of a deleted project remain: %v", pm)
	}
}

func orgRolesBatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "Roles")
	owner := createMember(t, s, org.ID, "owner@x.example", roster.RoleOwner)
	var changes []store.RoleChange
	for i := range 3 {
		m := createMember(t, s, org.ID, fmt.Sprintf("m%d@x.example", i), roster.RoleNone)
		changes = append(changes, store.RoleChange{Before: &m, Role: roster.RoleViewer})
	}
	before := len(allAudit(t, s, org.ID, store.AuditFilter{Action: "membership.role_changed"}))
	tx(t, s, func(tx store.Tx) error { return tx.SetOrgRoles(ctx, org.ID, changes) })
	if n := len(allAudit(t, s, org.ID, store.AuditFilter{Action: "membership.role_changed"})) - before; n != 3 {
		t.Errorf("%d audit records for 3 role changes", n)
	}
	for _, c := range changes {
		if m, _ := s.GetMember(ctx, org.ID, c.Before.ID); m.Role != roster.RoleViewer {
			t.Errorf("member %s has %s", m.ID, m.Role)
		}
	}
	// One member named twice in a batch gets the higher role, once.
	dup, _ := s.GetMember(ctx, org.ID, changes[1].Before.ID)
	tx(t, s, func(tx store.Tx) error {
		return tx.SetOrgRoles(ctx, org.ID, []store.RoleChange{{Before: dup, Role: roster.RoleAdmin}, {Before: dup, Role: roster.RoleMember}})
	})
	if m, _ := s.GetMember(ctx, org.ID, dup.ID); m.Role != roster.RoleAdmin {
		t.Errorf("a member named twice has %s, want the higher ADMIN", m.Role)
	}
	// Demoting the only OWNER together with another change: refused whole.
	m0, _ := s.GetMember(ctx, org.ID, changes[0].Before.ID)
	err := s.Tx(ctx, testActor, func(tx store.Tx) error {
		return tx.SetOrgRoles(ctx, org.ID, []store.RoleChange{{Before: m0, Role: roster.RoleAdmin}, {Before: &owner, Role: roster.RoleAdmin}})
	})
	if !errors.Is(err, roster.ErrLastOwner) || roster.KindOf(err) != roster.Conflict {
		t.Fatalf("demoting the last owner: %v; want a Conflict wrapping ErrLastOwner", err)
	}
	if m, _ := s.GetMember(ctx, org.ID, m0.ID); m.Role != roster.RoleViewer {
		t.Errorf("a refused batch changed a role to %s", m.Role)
	}
	err = s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.DeleteMember(ctx, org.ID, owner.ID) })
	if !errors.Is(err, roster.ErrLastOwner) {
		t.Errorf("deleting the last owner: %v; want ErrLastOwner", err)
	}
	// With a second owner, one may go.
	second := createMember(t, s, org.ID, "owner2@x.example", roster.RoleOwner)
	tx(t, s, func(tx store.Tx) error { return tx.SetOrgRole(ctx, org.ID, owner.ID, roster.RoleAdmin) })
	err = s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.SetOrgRole(ctx, org.ID, second.ID, roster.RoleAdmin) })
	if !errors.Is(err, roster.ErrLastOwner) {
		t.Errorf("demoting the remaining owner: %v; want ErrLastOwner", err)
	}
}

func memberPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "Members")
	var want []string
	for i := range 7 {
		want = append(want, createMember(t, s, org.ID, fmt.Sprintf("p%d@x.example", i), roster.RoleMember).ID)
	}
	tx(t, s, func(tx store.Tx) error { return tx.DeleteMember(ctx, org.ID, want[3]) })
	want = append(want[:3], want[4:]...)
	var paged []string
	after := ""
	for {
		page, next, err := s.ListMembers(ctx, org.ID, store.ListPage{After: after, Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, ids(page, func(m roster.Member) string { return m.ID })...)
		if next == "" {
			break
		}
		after = next
	}
	if diff := cmp.Diff(want, paged); diff != "" {
		t.Errorf("paged by cursor (-want +got):\n%s", diff)
	}
	page, _, err := s.ListMembers(ctx, org.ID, store.ListPage{Offset: 4, Limit: 4})
	if err != nil || !cmp.Equal(ids(page, func(m roster.Member) string { return m.ID }), want[4:]) {
		t.Errorf("offset 4 = %v, %v; want %v", page, err, want[4:])
	}
	if page, _, _ := s.ListMembers(ctx, org.ID, store.ListPage{Offset: 40, Limit: 4}); len(page) != 0 {
		t.Errorf("an offset past the end gave %v", page)
	}
	if n, err := s.CountMembers(ctx, org.ID); n != 6 || err != nil {
		t.Errorf("CountMembers = %d, %v; want 6", n, err)
	}
}

func projectKeyLastUsed(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "Used")
	p := createProject(t, s, org.ID, "P")
	k := projectKey(org.ID, p.ID)
	tx(t, s, func(tx store.Tx) error { return tx.CreateProjectKey(ctx, k) })
	at := now()
	for _, when := range []time.Time{at, at.Add(-time.Hour)} {
		if err := s.TouchLastUsed(ctx, []store.Use{{Kind: store.ProjectKeyCredential, ID: k.ID, At: when}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GetProjectKey(ctx, org.ID, p.ID, k.ID)
	if err != nil || got.LastUsedAt == nil || !got.LastUsedAt.Equal(at) {
		t.Errorf("lastUsedAt %v, %v; want %v", got.LastUsedAt, err, at)
	}
	if got, err := s.LookupProjectKey(ctx, k.PublicKey); err != nil || got.LastUsedAt == nil || !got.LastUsedAt.Equal(at) {
		t.Errorf("looked up, lastUsedAt %v, %v; want %v", got.LastUsedAt, err, at)
	}
}

func memberUpdateCAS(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "CAS")
	read := createMember(t, s, org.ID, "ann@example.com", roster.RoleMember)
	update := func(cur roster.Member, name string) error {
		next := cur
		next.Name = name
		return s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.UpdateMember(ctx, &cur, &next) })
	}
	// Another change lands between the read and the update: the name, then the role.
	if err := update(read, "Ann by the admin"); err != nil {
		t.Fatal(err)
	}
	if err := update(read, "Ann by SCIM"); !errors.Is(err, store.ErrMemberChanged) || !errors.Is(err, store.ErrStale) {
		t.Errorf("updating a member whose name moved since the read = %v, want ErrMemberChanged (stale)", err)
	}
	fresh, err := s.GetMember(ctx, org.ID, read.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Name != "Ann by the admin" {
		t.Errorf("after the refused update the name is %q, want the admin's", fresh.Name)
	}
	tx(t, s, func(tx store.Tx) error { return tx.SetOrgRole(ctx, org.ID, read.ID, roster.RoleAdmin) })
	if err := update(*fresh, "Ann again"); !errors.Is(err, store.ErrMemberChanged) {
		t.Errorf("updating a member whose role moved since the read = %v, want ErrMemberChanged", err)
	}
	// Read again, it goes through, email change included.
	fresh, err = s.GetMember(ctx, org.ID, read.ID)
	if err != nil {
		t.Fatal(err)
	}
	next := *fresh
	next.Name, next.Email = "Ann Again", "ann.again@example.com"
	tx(t, s, func(tx store.Tx) error { return tx.UpdateMember(ctx, fresh, &next) })
	if got, err := s.GetMember(ctx, org.ID, read.ID); err != nil || got.Name != "Ann Again" || got.Email != "ann.again@example.com" || got.Role != roster.RoleAdmin {
		t.Errorf("after the update from a fresh read the member is %+v, %v; want Ann Again, ann.again@example.com, ADMIN", got, err)
	}
	// A member that is gone is NotFound, not a change.
	gone := *fresh
	gone.ID = roster.NewID()
	if err := update(gone, "Nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("updating a member that does not exist = %v, want NotFound", err)
	}
}
