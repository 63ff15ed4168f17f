package webhook_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

func TestRecover(t *testing.T) {
	boom := webhook.HandlerFunc(func(context.Context, *message.Message) (message.Reply, error) {
		panic("kaboom")
	})
	for _, tc := range []struct {
		name string
		h    func(*webhook.Server) webhook.Handler
	}{
		{"Recover middleware", func(s *webhook.Server) webhook.Handler { return webhook.Recover(s.Logger)(boom) }},
		{"Server's own recovery", func(*webhook.Server) webhook.Handler { return boom }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logger, logs := newLogger()
			rec := new(recorder)
			s := &webhook.Server{Token: testToken, Logger: logger, Recorder: rec}
			s.Handler = tc.h(s)
			for range 2 { // the server keeps serving
				w := serve(s, webhooktest.NewSignedRequest(testToken, corpusMessages(t)["text"], nil))
				if w.Code != 200 || w.Body.String() != "success" {
					t.Fatalf("got %d %q, want success", w.Code, w.Body)
				}
			}
			if !strings.Contains(logs.String(), "kaboom") || !strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("log lacks the panic: %s", logs)
			}
			if rec.count() != 2 {
				t.Errorf("recorded %d, want 2", rec.count())
			}
		})
	}
}
