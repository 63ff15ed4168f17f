package gateway

import (
	"context"
	"net/http"
	"strings"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
)

// replyFunc produces the reply of one configured rule for m.
type replyFunc func(ctx context.Context, m *message.Message) (message.Reply, error)

// NewRepliesHandler builds the webhook.Handler of an app's `replies`
// configuration. Rules are tried in this order:
//
//  1. subscribe events: replies.subscribe;
//  2. CLICK events: replies.clicks[EventKey];
//  3. text messages: replies.keywords, first match wins (match = whole
//     content, contains = substring, regex = RE2 with $1… expanded in text);
//  4. replies.default for everything else (echo answers text messages with
//     their own content and other messages with "success").
//
// Anything without a rule is answered "success" (nil Reply). Forward rules
// POST the plaintext message XML to their URL with client and relay the
// reply XML it answers (see forwardReply); a nil client means a client
// without timeout (the handler's deadline still bounds the call).
func NewRepliesHandler(r *RepliesConfig, client *http.Client) webhook.Handler {
	if client == nil {
		client = &http.Client{}
	}
	mux := webhook.NewMux()
	if r == nil {
		return mux
	}
	if r.Subscribe != nil {
		mux.HandleEvent(message.EventTypeSubscribe, ruleHandler(r.Subscribe, client))
	}
	for key, rc := range r.Clicks {
		mux.HandleEventKey(message.EventTypeClick, key, ruleHandler(rc, client))
	}
	var def replyFunc
	defImmediate := true
	if r.Default != nil {
		def = buildReply(r.Default, client)
		defImmediate = r.Default.Forward == ""
	}
	if len(r.Keywords) > 0 {
		rules := make([]keywordRule, len(r.Keywords))
		immediate := defImmediate
		for i := range r.Keywords {
			rules[i] = keywordRule{cfg: &r.Keywords[i], reply: buildReply(&r.Keywords[i].ReplyConfig, client)}
			immediate = immediate && r.Keywords[i].Forward == ""
		}
		keywords := func(ctx context.Context, m *message.Message) (message.Reply, error) {
			for i := range rules {
				if rep, ok, err := rules[i].try(ctx, m); ok {
					return rep, err
				}
			}
			if def != nil {
				return def(ctx, m)
			}
			return nil, nil
		}
		mux.Handle(message.MsgTypeText, funcHandler(keywords, immediate))
	}
	if def != nil {
		mux.HandleDefault(funcHandler(def, defImmediate))
	}
	return mux
}

// ruleHandler is the webhook.Handler of one rule.
func ruleHandler(rc *ReplyConfig, client *http.Client) webhook.Handler {
	return funcHandler(buildReply(rc, client), rc.Forward == "")
}

// funcHandler makes f a webhook.Handler; immediate says that f needs no
// I/O (fixed text or news, echo, keyword matching), and makes the Handler a
// webhook.ImmediateHandler, which the webhook Server calls on the request's
// goroutine.
func funcHandler(f replyFunc, immediate bool) webhook.Handler {
	if immediate {
		return immediateReply(f)
	}
	return webhook.HandlerFunc(f)
}

// immediateReply is a replyFunc that needs no I/O.
type immediateReply replyFunc

// ServeMessage implements webhook.Handler.
func (f immediateReply) ServeMessage(ctx context.Context, m *message.Message) (message.Reply, error) {
	return f(ctx, m)
}

// ServeImmediate implements webhook.ImmediateHandler.
func (f immediateReply) ServeImmediate(m *message.Message) (message.Reply, bool, error) {
	r, err := f(context.Background(), m)
	return r, true, err
}

// keywordRule is one compiled entry of replies.keywords.
type keywordRule struct {
	cfg   *KeywordRule
	reply replyFunc
}

// try reports whether the rule matches m's content and, if so, its reply.
func (k *keywordRule) try(ctx context.Context, m *message.Message) (message.Reply, bool, error) {
	c := k.cfg
	switch {
	case c.Match != "":
		if m.Content != c.Match {
			return nil, false, nil
		}
	case c.Contains != "":
		if !strings.Contains(m.Content, c.Contains) {
			return nil, false, nil
		}
	case c.re != nil:
		sub := c.re.FindStringSubmatchIndex(m.Content)
		if sub == nil {
			return nil, false, nil
		}
		if c.Text != "" {
			// $1… in the text expand to the submatches.
			out := c.re.ExpandString(nil, c.Text, m.Content, sub)
			return &message.Text{Content: string(out)}, true, nil
		}
	default:
		return nil, false, nil
	}
	rep, err := k.reply(ctx, m)
	return rep, true, err
}

// buildReply turns one ReplyConfig into a replyFunc. The config has been
// validated: exactly one of its fields is set.
func buildReply(rc *ReplyConfig, client *http.Client) replyFunc {
	switch {
	case rc.Text != "":
		r := &message.Text{Content: rc.Text}
		return func(context.Context, *message.Message) (message.Reply, error) { return r, nil }
	case len(rc.News) > 0:
		n := &message.News{Articles: make([]message.Article, len(rc.News))}
		for i, a := range rc.News {
			n.Articles[i] = message.Article{Title: a.Title, Description: a.Description, PicURL: a.PicURL, URL: a.URL}
		}
		return func(context.Context, *message.Message) (message.Reply, error) { return n, nil }
	case rc.Echo:
		return echoReply
	case rc.Forward != "":
		f := &forwarder{url: rc.Forward, client: client}
		return f.reply
	}
	return func(context.Context, *message.Message) (message.Reply, error) { return nil, nil }
}

// echoReply answers a text message with its own content; anything else
// gets "success".
func echoReply(_ context.Context, m *message.Message) (message.Reply, error) {
	if m.MsgType != message.MsgTypeText {
		return nil, nil
	}
	return &message.Text{Content: m.Content}, nil
}
