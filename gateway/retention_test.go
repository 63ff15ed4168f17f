package gateway

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/wxkit/wxkit/store"
)

func TestMessageLogRetention(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	cfg := &Config{
		Store: "sqlite://" + filepath.Join(t.TempDir(), "gw.db"),
		Apps:  []AppConfig{{AppID: "wx00000000000000a1", Token: "tok"}},
	}
	if err := cfg.Normalize(); err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(*cfg.Webhook.MessageLogRetention); got != 30*24*time.Hour {
		t.Fatalf("default retention = %v, want 720h", got)
	}
	g, err := New(t.Context(), cfg, nil, WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	// 2500 rows older than 30 days (more than two batches) and 10 newer.
	var rows []*store.LoggedMessage
	for i := range 2510 {
		at := now.Add(-31 * 24 * time.Hour).Add(time.Duration(i) * time.Second)
		if i >= 2500 {
			at = now.Add(-time.Duration(i) * time.Minute)
		}
		rows = append(rows, &store.LoggedMessage{AppID: "wx00000000000000a1", DedupKey: fmt.Sprint("msg:", i),
			MsgType: "text", ReceivedAt: at, Request: []byte("<xml/>")})
	}
	if err := g.MessageLog().AppendMessages(t.Context(), rows); err != nil {
		t.Fatal(err)
	}
	if g.prune == nil {
		t.Fatal("no pruner with the default retention")
	}
	if n := g.prune.once(t.Context()); n != 2500 {
		t.Errorf("prune deleted %d rows, want the 2500 older than the retention", n)
	}
	if n, _ := g.MessageLog().CountMessages(t.Context(), ""); n != 10 {
		t.Errorf("%d rows left, want the 10 within the retention", n)
	}
	// Another instance holding the lease: this one leaves it alone.
	unlock, err := g.stores.Tokens.Lock(t.Context(), PruneLeaseKey, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock(t.Context())
	if n := g.prune.once(t.Context()); n != 0 {
		t.Errorf("prune with the lease held elsewhere deleted %d rows, want 0", n)
	}
}

func TestMessageLogRetentionConfig(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		ok   bool
	}{
		{"webhook: { message_log_retention: 0s }", true},
		{"webhook: { message_log_retention: 2160h }", true},
		{"webhook: { message_log_retention: 30m }", false},
		{"webhook: { message_log_retention: -1h }", false},
	} {
		_, err := ParseConfig([]byte(tc.yaml + "\napps: [{appid: wx00000000000000a1, token: tok}]"))
		if (err == nil) != tc.ok {
			t.Errorf("ParseConfig(%s) = %v, want ok %v", tc.yaml, err, tc.ok)
		}
	}
}
