package filter

import "testing"

func TestParsePrintsTheTreeItRead(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"an Okta userName lookup", `userName eq "bjensen"`, `userName eq "bjensen"`},
		{"presence and a comparison", `title pr and userType eq "Employee"`, `(title pr and userType eq "Employee")`},
		{"operators and keywords in any case", `userName EQ "x" AND active Eq true`, `(userName eq "x" and active eq true)`},
		{"and binds tighter than or", `a eq 1 or b eq 2 and c eq 3`, `(a eq 1 or (b eq 2 and c eq 3))`},
		{"parentheses group", `userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
			`(userType eq "Employee" and (emails co "example.com" or emails.value co "example.org"))`},
		{"not with a group", `userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
			`(userType ne "Employee" and not ((emails co "example.com" or emails.value co "example.org")))`},
		{"value filters", `emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
			`(emails[(type eq "work" and value co "@example.com")] or ims[(type eq "xmpp" and value co "@foo.com")])`},
		{"dates compare as strings", `meta.lastModified gt "2011-05-13T04:42:34Z"`, `meta.lastModified gt "2011-05-13T04:42:34Z"`},
		{"schema-qualified attributes", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`,
			`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`},
		{"schemas eq a URN", `schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, `schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`},
		{"JSON escapes", `displayName eq "a\"b\\c\u00e9\ud83d\ude00"`, `displayName eq "a\"b\\cé😀"`},
		{"numbers, booleans and null", `x eq -1.5e3 or y eq FALSE or z eq null`, `((x eq -1.5e3 or y eq false) or z eq null)`},
		{"an unquoted value where unambiguous", `userName eq Test_User_1a2b`, `userName eq "Test_User_1a2b"`},
		{"members by value", `members[value eq "2819c223"]`, `members[value eq "2819c223"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if got := e.String(); got != tc.want {
				t.Errorf("Parse(%q) = %s, want %s", tc.in, got, tc.want)
			}
			again, err := Parse(e.String())
			if err != nil || again.String() != e.String() {
				t.Errorf("the printed form does not parse back: %v", err)
			}
		})
	}
}

func TestParseRefusesBadFiltersSayingWhere(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		pos      int
	}{
		{"an unknown operator", `userName equals "x"`, 9},
		{"a missing value", `userName eq`, 11},
		{"an unterminated string", `userName eq "x`, 12},
		{"an unclosed group", `(userName eq "x"`, 16},
		{"an unclosed value filter", `emails[type eq "work"`, 21},
		{"a dangling and", `userName eq "x" and`, 19},
		{"nested value filters", `emails[type[value eq "x"] eq "y"]`, 26},
		{"single quotes", `userName eq 'x'`, 12},
		{"an empty filter", `  `, 0},
		{"a bad escape", `userName eq "\q"`, 13},
		{"trailing garbage", `userName eq "x" )`, 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.in)
			fe, ok := err.(*Error)
			if !ok {
				t.Fatalf("Parse(%q) = %v, want an *Error", tc.in, err)
			}
			if fe.Pos != tc.pos {
				t.Errorf("Parse(%q) error at %d (%v), want %d", tc.in, fe.Pos, err, tc.pos)
			}
		})
	}
}

func TestParsePathReadsEveryPatchTarget(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`members[value eq "2819c223-7f76-453a-919d-413861904646"]`, `members[value eq "2819c223-7f76-453a-919d-413861904646"]`},
		{`emails[type eq "work"].value`, `emails[type eq "work"].value`},
		{`name.givenName`, `name.givenName`},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`},
		{`addresses[type eq "work"].streetAddress`, `addresses[type eq "work"].streetAddress`},
	} {
		p, err := ParsePath(tc.in)
		if err != nil {
			t.Fatalf("ParsePath(%q): %v", tc.in, err)
		}
		if p.String() != tc.want {
			t.Errorf("ParsePath(%q) = %s", tc.in, p)
		}
	}
	p, _ := ParsePath(`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`)
	if p.Attr.URN != "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" || p.Attr.Name != "manager" || p.Attr.Sub != "value" {
		t.Errorf("URN path split as %+v", p.Attr)
	}
	for _, bad := range []string{"", "emails[", "emails[type eq \"work\"]x", "name..x", "emails[type eq \"work\"].", "1abc"} {
		if _, err := ParsePath(bad); err == nil {
			t.Errorf("ParsePath(%q) succeeded", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`userName eq "bjensen"`, `title pr and userType eq "Employee"`,
		`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp"]`, `not (a eq 1)`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`, `a eq "\ud83d\ude00"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(e.String())
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, e.String(), err)
		}
		if again.String() != e.String() {
			t.Fatalf("round trip changed %q into %q", e.String(), again.String())
		}
	})
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{`members[value eq "x"]`, `emails[type eq "work"].value`, `name.givenName`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			return
		}
		if _, err := ParsePath(p.String()); err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, p.String(), err)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := Parse(`userName eq "lg-run-12345@example.com"`); err != nil {
			b.Fatal(err)
		}
	}
}
