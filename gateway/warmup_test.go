package gateway

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// TestRetryAfterRestartGetsTheSameReply: a message answered before a
// restart is answered again from the log after it (WeChat retries a push
// whose answer it did not get), without running the handler again, in
// every dedup mode that remembers (store: SQLite alone on its file keeps
// claims in memory and relies on the log; memory).
func TestRetryAfterRestartGetsTheSameReply(t *testing.T) {
	for _, dedup := range []string{DedupStore, DedupMemory} {
		for _, logMode := range []string{LogDurable, LogAsync} {
			t.Run(dedup+"/"+logMode, func(t *testing.T) {
				var calls atomic.Int32
				fwd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					n := calls.Add(1)
					m, err := message.Parse(readAll(t, &http.Response{Body: r.Body}))
					if err != nil {
						http.Error(w, err.Error(), http.StatusBadRequest)
						return
					}
					out, _ := message.AppendReply(nil, m.FromUserName, m.ToUserName, 1, &message.Text{Content: "answer #" + string(rune('0'+n))})
					w.Write(out)
				}))
				defer fwd.Close()
				path := filepath.Join(t.TempDir(), "gw.db")
				start := func() (*Gateway, *httptest.Server) {
					cfg := &Config{Store: "sqlite://" + path, Webhook: WebhookConfig{Dedup: dedup, MessageLog: logMode},
						Apps: []AppConfig{{AppID: "wx00000000000000b1", Token: "warmtoken", Mode: ModePlain,
							Replies: RepliesConfig{Default: &ReplyConfig{Forward: fwd.URL}}}}}
					if err := cfg.Normalize(); err != nil {
						t.Fatal(err)
					}
					g, err := New(t.Context(), cfg, nil)
					if err != nil {
						t.Fatal(err)
					}
					return g, httptest.NewServer(g.Handler())
				}
				msg := (&message.Message{ToUserName: "gh_w", FromUserName: "oW", CreateTime: time.Now().Unix(),
					MsgType: message.MsgTypeText, Content: "hi", MsgID: 77000001}).AppendXML(nil)
				push := func(url string) string {
					r := webhooktest.NewSignedRequest("warmtoken", msg, &webhooktest.RequestOptions{Target: url + "/wx/wx00000000000000b1", Nonce: "n1"})
					r.RequestURI = ""
					resp, err := http.DefaultClient.Do(r)
					if err != nil {
						t.Fatal(err)
					}
					rm, err := webhooktest.ParseReply("warmtoken", "", "wx00000000000000b1", readAll(t, resp))
					if err != nil {
						t.Fatalf("reply: %v", err)
					}
					return rm.Reply.(*message.Text).Content
				}
				g1, s1 := start()
				first := push(s1.URL)
				s1.Close()
				g1.Close() // a graceful restart: the async log is flushed
				g2, s2 := start()
				defer func() { s2.Close(); g2.Close() }()
				if again := push(s2.URL); again != first {
					t.Errorf("retry after restart answered %q, want the first answer %q", again, first)
				}
				if n := calls.Load(); n != 1 {
					t.Errorf("handler ran %d times, want 1", n)
				}
			})
		}
	}
}
