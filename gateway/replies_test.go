package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
)

func text(s string) message.Reply { return &message.Text{Content: s} }

func TestRepliesHandler(t *testing.T) {
	cfg, err := ParseConfig([]byte(validConfig))
	if err != nil {
		t.Fatal(err)
	}
	app := cfg.Apps[0]
	app.Replies.Clicks["NEWS"] = &ReplyConfig{News: []ArticleConfig{{Title: "t1", URL: "https://e.com/1"}, {Title: "t2", Description: "d2", PicURL: "https://e.com/p.png"}}}
	h := NewRepliesHandler(&app.Replies, nil)
	for _, tc := range []struct {
		name string
		m    message.Message
		want message.Reply
	}{
		{"subscribe", message.Message{MsgType: message.MsgTypeEvent, Event: message.EventTypeSubscribe}, text("欢迎关注")},
		{"subscribe by QR code", message.Message{MsgType: message.MsgTypeEvent, Event: message.EventTypeSubscribe, EventKey: "qrscene_1"}, text("欢迎关注")},
		{"click with a rule", message.Message{MsgType: message.MsgTypeEvent, Event: message.EventTypeClick, EventKey: "V1001_TODAY_MUSIC"}, text("今日歌曲")},
		{"click with a news rule", message.Message{MsgType: message.MsgTypeEvent, Event: message.EventTypeClick, EventKey: "NEWS"},
			&message.News{Articles: []message.Article{{Title: "t1", URL: "https://e.com/1"}, {Title: "t2", Description: "d2", PicURL: "https://e.com/p.png"}}}},
		{"click without a rule (echo default: success)", message.Message{MsgType: message.MsgTypeEvent, Event: message.EventTypeClick, EventKey: "OTHER"}, nil},
		{"exact keyword", message.Message{MsgType: message.MsgTypeText, Content: "hello"}, text("world")},
		{"exact keyword does not match a longer text", message.Message{MsgType: message.MsgTypeText, Content: "hello there"}, text("hello there")},
		{"contains keyword", message.Message{MsgType: message.MsgTypeText, Content: "请问价格多少"}, text("100 元")},
		{"regex keyword with $1", message.Message{MsgType: message.MsgTypeText, Content: "订单12345"}, text("订单 12345 已发货")},
		{"regex keyword anchored", message.Message{MsgType: message.MsgTypeText, Content: "我的订单12345"}, text("我的订单12345")},
		{"echo default", message.Message{MsgType: message.MsgTypeText, Content: "anything"}, text("anything")},
		{"echo default on an image: success", message.Message{MsgType: message.MsgTypeImage, PicURL: "x"}, nil},
		{"unsubscribe: success", message.Message{MsgType: message.MsgTypeEvent, Event: message.EventTypeUnsubscribe}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.ServeMessage(t.Context(), &tc.m)
			if err != nil {
				t.Fatalf("ServeMessage: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("reply mismatch (-want +got):\n%s", diff)
			}
			// No rule here needs I/O: the webhook Server gets the same
			// answer at once, also through the late-reply wrapper.
			for name, h := range map[string]webhook.Handler{"handler": h, "detached": detachDeadline(h, time.Minute, new(sync.WaitGroup))} {
				ih, ok := h.(webhook.ImmediateHandler)
				if !ok {
					t.Fatalf("%s: %T is not a webhook.ImmediateHandler", name, h)
				}
				got, ok, err := ih.ServeImmediate(&tc.m)
				if !ok || err != nil {
					t.Fatalf("%s: ServeImmediate = ok %v, err %v; want an answer", name, ok, err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("%s: immediate reply mismatch (-want +got):\n%s", name, diff)
				}
			}
		})
	}
}

// TestRepliesHandlerForwardIsNotImmediate: a message routed to a forward
// rule (which POSTs) is not answered at once; other rules still are.
func TestRepliesHandlerForwardIsNotImmediate(t *testing.T) {
	r := &RepliesConfig{
		Subscribe: &ReplyConfig{Text: "hi"},
		Clicks:    map[string]*ReplyConfig{"FWD": {Forward: "http://127.0.0.1:1/x"}},
		Keywords:  []KeywordRule{{Match: "hello", ReplyConfig: ReplyConfig{Text: "world"}}},
		Default:   &ReplyConfig{Forward: "http://127.0.0.1:1/x"},
	}
	h := detachDeadline(NewRepliesHandler(r, nil), time.Minute, new(sync.WaitGroup)).(webhook.ImmediateHandler)
	for _, tc := range []struct {
		name   string
		m      message.Message
		wantOK bool
	}{
		{"subscribe text", message.Message{MsgType: message.MsgTypeEvent, Event: message.EventTypeSubscribe}, true},
		{"click forward", message.Message{MsgType: message.MsgTypeEvent, Event: message.EventTypeClick, EventKey: "FWD"}, false},
		{"keywords with a forward default", message.Message{MsgType: message.MsgTypeText, Content: "hello"}, false},
		{"image to the forward default", message.Message{MsgType: message.MsgTypeImage}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok, err := h.ServeImmediate(&tc.m); ok != tc.wantOK || err != nil {
				t.Errorf("ServeImmediate = ok %v, err %v; want ok %v", ok, err, tc.wantOK)
			}
		})
	}
}

func TestRepliesHandlerDefaults(t *testing.T) {
	for _, tc := range []struct {
		name    string
		replies RepliesConfig
		m       message.Message
		want    message.Reply
	}{
		{"no rules: success", RepliesConfig{}, message.Message{MsgType: message.MsgTypeText, Content: "x"}, nil},
		{"text default for text", RepliesConfig{Default: &ReplyConfig{Text: "d"}}, message.Message{MsgType: message.MsgTypeText, Content: "x"}, text("d")},
		{"text default for events", RepliesConfig{Default: &ReplyConfig{Text: "d"}}, message.Message{MsgType: message.MsgTypeEvent, Event: message.EventTypeView}, text("d")},
		{"keywords without match fall to default", RepliesConfig{Keywords: []KeywordRule{{Match: "a", ReplyConfig: ReplyConfig{Text: "A"}}}, Default: &ReplyConfig{Text: "d"}},
			message.Message{MsgType: message.MsgTypeText, Content: "b"}, text("d")},
		{"keywords without match and no default: success", RepliesConfig{Keywords: []KeywordRule{{Match: "a", ReplyConfig: ReplyConfig{Text: "A"}}}},
			message.Message{MsgType: message.MsgTypeText, Content: "b"}, nil},
		{"first keyword wins", RepliesConfig{Keywords: []KeywordRule{{Contains: "a", ReplyConfig: ReplyConfig{Text: "1"}}, {Match: "ab", ReplyConfig: ReplyConfig{Text: "2"}}}},
			message.Message{MsgType: message.MsgTypeText, Content: "ab"}, text("1")},
		{"keyword echo", RepliesConfig{Keywords: []KeywordRule{{Contains: "say ", ReplyConfig: ReplyConfig{Echo: true}}}},
			message.Message{MsgType: message.MsgTypeText, Content: "say it"}, text("say it")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.replies.normalize("replies"); err != nil {
				t.Fatal(err)
			}
			got, err := NewRepliesHandler(&tc.replies, nil).ServeMessage(t.Context(), &tc.m)
			if err != nil {
				t.Fatalf("ServeMessage: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("reply mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestForwardReply(t *testing.T) {
	var calls atomic.Int32
	var gotBody atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		gotBody.Store(string(b))
		if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/xml") {
			http.Error(w, "want POST xml", http.StatusBadRequest)
			return
		}
		m, err := message.Parse(b)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		switch m.Content {
		case "success":
			io.WriteString(w, "success")
		case "empty":
		case "news":
			out, _ := message.AppendReply(nil, m.FromUserName, m.ToUserName, 1, &message.News{Articles: []message.Article{{Title: "n"}}})
			w.Write(out)
		case "garbage":
			io.WriteString(w, "{json?}")
		case "500":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		default:
			out, _ := message.AppendReply(nil, m.FromUserName, m.ToUserName, 1, &message.Text{Content: "re: " + m.Content})
			w.Write(out)
		}
	}))
	defer srv.Close()
	f := &forwarder{url: srv.URL + "/hook?key=secret", client: srv.Client()}
	for _, tc := range []struct {
		content string
		want    message.Reply
		wantErr bool
	}{
		{"hi", text("re: hi"), false},
		{"news", &message.News{Articles: []message.Article{{Title: "n"}}}, false},
		{"success", nil, false},
		{"empty", nil, false},
		{"garbage", nil, true},
		{"500", nil, true},
	} {
		t.Run(tc.content, func(t *testing.T) {
			raw := (&message.Message{ToUserName: "gh_1", FromUserName: "oU", CreateTime: 1, MsgType: message.MsgTypeText, Content: tc.content, MsgID: 1}).AppendXML(nil)
			m, err := message.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.reply(t.Context(), m)
			if (err != nil) != tc.wantErr {
				t.Fatalf("reply error = %v, want error %v", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q leaks the URL's query", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("reply mismatch (-want +got):\n%s", diff)
			}
			if gotBody.Load().(string) != string(raw) {
				t.Errorf("forwarded body = %q, want the message XML %q", gotBody.Load(), raw)
			}
		})
	}
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		m, _ := message.Parse((&message.Message{ToUserName: "gh_1", FromUserName: "oU", CreateTime: 1, MsgType: message.MsgTypeText, Content: "slow", MsgID: 2}).AppendXML(nil))
		_, err := f.reply(ctx, m)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("slow target: error = %v, want DeadlineExceeded", err)
		}
	})
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://user:pw@h:1/p?token=x#f": "http://h:1/p",
		"https://h/p":                    "https://h/p",
		"redis://:pw@127.0.0.1:6379/0":   "redis://127.0.0.1:6379/0",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
