package webhook_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// immediateFunc is an ImmediateHandler whose ServeImmediate is f and whose
// ServeMessage counts its calls.
type immediateFunc struct {
	f     func(m *message.Message) (message.Reply, bool, error)
	slow  webhook.HandlerFunc
	calls *int
}

func (h immediateFunc) ServeMessage(ctx context.Context, m *message.Message) (message.Reply, error) {
	*h.calls++
	if h.slow != nil {
		return h.slow(ctx, m)
	}
	return &message.Text{Content: "from ServeMessage"}, nil
}

func (h immediateFunc) ServeImmediate(m *message.Message) (message.Reply, bool, error) { return h.f(m) }

// TestImmediateHandler: an ImmediateHandler that answers at once is not
// called again through ServeMessage; its errors and panics are handled as
// those of ServeMessage; when it declines, ServeMessage answers.
func TestImmediateHandler(t *testing.T) {
	xml := corpusMessages(t)["text"]
	for _, tc := range []struct {
		name      string
		f         func(m *message.Message) (message.Reply, bool, error)
		want      string // reply content; "" for success
		wantCalls int    // ServeMessage calls
		wantLog   string
	}{
		{"answers", func(m *message.Message) (message.Reply, bool, error) {
			return &message.Text{Content: "at once " + m.Content}, true, nil
		}, "at once this is a test", 0, ""},
		{"answers success", func(*message.Message) (message.Reply, bool, error) { return nil, true, nil }, "", 0, ""},
		{"fails", func(*message.Message) (message.Reply, bool, error) {
			return &message.Text{Content: "ignored"}, true, errors.New("rule broken")
		}, "", 0, "rule broken"},
		{"panics", func(*message.Message) (message.Reply, bool, error) { panic("boom") }, "", 0, "handler panicked"},
		{"declines", func(*message.Message) (message.Reply, bool, error) { return nil, false, nil }, "from ServeMessage", 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			logger, logs := newLogger()
			rec := new(recorder)
			s := &webhook.Server{
				Token: testToken, AppID: testAppID, EncodingAESKey: testAESKey, Logger: logger,
				Dedup: new(webhook.MemoryDedup), Recorder: rec,
				Handler: immediateFunc{f: tc.f, calls: &calls},
			}
			w := serve(s, webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, xml, webhook.ModeSafe, nil))
			if w.Code != 200 {
				t.Fatalf("status %d", w.Code)
			}
			got := ""
			r, err := webhooktest.ParseReply(testToken, testAESKey, testAppID, w.Body.Bytes())
			switch {
			case errors.Is(err, webhooktest.ErrSuccess):
			case err != nil:
				t.Fatal(err)
			default:
				if txt, ok := r.Reply.(*message.Text); ok {
					got = txt.Content
				}
			}
			if got != tc.want || calls != tc.wantCalls || rec.count() != 1 {
				t.Errorf("answered %q with %d ServeMessage calls and %d records, want %q, %d, 1", got, calls, rec.count(), tc.want, tc.wantCalls)
			}
			if tc.wantLog != "" && !strings.Contains(logs.String(), tc.wantLog) {
				t.Errorf("log lacks %q: %s", tc.wantLog, logs)
			}
		})
	}
}

// TestImmediateHandlerDeclinedKeepsDeadline: a Mux (an ImmediateHandler)
// routing to a slow HandlerFunc still has "success" written at the
// deadline, and the Handler's context carries that deadline.
func TestImmediateHandlerDeclinedKeepsDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		xml := corpusMessages(t)["text"]
		deadlines := make(chan time.Time, 1)
		mux := webhook.NewMux()
		mux.HandleFunc(message.MsgTypeText, func(ctx context.Context, m *message.Message) (message.Reply, error) {
			dl, _ := ctx.Deadline()
			deadlines <- dl
			time.Sleep(10 * time.Second) // ignores ctx, as in TestDeadline
			return &message.Text{Content: "late"}, nil
		})
		s := &webhook.Server{
			Token: testToken, AppID: testAppID, EncodingAESKey: testAESKey, Timeout: time.Second,
			Dedup: new(webhook.MemoryDedup), Logger: discardLogger(), Handler: mux,
		}
		start := time.Now()
		w := serve(s, webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, xml, webhook.ModeSafe, nil))
		if took := time.Since(start); took != time.Second {
			t.Errorf("answered after %v, want 1s", took)
		}
		if w.Code != 200 || w.Body.String() != "success" {
			t.Errorf("got %d %q, want success", w.Code, w.Body)
		}
		if deadline := <-deadlines; !deadline.Equal(start.Add(time.Second)) {
			t.Errorf("handler deadline %v, want %v", deadline.Sub(start), time.Second)
		}
		time.Sleep(10 * time.Second) // let the abandoned handler finish
		synctest.Wait()
	})
}

// TestNotFoundAndMuxAnswerImmediately: NotFound, and a Mux routing to it or
// to an ImmediateHandler, answer at once; a Mux routing to a HandlerFunc
// declines.
func TestNotFoundAndMuxAnswerImmediately(t *testing.T) {
	text := &message.Message{MsgType: message.MsgTypeText, Content: "hi"}
	calls := 0
	mux := webhook.NewMux()
	mux.Handle(message.MsgTypeImage, immediateFunc{f: func(*message.Message) (message.Reply, bool, error) {
		return &message.Text{Content: "image"}, true, nil
	}, calls: &calls})
	mux.HandleFunc(message.MsgTypeVoice, func(context.Context, *message.Message) (message.Reply, error) { return nil, nil })
	for _, tc := range []struct {
		name   string
		h      webhook.Handler
		m      *message.Message
		wantOK bool
		want   message.Reply
	}{
		{"NotFound", webhook.NotFound, text, true, nil},
		{"Mux fallback", mux, text, true, nil},
		{"Mux to an ImmediateHandler", mux, &message.Message{MsgType: message.MsgTypeImage}, true, &message.Text{Content: "image"}},
		{"Mux to a HandlerFunc", mux, &message.Message{MsgType: message.MsgTypeVoice}, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ih, ok := tc.h.(webhook.ImmediateHandler)
			if !ok {
				t.Fatalf("%T is not an ImmediateHandler", tc.h)
			}
			r, ok, err := ih.ServeImmediate(tc.m)
			if ok != tc.wantOK || err != nil {
				t.Fatalf("ServeImmediate = ok %v, err %v; want ok %v", ok, err, tc.wantOK)
			}
			if txt, isText := tc.want.(*message.Text); isText {
				if got, _ := r.(*message.Text); got == nil || got.Content != txt.Content {
					t.Errorf("reply %#v, want %#v", r, tc.want)
				}
			} else if r != nil {
				t.Errorf("reply %#v, want nil", r)
			}
		})
	}
}
