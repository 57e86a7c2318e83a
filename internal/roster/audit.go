package roster

import (
	"context"
	"encoding/json"
	"time"
)

// ActorType says what kind of principal made a change.
type ActorType string

// The actor types of the audit log (DESIGN.md section 5a).
const (
	ActorAdminKey  ActorType = "admin_key"
	ActorOrgKey    ActorType = "org_key"
	ActorDirectory ActorType = "directory"
	ActorMember    ActorType = "member"
	ActorSystem    ActorType = "system"
)

// Actor is who made a change: passed in at the top of every write and recorded with it.
type Actor struct {
	Type ActorType `json:"type"`
	ID   string    `json:"id"`
}

// SystemActor is the actor of changes Roster makes by itself or through the local CLI.
func SystemActor(id string) Actor { return Actor{Type: ActorSystem, ID: id} }

// Target is what a change was made to.
type Target struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// AuditRecord is one entry of the audit log, written in the same transaction as the change
// it describes. Before and After are JSON snapshots that never contain secrets.
type AuditRecord struct {
	ID        string          `json:"id"`
	OrgID     string          `json:"orgId"`
	CreatedAt time.Time       `json:"createdAt"`
	Actor     Actor           `json:"actor"`
	Action    string          `json:"action"`
	Target    Target          `json:"target"`
	Before    json.RawMessage `json:"before"`
	After     json.RawMessage `json:"after"`
	RequestID string          `json:"requestId"`
	IP        string          `json:"ip"`
}

// RequestMeta carries the request id and client address of the request being served, so that
// the store can stamp them on audit records without every signature naming them.
type RequestMeta struct {
	RequestID string
	IP        string
}

type requestMetaKey struct{}

// WithRequestMeta returns ctx carrying m.
func WithRequestMeta(ctx context.Context, m RequestMeta) context.Context {
	return context.WithValue(ctx, requestMetaKey{}, m)
}

// RequestMetaFrom returns the RequestMeta in ctx, or the zero value.
func RequestMetaFrom(ctx context.Context) RequestMeta {
	m, _ := ctx.Value(requestMetaKey{}).(RequestMeta)
	return m
}
