// Package filter parses SCIM filters (RFC 7644 section 3.4.2.2) and PATCH paths (RFC 7644
// section 3.5.2) into a small syntax tree. It knows no schema: resolving attribute names and
// turning a tree into a query is the caller's job.
package filter

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxLen bounds a filter or path; MaxDepth bounds its nesting, so hostile input cannot
// exhaust the stack.
const (
	MaxLen   = 4096
	MaxDepth = 50
)

// AttrPath is an attribute reference: an optional schema URN, an attribute name and an
// optional sub-attribute, as written (compare them case-insensitively).
type AttrPath struct{ URN, Name, Sub string }

func (p AttrPath) String() string {
	s := p.Name
	if p.URN != "" {
		s = p.URN + ":" + s
	}
	if p.Sub != "" {
		s += "." + p.Sub
	}
	return s
}

// ValueKind is the JSON type of a comparison value.
type ValueKind int

// The value kinds.
const (
	String ValueKind = iota
	Number
	Bool
	Null
)

// Value is a comparison value (RFC 7644 section 3.4.2.2 compValue).
type Value struct {
	Kind ValueKind
	Str  string
	Num  string // the JSON number's exact text
	Bool bool
}

func (v Value) String() string {
	switch v.Kind {
	case Number:
		return v.Num
	case Bool:
		return strconv.FormatBool(v.Bool)
	case Null:
		return "null"
	}
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v.Str)
	return strings.TrimSuffix(sb.String(), "\n")
}

// Op is a comparison operator.
type Op string

// The operators of RFC 7644 section 3.4.2.2, figure 1.
const (
	Eq Op = "eq"
	Ne Op = "ne"
	Co Op = "co"
	Sw Op = "sw"
	Ew Op = "ew"
	Gt Op = "gt"
	Ge Op = "ge"
	Lt Op = "lt"
	Le Op = "le"
	Pr Op = "pr"
)

// Expr is a filter expression: Compare, And, Or, Not or ValuePath.
type Expr interface {
	expr()
	String() string
}

// Compare is "attrPath op value", or "attrPath pr".
type Compare struct {
	Attr  AttrPath
	Op    Op
	Value Value
}

// And, Or and Not are the logical expressions.
type (
	And struct{ Left, Right Expr }
	Or  struct{ Left, Right Expr }
	Not struct{ X Expr }
)

// ValuePath is "attrPath[valFilter]": elements of a multi-valued attribute that satisfy
// Filter, whose attribute names are sub-attributes of Attr.
type ValuePath struct {
	Attr   AttrPath
	Filter Expr
}

func (Compare) expr()   {}
func (And) expr()       {}
func (Or) expr()        {}
func (Not) expr()       {}
func (ValuePath) expr() {}

func (c Compare) String() string {
	if c.Op == Pr {
		return c.Attr.String() + " pr"
	}
	return c.Attr.String() + " " + string(c.Op) + " " + c.Value.String()
}
func (a And) String() string       { return "(" + a.Left.String() + " and " + a.Right.String() + ")" }
func (o Or) String() string        { return "(" + o.Left.String() + " or " + o.Right.String() + ")" }
func (n Not) String() string       { return "not (" + n.X.String() + ")" }
func (v ValuePath) String() string { return v.Attr.String() + "[" + v.Filter.String() + "]" }

// Error is a parse error at a byte position of the input.
type Error struct {
	Pos int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("invalid filter at position %d: %s", e.Pos, e.Msg) }

// Path is a PATCH target (RFC 7644 section 3.5.2): attrPath, or valuePath with an optional
// sub-attribute after the closing bracket ("emails[type eq \"work\"].value").
type Path struct {
	Attr   AttrPath
	Filter Expr
	Sub    string
}

func (p Path) String() string {
	if p.Filter == nil {
		return p.Attr.String()
	}
	s := p.Attr.String() + "[" + p.Filter.String() + "]"
	if p.Sub != "" {
		s += "." + p.Sub
	}
	return s
}

// Parse parses a filter.
func Parse(s string) (Expr, error) {
	p, err := newParser(s)
	if err != nil {
		return nil, err
	}
	e, err := p.or(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.s) {
		return nil, p.errf("unexpected %s after the end of the filter", p.excerpt())
	}
	return e, nil
}

// ParsePath parses a PATCH path.
func ParsePath(s string) (Path, error) {
	p, err := newParser(s)
	if err != nil {
		return Path{}, err
	}
	p.space()
	a, err := p.attrPath()
	if err != nil {
		return Path{}, err
	}
	out := Path{Attr: a}
	if p.peek() == '[' {
		if a.Sub != "" {
			return Path{}, p.errf("a value filter follows an attribute, not a sub-attribute")
		}
		p.pos++
		f, err := p.or(1)
		if err != nil {
			return Path{}, err
		}
		p.space()
		if p.peek() != ']' {
			return Path{}, p.errf("expected ] to close the value filter, found %s", p.excerpt())
		}
		p.pos++
		out.Filter = f
		if p.peek() == '.' {
			p.pos++
			start := p.pos
			name := p.name()
			if name == "" {
				return Path{}, &Error{Pos: start, Msg: "expected a sub-attribute name after ]."}
			}
			out.Sub = name
		}
	}
	p.space()
	if p.pos < len(p.s) {
		return Path{}, p.errf("unexpected %s after the end of the path", p.excerpt())
	}
	return out, nil
}

type parser struct {
	s   string
	pos int
}

func newParser(s string) (*parser, error) {
	if len(s) > MaxLen {
		return nil, &Error{Pos: MaxLen, Msg: fmt.Sprintf("longer than %d bytes", MaxLen)}
	}
	if !utf8.ValidString(s) {
		return nil, &Error{Pos: 0, Msg: "not valid UTF-8"}
	}
	if strings.TrimSpace(s) == "" {
		return nil, &Error{Pos: 0, Msg: "empty"}
	}
	return &parser{s: s}, nil
}

func (p *parser) errf(format string, args ...any) error {
	return &Error{Pos: p.pos, Msg: fmt.Sprintf(format, args...)}
}

// excerpt quotes what stands at the current position.
func (p *parser) excerpt() string {
	if p.pos >= len(p.s) {
		return "the end of the input"
	}
	rest := p.s[p.pos:]
	end := strings.IndexAny(rest, " ()[]")
	if end <= 0 {
		end = min(len(rest), 20)
		if end == 0 {
			end = 1
		}
	}
	if end > 20 {
		end = 20
	}
	return strconv.Quote(rest[:end])
}

func (p *parser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *parser) space() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == '\n' || p.s[p.pos] == '\r') {
		p.pos++
	}
}

// word reads a keyword (and, or, not, an operator) case-insensitively if it stands next,
// followed by a delimiter.
func (p *parser) word(w string) bool {
	end := p.pos + len(w)
	if end > len(p.s) || !strings.EqualFold(p.s[p.pos:end], w) {
		return false
	}
	if end < len(p.s) {
		c := p.s[end]
		if c != ' ' && c != '(' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	p.pos = end
	return true
}

// or := and ("or" and)*
func (p *parser) or(depth int) (Expr, error) {
	if depth > MaxDepth {
		return nil, p.errf("nested deeper than %d levels", MaxDepth)
	}
	l, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for {
		p.space()
		save := p.pos
		if !p.word("or") {
			return l, nil
		}
		p.space()
		if p.pos >= len(p.s) {
			p.pos = save
			return nil, p.errf("expected an expression after \"or\"")
		}
		r, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		l = Or{Left: l, Right: r}
	}
}

// and := unary ("and" unary)*
func (p *parser) and(depth int) (Expr, error) {
	l, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for {
		p.space()
		if !p.word("and") {
			return l, nil
		}
		r, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		l = And{Left: l, Right: r}
	}
}

// unary := "not" "(" or ")" | "(" or ")" | attrExp | valuePath
func (p *parser) unary(depth int) (Expr, error) {
	if depth > MaxDepth {
		return nil, p.errf("nested deeper than %d levels", MaxDepth)
	}
	p.space()
	if p.word("not") {
		p.space()
		if p.peek() != '(' {
			return nil, p.errf(`expected ( after "not", found %s`, p.excerpt())
		}
		x, err := p.group(depth)
		if err != nil {
			return nil, err
		}
		return Not{X: x}, nil
	}
	if p.peek() == '(' {
		return p.group(depth)
	}
	return p.attrExp(depth)
}

func (p *parser) group(depth int) (Expr, error) {
	p.pos++ // (
	x, err := p.or(depth + 1)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.peek() != ')' {
		return nil, p.errf("expected ) to close the group, found %s", p.excerpt())
	}
	p.pos++
	return x, nil
}

func isNameStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '$' }
func isNameChar(c byte) bool {
	return isNameStart(c) || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// name reads ATTRNAME (RFC 7643 section 2.1; "$ref" is allowed as RFC 7643 uses it).
func (p *parser) name() string {
	start := p.pos
	if p.pos < len(p.s) && isNameStart(p.s[p.pos]) {
		p.pos++
		for p.pos < len(p.s) && isNameChar(p.s[p.pos]) {
			p.pos++
		}
	}
	return p.s[start:p.pos]
}

// attrPath := [URI ":"] ATTRNAME *1subAttr
func (p *parser) attrPath() (AttrPath, error) {
	start := p.pos
	var a AttrPath
	if len(p.s)-p.pos >= 4 && strings.EqualFold(p.s[p.pos:p.pos+4], "urn:") {
		// The URN runs to the last ':' before the attribute name; the name has no ':'.
		end := p.pos
		for end < len(p.s) && !strings.ContainsRune(" []()", rune(p.s[end])) {
			end++
		}
		tok := p.s[p.pos:end]
		i := strings.LastIndex(tok, ":")
		if i <= 3 || i == len(tok)-1 {
			return a, &Error{Pos: start, Msg: fmt.Sprintf("expected an attribute after the schema URN in %q", tok)}
		}
		a.URN = tok[:i]
		p.pos += i + 1
		// A URN itself contains dots ("2.0"); the name starts after the last colon.
	}
	nameStart := p.pos
	a.Name = p.name()
	if a.Name == "" {
		return a, &Error{Pos: nameStart, Msg: fmt.Sprintf("expected an attribute name, found %s", p.excerpt())}
	}
	if p.peek() == '.' {
		p.pos++
		subStart := p.pos
		a.Sub = p.name()
		if a.Sub == "" {
			return a, &Error{Pos: subStart, Msg: "expected a sub-attribute name after ."}
		}
	}
	return a, nil
}

var ops = []Op{Eq, Ne, Co, Sw, Ew, Gt, Ge, Lt, Le, Pr}

// attrExp := attrPath "pr" | attrPath compareOp compValue | attrPath "[" valFilter "]"
func (p *parser) attrExp(depth int) (Expr, error) {
	a, err := p.attrPath()
	if err != nil {
		return nil, err
	}
	if p.peek() == '[' {
		if a.Sub != "" {
			return nil, p.errf("a value filter follows an attribute, not a sub-attribute")
		}
		p.pos++
		f, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if containsValuePath(f) {
			return nil, p.errf("value filters cannot be nested")
		}
		p.space()
		if p.peek() != ']' {
			return nil, p.errf("expected ] to close the value filter, found %s", p.excerpt())
		}
		p.pos++
		return ValuePath{Attr: a, Filter: f}, nil
	}
	if p.peek() != ' ' && p.peek() != '\t' {
		return nil, p.errf("expected a space and an operator after %q, found %s", a.String(), p.excerpt())
	}
	p.space()
	var op Op
	for _, o := range ops {
		if p.word(string(o)) {
			op = o
			break
		}
	}
	if op == "" {
		return nil, p.errf("expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr), found %s", p.excerpt())
	}
	if op == Pr {
		return Compare{Attr: a, Op: Pr}, nil
	}
	p.space()
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	return Compare{Attr: a, Op: op, Value: v}, nil
}

func containsValuePath(e Expr) bool {
	switch x := e.(type) {
	case ValuePath:
		return true
	case And:
		return containsValuePath(x.Left) || containsValuePath(x.Right)
	case Or:
		return containsValuePath(x.Left) || containsValuePath(x.Right)
	case Not:
		return containsValuePath(x.X)
	}
	return false
}

// value := false / null / true / number / string, and, where unambiguous, a bare word
// (the Microsoft validator sends unquoted values).
func (p *parser) value() (Value, error) {
	if p.pos >= len(p.s) {
		return Value{}, p.errf("expected a value, found the end of the input")
	}
	if p.s[p.pos] == '"' {
		s, err := p.jsonString()
		return Value{Kind: String, Str: s}, err
	}
	start := p.pos
	end := p.pos
	for end < len(p.s) && !strings.ContainsRune(" \t\r\n()[]", rune(p.s[end])) {
		end++
	}
	tok := p.s[start:end]
	if tok == "" {
		return Value{}, p.errf("expected a value, found %s", p.excerpt())
	}
	p.pos = end
	switch strings.ToLower(tok) {
	case "true":
		return Value{Kind: Bool, Bool: true}, nil
	case "false":
		return Value{Kind: Bool, Bool: false}, nil
	case "null":
		return Value{Kind: Null}, nil
	}
	if isJSONNumber(tok) {
		return Value{Kind: Number, Num: tok}, nil
	}
	if tok[0] == '\'' || strings.ContainsAny(tok, "\"\\") {
		return Value{}, &Error{Pos: start, Msg: "string values are written in double quotes"}
	}
	for _, r := range tok {
		if r < 0x20 || r == 0x7f {
			return Value{}, &Error{Pos: start, Msg: "control character in a value"}
		}
	}
	return Value{Kind: String, Str: tok}, nil
}

func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return false
	}
	if s[i] == '0' {
		i++
	} else if s[i] >= '1' && s[i] <= '9' {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(s)
}

// jsonString reads a JSON string with every escape of RFC 8259 section 7.
func (p *parser) jsonString() (string, error) {
	start := p.pos
	p.pos++ // opening quote
	var sb strings.Builder
	for {
		if p.pos >= len(p.s) {
			return "", &Error{Pos: start, Msg: "unterminated string"}
		}
		c := p.s[p.pos]
		switch {
		case c == '"':
			p.pos++
			return sb.String(), nil
		case c == '\\':
			if p.pos+1 >= len(p.s) {
				return "", &Error{Pos: p.pos, Msg: "unterminated escape"}
			}
			e := p.s[p.pos+1]
			p.pos += 2
			switch e {
			case '"', '\\', '/':
				sb.WriteByte(e)
			case 'b':
				sb.WriteByte('\b')
			case 'f':
				sb.WriteByte('\f')
			case 'n':
				sb.WriteByte('\n')
			case 'r':
				sb.WriteByte('\r')
			case 't':
				sb.WriteByte('\t')
			case 'u':
				r, err := p.hex4()
				if err != nil {
					return "", err
				}
				if r >= 0xD800 && r < 0xDC00 { // a surrogate pair
					if p.pos+1 < len(p.s) && p.s[p.pos] == '\\' && p.s[p.pos+1] == 'u' {
						p.pos += 2
						r2, err := p.hex4()
						if err != nil {
							return "", err
						}
						if r2 >= 0xDC00 && r2 < 0xE000 {
							r = (r-0xD800)<<10 + (r2 - 0xDC00) + 0x10000
						} else {
							sb.WriteRune(utf8.RuneError)
							r = r2
						}
					} else {
						r = utf8.RuneError
					}
				} else if r >= 0xDC00 && r < 0xE000 {
					r = utf8.RuneError
				}
				sb.WriteRune(r)
			default:
				return "", &Error{Pos: p.pos - 2, Msg: fmt.Sprintf("invalid escape \\%c", e)}
			}
		case c < 0x20:
			return "", &Error{Pos: p.pos, Msg: "control character in a string"}
		default:
			sb.WriteByte(c)
			p.pos++
		}
	}
}

func (p *parser) hex4() (rune, error) {
	if p.pos+4 > len(p.s) {
		return 0, &Error{Pos: p.pos, Msg: "expected four hex digits after \\u"}
	}
	n, err := strconv.ParseUint(p.s[p.pos:p.pos+4], 16, 32)
	if err != nil {
		return 0, &Error{Pos: p.pos, Msg: "expected four hex digits after \\u"}
	}
	p.pos += 4
	return rune(n), nil
}
