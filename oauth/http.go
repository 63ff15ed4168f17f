package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/wxkit/wxkit"
)

// maxReply caps the size of an API reply.
const maxReply = 1 << 20

// get sends GET {APIBase}path?query and decodes the JSON reply into v with
// wxkit.DecodeResponse, so that a non-zero errcode becomes a
// *wxkit.APIError labelled "GET path". The query may carry secrets (the
// AppSecret, tokens): they are scrubbed from any error, and the query is
// removed from a *url.Error.
func (c *Config) get(ctx context.Context, path string, query url.Values, v any, secrets ...string) error {
	const method = http.MethodGet
	u := withSlash(c.APIBase, DefaultAPIBase) + path + "?" + query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return scrub(fmt.Errorf("wxkit: %s %s: %w", method, path, err), secrets)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client().Do(req)
	if err != nil {
		return scrub(fmt.Errorf("wxkit: %s %s: %w", method, path, err), secrets)
	}
	defer resp.Body.Close()
	b, err := wxkit.ReadLimited(resp.Body, maxReply)
	if err != nil {
		return scrub(fmt.Errorf("wxkit: %s %s: read reply: %w", method, path, err), secrets)
	}
	if resp.StatusCode/100 != 2 {
		// A JSON errcode wins over the HTTP status.
		var ae *wxkit.APIError
		if err := wxkit.DecodeResponse(b, method, path, nil); errors.As(err, &ae) {
			return ae
		}
		return fmt.Errorf("wxkit: %s %s: HTTP %d", method, path, resp.StatusCode)
	}
	return scrub(wxkit.DecodeResponse(b, method, path, v), secrets)
}

// scrub removes the query of URL errors and the given secrets from err.
func scrub(err error, secrets []string) error { return wxkit.ScrubError(err, secrets...) }
