// Package patch applies SCIM PATCH operations (RFC 7644 section 3.5.2) to a resource
// document, atomically, with the tolerance identity providers need: operation names in any
// case, a value without a path whose keys are paths ("name.givenName", schema-qualified
// names), value-filter paths that create the element they name when none matches (Entra
// ID's emails[type eq "work"].value), and removal of listed values. Types are not checked
// here: the caller normalizes the whole document against its schema afterwards.
package patch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/rosterhq/roster/internal/scim/filter"
	"github.com/rosterhq/roster/internal/scim/schema"
)

// PatchOpSchema is the message schema of a PATCH request.
const PatchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// MaxOperations bounds the operations of one request.
const MaxOperations = 1000

// Operation is one PATCH operation. Op is lower-case; Value is decoded with json.Number.
type Operation struct {
	Op    string
	Path  string
	Value any
	// HasValue tells an absent value from a JSON null.
	HasValue bool
}

// Error is a PATCH error with its RFC 7644 section 3.12 scimType.
type Error struct {
	ScimType string
	Detail   string
}

func (e *Error) Error() string { return e.Detail }

func errf(scimType, format string, args ...any) error {
	return &Error{ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// Decode parses a PatchOp request body.
func Decode(body []byte) ([]Operation, error) {
	var req struct {
		Schemas    []string
		Operations []map[string]json.RawMessage
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return nil, errf("invalidSyntax", "the PATCH body is not a PatchOp JSON object")
	}
	if len(req.Schemas) > 0 {
		ok := false
		for _, s := range req.Schemas {
			if strings.EqualFold(s, PatchOpSchema) {
				ok = true
			}
		}
		if !ok {
			return nil, errf("invalidSyntax", "schemas must contain %s", PatchOpSchema)
		}
	}
	if len(req.Operations) == 0 {
		return nil, errf("invalidSyntax", "Operations is empty")
	}
	if len(req.Operations) > MaxOperations {
		return nil, errf("tooMany", "more than %d operations", MaxOperations)
	}
	ops := make([]Operation, 0, len(req.Operations))
	for i, raw := range req.Operations {
		var op Operation
		for k, v := range raw {
			switch strings.ToLower(k) {
			case "op":
				var s string
				if json.Unmarshal(v, &s) != nil {
					return nil, errf("invalidSyntax", "operation %d: op must be a string", i+1)
				}
				op.Op = strings.ToLower(strings.TrimSpace(s))
			case "path":
				var s string
				if json.Unmarshal(v, &s) != nil {
					return nil, errf("invalidPath", "operation %d: path must be a string", i+1)
				}
				op.Path = strings.TrimSpace(s)
			case "value":
				d := json.NewDecoder(bytes.NewReader(v))
				d.UseNumber()
				if err := d.Decode(&op.Value); err != nil {
					return nil, errf("invalidSyntax", "operation %d: value is not valid JSON", i+1)
				}
				op.HasValue = true
			}
		}
		switch op.Op {
		case "add", "replace":
			if !op.HasValue {
				return nil, errf("invalidValue", "operation %d: %s needs a value", i+1, op.Op)
			}
		case "remove":
			if op.Path == "" {
				return nil, errf("noTarget", "operation %d: remove needs a path", i+1)
			}
		default:
			return nil, errf("invalidSyntax", "operation %d: op must be add, replace or remove, not %q", i+1, op.Op)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// Apply applies ops in order to doc for resource type rt. On error doc is unchanged. It
// returns the top-level attributes touched, lower-case ("roles", "active", "emails";
// extension attributes under their attribute name).
func Apply(rt *schema.ResourceType, doc map[string]any, ops []Operation) (map[string]bool, error) {
	work := deepCopy(doc).(map[string]any)
	a := &applier{rt: rt, doc: work, touched: map[string]bool{}}
	for i, op := range ops {
		if err := a.apply(op); err != nil {
			if pe, ok := err.(*Error); ok {
				pe.Detail = fmt.Sprintf("operation %d: %s", i+1, pe.Detail)
			}
			return nil, err
		}
	}
	for k := range doc {
		delete(doc, k)
	}
	for k, v := range work {
		doc[k] = v
	}
	return a.touched, nil
}

type applier struct {
	rt      *schema.ResourceType
	doc     map[string]any
	touched map[string]bool
}

func (a *applier) apply(op Operation) error {
	if op.Path == "" {
		obj, ok := op.Value.(map[string]any)
		if !ok {
			return errf("invalidValue", "%s without a path needs an object value", op.Op)
		}
		for k, v := range obj {
			if err := a.applyKey(op.Op, k, v); err != nil {
				return err
			}
		}
		return nil
	}
	p, err := filter.ParsePath(op.Path)
	if err != nil {
		return errf("invalidPath", "%v", err)
	}
	return a.applyPath(op, p, op.Value)
}

// applyKey applies one key of a value without a path: a path itself, or an extension URN
// whose object holds the extension's attributes.
func (a *applier) applyKey(opName, k string, v any) error {
	lk := strings.ToLower(k)
	switch lk {
	case "schemas", "meta":
		return nil
	case "id":
		if s, ok := v.(string); ok && s == a.doc["id"] {
			return nil
		}
		return errf("mutability", "id cannot be changed")
	}
	for _, ext := range a.rt.Extensions {
		if strings.EqualFold(ext.Schema, k) {
			obj, ok := v.(map[string]any)
			if !ok {
				return errf("invalidValue", "%s must be an object", ext.Schema)
			}
			for sk, sv := range obj {
				p, err := filter.ParsePath(ext.Schema + ":" + sk)
				if err != nil {
					continue
				}
				if err := a.applyPath(Operation{Op: opName, Value: sv, HasValue: true}, p, sv); err != nil {
					return err
				}
			}
			return nil
		}
	}
	p, err := filter.ParsePath(k)
	if err != nil {
		return nil // not an attribute name: ignored like any unknown attribute
	}
	return a.applyPath(Operation{Op: opName, Value: v, HasValue: true}, p, v)
}

// target is where an attribute lives in the document.
func (a *applier) container(urn string, create bool) map[string]any {
	if urn == "" || strings.EqualFold(urn, a.rt.Schema) {
		return a.doc
	}
	for k, v := range a.doc {
		if strings.EqualFold(k, urn) {
			if m, ok := v.(map[string]any); ok {
				return m
			}
		}
	}
	if !create {
		return nil
	}
	m := map[string]any{}
	a.doc[urn] = m
	return m
}

func (a *applier) applyPath(op Operation, p filter.Path, v any) error {
	urn, attr, sub, ok := a.rt.Resolve(p.Attr.URN, p.Attr.Name, p.Attr.Sub)
	if !ok {
		if p.Filter != nil {
			return errf("invalidPath", "unknown attribute %s", p.Attr)
		}
		return nil // unknown attributes are ignored (RFC 7644 section 3.3)
	}
	if attr.Mutability == schema.ReadOnly {
		if strings.EqualFold(attr.Name, "id") {
			if s, ok := v.(string); ok && s == a.doc["id"] {
				return nil
			}
		}
		return errf("mutability", "%s is read-only", attr.Name)
	}
	a.touched[strings.ToLower(attr.Name)] = true
	c := a.container(urn, op.Op != "remove")
	if c == nil {
		return nil // removing from an extension that is not there
	}
	key := findKey(c, attr.Name)
	if p.Filter != nil {
		if !attr.MultiValued || attr.Type != schema.Complex {
			return errf("invalidPath", "%s is not a multi-valued complex attribute: it takes no value filter", attr.Name)
		}
		subName := ""
		if p.Sub != "" {
			s := attr.Sub(p.Sub)
			if s == nil {
				return errf("invalidPath", "unknown sub-attribute %s of %s", p.Sub, attr.Name)
			}
			subName = s.Name
		}
		return a.filtered(op.Op, c, key, attr, p.Filter, subName, v)
	}
	if sub != nil {
		return a.subAttr(op.Op, c, key, attr, sub.Name, v)
	}
	return a.whole(op, c, key, attr, v)
}

// findKey returns the key under which name is stored (names match case-insensitively).
func findKey(m map[string]any, name string) string {
	if _, ok := m[name]; ok {
		return name
	}
	for k := range m {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return name
}

func asList(v any) []any {
	if v == nil {
		return nil
	}
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// whole applies an operation to an attribute as a whole.
func (a *applier) whole(op Operation, c map[string]any, key string, attr *schema.Attribute, v any) error {
	switch op.Op {
	case "remove":
		if op.HasValue && attr.MultiValued && v != nil {
			// Remove the listed values (Entra ID: {"op":"Remove","path":"members","value":[…]}).
			keep := []any{}
			for _, e := range asList(c[key]) {
				if !containsElem(asList(v), e) {
					keep = append(keep, e)
				}
			}
			if len(keep) == 0 {
				delete(c, key)
			} else {
				c[key] = keep
			}
			return nil
		}
		delete(c, key)
		return nil
	case "add":
		if attr.MultiValued {
			list := asList(c[key])
			for _, e := range asList(v) {
				if containsElem(list, e) {
					continue
				}
				if isPrimary(e) {
					clearPrimary(list)
				}
				list = append(list, e)
			}
			c[key] = list
			return nil
		}
		return a.set(c, key, attr, v)
	case "replace":
		if attr.MultiValued {
			list := []any{}
			for _, e := range asList(v) {
				if isPrimary(e) {
					clearPrimary(list)
				}
				list = append(list, e)
			}
			if v == nil {
				delete(c, key)
			} else {
				c[key] = list
			}
			return nil
		}
		return a.set(c, key, attr, v)
	}
	return nil
}

// set sets a single-valued attribute; a complex value merges into the present one (RFC
// 7644 section 3.5.2.1 and 3.5.2.3: unspecified sub-attributes are left unchanged).
func (a *applier) set(c map[string]any, key string, attr *schema.Attribute, v any) error {
	if v == nil {
		delete(c, key)
		return nil
	}
	if attr.Type == schema.Complex {
		if nv, ok := v.(map[string]any); ok {
			if cur, ok := c[key].(map[string]any); ok {
				for k, x := range nv {
					cur[findKey(cur, k)] = x
				}
				return nil
			}
		}
	}
	c[key] = v
	return nil
}

// subAttr applies an operation to a sub-attribute (name.givenName, or emails.value on every
// element).
func (a *applier) subAttr(op string, c map[string]any, key string, attr *schema.Attribute, sub string, v any) error {
	if attr.MultiValued {
		list := asList(c[key])
		if len(list) == 0 && op != "remove" {
			c[key] = []any{map[string]any{sub: v}}
			return nil
		}
		for _, e := range list {
			if m, ok := e.(map[string]any); ok {
				setSub(op, m, sub, v)
			}
		}
		return nil
	}
	m, ok := c[key].(map[string]any)
	if !ok {
		if op == "remove" {
			return nil
		}
		m = map[string]any{}
		c[key] = m
	}
	setSub(op, m, sub, v)
	if len(m) == 0 {
		delete(c, key)
	}
	return nil
}

func setSub(op string, m map[string]any, sub string, v any) {
	k := findKey(m, sub)
	if op == "remove" || v == nil {
		delete(m, k)
		return
	}
	m[k] = v
}

// filtered applies an operation to the elements of a multi-valued attribute that match f.
func (a *applier) filtered(op string, c map[string]any, key string, attr *schema.Attribute, f filter.Expr, sub string, v any) error {
	list := asList(c[key])
	var matched []int
	for i, e := range list {
		m, ok := e.(map[string]any)
		if ok && match(attr, f, m) {
			matched = append(matched, i)
		}
	}
	if op == "remove" {
		if sub != "" {
			for _, i := range matched {
				delete(list[i].(map[string]any), findKey(list[i].(map[string]any), sub))
			}
			return nil
		}
		// Removing what is not there succeeds: identity providers retry removals.
		keep := []any{}
		for i, e := range list {
			if !contains(matched, i) {
				keep = append(keep, e)
			}
		}
		if len(keep) == 0 {
			delete(c, key)
		} else {
			c[key] = keep
		}
		return nil
	}
	if len(matched) == 0 {
		// Nothing matches: create the element the path names from the filter's equality
		// terms (Entra ID sets a user's first work email this way).
		e := eqTerms(f)
		if e == nil {
			return errf("noTarget", "no %s element matches the filter, and the filter does not say how to create one", attr.Name)
		}
		if sub != "" {
			e[sub] = v
		} else if nv, ok := v.(map[string]any); ok {
			for k, x := range nv {
				e[k] = x
			}
		} else {
			return errf("invalidValue", "the value of %s must be an object", attr.Name)
		}
		if isPrimary(e) {
			clearPrimary(list)
		}
		c[key] = append(list, e)
		return nil
	}
	for _, i := range matched {
		m := list[i].(map[string]any)
		if sub != "" {
			setSub(op, m, sub, v)
			continue
		}
		nv, ok := v.(map[string]any)
		if !ok {
			return errf("invalidValue", "the value of %s must be an object", attr.Name)
		}
		if op == "replace" {
			for k := range m {
				if _, keep := nv[k]; !keep && !strings.EqualFold(k, "type") {
					delete(m, k)
				}
			}
		}
		for k, x := range nv {
			m[findKey(m, k)] = x
		}
		if isPrimary(m) {
			for j, e := range list {
				if j != i {
					if em, ok := e.(map[string]any); ok {
						delete(em, findKey(em, "primary"))
					}
				}
			}
		}
	}
	c[key] = list
	return nil
}

func contains(l []int, i int) bool {
	for _, x := range l {
		if x == i {
			return true
		}
	}
	return false
}

// eqTerms returns the attribute values an "and" of "eq" terms fixes, or nil.
func eqTerms(f filter.Expr) map[string]any {
	switch x := f.(type) {
	case filter.Compare:
		if x.Op != filter.Eq || x.Attr.Sub != "" || x.Attr.URN != "" {
			return nil
		}
		return map[string]any{x.Attr.Name: valueOf(x.Value)}
	case filter.And:
		l, r := eqTerms(x.Left), eqTerms(x.Right)
		if l == nil || r == nil {
			return nil
		}
		for k, v := range r {
			l[k] = v
		}
		return l
	}
	return nil
}

func valueOf(v filter.Value) any {
	switch v.Kind {
	case filter.Number:
		return json.Number(v.Num)
	case filter.Bool:
		return v.Bool
	case filter.Null:
		return nil
	}
	return v.Str
}

func isPrimary(e any) bool {
	m, ok := e.(map[string]any)
	if !ok {
		return false
	}
	switch p := m[findKey(m, "primary")].(type) {
	case bool:
		return p
	case string:
		return strings.EqualFold(p, "true")
	}
	return false
}

func clearPrimary(list []any) {
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			if k := findKey(m, "primary"); m[k] != nil {
				m[k] = false
			}
		}
	}
}

// containsElem reports whether list holds e: the same "value" for complex elements, else
// the same JSON.
func containsElem(list []any, e any) bool {
	ev, eok := elemValue(e)
	for _, x := range list {
		if xv, ok := elemValue(x); ok && eok {
			if xv == ev {
				return true
			}
			continue
		}
		if reflect.DeepEqual(x, e) {
			return true
		}
	}
	return false
}

func elemValue(e any) (string, bool) {
	switch x := e.(type) {
	case string:
		return x, true
	case map[string]any:
		if v, ok := x[findKey(x, "value")]; ok {
			s, ok := v.(string)
			return s, ok
		}
	}
	return "", false
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = deepCopy(e)
		}
		return l
	}
	return v
}
