package webhook_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// named returns a handler replying with its own name.
func named(name string) webhook.Handler {
	return webhook.HandlerFunc(func(context.Context, *message.Message) (message.Reply, error) {
		return &message.Text{Content: name}, nil
	})
}

// TestMuxRouting sends corpus messages through a Server with a Mux and
// checks which registration answered.
func TestMuxRouting(t *testing.T) {
	mux := webhook.NewMux()
	mux.Handle(message.MsgTypeText, named("text"))
	mux.Handle(message.MsgTypeImage, named("image"))
	mux.Handle(message.MsgTypeEvent, named("any event"))
	mux.HandleEvent(message.EventTypeSubscribe, named("subscribe"))
	mux.HandleEventKey(message.EventTypeSubscribe, "qrscene_123123", named("subscribe via qrscene_123123"))
	mux.HandleEvent(message.EventTypeClick, named("click"))
	mux.HandleEventKey(message.EventTypeClick, "EVENTKEY", named("click EVENTKEY"))
	mux.HandleEventKeyFunc(message.EventTypeView, "www.qq.com", func(context.Context, *message.Message) (message.Reply, error) {
		return &message.Text{Content: "view qq"}, nil
	})
	mux.HandleInfo(message.InfoTypeComponentVerifyTicket, named("ticket"))
	mux.HandleInfoFunc(message.InfoTypeAuthorized, func(context.Context, *message.Message) (message.Reply, error) {
		return &message.Text{Content: "authorized"}, nil
	})

	msgs := corpusMessages(t)
	s := &webhook.Server{Token: testToken, AppID: testAppID, EncodingAESKey: testAESKey, Handler: mux}
	for _, tc := range []struct {
		file string
		want string // "" = success (NotFound)
	}{
		{"text", "text"},
		{"image_real", "image"},
		{"voice", ""},
		{"event_subscribe", "subscribe"},
		{"event_subscribe_qrscene", "subscribe via qrscene_123123"},
		{"event_subscribe_qrscene_real", "subscribe"},
		{"event_click", "click EVENTKEY"},
		{"event_view", "view qq"},
		{"event_unsubscribe", "any event"},
		{"event_location", "any event"},
		{"component_verify_ticket", "ticket"},
		{"component_authorized", "authorized"},
		{"component_unauthorized", ""},
		{"unknown_msgtype", ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			xml, ok := msgs[tc.file]
			if !ok {
				t.Fatalf("corpus message %s missing", tc.file)
			}
			w := serve(s, webhooktest.NewEncryptedRequest(testToken, testAESKey, testAppID, xml, webhook.ModeSafe, nil))
			r, err := webhooktest.ParseReply(testToken, testAESKey, testAppID, w.Body.Bytes())
			if tc.want == "" {
				if err != webhooktest.ErrSuccess {
					t.Errorf("got %v %v, want success", r, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseReply: %v (body %q)", err, w.Body)
			}
			if got := r.Reply.(*message.Text).Content; got != tc.want {
				t.Errorf("routed to %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMuxDefault(t *testing.T) {
	mux := new(webhook.Mux) // the zero Mux is usable
	m := &message.Message{MsgType: message.MsgTypeVoice}
	if r, err := mux.ServeMessage(t.Context(), m); r != nil || err != nil {
		t.Errorf("zero Mux: %v, %v; want nil, nil", r, err)
	}
	mux.HandleDefault(named("fallback"))
	mux.HandleFunc(message.MsgTypeText, func(context.Context, *message.Message) (message.Reply, error) { return nil, nil })
	r, _ := mux.ServeMessage(t.Context(), m)
	if got, ok := r.(*message.Text); !ok || got.Content != "fallback" {
		t.Errorf("fallback: %v", r)
	}
}

func TestMuxRegistrationPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(*webhook.Mux)
	}{
		{"nil handler", func(x *webhook.Mux) { x.Handle(message.MsgTypeText, nil) }},
		{"duplicate type", func(x *webhook.Mux) {
			x.Handle(message.MsgTypeText, webhook.NotFound)
			x.Handle(message.MsgTypeText, webhook.NotFound)
		}},
		{"duplicate event key", func(x *webhook.Mux) {
			x.HandleEventKey(message.EventTypeClick, "K", webhook.NotFound)
			x.HandleEventKey(message.EventTypeClick, "K", webhook.NotFound)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tc.f(webhook.NewMux())
		})
	}
}

func TestChainOrder(t *testing.T) {
	var order []string
	mw := func(name string) webhook.Middleware {
		return func(next webhook.Handler) webhook.Handler {
			return webhook.HandlerFunc(func(ctx context.Context, m *message.Message) (message.Reply, error) {
				order = append(order, name)
				return next.ServeMessage(ctx, m)
			})
		}
	}
	h := webhook.Chain(mw("a"), mw("b"), mw("c"))(webhook.HandlerFunc(func(context.Context, *message.Message) (message.Reply, error) {
		order = append(order, "h")
		return nil, nil
	}))
	h.ServeMessage(t.Context(), &message.Message{})
	if got := strings.Join(order, ","); got != "a,b,c,h" {
		t.Errorf("order %s, want a,b,c,h", got)
	}
}
