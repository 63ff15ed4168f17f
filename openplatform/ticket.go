package openplatform

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wxkit/wxkit/token"
)

// TicketLifetime is how long a component_verify_ticket stays valid after
// WeChat created it. WeChat pushes a new one every 10 minutes.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/component_verify_ticket.html
const TicketLifetime = 12 * time.Hour

// maxTicketSkew is how far in the future a ticket's CreateTime may lie (the
// clocks of WeChat and of this host differ); a later one counts from now.
const maxTicketSkew = 5 * time.Minute

// Ticket returns the component's latest component_verify_ticket, with its
// expiry (its CreateTime plus TicketLifetime), from the token store under
// token.ComponentTicketKey. It returns an error wrapping ErrNoTicket when
// none newer than TicketLifetime is stored. Treat the value as a secret.
func (c *Component) Ticket(ctx context.Context) (*token.Token, error) {
	t, err := c.cfg.tokens.Get(ctx, token.ComponentTicketKey(c.appID))
	switch {
	case errors.Is(err, token.ErrNotFound):
		return nil, fmt.Errorf("%w (component %s)", ErrNoTicket, c.appID)
	case err != nil:
		return nil, fmt.Errorf("openplatform: component %s: read component_verify_ticket: %w", c.appID, err)
	case t.Value == "" || (!t.Expiry.IsZero() && !c.now().Before(t.Expiry)):
		return nil, fmt.Errorf("%w (component %s)", ErrNoTicket, c.appID)
	}
	return t, nil
}

// StoreTicket keeps ticket, created by WeChat at created (the push's
// CreateTime), as the component's latest component_verify_ticket, valid
// until created plus TicketLifetime. A ticket older than the one stored is
// ignored (a retried or delayed push must not replace a newer ticket), and
// one already expired is refused. The authorization-event handler calls it
// for every ticket push; call it yourself only to restore a ticket.
func (c *Component) StoreTicket(ctx context.Context, ticket string, created time.Time) error {
	if ticket == "" {
		return errors.New("openplatform: StoreTicket: empty ticket")
	}
	now := c.now()
	if created.After(now.Add(maxTicketSkew)) {
		created = now
	}
	expiry := created.Add(TicketLifetime)
	if !now.Before(expiry) {
		return fmt.Errorf("openplatform: component_verify_ticket created %s is older than %s: not stored",
			created.UTC().Format(time.RFC3339), TicketLifetime)
	}
	key := token.ComponentTicketKey(c.appID)
	cur, err := c.cfg.tokens.Get(ctx, key)
	switch {
	case err == nil && cur.Expiry.After(expiry):
		return nil // a newer ticket is stored
	case err == nil, errors.Is(err, token.ErrNotFound):
	default:
		return fmt.Errorf("openplatform: component %s: read component_verify_ticket: %w", c.appID, err)
	}
	if err := c.cfg.tokens.Set(ctx, key, &token.Token{Value: ticket, Expiry: expiry}); err != nil {
		return fmt.Errorf("openplatform: component %s: store component_verify_ticket: %w", c.appID, err)
	}
	return nil
}
