package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/wxkit/wxkit/internal/corpus"
	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// FuzzServePush sends any body as a correctly signed push, in plain mode
// or encrypted in a safe-mode envelope, and checks the Server's verdict
// against message.Parse of the plaintext:
//   - it never panics and answers 200 or 400, nothing else;
//   - 200 exactly when message.Parse accepts the plaintext, and then the
//     Handler got that message, with the elements DedupKey is built from;
//   - on 400 the Handler did not run and nothing was recorded.
func FuzzServePush(f *testing.F) {
	for _, p := range corpus.Glob(f, "messages/*.xml") {
		b := corpus.ReadFile(f, "messages", filepath.Base(p))
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Add([]byte("<xml/>"), false)
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"GBK\"?><xml><ToUserName>a</ToUserName></xml>"), true)
	f.Add([]byte("<xml><ToUserName>a\x00</ToUserName></xml>"), false)
	f.Fuzz(func(t *testing.T, body []byte, encrypted bool) {
		var got *message.Message
		calls := 0
		rec := new(recorder)
		s := &webhook.Server{
			Token: testToken, AppID: testAppID, EncodingAESKey: testAESKey, Mode: webhook.ModeCompat,
			Recorder: rec, Logger: slog.New(slog.DiscardHandler),
			Handler: webhook.HandlerFunc(func(_ context.Context, m *message.Message) (message.Reply, error) {
				got = m
				calls++
				return nil, nil
			}),
		}
		mode := webhook.ModePlain
		if encrypted {
			mode = webhook.ModeSafe
		}
		req := webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, bytes.Clone(body), mode, nil)
		w := serve(s, req)

		want, perr := message.Parse(bytes.Clone(body))
		switch {
		case w.Code != http.StatusOK && w.Code != http.StatusBadRequest:
			t.Fatalf("status %d for %q", w.Code, body)
		case perr == nil && w.Code != http.StatusOK:
			t.Fatalf("status %d for %q, which message.Parse accepts", w.Code, body)
		case perr != nil && w.Code == http.StatusOK:
			t.Fatalf("status 200 for %q, which message.Parse refuses: %v", body, perr)
		case w.Code == http.StatusBadRequest:
			if calls != 0 || rec.count() != 0 {
				t.Fatalf("refused %q, but the handler ran %d times and %d messages were recorded", body, calls, rec.count())
			}
			if !errors.Is(perr, message.ErrMalformed) && !errors.Is(perr, message.ErrTooLarge) {
				t.Fatalf("message.Parse(%q) = %v", body, perr)
			}
			return
		}
		if calls != 1 || rec.count() != 1 {
			t.Fatalf("accepted %q: handler ran %d times, %d messages recorded; want 1 and 1", body, calls, rec.count())
		}
		if got.DedupKey() != want.DedupKey() || got.CreateTime <= 0 || got.FromUserName == "" && got.AppID == "" {
			t.Fatalf("handler got %+v for %q", got, body)
		}
	})
}
