package events

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/auth"
	"github.com/rosterhq/roster/internal/keyring"
	"github.com/rosterhq/roster/internal/outbound"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// SecretPrefix starts every webhook signing secret.
const SecretPrefix = "whsec_"

// Service manages webhook endpoints and their signing secrets. A secret is shown once, at
// creation or rotation, and stored only encrypted under the keyring: the dispatcher must use
// it again to sign, so it cannot be hashed.
type Service struct {
	st  store.Store
	kr  *keyring.Keyring
	now func() time.Time
}

// NewService returns a Service; now nil means time.Now.
func NewService(st store.Store, kr *keyring.Keyring, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{st: st, kr: kr, now: now}
}

// WebhookPatch is a partial update; nil fields stay as they are.
type WebhookPatch struct {
	URL        *string
	EventTypes *[]string
	Enabled    *bool
}

func newSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// associated binds a secret's ciphertext to its endpoint: moved to another row, it fails to
// decrypt.
func associated(orgID, id string) []byte {
	return []byte("webhook_endpoints.secret:" + orgID + ":" + id)
}

func (s *Service) encrypt(orgID, id, secret string) (string, error) {
	if s.kr == nil {
		return "", roster.E(roster.Internal, "no keyring: webhook secrets cannot be stored")
	}
	return s.kr.Encrypt([]byte(secret), associated(orgID, id))
}

func validate(url string, types []string) error {
	if err := outbound.CheckURL(url); err != nil {
		return roster.E(roster.Invalid, "url: %v", err)
	}
	for _, t := range types {
		if !roster.KnownEventType(t) {
			return roster.E(roster.Invalid, "eventTypes: unknown event type %q", t)
		}
	}
	return nil
}

// CreateWebhook creates an endpoint and returns it with its secret, the only time the
// secret is shown.
func (s *Service) CreateWebhook(ctx context.Context, actor roster.Actor, orgID, url string, types []string) (*roster.Webhook, string, error) {
	if err := validate(url, types); err != nil {
		return nil, "", err
	}
	secret, err := newSecret()
	if err != nil {
		return nil, "", err
	}
	w := &roster.Webhook{ID: roster.NewID(), OrgID: orgID, URL: url, EventTypes: dedupe(types)}
	if w.SecretEnc, err = s.encrypt(orgID, w.ID, secret); err != nil {
		return nil, "", err
	}
	if err := s.st.Tx(ctx, actor, func(tx store.Tx) error { return tx.CreateWebhook(ctx, w) }); err != nil {
		return nil, "", err
	}
	return w, secret, nil
}

func dedupe(types []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, t := range types {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// UpdateWebhook changes an endpoint; enabling a disabled one resumes delivery at once.
func (s *Service) UpdateWebhook(ctx context.Context, actor roster.Actor, orgID, id string, p WebhookPatch) (*roster.Webhook, error) {
	var out *roster.Webhook
	err := s.st.Tx(ctx, actor, func(tx store.Tx) error {
		w, err := tx.GetWebhook(ctx, orgID, id)
		if err != nil {
			return err
		}
		if p.URL != nil {
			w.URL = *p.URL
		}
		if p.EventTypes != nil {
			w.EventTypes = dedupe(*p.EventTypes)
		}
		if p.Enabled != nil {
			w.Enabled = *p.Enabled
		}
		if err := validate(w.URL, w.EventTypes); err != nil {
			return err
		}
		if err := tx.UpdateWebhook(ctx, w); err != nil {
			return err
		}
		out = w
		return nil
	})
	return out, err
}

// RotateSecret gives an endpoint a new secret; the old one keeps signing (as the second v1
// value) for grace.
func (s *Service) RotateSecret(ctx context.Context, actor roster.Actor, orgID, id string, grace time.Duration) (*roster.Webhook, string, error) {
	if grace < 0 || grace > auth.MaxGrace {
		return nil, "", roster.E(roster.Invalid, "graceSeconds must be between 0 and %d", int64(auth.MaxGrace/time.Second))
	}
	secret, err := newSecret()
	if err != nil {
		return nil, "", err
	}
	enc, err := s.encrypt(orgID, id, secret)
	if err != nil {
		return nil, "", err
	}
	var until *time.Time
	if grace > 0 {
		t := s.now().UTC().Add(grace).Truncate(time.Microsecond)
		until = &t
	}
	var w *roster.Webhook
	err = s.st.Tx(ctx, actor, func(tx store.Tx) error {
		var err error
		w, err = tx.RotateWebhookSecret(ctx, orgID, id, enc, until)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return w, secret, nil
}

// Secrets decrypts the secrets that sign for w at now: the current one, then the previous
// one while its grace lasts.
func (s *Service) Secrets(w *roster.Webhook, now time.Time) ([]string, error) {
	if s.kr == nil {
		return nil, errors.New("events: no keyring")
	}
	cur, err := s.kr.Decrypt(w.SecretEnc, associated(w.OrgID, w.ID))
	if err != nil {
		return nil, err
	}
	out := []string{string(cur)}
	if w.PrevSecretEnc != "" && w.PrevExpiresAt != nil && now.Before(*w.PrevExpiresAt) {
		prev, err := s.kr.Decrypt(w.PrevSecretEnc, associated(w.OrgID, w.ID))
		if err != nil {
			return nil, err
		}
		out = append(out, string(prev))
	}
	return out, nil
}

// EventJSON is the wire form of an event, in the events API and as a webhook body.
type EventJSON struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt time.Time       `json:"createdAt"`
	Actor     roster.Actor    `json:"actor"`
	Data      json.RawMessage `json:"data"`
}

// NewEventJSON shapes an event.
func NewEventJSON(e *roster.Event) EventJSON {
	data := e.Data
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	return EventJSON{ID: e.ID, Type: e.Type, CreatedAt: e.CreatedAt, Actor: e.Actor, Data: data}
}

// Body is the exact body of a delivery of e: the same bytes on every attempt.
func Body(e *roster.Event) ([]byte, error) { return json.Marshal(NewEventJSON(e)) }

// The events API cursor is the organization's event number: opaque to readers, stable across
// replicas and restarts because it is stored with the event.

// EncodeCursor makes the cursor that resumes after seq.
func EncodeCursor(seq int64) string { return strconv.FormatInt(seq, 10) }

// ParseCursor reads a cursor made by EncodeCursor.
func ParseCursor(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0, roster.E(roster.Invalid, "after: not a cursor returned by this API")
	}
	return n, nil
}

// ParseTypes reads a types=a,b parameter, refusing unknown types.
func ParseTypes(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if !roster.KnownEventType(t) {
			return nil, roster.E(roster.Invalid, "types: unknown event type %q", t)
		}
		out = append(out, t)
	}
	return out, nil
}
