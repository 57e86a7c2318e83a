package patch

import (
	"strings"

	"github.com/rosterhq/roster/internal/scim/filter"
)

// MemberAction is a change to a group's members, which are rows of their own and never part
// of the group's document.
type MemberAction struct {
	// Kind is "add", "remove", "removeAll" or "replaceAll".
	Kind    string
	Members []Member
}

// Member is a member reference: the id of a user or group, and optionally its type.
type Member struct{ Value, Type, Display string }

// SplitMembers takes every operation on "members" out of ops, in order, and returns them as
// member actions; the other operations are returned for Apply.
func SplitMembers(ops []Operation) ([]MemberAction, []Operation, error) {
	var actions []MemberAction
	var rest []Operation
	for _, op := range ops {
		if op.Path == "" {
			obj, ok := op.Value.(map[string]any)
			if !ok {
				rest = append(rest, op)
				continue
			}
			other := map[string]any{}
			for k, v := range obj {
				if !strings.EqualFold(k, "members") {
					other[k] = v
					continue
				}
				ms, err := members(v)
				if err != nil {
					return nil, nil, err
				}
				kind := "add"
				if op.Op == "replace" {
					kind = "replaceAll"
				}
				actions = append(actions, MemberAction{Kind: kind, Members: ms})
			}
			if len(other) > 0 {
				rest = append(rest, Operation{Op: op.Op, Value: other, HasValue: true})
			}
			continue
		}
		p, err := filter.ParsePath(op.Path)
		if err != nil {
			return nil, nil, errf("invalidPath", "%v", err)
		}
		if !strings.EqualFold(p.Attr.Name, "members") || (p.Attr.URN != "" && !strings.EqualFold(p.Attr.URN, "urn:ietf:params:scim:schemas:core:2.0:Group")) {
			rest = append(rest, op)
			continue
		}
		if p.Filter != nil || p.Attr.Sub != "" {
			if op.Op != "remove" || (p.Sub != "" && !strings.EqualFold(p.Sub, "value")) {
				return nil, nil, errf("invalidPath", "members with a value filter can only be removed")
			}
			ids := valueIDs(p.Filter)
			if ids == nil {
				return nil, nil, errf("invalidPath", `members can be selected by value eq "id" only`)
			}
			ms := make([]Member, len(ids))
			for i, id := range ids {
				ms[i] = Member{Value: id}
			}
			actions = append(actions, MemberAction{Kind: "remove", Members: ms})
			continue
		}
		switch op.Op {
		case "add", "replace":
			ms, err := members(op.Value)
			if err != nil {
				return nil, nil, err
			}
			kind := "add"
			if op.Op == "replace" {
				kind = "replaceAll"
			}
			actions = append(actions, MemberAction{Kind: kind, Members: ms})
		case "remove":
			if op.HasValue && op.Value != nil {
				ms, err := members(op.Value)
				if err != nil {
					return nil, nil, err
				}
				actions = append(actions, MemberAction{Kind: "remove", Members: ms})
			} else {
				actions = append(actions, MemberAction{Kind: "removeAll"})
			}
		}
	}
	return actions, rest, nil
}

// members reads a members value: a list (or one) of {value, type, display} or bare ids.
func members(v any) ([]Member, error) {
	var out []Member
	for _, e := range asList(v) {
		switch x := e.(type) {
		case string:
			out = append(out, Member{Value: x})
		case map[string]any:
			val, _ := x[findKey(x, "value")].(string)
			if val == "" {
				return nil, errf("invalidValue", "each member needs a value (the id of a user or group)")
			}
			typ, _ := x[findKey(x, "type")].(string)
			display, _ := x[findKey(x, "display")].(string)
			if display == "" {
				display, _ = x[findKey(x, "displayName")].(string)
			}
			out = append(out, Member{Value: val, Type: typ, Display: display})
		default:
			return nil, errf("invalidValue", "members must be a list of {\"value\": id}")
		}
	}
	return out, nil
}

// valueIDs reads `value eq "a"` or `value eq "a" or value eq "b"`.
func valueIDs(f filter.Expr) []string {
	switch x := f.(type) {
	case filter.Compare:
		if strings.EqualFold(x.Attr.Name, "value") && x.Op == filter.Eq && x.Value.Kind == filter.String {
			return []string{x.Value.Str}
		}
	case filter.Or:
		l, r := valueIDs(x.Left), valueIDs(x.Right)
		if l != nil && r != nil {
			return append(l, r...)
		}
	}
	return nil
}
