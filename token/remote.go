package token

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Remote is a Source that reads tokens from the wxkit gateway's central token
// service, for services that must not hold the AppSecret:
//
//	GET {base}/token/{appid}?type=access_token|jsapi_ticket
//	Authorization: Bearer <secret>
//
// answered with {"access_token": "...", "expires_in": N} (or
// {"ticket": "...", "expires_in": N} for a jsapi_ticket), expires_in in
// seconds. A non-2xx status or an errcode is an error; the bearer secret and
// the token never appear in one. Remote calls the service on every Token
// call: wrap it in a CachedSource over a MemoryStore to cache in process.
//
// When WeChat rejects a token the service handed out (40001, 40014, 42001),
// the service must hear of it, since its own cache cannot know that the
// token was superseded or expired early:
//
//	POST {base}/token/{appid}/invalidate?type=access_token|jsapi_ticket
//	Authorization: Bearer <secret>
//	{"access_token": "<rejected>"}   (or {"ticket": "<rejected>"})
//
// answered with {"errcode": 0, "errmsg": "ok"}. The service forgets the
// token only if it still holds it, so a burst of callers reporting the same
// rejection causes one refresh. Remote sends it from Invalidate (an API
// client such as mp.Client calls it before its single retry) and, when it is
// wrapped in a CachedSource, from the first Token call after Reject.
type Remote struct {
	appID  string
	kind   Kind
	secret string
	cfg    providerConfig

	mu       sync.Mutex
	rejected string // value reported through Reject, to invalidate on the next Token
}

var (
	_ Source      = (*Remote)(nil)
	_ Invalidator = (*Remote)(nil)
	_ Rejecter    = (*Remote)(nil)
)

// NewRemote returns a Source for appID's token of the given kind served at
// baseURL (the gateway's public URL, e.g. "http://127.0.0.1:8080/"), with
// secret as the bearer credential. Options: WithHTTPClient, WithClock
// (WithBaseURL overrides baseURL).
func NewRemote(baseURL, appID string, kind Kind, secret string, opts ...ProviderOption) *Remote {
	opts = append([]ProviderOption{WithBaseURL(baseURL)}, opts...)
	return &Remote{appID: appID, kind: kind, secret: secret, cfg: newProviderConfig(opts)}
}

type remoteReply struct {
	AccessToken string `json:"access_token"`
	Ticket      string `json:"ticket"`
	ExpiresIn   int64  `json:"expires_in"` // seconds
}

// remoteInvalidate is the body of POST token/{appid}/invalidate: the
// rejected value under the field named like the kind's GET reply.
type remoteInvalidate struct {
	AccessToken string `json:"access_token,omitempty"`
	Ticket      string `json:"ticket,omitempty"`
}

// check validates the Remote's configuration.
func (r *Remote) check() error {
	if r.appID == "" {
		return errors.New("wxkit: token service: appid is required")
	}
	if r.kind != KindAccessToken && r.kind != KindJSAPITicket {
		return fmt.Errorf("wxkit: token service: unknown kind %q", r.kind)
	}
	return nil
}

func (r *Remote) header() http.Header {
	h := http.Header{}
	if r.secret != "" {
		h.Set("Authorization", "Bearer "+r.secret)
	}
	return h
}

// Token implements Source. If a token was reported through Reject since the
// last call, the service is told to invalidate it first; when that fails
// (an older gateway without the endpoint, say) the token is still read, so
// the rejection costs at most a repeat of the caller's own retry.
func (r *Remote) Token(ctx context.Context) (*Token, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	bad := r.rejected
	r.rejected = ""
	r.mu.Unlock()
	if bad != "" {
		if err := r.invalidate(ctx, bad); err != nil && ctx.Err() != nil {
			return nil, err
		}
	}
	path := "token/" + url.PathEscape(r.appID)
	var rep remoteReply
	if err := call(ctx, &r.cfg, http.MethodGet, path, url.Values{"type": {string(r.kind)}}, r.header(), nil, &rep, r.secret); err != nil {
		return nil, err
	}
	v := rep.AccessToken
	if r.kind == KindJSAPITicket {
		v = rep.Ticket
	}
	t, err := newToken(&r.cfg, http.MethodGet, path, v, rep.ExpiresIn)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(t.Value) != t.Value {
		return nil, fmt.Errorf("wxkit: GET %s: malformed token", path)
	}
	return t, nil
}

// Invalidate implements Invalidator: it tells the service that WeChat
// rejected bad (POST token/{appid}/invalidate), so that the next Token call
// gets a new token. Invalidating nil or an empty token does nothing. The
// error never carries the bearer secret or the token.
func (r *Remote) Invalidate(ctx context.Context, bad *Token) error {
	if bad == nil || bad.Value == "" {
		return nil
	}
	if err := r.check(); err != nil {
		return err
	}
	return r.invalidate(ctx, bad.Value)
}

// Reject implements Rejecter (for a Remote wrapped in a CachedSource, whose
// Invalidate calls it): the next Token call first tells the service that bad
// was rejected. It does not block.
func (r *Remote) Reject(bad *Token) {
	if bad == nil || bad.Value == "" {
		return
	}
	r.mu.Lock()
	r.rejected = bad.Value
	r.mu.Unlock()
}

// invalidate sends POST token/{appid}/invalidate for value.
func (r *Remote) invalidate(ctx context.Context, value string) error {
	path := "token/" + url.PathEscape(r.appID) + "/invalidate"
	body := remoteInvalidate{AccessToken: value}
	if r.kind == KindJSAPITicket {
		body = remoteInvalidate{Ticket: value}
	}
	return call(ctx, &r.cfg, http.MethodPost, path, url.Values{"type": {string(r.kind)}}, r.header(), body, nil, r.secret, value)
}
