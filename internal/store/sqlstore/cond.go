package sqlstore

import (
	"fmt"
	"strings"

	"github.com/rosterhq/roster/internal/store"
)

// sqlb builds one SQL statement's conditions, collecting bound parameters. Client values only
// ever become parameters; field names come from the store's own whitelist.
type sqlb struct {
	d    dialect
	args []any
}

func (b *sqlb) arg(v any) string {
	b.args = append(b.args, v)
	return fmt.Sprintf("$%d", len(b.args))
}

// keptColumns are the columns a Field may name, per table alias.
var keptColumns = map[string]bool{
	store.ColID: true, store.ColUserName: true, store.ColExternalID: true, store.ColActive: true,
	store.ColDisplayName: true, store.ColGivenName: true, store.ColFamilyName: true, store.ColEmail: true,
	store.ColCreated: true, store.ColModified: true, store.ColVersion: true,
}

// scope is where field references resolve: the resource row (alias.column and its JSON
// document), or one element of a multi-valued attribute.
type scope struct {
	alias string // table alias of the resource row
	elem  string // element alias inside Elem, "" at the top
	kind  string // "user" or "group", for membership conditions
}

// expr returns the SQL expression of a field.
func (b *sqlb) expr(f store.Field, sc scope) (string, error) {
	if f.Column != "" {
		if sc.elem != "" || !keptColumns[f.Column] {
			return "", fmt.Errorf("unknown column %q", f.Column)
		}
		return sc.alias + "." + f.Column, nil
	}
	if sc.elem != "" {
		return b.d.jsonText(b, sc.elem+".value", f.Path, true), nil
	}
	return b.d.jsonText(b, b.d.doc(sc.alias), f.Path, false), nil
}

// cond compiles c.
func (b *sqlb) cond(c store.Cond, sc scope) (string, error) {
	switch c := c.(type) {
	case nil, store.True:
		return "1=1", nil
	case store.False:
		return "1=0", nil
	case store.And:
		l, err := b.cond(c.Left, sc)
		if err != nil {
			return "", err
		}
		r, err := b.cond(c.Right, sc)
		if err != nil {
			return "", err
		}
		return "(" + l + " AND " + r + ")", nil
	case store.Or:
		l, err := b.cond(c.Left, sc)
		if err != nil {
			return "", err
		}
		r, err := b.cond(c.Right, sc)
		if err != nil {
			return "", err
		}
		return "(" + l + " OR " + r + ")", nil
	case store.Not:
		x, err := b.cond(c.X, sc)
		if err != nil {
			return "", err
		}
		return "(NOT COALESCE(" + x + ", FALSE))", nil
	case store.Elem:
		if sc.elem != "" {
			return "", fmt.Errorf("nested value filters are not supported")
		}
		from := b.d.jsonElements(b, b.d.doc(sc.alias), c.Path)
		inner, err := b.cond(c.Where, scope{alias: sc.alias, elem: "e", kind: sc.kind})
		if err != nil {
			return "", err
		}
		return "EXISTS (SELECT 1 FROM " + from + " WHERE " + inner + ")", nil
	case store.MemberOf:
		return "EXISTS (SELECT 1 FROM scim_group_members gm WHERE gm.member_id = " + sc.alias + ".id AND gm.group_id = " + b.arg(c.GroupID) + ")", nil
	case store.HasMember:
		return "EXISTS (SELECT 1 FROM scim_group_members gm WHERE gm.group_id = " + sc.alias + ".id AND gm.member_id = " + b.arg(c.MemberID) + ")", nil
	case store.Compare:
		return b.compare(c, sc)
	}
	return "", fmt.Errorf("unknown condition %T", c)
}

func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

func (b *sqlb) compare(c store.Compare, sc scope) (string, error) {
	x, err := b.expr(c.Field, sc)
	if err != nil {
		return "", err
	}
	isDoc := c.Field.Column == ""
	if c.Op == store.OpPresent {
		if isDoc {
			return b.d.jsonPresent(x), nil
		}
		return "(" + x + " IS NOT NULL AND " + x + " <> '')", nil
	}
	v := c.Value
	if v == nil { // eq null / ne null (RFC 7644: absent or null)
		switch c.Op {
		case store.OpEq:
			if isDoc {
				return "(" + x + " IS NULL)", nil
			}
			return "(" + x + " IS NULL OR " + x + " = '')", nil
		case store.OpNe:
			if isDoc {
				return "(" + x + " IS NOT NULL)", nil
			}
			return "(" + x + " IS NOT NULL AND " + x + " <> '')", nil
		}
		return "1=0", nil
	}
	switch val := v.(type) {
	case bool:
		if c.Op != store.OpEq && c.Op != store.OpNe {
			return "", fmt.Errorf("booleans compare with eq and ne only")
		}
		var p string
		if isDoc {
			p = b.arg(b.d.jsonBool(val))
		} else {
			p = b.arg(val)
		}
		if c.Op == store.OpEq {
			return "(" + x + " = " + p + ")", nil
		}
		return "(" + x + " IS NULL OR " + x + " <> " + p + ")", nil
	case float64, int64:
		if isDoc {
			x = b.d.jsonNumber(x)
		}
		return "(" + x + " " + sqlOp(c.Op) + " " + b.arg(val) + ")", nil
	case string:
		if c.Field.Fold {
			x = "lower(" + x + ")"
			val = strings.ToLower(val)
		}
		switch c.Op {
		case store.OpEq, store.OpGt, store.OpGe, store.OpLt, store.OpLe:
			return "(" + x + " " + sqlOp(c.Op) + " " + b.arg(val) + ")", nil
		case store.OpNe:
			return "(" + x + " IS NULL OR " + x + " <> " + b.arg(val) + ")", nil
		case store.OpCo:
			return "(" + b.d.strpos(x, b.arg(val)) + " > 0)", nil
		case store.OpSw:
			p := b.arg(val)
			return "(substr(" + x + ", 1, length(" + p + ")) = " + p + ")", nil
		case store.OpEw:
			p := b.arg(val)
			return "(length(" + x + ") >= length(" + p + ") AND substr(" + x + ", length(" + x + ") - length(" + p + ") + 1) = " + p + ")", nil
		}
	}
	return "", fmt.Errorf("cannot compare with %T using %s", v, c.Op)
}

func sqlOp(op store.Op) string {
	switch op {
	case store.OpEq:
		return "="
	case store.OpNe:
		return "<>"
	case store.OpGt:
		return ">"
	case store.OpGe:
		return ">="
	case store.OpLt:
		return "<"
	case store.OpLe:
		return "<="
	}
	return "="
}

// orderBy compiles a sort field; the id breaks ties so that pages are stable.
func (b *sqlb) orderBy(q store.Query, sc scope) (string, error) {
	if q.SortBy.Column == "" && len(q.SortBy.Path) == 0 {
		return sc.alias + ".id", nil
	}
	x, err := b.expr(q.SortBy, sc)
	if err != nil {
		return "", err
	}
	if q.SortBy.Fold {
		x = "lower(" + x + ")"
	}
	dir := " ASC"
	if q.SortDesc {
		dir = " DESC"
	}
	// RFC 7644 section 3.4.2.3: resources without a value sort last ascending, first
	// descending.
	return "(" + x + " IS NULL)" + map[bool]string{false: " ASC", true: " DESC"}[q.SortDesc] + ", " + x + dir + ", " + sc.alias + ".id" + dir, nil
}
