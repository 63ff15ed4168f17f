package token

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/wxkit/wxkit"
)

// TicketProvider is a Source that fetches a ticket from GET
// cgi-bin/ticket/getticket?type=<type>&access_token=<token>, using an
// access-token Source. Tickets last 7200 s and the call is scarce, so wrap it
// in a CachedSource under JSAPITicketKey.
//
// When WeChat rejects the access_token (40001, 40014, 42001) and the
// access-token Source is an Invalidator, the token is invalidated and the
// call retried once. The access_token never appears in an error.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/JS-SDK.html#62
type TicketProvider struct {
	accessToken Source
	typ         string
	cfg         providerConfig
}

// NewJSAPITicketProvider returns a provider of the JS-SDK jsapi_ticket
// (type=jsapi). Options: WithBaseURL, WithHTTPClient, WithClock.
func NewJSAPITicketProvider(accessToken Source, opts ...ProviderOption) *TicketProvider {
	return NewTicketProvider(accessToken, "jsapi", opts...)
}

// NewTicketProvider returns a provider of tickets of the given getticket type
// ("jsapi" or "wx_card").
func NewTicketProvider(accessToken Source, ticketType string, opts ...ProviderOption) *TicketProvider {
	return &TicketProvider{accessToken: accessToken, typ: ticketType, cfg: newProviderConfig(opts)}
}

type ticketReply struct {
	Ticket    string `json:"ticket"`
	ExpiresIn int64  `json:"expires_in"` // seconds
}

// Token implements Source.
func (p *TicketProvider) Token(ctx context.Context) (*Token, error) {
	const path = "cgi-bin/ticket/getticket"
	if p.accessToken == nil {
		return nil, errors.New("wxkit: GET " + path + ": no access-token source")
	}
	for attempt := 0; ; attempt++ {
		at, err := p.accessToken.Token(ctx)
		if err != nil {
			return nil, fmt.Errorf("wxkit: GET %s: access_token: %w", path, err)
		}
		q := url.Values{"access_token": {at.Value}, "type": {p.typ}}
		var r ticketReply
		err = callRetryingBusy(ctx, &p.cfg, http.MethodGet, path, q, nil, &r, at.Value)
		if err == nil {
			return newToken(&p.cfg, http.MethodGet, path, r.Ticket, r.ExpiresIn)
		}
		inv, ok := p.accessToken.(Invalidator)
		if attempt > 0 || !ok || !wxkit.IsTokenRejected(err) {
			return nil, err
		}
		if ierr := inv.Invalidate(ctx, at); ierr != nil {
			return nil, errors.Join(err, ierr)
		}
	}
}
