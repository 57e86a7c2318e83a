package store

// Query selects and orders SCIM resources of one directory. Conditions are a small,
// database-neutral tree over a whitelist of fields: the SCIM layer translates filters into
// it, and each backend compiles it to SQL with bound parameters. Nothing a client sends
// reaches SQL text.
type Query struct {
	Where Cond
	// SortBy orders the results (zero: creation order); SortDesc reverses it.
	SortBy   Field
	SortDesc bool
	// Offset skips that many results (SCIM startIndex - 1); Limit caps them (0: none
	// returned, only the total is counted).
	Offset int
	Limit  int
	// After is a keyset cursor (the id of the last resource of the previous page), used
	// instead of Offset for cursor pagination: its cost does not grow with the position.
	After string
	// CountTotal asks for the total number of matches.
	CountTotal bool
}

// Field is a searchable attribute of a resource: a column the store keeps beside the
// document, or a path into the stored JSON document.
type Field struct {
	// Column names a kept column (one of the Col* constants), or "" for a document path.
	Column string
	// Path is the JSON path into the resource document ("title", "name", "middleName",
	// "urn:…:User", "employeeNumber"), used when Column is "".
	Path []string
	// Fold compares case-insensitively (the attribute is not caseExact).
	Fold bool
	// Kind is the attribute's value type, for ordering comparisons.
	Kind ValueKind
}

// ValueKind is the SCIM type of a field's values, as far as comparisons care.
type ValueKind int

// The value kinds.
const (
	KindString ValueKind = iota
	KindBool
	KindNumber
	KindTime // stored as microseconds since the epoch in kept columns, RFC 3339 in documents
)

// The kept columns of SCIM users and groups.
const (
	ColID          = "id"
	ColUserName    = "user_name_key"
	ColExternalID  = "external_id"
	ColActive      = "active"
	ColDisplayName = "display_name"
	ColGivenName   = "given_name"
	ColFamilyName  = "family_name"
	ColEmail       = "email"
	ColCreated     = "created_at"
	ColModified    = "updated_at"
	ColVersion     = "version"
)

// Cond is a condition of a Query.
type Cond interface{ cond() }

// Op is a comparison operator (RFC 7644 section 3.4.2.2).
type Op string

// The comparison operators.
const (
	OpEq      Op = "eq"
	OpNe      Op = "ne"
	OpCo      Op = "co"
	OpSw      Op = "sw"
	OpEw      Op = "ew"
	OpGt      Op = "gt"
	OpGe      Op = "ge"
	OpLt      Op = "lt"
	OpLe      Op = "le"
	OpPresent Op = "pr"
)

// Compare compares a field with a value: a string, bool, float64, int64 (microseconds for
// KindTime columns) or nil (JSON null).
type Compare struct {
	Field Field
	Op    Op
	Value any
}

// And, Or and Not combine conditions.
type (
	And struct{ Left, Right Cond }
	Or  struct{ Left, Right Cond }
	Not struct{ X Cond }
)

// Elem holds when some element of the multi-valued document attribute at Path satisfies
// Where, whose fields are paths relative to the element (emails[type eq "work"]). A
// multi-valued attribute of simple values has its value at the empty relative path.
type Elem struct {
	Path  []string
	Where Cond
}

// MemberOf holds for users that are members of the group with this id (used for filters on
// the computed groups attribute), and HasMember for groups that have this member.
type (
	MemberOf  struct{ GroupID string }
	HasMember struct{ MemberID string }
)

// True and False are constant conditions (a filter on an attribute the server does not
// keep matches nothing rather than failing).
type (
	True  struct{}
	False struct{}
)

func (Compare) cond()   {}
func (And) cond()       {}
func (Or) cond()        {}
func (Not) cond()       {}
func (Elem) cond()      {}
func (MemberOf) cond()  {}
func (HasMember) cond() {}
func (True) cond()      {}
func (False) cond()     {}
