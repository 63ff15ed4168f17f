package token

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
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
type Remote struct {
	appID  string
	kind   Kind
	secret string
	cfg    providerConfig
}

var _ Source = (*Remote)(nil)

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

// Token implements Source.
func (r *Remote) Token(ctx context.Context) (*Token, error) {
	if r.appID == "" {
		return nil, errors.New("wxkit: token service: appid is required")
	}
	if r.kind != KindAccessToken && r.kind != KindJSAPITicket {
		return nil, fmt.Errorf("wxkit: token service: unknown kind %q", r.kind)
	}
	path := "token/" + url.PathEscape(r.appID)
	h := http.Header{}
	if r.secret != "" {
		h.Set("Authorization", "Bearer "+r.secret)
	}
	var rep remoteReply
	if err := call(ctx, &r.cfg, http.MethodGet, path, url.Values{"type": {string(r.kind)}}, h, nil, &rep, r.secret); err != nil {
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
