package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/wxkit/wxkit/message"
)

// maxForwardReply caps the answer of a forward target that is read.
const maxForwardReply = 1 << 20

// forwarder relays a message to a developer's HTTP endpoint (any language):
// it POSTs the plaintext message XML (Content-Type application/xml) and
// relays the passive reply XML the endpoint answers. An empty body or
// "success" means no reply. The user gets "success" at the webhook deadline
// (webhook.timeout) whatever the target does; for an app with a secret the
// call goes on (up to LateHandlerTimeout and the HTTP client's timeout) and
// a late reply is delivered through the customer-service API. Without a
// secret the call is cancelled at the deadline.
type forwarder struct {
	url    string
	client *http.Client
}

func (f *forwarder) reply(ctx context.Context, m *message.Message) (message.Reply, error) {
	body := m.Raw
	if len(body) == 0 {
		body = m.AppendXML(nil)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("gateway: forward: %w", err)
	}
	req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	req.Header.Set("X-Wxkit-Dedup-Key", m.DedupKey())
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("gateway: forward to %s: %w", redactURL(f.url), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxForwardReply+1))
	if err != nil {
		return nil, fmt.Errorf("gateway: forward to %s: reading answer: %w", redactURL(f.url), err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("gateway: forward to %s: status %d", redactURL(f.url), resp.StatusCode)
	}
	if len(b) > maxForwardReply {
		return nil, fmt.Errorf("gateway: forward to %s: answer over %d bytes", redactURL(f.url), maxForwardReply)
	}
	t := bytes.TrimSpace(b)
	if len(t) == 0 || string(t) == "success" {
		return nil, nil
	}
	rm, err := message.ParseReply(t)
	if err != nil {
		return nil, fmt.Errorf("gateway: forward to %s: bad reply XML: %w", redactURL(f.url), err)
	}
	return rm.Reply, nil
}

// redactURL drops the query and user info of u for logs and errors (they
// may carry credentials).
func redactURL(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	if i := strings.Index(u, "@"); i >= 0 {
		if j := strings.Index(u, "://"); j >= 0 && j < i {
			u = u[:j+3] + u[i+1:]
		}
	}
	return u
}
