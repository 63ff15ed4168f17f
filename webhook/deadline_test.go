package webhook_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type lateCall struct {
	m     *message.Message
	r     message.Reply
	at    time.Time
	noDDL bool // ctx had a deadline no earlier than LateReplyTimeout
}

// TestDeadline: a handler that sleeps past Timeout gets "success" written
// at the deadline, the Recorder sees no reply, and the reply that comes
// later goes to LateReply.
func TestDeadline(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		want    time.Duration
	}{
		{"default", 0, webhook.DefaultTimeout},
		{"one second", time.Second, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				xml := corpusMessages(t)["text"]
				lateCh := make(chan lateCall, 1)
				rec := new(recorder)
				logger, logs := newLogger()
				s := &webhook.Server{
					Token: testToken, AppID: testAppID, EncodingAESKey: testAESKey, Timeout: tc.timeout,
					Recorder: rec, Dedup: new(webhook.MemoryDedup), Logger: logger,
					Handler: webhook.HandlerFunc(func(ctx context.Context, m *message.Message) (message.Reply, error) {
						time.Sleep(10 * time.Second)
						return &message.Text{Content: "slow " + m.Content}, nil
					}),
					LateReply: func(ctx context.Context, m *message.Message, r message.Reply) error {
						dl, ok := ctx.Deadline()
						lateCh <- lateCall{m: m, r: r, at: time.Now(), noDDL: ok && !dl.Before(time.Now().Add(webhook.LateReplyTimeout))}
						return nil
					},
				}
				start := time.Now()
				w := serve(s, webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, xml, webhook.ModeSafe, nil))
				if took := time.Since(start); took != tc.want {
					t.Errorf("answered after %v, want %v", took, tc.want)
				}
				if w.Code != 200 || w.Body.String() != "success" {
					t.Fatalf("got %d %q, want success", w.Code, w.Body)
				}
				if rec.count() != 1 || rec.replies[0] != "" {
					t.Errorf("recorded %d, replies %q; want one with no reply", rec.count(), rec.replies)
				}
				lc := <-lateCh
				if got := lc.at.Sub(start); got != 10*time.Second {
					t.Errorf("LateReply at %v, want 10s", got)
				}
				if txt, ok := lc.r.(*message.Text); !ok || txt.Content != "slow this is a test" {
					t.Errorf("late reply %#v", lc.r)
				}
				if lc.m.MsgID != 1234567890123456 {
					t.Errorf("late message MsgID %d", lc.m.MsgID)
				}
				if !lc.noDDL {
					t.Errorf("LateReply context lacks its own %v deadline", webhook.LateReplyTimeout)
				}
				if !strings.Contains(logs.String(), "missed the deadline") {
					t.Errorf("no deadline log line: %s", logs)
				}
				// A retry after the deadline is a duplicate: success, no second run.
				w = serve(s, webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, xml, webhook.ModeSafe, nil))
				if w.Body.String() != "success" || rec.count() != 1 {
					t.Errorf("retry: %q, recorded %d", w.Body, rec.count())
				}
			})
		})
	}
}

// TestDeadlineLateOutcomes covers what can happen after the deadline: the
// late reply fails (logged with its errcode), the handler returns its
// context's error (logged, nothing delivered), no LateReply is configured
// (logged as dropped), or the handler panics late (logged).
func TestDeadlineLateOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		handler   webhook.HandlerFunc
		lateReply webhook.LateReplyFunc
		wantLog   string
		wantLate  bool
	}{
		{
			name: "late reply fails",
			handler: func(ctx context.Context, m *message.Message) (message.Reply, error) {
				time.Sleep(6 * time.Second)
				return &message.Text{Content: "x"}, nil
			},
			lateReply: func(context.Context, *message.Message, message.Reply) error {
				return &wxkit.APIError{ErrCode: 45015, ErrMsg: "response out of time limit or subscription is canceled"}
			},
			wantLog: "45015", wantLate: true,
		},
		{
			name: "handler honours ctx",
			handler: func(ctx context.Context, m *message.Message) (message.Reply, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			},
			// Depending on which goroutine sees the deadline first this is
			// "handler failed" or "handler failed after the deadline".
			wantLog: "context deadline exceeded",
		},
		{
			name: "no LateReply",
			handler: func(ctx context.Context, m *message.Message) (message.Reply, error) {
				time.Sleep(6 * time.Second)
				return &message.Text{Content: "x"}, nil
			},
			wantLog: "late reply dropped",
		},
		{
			name: "late panic",
			handler: func(ctx context.Context, m *message.Message) (message.Reply, error) {
				time.Sleep(6 * time.Second)
				panic("late boom")
			},
			wantLog: "late boom",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				logger, logs := newLogger()
				lateCalled := false
				s := &webhook.Server{Token: testToken, Handler: tc.handler, Logger: logger}
				if tc.lateReply != nil {
					s.LateReply = func(ctx context.Context, m *message.Message, r message.Reply) error {
						lateCalled = true
						return tc.lateReply(ctx, m, r)
					}
				}
				w := serve(s, webhooktest.NewSignedRequest(testToken, corpusMessages(t)["text"], nil))
				if w.Body.String() != "success" {
					t.Errorf("body %q, want success", w.Body)
				}
				time.Sleep(time.Minute) // let the handler goroutine finish
				synctest.Wait()
				if lateCalled != tc.wantLate {
					t.Errorf("LateReply called %v, want %v", lateCalled, tc.wantLate)
				}
				if !strings.Contains(logs.String(), tc.wantLog) {
					t.Errorf("log lacks %q:\n%s", tc.wantLog, logs)
				}
				if strings.Contains(logs.String(), testToken) {
					t.Errorf("log leaks the token")
				}
			})
		})
	}
}

// TestHandlerError: an error within the deadline is logged and answered
// success.
func TestHandlerError(t *testing.T) {
	logger, logs := newLogger()
	s := &webhook.Server{Token: testToken, Logger: logger,
		Handler: webhook.HandlerFunc(func(context.Context, *message.Message) (message.Reply, error) {
			return &message.Text{Content: "ignored"}, errors.New("database unavailable")
		})}
	w := serve(s, webhooktest.NewSignedRequest(testToken, corpusMessages(t)["text"], nil))
	if w.Code != 200 || w.Body.String() != "success" {
		t.Errorf("got %d %q, want success", w.Code, w.Body)
	}
	if !strings.Contains(logs.String(), "database unavailable") || !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("log: %s", logs)
	}
}
