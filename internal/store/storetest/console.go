package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// The console's storage: members' credentials, one-time links and the members listing.
func init() {
	cases = append(cases, []storeCase{
		{"a password and a TOTP seed read back, and no secret reaches the audit log", credentialsReadBack},
		{"a TOTP time step is accepted once and never an earlier one", totpStepOnce},
		{"sign-in finds a person's live memberships in every organization, by email", loginMembers},
		{"a member link is found by its token hash, used once, and not after it expires", memberLinkOnce},
		{"org B never sees nor changes org A's credentials, links and members", isolationConsole},
		{"members are searched by email or name, filtered by role, status and source, and paged", searchMembers},
		{"an org key's expiry is brought forward by a rotation, never pushed back, and not by org B", orgKeyExpiry},
	}...)
}

func credentialsReadBack(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "Creds")
	m := createMember(t, s, org.ID, "ada@creds.example", roster.RoleOwner)
	c, err := s.GetCredentials(ctx, org.ID, m.ID)
	if err != nil || c.HasPassword() || c.TOTPEnabled {
		t.Fatalf("GetCredentials before any = %+v, %v; want empty credentials", c, err)
	}
	tx(t, s, func(tx store.Tx) error {
		return tx.SetPassword(ctx, org.ID, m.ID, "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA")
	})
	tx(t, s, func(tx store.Tx) error { return tx.SetTOTP(ctx, org.ID, m.ID, "v1:k:ciphertext", true) })
	c, err = s.GetCredentials(ctx, org.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := roster.Credentials{OrgID: org.ID, MemberID: m.ID, PasswordHash: "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA",
		TOTPSecret: "v1:k:ciphertext", TOTPEnabled: true}
	if diff := cmp.Diff(want, *c, cmpIgnoreUpdated); diff != "" {
		t.Errorf("credentials (-want +got):\n%s", diff)
	}
	tx(t, s, func(tx store.Tx) error { return tx.SetPassword(ctx, org.ID, m.ID, "$argon2id$second") })
	if c, _ := s.GetCredentials(ctx, org.ID, m.ID); c.PasswordHash != "$argon2id$second" || !c.TOTPEnabled {
		t.Errorf("after a second SetPassword: %+v; want the new hash and TOTP kept", c)
	}
	tx(t, s, func(tx store.Tx) error { return tx.SetTOTP(ctx, org.ID, m.ID, "", false) })
	if c, _ := s.GetCredentials(ctx, org.ID, m.ID); c.TOTPSecret != "" || c.TOTPEnabled || c.PasswordHash == "" {
		t.Errorf("after turning TOTP off: %+v; want no seed and the password kept", c)
	}
	recs := allAudit(t, s, org.ID, store.AuditFilter{TargetID: m.ID})
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Action)
		if strings.Contains(string(r.Before)+string(r.After), "argon2id") || strings.Contains(string(r.Before)+string(r.After), "ciphertext") {
			t.Errorf("audit record %s carries a secret: before %s after %s", r.Action, r.Before, r.After)
		}
	}
	for _, a := range []string{"member.password_set", "member.totp_enabled", "member.totp_disabled"} {
		if !contains(actions, a) {
			t.Errorf("audit actions %v lack %s", actions, a)
		}
	}
	err = s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.SetPassword(ctx, org.ID, roster.NewID(), "$argon2id$x") })
	wantErr(t, err, store.ErrNotFound, "SetPassword of an unknown member")
}

var cmpIgnoreUpdated = cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "UpdatedAt" }, cmp.Ignore())

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func totpStepOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "TOTP")
	m := createMember(t, s, org.ID, "ada@totp.example", roster.RoleMember)
	tx(t, s, func(tx store.Tx) error { return tx.SetTOTP(ctx, org.ID, m.ID, "v1:k:seed", true) })
	tx(t, s, func(tx store.Tx) error { return tx.UseTOTPStep(ctx, org.ID, m.ID, 1000) })
	for _, step := range []int64{1000, 999} {
		err := s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.UseTOTPStep(ctx, org.ID, m.ID, step) })
		wantErr(t, err, store.ErrStale, "step %d after step 1000", step)
	}
	tx(t, s, func(tx store.Tx) error { return tx.UseTOTPStep(ctx, org.ID, m.ID, 1001) })
	if c, _ := s.GetCredentials(ctx, org.ID, m.ID); c.TOTPLastStep != 1001 {
		t.Errorf("TOTPLastStep = %d; want 1001", c.TOTPLastStep)
	}
}

func loginMembers(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b, c := createOrg(t, s, "Zeta Corp"), createOrg(t, s, "Alpha Inc"), createOrg(t, s, "Other")
	ma := createMember(t, s, a.ID, "Grace@Login.example", roster.RoleOwner)
	mb := createMember(t, s, b.ID, "grace@login.example", roster.RoleViewer)
	mc := createMember(t, s, c.ID, "grace@login.example", roster.RoleMember)
	createMember(t, s, c.ID, "someone@login.example", roster.RoleMember)
	tx(t, s, func(tx store.Tx) error { return tx.DeleteMember(ctx, c.ID, mc.ID) })
	got, err := s.LoginMembers(ctx, " GRACE@login.example ")
	if err != nil {
		t.Fatal(err)
	}
	var names, members []string
	for _, lm := range got {
		names = append(names, lm.OrgName)
		members = append(members, lm.Member.ID)
		if lm.Member.OrgID == "" || lm.Member.Role == "" {
			t.Errorf("login member %+v lacks its organization or role", lm.Member)
		}
	}
	if diff := cmp.Diff([]string{"Alpha Inc", "Zeta Corp"}, names); diff != "" {
		t.Errorf("organizations (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{mb.ID, ma.ID}, members); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if got, err := s.LoginMembers(ctx, "nobody@login.example"); err != nil || len(got) != 0 {
		t.Errorf("LoginMembers(unknown) = %v, %v; want none", got, err)
	}
}

func newLink(orgID, memberID string, kind roster.LinkKind, expires time.Time) *roster.MemberLink {
	return &roster.MemberLink{OrgID: orgID, MemberID: memberID, Kind: kind, CreatedBy: testActor, ExpiresAt: expires,
		Hash: sha(roster.NewID())}
}

func memberLinkOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "Links")
	m := createMember(t, s, org.ID, "new@links.example", roster.RoleMember)
	l := newLink(org.ID, m.ID, roster.LinkInvitation, now().Add(day))
	tx(t, s, func(tx store.Tx) error { return tx.CreateMemberLink(ctx, l) })
	if l.ID == "" || l.CreatedAt.IsZero() {
		t.Fatalf("CreateMemberLink left id %q, createdAt %v", l.ID, l.CreatedAt)
	}
	got, err := s.LookupMemberLink(ctx, l.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*l, *got); diff != "" {
		t.Errorf("looked-up link (-want +got):\n%s", diff)
	}
	if list, err := s.ListMemberLinks(ctx, org.ID, now()); err != nil || len(list) != 1 || list[0].ID != l.ID {
		t.Errorf("ListMemberLinks = %v, %v; want the link", list, err)
	}
	tx(t, s, func(tx store.Tx) error { return tx.UseMemberLink(ctx, org.ID, l.ID, now()) })
	err = s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.UseMemberLink(ctx, org.ID, l.ID, now()) })
	wantErr(t, err, store.ErrStale, "a second use of a link")
	if got, _ := s.LookupMemberLink(ctx, l.Hash); got == nil || got.UsedAt == nil || got.Usable(now()) {
		t.Errorf("a used link reads back as %+v; want UsedAt set", got)
	}
	if list, _ := s.ListMemberLinks(ctx, org.ID, now()); len(list) != 0 {
		t.Errorf("ListMemberLinks after use = %v; want none", list)
	}

	old := newLink(org.ID, m.ID, roster.LinkPasswordReset, now().Add(time.Minute))
	tx(t, s, func(tx store.Tx) error { return tx.CreateMemberLink(ctx, old) })
	err = s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.UseMemberLink(ctx, org.ID, old.ID, now().Add(2*time.Minute)) })
	wantErr(t, err, store.ErrStale, "using an expired link")

	revoked := newLink(org.ID, m.ID, roster.LinkPasswordReset, now().Add(day))
	tx(t, s, func(tx store.Tx) error { return tx.CreateMemberLink(ctx, revoked) })
	tx(t, s, func(tx store.Tx) error { return tx.RevokeMemberLink(ctx, org.ID, revoked.ID) })
	if _, err := s.LookupMemberLink(ctx, revoked.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a revoked link: %v; want NotFound", err)
	}
	if _, err := s.LookupMemberLink(ctx, sha("unknown")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an unknown hash: %v; want NotFound", err)
	}
	recs := allAudit(t, s, org.ID, store.AuditFilter{TargetType: "member_link"})
	if len(recs) != 5 {
		t.Errorf("%d member_link audit records; want 5 (3 created, 1 used, 1 revoked)", len(recs))
	}
}

func isolationConsole(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := createOrg(t, s, "A"), createOrg(t, s, "B")
	m := createMember(t, s, a.ID, "ada@iso.example", roster.RoleOwner)
	tx(t, s, func(tx store.Tx) error { return tx.SetPassword(ctx, a.ID, m.ID, "$argon2id$a") })
	l := newLink(a.ID, m.ID, roster.LinkPasswordReset, now().Add(day))
	tx(t, s, func(tx store.Tx) error { return tx.CreateMemberLink(ctx, l) })

	if c, err := s.GetCredentials(ctx, b.ID, m.ID); err == nil && c.HasPassword() {
		t.Errorf("GetCredentials(org B, member of A) = %+v; want no password", c)
	}
	for name, write := range map[string]func(tx store.Tx) error{
		"SetPassword":      func(tx store.Tx) error { return tx.SetPassword(ctx, b.ID, m.ID, "$argon2id$b") },
		"SetTOTP":          func(tx store.Tx) error { return tx.SetTOTP(ctx, b.ID, m.ID, "v1:b", true) },
		"UseTOTPStep":      func(tx store.Tx) error { return tx.UseTOTPStep(ctx, b.ID, m.ID, 5) },
		"UseMemberLink":    func(tx store.Tx) error { return tx.UseMemberLink(ctx, b.ID, l.ID, now()) },
		"RevokeMemberLink": func(tx store.Tx) error { return tx.RevokeMemberLink(ctx, b.ID, l.ID) },
		"CreateMemberLink": func(tx store.Tx) error {
			return tx.CreateMemberLink(ctx, newLink(b.ID, m.ID, roster.LinkInvitation, now().Add(day)))
		},
	} {
		if err := s.Tx(ctx, testActor, write); err == nil {
			t.Errorf("%s by org B on org A's member succeeded", name)
		}
	}
	if c, _ := s.GetCredentials(ctx, a.ID, m.ID); c.PasswordHash != "$argon2id$a" || c.TOTPEnabled {
		t.Errorf("org A's credentials changed through org B: %+v", c)
	}
	if got, err := s.LookupMemberLink(ctx, l.Hash); err != nil || got.UsedAt != nil || got.OrgID != a.ID {
		t.Errorf("org A's link after org B's attempts: %+v, %v", got, err)
	}
	if list, _ := s.ListMemberLinks(ctx, b.ID, now()); len(list) != 0 {
		t.Errorf("ListMemberLinks(org B) = %v", list)
	}
	if rows, _, _ := s.SearchMembers(ctx, b.ID, store.MemberFilter{}); len(rows) != 0 {
		t.Errorf("SearchMembers(org B) = %v", rows)
	}
}

func searchMembers(t *testing.T, s store.Store) {
	ctx := t.Context()
	org := createOrg(t, s, "Search")
	d, _ := createDir(t, s, roster.Directory{OrgID: org.ID, Name: "Okta", Enabled: true}, nil)
	var all []string
	for i := range 6 {
		role := roster.RoleMember
		if i%2 == 1 {
			role = roster.RoleViewer
		}
		all = append(all, createMember(t, s, org.ID, fmt.Sprintf("user%d@search.example", i), role).ID)
	}
	prov := &roster.Member{OrgID: org.ID, Email: "linus@search.example", Name: "Linus Torvalds", Role: roster.RoleAdmin}
	tx(t, s, func(tx store.Tx) error {
		if err := tx.CreateMember(ctx, prov); err != nil {
			return err
		}
		return tx.CreateSCIMUser(ctx, &roster.SCIMUser{OrgID: org.ID, DirectoryID: d.ID, MemberID: prov.ID,
			UserName: "linus", Active: true, Email: prov.Email, Resource: []byte(`{}`)})
	})
	all = append(all, prov.ID)
	cur, _ := s.GetMember(ctx, org.ID, all[0])
	next := *cur
	next.Status = roster.MemberSuspended
	tx(t, s, func(tx store.Tx) error { return tx.UpdateMember(ctx, cur, &next) })
	tx(t, s, func(tx store.Tx) error { return tx.DeleteMember(ctx, org.ID, all[5]) })
	live := append(append([]string{}, all[:5]...), all[6])

	page := func(f store.MemberFilter) []string {
		t.Helper()
		var out []string
		for {
			rows, next, err := s.SearchMembers(ctx, org.ID, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				out = append(out, r.ID)
			}
			if next == "" {
				return out
			}
			f.After = next
		}
	}
	for _, c := range []struct {
		name string
		f    store.MemberFilter
		want []string
	}{
		{"no filter pages over live members", store.MemberFilter{Limit: 2}, live},
		{"a search matches a substring of the email, case-insensitively", store.MemberFilter{Search: "USER3", Limit: 2}, all[3:4]},
		{"a search matches a substring of the name", store.MemberFilter{Search: "torv", Limit: 2}, all[6:]},
		{"a role filter", store.MemberFilter{Role: roster.RoleViewer, Limit: 1}, []string{all[1], all[3]}},
		{"a status filter", store.MemberFilter{Status: roster.MemberSuspended}, all[:1]},
		{"SCIM-provisioned members", store.MemberFilter{Source: "scim"}, all[6:]},
		{"manual members", store.MemberFilter{Source: "manual", Limit: 3}, all[:5]},
		{"a search with % matches no wildcard", store.MemberFilter{Search: "%"}, nil},
	} {
		if diff := cmp.Diff(c.want, page(c.f)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
	rows, _, err := s.SearchMembers(ctx, org.ID, store.MemberFilter{Source: "scim"})
	if err != nil || len(rows) != 1 {
		t.Fatalf("SearchMembers(scim) = %v, %v", rows, err)
	}
	r := rows[0]
	if r.DirectoryID != d.ID || r.DirectoryName != "Okta" || r.Role != roster.RoleAdmin || r.Name != "Linus Torvalds" || r.ChangedAt.IsZero() {
		t.Errorf("provisioned row = %+v; want directory %s (Okta), role ADMIN, a change time", r, d.ID)
	}
}

func orgKeyExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := createOrg(t, s, "A"), createOrg(t, s, "B")
	k := createKey(t, s, a.ID, nil)
	at := now().Add(time.Hour)
	tx(t, s, func(tx store.Tx) error { return tx.ExpireOrgKey(ctx, a.ID, k.ID, at) })
	got, err := s.GetOrgKey(ctx, a.ID, k.ID)
	if err != nil || got.ExpiresAt == nil || !got.ExpiresAt.Equal(at) {
		t.Fatalf("after ExpireOrgKey: %+v, %v; want expiry %v", got, err, at)
	}
	tx(t, s, func(tx store.Tx) error { return tx.ExpireOrgKey(ctx, a.ID, k.ID, at.Add(time.Hour)) })
	if got, _ := s.GetOrgKey(ctx, a.ID, k.ID); !got.ExpiresAt.Equal(at) {
		t.Errorf("a later expiry replaced an earlier one: %v", got.ExpiresAt)
	}
	err = s.Tx(ctx, testActor, func(tx store.Tx) error { return tx.ExpireOrgKey(ctx, b.ID, k.ID, now()) })
	wantErr(t, err, store.ErrNotFound, "org B expiring org A's key")
	if got, _ := s.GetOrgKey(ctx, a.ID, k.ID); !got.ExpiresAt.Equal(at) {
		t.Errorf("org B changed org A's key: %v", got.ExpiresAt)
	}
	if recs := allAudit(t, s, a.ID, store.AuditFilter{Action: "api_key.expiry_set"}); len(recs) != 1 {
		t.Errorf("%d api_key.expiry_set records; want 1", len(recs))
	}
}
