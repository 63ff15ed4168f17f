package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/wxkit/wxkit/internal/testenv"
	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// redisURL returns the test Redis (testenv.RedisURL) with a key prefix
// unique to t, and deletes that prefix's keys when t ends. testenv skips t
// when Redis is unreachable, or fails it under CI=true.
func redisURL(t *testing.T) string {
	t.Helper()
	raw := testenv.RedisURL(t)
	opts, err := goredis.ParseURL(raw)
	if err != nil {
		t.Fatalf("test Redis URL: %v", err)
	}
	prefix := fmt.Sprintf("wxkit-gwtest-%d-%s:", time.Now().UnixNano(), t.Name())
	t.Cleanup(func() {
		rdb := goredis.NewClient(opts)
		defer rdb.Close()
		ctx := context.Background()
		keys, _ := rdb.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("test Redis URL: %v", err)
	}
	q := u.Query()
	q.Set("prefix", prefix)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestRedisDedupAcrossGateways: two gateways (each with its own SQLite file)
// share dedup through Redis, as instances behind a load balancer do: a
// retry that reaches the other instance gets the first reply and is neither
// handled nor recorded again.
func TestRedisDedupAcrossGateways(t *testing.T) {
	rurl := redisURL(t)
	var calls atomic.Int32
	fwd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		m, err := message.Parse(readAll(t, &http.Response{Body: r.Body}))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out, _ := message.AppendReply(nil, m.FromUserName, m.ToUserName, 1, &message.Text{Content: m.Content})
		w.Write(out)
	}))
	t.Cleanup(fwd.Close)
	var logs []*Gateway
	newGW := func() *httptest.Server {
		cfg := &Config{
			Store: "sqlite://" + filepath.Join(t.TempDir(), "gw.db"),
			Redis: rurl,
			Apps: []AppConfig{{AppID: "wx00000000000000c1", Token: "redistoken", Mode: ModePlain,
				Replies: RepliesConfig{Default: &ReplyConfig{Forward: fwd.URL}}}},
		}
		if err := cfg.Normalize(); err != nil {
			t.Fatal(err)
		}
		g, err := New(t.Context(), cfg, nil)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		t.Cleanup(func() { g.Close() })
		logs = append(logs, g)
		hs := httptest.NewServer(g.Handler())
		t.Cleanup(hs.Close)
		return hs
	}
	a, b := newGW(), newGW()
	msg := (&message.Message{ToUserName: "gh_1", FromUserName: "oR", CreateTime: time.Now().Unix(),
		MsgType: message.MsgTypeText, Content: "over redis", MsgID: 9100000001}).AppendXML(nil)
	var replies []string
	for _, hs := range []*httptest.Server{a, b, a} {
		r := webhooktest.NewSignedRequest("redistoken", msg, &webhooktest.RequestOptions{Target: hs.URL + "/wx/wx00000000000000c1"})
		r.RequestURI = ""
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		rm, err := webhooktest.ParseReply("redistoken", "", "wx00000000000000c1", readAll(t, resp))
		if err != nil {
			t.Fatalf("reply: %v", err)
		}
		replies = append(replies, rm.Reply.(*message.Text).Content)
	}
	for i, r := range replies {
		if r != "over redis" {
			t.Errorf("delivery %d: reply %q, want %q", i, r, "over redis")
		}
	}
	if calls.Load() != 1 {
		t.Errorf("handler ran %d times across two gateways, want 1", calls.Load())
	}
	rows := 0
	for _, g := range logs {
		n, err := g.MessageLog().CountMessages(t.Context(), "")
		if err != nil {
			t.Fatal(err)
		}
		rows += n
	}
	if rows != 1 {
		t.Errorf("message log rows across both gateways = %d, want 1", rows)
	}
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
