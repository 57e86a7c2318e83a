package scim

import (
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/scim/filter"
	"github.com/rosterhq/roster/internal/scim/schema"
	"github.com/rosterhq/roster/internal/store"
)

// compileFilter parses a SCIM filter and translates it into a store condition through the
// attribute whitelist of the schema: every attribute is resolved against the resource
// type's definitions, kept columns are used where the store has them (userName,
// externalId, active, displayName, names, meta dates, group membership) and document paths
// otherwise. Nothing of the filter's text reaches SQL.
func compileFilter(rt *schema.ResourceType, s string) (store.Cond, error) {
	if len(s) > 4096 {
		return nil, invalidFilter("the filter is longer than 4096 bytes")
	}
	e, err := filter.Parse(s)
	if err != nil {
		return nil, invalidFilter(err.Error())
	}
	return mapExpr(rt, e, nil)
}

func mapExpr(rt *schema.ResourceType, e filter.Expr, elem *elemScope) (store.Cond, error) {
	switch x := e.(type) {
	case filter.And:
		l, err := mapExpr(rt, x.Left, elem)
		if err != nil {
			return nil, err
		}
		r, err := mapExpr(rt, x.Right, elem)
		if err != nil {
			return nil, err
		}
		return store.And{Left: l, Right: r}, nil
	case filter.Or:
		l, err := mapExpr(rt, x.Left, elem)
		if err != nil {
			return nil, err
		}
		r, err := mapExpr(rt, x.Right, elem)
		if err != nil {
			return nil, err
		}
		return store.Or{Left: l, Right: r}, nil
	case filter.Not:
		c, err := mapExpr(rt, x.X, elem)
		if err != nil {
			return nil, err
		}
		return store.Not{X: c}, nil
	case filter.ValuePath:
		if elem != nil {
			return nil, invalidFilter("a value filter cannot be nested in another")
		}
		urn, a, sub, ok := rt.Resolve(x.Attr.URN, x.Attr.Name, "")
		if !ok || sub != nil {
			return nil, invalidFilter("unknown attribute " + x.Attr.String())
		}
		if !a.MultiValued || a.Type != schema.Complex {
			return nil, invalidFilter(a.Name + " is not a multi-valued complex attribute: it takes no value filter")
		}
		if c, ok, err := membership(rt, a, x.Filter); ok || err != nil {
			return c, err
		}
		inner, err := mapExpr(rt, x.Filter, &elemScope{attr: a})
		if err != nil {
			return nil, err
		}
		return store.Elem{Path: docPath(rt, urn, a), Where: inner}, nil
	case filter.Compare:
		return mapCompare(rt, x, elem)
	}
	return nil, invalidFilter("unsupported filter expression")
}

// elemScope is the multi-valued attribute whose elements a value filter tests.
type elemScope struct{ attr *schema.Attribute }

// docPath is the path of an attribute in the stored document.
func docPath(rt *schema.ResourceType, urn string, a *schema.Attribute) []string {
	if urn != "" && !strings.EqualFold(urn, rt.Schema) {
		return []string{urn, a.Name}
	}
	return []string{a.Name}
}

// membership maps members[value eq "x"] / groups[value eq "x"] (and members.value eq "x")
// to the store's membership rows, which are not part of the document.
func membership(rt *schema.ResourceType, a *schema.Attribute, inner filter.Expr) (store.Cond, bool, error) {
	isMembers := rt == schema.GroupResource && a.Name == "members"
	isGroups := rt == schema.UserResource && a.Name == "groups"
	if !isMembers && !isGroups {
		return nil, false, nil
	}
	c, ok := inner.(filter.Compare)
	if !ok || !strings.EqualFold(c.Attr.Name, "value") || c.Op != filter.Eq || c.Value.Kind != filter.String {
		return nil, true, invalidFilter(a.Name + ` can be filtered by value eq "id" only`)
	}
	if isMembers {
		return store.HasMember{MemberID: c.Value.Str}, true, nil
	}
	return store.MemberOf{GroupID: c.Value.Str}, true, nil
}

func mapCompare(rt *schema.ResourceType, c filter.Compare, elem *elemScope) (store.Cond, error) {
	op := store.Op(strings.ToLower(string(c.Op)))
	if elem != nil {
		name := c.Attr.Name
		if c.Attr.Sub != "" { // emails[value.x …] is not valid; emails[type …] is
			return nil, invalidFilter("unknown sub-attribute " + c.Attr.String())
		}
		sub := elem.attr.Sub(name)
		if sub == nil {
			return nil, invalidFilter("unknown sub-attribute " + name + " of " + elem.attr.Name)
		}
		return compareField(store.Field{Path: []string{sub.Name}, Fold: !sub.CaseExact, Kind: kindOf(sub)}, sub, op, c.Value)
	}
	urn, a, sub, ok := rt.Resolve(c.Attr.URN, c.Attr.Name, c.Attr.Sub)
	if !ok {
		if strings.EqualFold(c.Attr.Name, "schemas") && c.Attr.URN == "" {
			return schemasCond(rt, op, c.Value)
		}
		return nil, invalidFilter("unknown attribute " + c.Attr.String())
	}
	if a.Returned == schema.Never {
		return nil, invalidFilter(a.Name + " cannot be filtered on")
	}
	core := urn == "" || strings.EqualFold(urn, rt.Schema)
	// Kept columns.
	if core {
		if f, target, ok := keptField(rt, a, sub); ok {
			return compareField(f, target, op, c.Value)
		}
	}
	if a.Name == "meta" && sub != nil && sub.Name == "resourceType" {
		match := c.Value.Kind == filter.String && strings.EqualFold(c.Value.Str, rt.Name)
		if (op == store.OpEq) == match || (op == store.OpNe && !match) {
			return store.True{}, nil
		}
		return store.False{}, nil
	}
	if a.Name == "members" || a.Name == "groups" {
		if cond, ok, err := membership(rt, a, filter.Compare{Attr: filter.AttrPath{Name: "value"}, Op: c.Op, Value: c.Value}); ok {
			return cond, err
		}
	}
	path := docPath(rt, urn, a)
	if a.MultiValued {
		target := sub
		rel := []string{}
		if a.Type == schema.Complex {
			if target == nil {
				target = a.Sub("value")
			}
			if target == nil {
				return nil, invalidFilter(a.Name + " has no value sub-attribute to compare")
			}
			rel = []string{target.Name}
		} else {
			target = a
		}
		inner, err := compareField(store.Field{Path: rel, Fold: !target.CaseExact, Kind: kindOf(target)}, target, op, c.Value)
		if err != nil {
			return nil, err
		}
		return store.Elem{Path: path, Where: inner}, nil
	}
	target := a
	if sub != nil {
		path = append(path, sub.Name)
		target = sub
	} else if a.Type == schema.Complex {
		return nil, invalidFilter(a.Name + " is complex: name one of its sub-attributes")
	}
	return compareField(store.Field{Path: path, Fold: !target.CaseExact, Kind: kindOf(target)}, target, op, c.Value)
}

// keptField maps an attribute to a column the store keeps, when it has one.
func keptField(rt *schema.ResourceType, a *schema.Attribute, sub *schema.Attribute) (store.Field, *schema.Attribute, bool) {
	col := func(c string, fold bool, k store.ValueKind, target *schema.Attribute) (store.Field, *schema.Attribute, bool) {
		return store.Field{Column: c, Fold: fold, Kind: k}, target, true
	}
	switch {
	case a.Name == "id" && sub == nil:
		return col(store.ColID, false, store.KindString, a)
	case a.Name == "externalId" && sub == nil:
		return col(store.ColExternalID, false, store.KindString, a)
	case a.Name == "meta" && sub != nil && sub.Name == "created":
		return col(store.ColCreated, false, store.KindTime, sub)
	case a.Name == "meta" && sub != nil && sub.Name == "lastModified":
		return col(store.ColModified, false, store.KindTime, sub)
	case a.Name == "displayName" && sub == nil:
		return col(store.ColDisplayName, true, store.KindString, a)
	}
	if rt == schema.UserResource {
		switch {
		case a.Name == "userName":
			// The key column is stored lower-case; compareField lower-cases the value.
			return store.Field{Column: store.ColUserName, Kind: store.KindString}, a, true
		case a.Name == "active":
			return col(store.ColActive, false, store.KindBool, a)
		case a.Name == "name" && sub != nil && sub.Name == "givenName":
			return col(store.ColGivenName, true, store.KindString, sub)
		case a.Name == "name" && sub != nil && sub.Name == "familyName":
			return col(store.ColFamilyName, true, store.KindString, sub)
		}
	}
	return store.Field{}, nil, false
}

func kindOf(a *schema.Attribute) store.ValueKind {
	switch a.Type {
	case schema.Boolean:
		return store.KindBool
	case schema.Integer, schema.Decimal:
		return store.KindNumber
	case schema.DateTime:
		return store.KindTime
	}
	return store.KindString
}

// compareField builds a comparison, converting the filter value to the attribute's type.
func compareField(f store.Field, a *schema.Attribute, op store.Op, v filter.Value) (store.Cond, error) {
	if op == store.OpPresent {
		return store.Compare{Field: f, Op: op}, nil
	}
	if v.Kind == filter.Null {
		if op != store.OpEq && op != store.OpNe {
			return nil, invalidFilter("null compares with eq and ne only")
		}
		return store.Compare{Field: f, Op: op, Value: nil}, nil
	}
	switch f.Kind {
	case store.KindBool:
		b, ok := boolValue(v)
		if !ok {
			return nil, invalidFilter(a.Name + " is a boolean: compare it with true or false")
		}
		if op != store.OpEq && op != store.OpNe {
			return nil, invalidFilter(a.Name + " is a boolean: use eq or ne")
		}
		return store.Compare{Field: f, Op: op, Value: b}, nil
	case store.KindNumber:
		n, err := strconv.ParseFloat(valueText(v), 64)
		if err != nil {
			return nil, invalidFilter(a.Name + " is a number")
		}
		return store.Compare{Field: f, Op: op, Value: n}, nil
	case store.KindTime:
		s := valueText(v)
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, invalidFilter(a.Name + " is a dateTime: give it as RFC 3339, like 2011-05-13T04:42:34Z")
		}
		if f.Column != "" {
			switch op {
			case store.OpCo, store.OpSw, store.OpEw:
				return nil, invalidFilter(a.Name + " is a dateTime: use eq, ne, gt, ge, lt or le")
			}
			return store.Compare{Field: f, Op: op, Value: t.UnixMicro()}, nil
		}
		return store.Compare{Field: f, Op: op, Value: t.UTC().Format(time.RFC3339Nano)}, nil
	}
	s := valueText(v)
	if f.Column == store.ColUserName {
		s = strings.ToLower(s)
	}
	return store.Compare{Field: f, Op: op, Value: s}, nil
}

// valueText is a filter value as text (a number or boolean given for a string attribute
// compares by its text).
func valueText(v filter.Value) string {
	switch v.Kind {
	case filter.Number:
		return v.Num
	case filter.Bool:
		return strconv.FormatBool(v.Bool)
	}
	return v.Str
}

// boolValue accepts true/false and, as Entra ID sends them, the strings "True"/"False".
func boolValue(v filter.Value) (bool, bool) {
	switch v.Kind {
	case filter.Bool:
		return v.Bool, true
	case filter.String:
		switch strings.ToLower(v.Str) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

// schemasCond answers filters on "schemas": the core schema is on every resource, an
// extension on those that carry its attributes.
func schemasCond(rt *schema.ResourceType, op store.Op, v filter.Value) (store.Cond, error) {
	if op != store.OpEq && op != store.OpNe && op != store.OpPresent {
		return nil, invalidFilter("schemas compares with eq, ne or pr")
	}
	if op == store.OpPresent {
		return store.True{}, nil
	}
	var c store.Cond = store.False{}
	switch {
	case strings.EqualFold(v.Str, rt.Schema):
		c = store.True{}
	default:
		for _, e := range rt.Extensions {
			if strings.EqualFold(v.Str, e.Schema) {
				c = store.Compare{Field: store.Field{Path: []string{e.Schema}}, Op: store.OpPresent}
			}
		}
	}
	if op == store.OpNe {
		return store.Not{X: c}, nil
	}
	return c, nil
}

// sortField resolves sortBy (RFC 7644 section 3.4.2.3) to a field.
func sortField(rt *schema.ResourceType, s string) (store.Field, error) {
	ref := parseRef(s)
	urn, a, sub, ok := rt.Resolve(ref.urn, ref.name, ref.sub)
	if !ok {
		return store.Field{}, invalidValue("sortBy names an unknown attribute: " + s)
	}
	if urn == "" || strings.EqualFold(urn, rt.Schema) {
		if f, _, ok := keptField(rt, a, sub); ok {
			return f, nil
		}
	}
	if a.MultiValued || (a.Type == schema.Complex && sub == nil) {
		return store.Field{}, invalidValue("sortBy must name a single-valued attribute: " + s)
	}
	path := docPath(rt, urn, a)
	target := a
	if sub != nil {
		path, target = append(path, sub.Name), sub
	}
	return store.Field{Path: path, Fold: !target.CaseExact, Kind: kindOf(target)}, nil
}
