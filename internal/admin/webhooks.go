package admin

import (
	"github.com/rosterhq/roster/internal/events"
	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// Webhooks: endpoints with their event types, the signing secret shown once, the delivery
// log and redelivery, through events.Service as for the webhooks API.

type createdWebhook struct{ Secret string }

type webhooksPage struct {
	Webhooks   []roster.Webhook
	EventTypes []string
	Created    *createdWebhook
}

func (c *Console) webhooksView(q *req, created *createdWebhook) (*view, error) {
	list, err := c.Store.ListWebhooks(q.ctx(), q.org.ID)
	if err != nil {
		return nil, err
	}
	return q.view("webhooks", "Webhooks", &webhooksPage{Webhooks: list, EventTypes: roster.EventTypes, Created: created}), nil
}

// Webhooks answers GET /orgs/{orgId}/webhooks.
func (c *Console) Webhooks(q *req) error {
	v, err := c.webhooksView(q, nil)
	if err != nil {
		return err
	}
	return c.show(q, "webhooks", v, "")
}

// CreateWebhook answers POST /orgs/{orgId}/webhooks (url, eventTypes…).
func (c *Console) CreateWebhook(q *req) error {
	_, secret, err := c.Events.CreateWebhook(q.ctx(), q.actor(), q.org.ID, q.r.PostForm.Get("url"), q.r.PostForm["eventTypes"])
	if err != nil {
		return err
	}
	v, err := c.webhooksView(q, &createdWebhook{Secret: secret})
	if err != nil {
		return err
	}
	return c.show(q, "webhooks", v, q.base()+"/webhooks")
}

type webhookPage struct {
	Webhook    *roster.Webhook
	Deliveries []roster.Delivery
	Next       string
	Secret     string
}

func (c *Console) webhook(q *req) (*roster.Webhook, error) {
	id := q.r.PathValue("webhookId")
	if !roster.ValidID(id) {
		return nil, roster.E(roster.NotFound, "no such webhook")
	}
	return c.Store.GetWebhook(q.ctx(), q.org.ID, id)
}

func (c *Console) webhookView(q *req, secret string) (*view, error) {
	w, err := c.webhook(q)
	if err != nil {
		return nil, err
	}
	after := q.r.URL.Query().Get("after")
	list, next, err := c.Store.ListDeliveries(q.ctx(), q.org.ID, w.ID, store.Page{After: after, Limit: 50})
	if err != nil {
		return nil, err
	}
	return q.view("webhooks", "Webhook", &webhookPage{Webhook: w, Deliveries: list, Next: next, Secret: secret}), nil
}

// Webhook answers GET /orgs/{orgId}/webhooks/{webhookId}: the endpoint and its deliveries.
func (c *Console) Webhook(q *req) error {
	v, err := c.webhookView(q, "")
	if err != nil {
		return err
	}
	return c.show(q, "webhook", v, "")
}

// ToggleWebhook answers POST /orgs/{orgId}/webhooks/{webhookId}/toggle (enabled).
func (c *Console) ToggleWebhook(q *req) error {
	w, err := c.webhook(q)
	if err != nil {
		return err
	}
	on := q.r.PostForm.Get("enabled") == "true"
	if _, err := c.Events.UpdateWebhook(q.ctx(), q.actor(), q.org.ID, w.ID, events.WebhookPatch{Enabled: &on}); err != nil {
		return err
	}
	return q.seeOther(q.base()+"/webhooks/"+w.ID, "saved")
}

// RotateWebhookSecret answers POST /orgs/{orgId}/webhooks/{webhookId}/rotate-secret
// (graceSeconds): the new secret is shown once.
func (c *Console) RotateWebhookSecret(q *req) error {
	grace, err := graceForm(q.r.PostForm.Get("graceSeconds"))
	if err != nil {
		return err
	}
	w, err := c.webhook(q)
	if err != nil {
		return err
	}
	_, secret, err := c.Events.RotateSecret(q.ctx(), q.actor(), q.org.ID, w.ID, grace)
	if err != nil {
		return err
	}
	v, err := c.webhookView(q, secret)
	if err != nil {
		return err
	}
	return c.show(q, "webhook", v, q.base()+"/webhooks/"+w.ID)
}

// DeleteWebhook answers POST /orgs/{orgId}/webhooks/{webhookId}/delete.
func (c *Console) DeleteWebhook(q *req) error {
	w, err := c.webhook(q)
	if err != nil {
		return err
	}
	if err := c.Store.Tx(q.ctx(), q.actor(), func(tx store.Tx) error { return tx.DeleteWebhook(q.ctx(), q.org.ID, w.ID) }); err != nil {
		return err
	}
	return q.seeOther(q.base()+"/webhooks", "deleted")
}

// Redeliver answers POST /orgs/{orgId}/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver.
func (c *Console) Redeliver(q *req) error {
	w, err := c.webhook(q)
	if err != nil {
		return err
	}
	if err := c.Store.Tx(q.ctx(), q.actor(), func(tx store.Tx) error {
		_, err := tx.Redeliver(q.ctx(), q.org.ID, w.ID, q.r.PathValue("deliveryId"))
		return err
	}); err != nil {
		return err
	}
	return q.seeOther(q.base()+"/webhooks/"+w.ID, "redeliver")
}
