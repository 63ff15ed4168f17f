package gateway

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/store/postgres/pgtest"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// TestPlainPushForgedAtAnotherInstance: two gateways share one store, as
// instances behind a load balancer do. After a genuine plain-mode push at
// A, a body forged under its URL at B is refused 403, is not answered,
// handled or logged as a message, and B logs the refusal; the genuine body
// again at B is a retry and gets A's reply.
func TestPlainPushForgedAtAnotherInstance(t *testing.T) {
	const appID, tok = "wx00000000000000d1", "replay-token"
	for _, tc := range []struct {
		name string
		// setup returns the store: of each instance and the redis:, or
		// Stores shared by both.
		setup func(t *testing.T) (storeA, storeB, redis string, shared *Stores)
	}{
		{"one SQLite store", func(t *testing.T) (string, string, string, *Stores) {
			st, err := OpenStores(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "gw.db"), "", StoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return "", "", "", st
		}},
		{"PostgreSQL", func(t *testing.T) (string, string, string, *Stores) {
			u := pgtest.SchemaURL(t)
			return u, u, "", nil
		}},
		{"Redis, a SQLite file each", func(t *testing.T) (string, string, string, *Stores) {
			return "sqlite://" + filepath.Join(t.TempDir(), "a.db"), "sqlite://" + filepath.Join(t.TempDir(), "b.db"), redisURL(t), nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storeA, storeB, redis, shared := tc.setup(t)
			type instance struct {
				g    *Gateway
				url  string
				logs *logBuffer
			}
			start := func(storeURL string) instance {
				cfg := &Config{
					Store: storeURL, Redis: redis,
					Apps: []AppConfig{{AppID: appID, Token: tok, Mode: ModePlain,
						Replies: RepliesConfig{Default: &ReplyConfig{Echo: true}}}},
				}
				if shared != nil {
					cfg.Store = "sqlite://unused" // WithStores wins
				}
				if err := cfg.Normalize(); err != nil {
					t.Fatal(err)
				}
				logs := &logBuffer{}
				g, err := New(t.Context(), cfg, slog.New(slog.NewTextHandler(logs, nil)), WithStores(shared))
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				t.Cleanup(func() { g.Close() })
				hs := httptest.NewServer(g.Handler())
				t.Cleanup(hs.Close)
				return instance{g, hs.URL, logs}
			}
			a, b := start(storeA), start(storeB)

			msg := func(content string, id int64) []byte {
				return (&message.Message{ToUserName: "gh_1", FromUserName: "oReplay", CreateTime: time.Now().Unix(),
					MsgType: message.MsgTypeText, Content: content, MsgID: id}).AppendXML(nil)
			}
			genuine := msg("genuine", time.Now().UnixNano())
			req := webhooktest.NewSignedRequest(tok, genuine, &webhooktest.RequestOptions{Target: "/wx/" + appID})
			query := req.URL.RawQuery
			post := func(base string, body []byte) (int, string) {
				resp, err := http.Post(base+"/wx/"+appID+"?"+query, "text/xml", bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				return resp.StatusCode, string(readAll(t, resp))
			}

			status, reply := post(a.url, genuine)
			if status != http.StatusOK || !strings.Contains(reply, "<Content><![CDATA[genuine]]></Content>") {
				t.Fatalf("genuine push at A = %d %q, want 200 with the echo", status, reply)
			}
			if status, body := post(b.url, msg("forged", time.Now().UnixNano())); status != http.StatusForbidden {
				t.Errorf("forged body at B = %d %q, want 403", status, body)
			}
			if !strings.Contains(b.logs.String(), "timestamp and nonce already used with another body") {
				t.Errorf("B's log does not name the refusal:\n%s", b.logs)
			}
			if status, body := post(b.url, genuine); status != http.StatusOK || body != reply {
				t.Errorf("genuine body again at B = %d %q, want 200 %q (A's reply)", status, body, reply)
			}
			rows := 0
			for _, in := range []instance{a, b} {
				n, err := in.g.MessageLog().CountMessages(t.Context(), appID)
				if err != nil {
					t.Fatal(err)
				}
				rows += n
				if shared != nil || storeA == storeB {
					break // one log for both
				}
			}
			if rows != 1 {
				t.Errorf("message-log rows = %d, want 1 (the genuine message)", rows)
			}
		})
	}
}
