package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/scim/schema"
)

// doc is a decoded SCIM resource. Numbers stay json.Number so nothing is rounded.
type doc = map[string]any

// decodeDoc parses a request body as one JSON object.
func decodeDoc(body []byte) (doc, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var d doc
	if err := dec.Decode(&d); err != nil {
		if err == io.EOF {
			return nil, invalidSyntax("the request body is empty: a JSON object is required")
		}
		return nil, invalidSyntax("the request body is not a JSON object: " + jsonErrText(err))
	}
	if dec.More() {
		return nil, invalidSyntax("the request body has data after the JSON object")
	}
	if d == nil {
		return nil, invalidSyntax("the request body must be a JSON object, not null")
	}
	return d, nil
}

func jsonErrText(err error) string {
	var se *json.SyntaxError
	if e, ok := err.(*json.SyntaxError); ok {
		se = e
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	if e, ok := err.(*json.UnmarshalTypeError); ok {
		return "expected a JSON object, found " + e.Value
	}
	return err.Error()
}

// schemaOf returns the schema a top-level key belongs to for rt: the core schema, or an
// extension whose URN the key is (case-insensitive).
func extensionFor(rt *schema.ResourceType, key string) *schema.Schema {
	for _, ext := range rt.Extensions {
		if strings.EqualFold(ext.Schema, key) {
			return schemaByID(ext.Schema)
		}
	}
	return nil
}

func schemaByID(id string) *schema.Schema {
	for _, s := range []*schema.Schema{schema.User, schema.Group, schema.EnterpriseUser} {
		if strings.EqualFold(s.ID, id) {
			return s
		}
	}
	return nil
}

func coreSchema(rt *schema.ResourceType) *schema.Schema { return schemaByID(rt.Schema) }

// normalize turns a client's resource into its stored form, by the schema: attribute names
// in their canonical case, values coerced to their types where identity providers deviate
// harmlessly (Entra ID's "True"/"False", a single value where a list is expected), null and
// unknown attributes dropped (RFC 7644 section 3.3: the service provider ignores what it
// does not support), read-only attributes dropped (id, meta, groups: the server owns them),
// and write-only ones (password) dropped after validation, never stored in clear.
func normalize(rt *schema.ResourceType, in doc) (doc, error) {
	out := doc{}
	core := coreSchema(rt)
	for k, v := range in {
		if strings.EqualFold(k, "schemas") {
			continue // rebuilt on output from what is present
		}
		if ext := extensionFor(rt, k); ext != nil {
			m, ok := v.(map[string]any)
			if v == nil {
				continue
			}
			if !ok {
				return nil, invalidValue(fmt.Sprintf("%s must be an object", ext.ID))
			}
			sub, err := normalizeAttrs(ext.Attributes, m, ext.ID+":")
			if err != nil {
				return nil, err
			}
			if len(sub) > 0 {
				out[ext.ID] = sub
			}
			continue
		}
		a := core.Attr(k)
		if a == nil {
			// A URN-qualified core attribute ("urn:…:User:userName") is accepted too.
			if i := strings.LastIndex(k, ":"); i > 0 && strings.EqualFold(k[:i], core.ID) {
				a = core.Attr(k[i+1:])
			}
		}
		if a == nil || a.Mutability == schema.ReadOnly {
			continue
		}
		val, err := coerce(a, v, a.Name)
		if err != nil {
			return nil, err
		}
		if val == nil || a.Mutability == schema.WriteOnly {
			continue
		}
		out[a.Name] = val
	}
	return out, nil
}

// normalizeAttrs normalizes a complex value's sub-attributes.
func normalizeAttrs(attrs []*schema.Attribute, in map[string]any, path string) (doc, error) {
	out := doc{}
	for k, v := range in {
		var a *schema.Attribute
		for _, x := range attrs {
			if strings.EqualFold(x.Name, k) {
				a = x
				break
			}
		}
		if a == nil || (a.Mutability == schema.ReadOnly && a.Name != "displayName" && a.Name != "$ref") {
			continue
		}
		val, err := coerce(a, v, path+a.Name)
		if err != nil {
			return nil, err
		}
		if val != nil {
			out[a.Name] = val
		}
	}
	return out, nil
}

// coerce checks and converts one attribute value. A nil result means "absent".
func coerce(a *schema.Attribute, v any, path string) (any, error) {
	if v == nil {
		return nil, nil
	}
	if a.MultiValued {
		list, ok := v.([]any)
		if !ok {
			list = []any{v} // a single value where a list is expected
		}
		out := make([]any, 0, len(list))
		primarySeen := false
		for _, e := range list {
			ev, err := coerceOne(a, e, path)
			if err != nil {
				return nil, err
			}
			if ev == nil {
				continue
			}
			// RFC 7643 section 2.4: at most one primary value. The first one wins.
			if m, ok := ev.(map[string]any); ok {
				if p, _ := m["primary"].(bool); p {
					if primarySeen {
						m["primary"] = false
					}
					primarySeen = true
				}
			}
			out = append(out, ev)
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	}
	if list, ok := v.([]any); ok {
		switch len(list) {
		case 0:
			return nil, nil
		case 1:
			v = list[0] // a one-element list where a single value is expected
		default:
			return nil, invalidValue(fmt.Sprintf("%s takes a single value, not a list", path))
		}
	}
	return coerceOne(a, v, path)
}

func coerceOne(a *schema.Attribute, v any, path string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch a.Type {
	case schema.Complex:
		m, ok := v.(map[string]any)
		if !ok {
			// A bare value for a complex attribute ("members": ["id"], "emails": ["a@b"])
			// is its value sub-attribute.
			if a.Sub("value") != nil {
				if s, ok := scalarString(v); ok {
					return map[string]any{"value": s}, nil
				}
			}
			return nil, invalidValue(fmt.Sprintf("%s must be an object", path))
		}
		sub, err := normalizeAttrs(a.SubAttributes, m, path+".")
		if err != nil {
			return nil, err
		}
		if len(sub) == 0 {
			return nil, nil
		}
		return sub, nil
	case schema.Boolean:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(b)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
		return nil, invalidValue(fmt.Sprintf("%s must be a boolean", path))
	case schema.Integer:
		if n, ok := v.(json.Number); ok {
			if _, err := n.Int64(); err == nil {
				return n, nil
			}
		}
		if s, ok := v.(string); ok {
			if _, err := strconv.ParseInt(s, 10, 64); err == nil {
				return json.Number(s), nil
			}
		}
		return nil, invalidValue(fmt.Sprintf("%s must be an integer", path))
	case schema.Decimal:
		if n, ok := v.(json.Number); ok {
			return n, nil
		}
		return nil, invalidValue(fmt.Sprintf("%s must be a number", path))
	default: // string, reference, dateTime, binary
		s, ok := scalarString(v)
		if !ok {
			return nil, invalidValue(fmt.Sprintf("%s must be a string", path))
		}
		if len(s) > maxStringLen {
			return nil, invalidValue(fmt.Sprintf("%s is longer than %d bytes", path, maxStringLen))
		}
		return s, nil
	}
}

// maxStringLen bounds one string attribute (a certificate is the largest honest value).
const maxStringLen = 64 << 10

// scalarString accepts a string, and a number or boolean written where a string belongs
// (employeeNumber 1234), as its text.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

func str(d doc, key string) string {
	s, _ := d[key].(string)
	return s
}

// userFields extracts the kept columns of a normalized User document.
func userFields(d doc, u *roster.SCIMUser) error {
	u.UserName = strings.TrimSpace(str(d, "userName"))
	if u.UserName == "" {
		return invalidValue("userName is required")
	}
	u.ExternalID = str(d, "externalId")
	u.Active = true
	if a, ok := d["active"].(bool); ok {
		u.Active = a
	}
	u.DisplayName = str(d, "displayName")
	u.GivenName, u.FamilyName = "", ""
	if n, ok := d["name"].(map[string]any); ok {
		u.GivenName, _ = n["givenName"].(string)
		u.FamilyName, _ = n["familyName"].(string)
	}
	u.Email = primaryValue(d, "emails")
	u.Roles = nil
	if list, ok := d["roles"].([]any); ok {
		for _, e := range list {
			if m, ok := e.(map[string]any); ok {
				if v, ok := m["value"].(string); ok && v != "" {
					u.Roles = append(u.Roles, v)
				}
			}
		}
	}
	return nil
}

// primaryValue returns the value of the primary element of a multi-valued attribute, else
// of its first element.
func primaryValue(d doc, key string) string {
	list, _ := d[key].([]any)
	first := ""
	for _, e := range list {
		m, _ := e.(map[string]any)
		v, _ := m["value"].(string)
		if p, _ := m["primary"].(bool); p && v != "" {
			return v
		}
		if first == "" {
			first = v
		}
	}
	return first
}

// groupFields extracts the kept columns of a normalized Group document and takes its
// members out: they are rows of their own.
func groupFields(d doc, g *roster.SCIMGroup) ([]roster.GroupMember, error) {
	g.DisplayName = strings.TrimSpace(str(d, "displayName"))
	if g.DisplayName == "" {
		return nil, invalidValue("displayName is required")
	}
	g.ExternalID = str(d, "externalId")
	members, err := membersOf(d["members"])
	delete(d, "members")
	return members, err
}

// membersOf reads a normalized members value.
func membersOf(v any) ([]roster.GroupMember, error) {
	list, _ := v.([]any)
	out := make([]roster.GroupMember, 0, len(list))
	seen := map[string]bool{}
	for _, e := range list {
		m, _ := e.(map[string]any)
		val, _ := m["value"].(string)
		if val == "" {
			return nil, invalidValue("each member needs a value (the id of a user or group)")
		}
		if seen[val] {
			continue
		}
		seen[val] = true
		typ, _ := m["type"].(string)
		display, _ := m["display"].(string)
		out = append(out, roster.GroupMember{Value: val, Type: canonicalMemberType(typ), Display: display})
	}
	return out, nil
}

func canonicalMemberType(t string) string {
	switch strings.ToLower(t) {
	case "user":
		return "User"
	case "group":
		return "Group"
	}
	return ""
}

// encodeDoc is the stored text of a normalized document.
func encodeDoc(d doc) (json.RawMessage, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	return b, nil
}
