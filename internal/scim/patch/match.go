package patch

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/internal/scim/filter"
	"github.com/rosterhq/roster/internal/scim/schema"
)

// match evaluates a value filter against one element of attr (RFC 7644 section 3.4.2.2),
// comparing case-insensitively where the sub-attribute is not caseExact.
func match(attr *schema.Attribute, f filter.Expr, e map[string]any) bool {
	switch x := f.(type) {
	case filter.And:
		return match(attr, x.Left, e) && match(attr, x.Right, e)
	case filter.Or:
		return match(attr, x.Left, e) || match(attr, x.Right, e)
	case filter.Not:
		return !match(attr, x.X, e)
	case filter.Compare:
		sub := attr.Sub(x.Attr.Name)
		caseExact := sub != nil && sub.CaseExact
		v, present := e[findKey(e, x.Attr.Name)]
		if x.Op == filter.Pr {
			return present && v != nil && v != ""
		}
		return compare(v, present, x.Op, x.Value, caseExact)
	}
	return false
}

func compare(v any, present bool, op filter.Op, want filter.Value, caseExact bool) bool {
	if want.Kind == filter.Null {
		isNull := !present || v == nil
		return (op == filter.Eq) == isNull
	}
	if !present || v == nil {
		return op == filter.Ne
	}
	switch want.Kind {
	case filter.Bool:
		var b, ok bool
		switch x := v.(type) {
		case bool:
			b, ok = x, true
		case string:
			pb, err := strconv.ParseBool(strings.ToLower(x))
			b, ok = pb, err == nil
		}
		if !ok {
			return op == filter.Ne
		}
		return (op == filter.Eq) == (b == want.Bool) && (op == filter.Eq || op == filter.Ne)
	case filter.Number:
		got, err1 := numberOf(v)
		w, err2 := strconv.ParseFloat(want.Num, 64)
		if err1 != nil || err2 != nil {
			return op == filter.Ne
		}
		return ordered(op, cmpFloat(got, w))
	}
	s, ok := v.(string)
	if !ok {
		if b, isBool := v.(bool); isBool {
			s = strconv.FormatBool(b)
		} else if n, isNum := v.(json.Number); isNum {
			s = n.String()
		} else {
			return op == filter.Ne
		}
	}
	w := want.Str
	if !caseExact {
		s, w = strings.ToLower(s), strings.ToLower(w)
	}
	switch op {
	case filter.Co:
		return strings.Contains(s, w)
	case filter.Sw:
		return strings.HasPrefix(s, w)
	case filter.Ew:
		return strings.HasSuffix(s, w)
	}
	return ordered(op, strings.Compare(s, w))
}

func numberOf(v any) (float64, error) {
	switch x := v.(type) {
	case json.Number:
		return x.Float64()
	case float64:
		return x, nil
	case string:
		return strconv.ParseFloat(x, 64)
	}
	return 0, strconv.ErrSyntax
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func ordered(op filter.Op, c int) bool {
	switch op {
	case filter.Eq:
		return c == 0
	case filter.Ne:
		return c != 0
	case filter.Gt:
		return c > 0
	case filter.Ge:
		return c >= 0
	case filter.Lt:
		return c < 0
	case filter.Le:
		return c <= 0
	}
	return false
}
