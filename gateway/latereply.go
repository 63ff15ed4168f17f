package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/wxkit/wxkit"
	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/mp"
	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/webhook"
)

// LateHandlerTimeout bounds a reply handler of an app with a secret. Such a
// handler is not cancelled at the webhook deadline (webhook.timeout): the
// user gets "success" at the deadline and the handler goes on, up to this
// long, and its reply is then delivered through the customer-service API
// (see wireLateReply). A forward target is also bounded by the gateway's
// HTTP client timeout (10 s).
const LateHandlerTimeout = 30 * time.Second

// JobLateReply is the outbox job kind of late replies.
const JobLateReply = "late_reply"

// lateReplyRetries are the pauses after failed attempts at a late reply
// that did not run (45011, the minute quota; a connection that failed);
// after the last the job is given up. Any other failure gives up at once:
// a refusal that retrying cannot change (45015: the user has not written
// within 48 hours; 45047: too many messages), and an outcome that is not
// known (-1, a timeout after the request went out), since sending again
// could deliver the message twice.
var lateReplyRetries = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute}

// lateReplyMaxAge is how long after the message a late reply is still
// worth sending.
const lateReplyMaxAge = time.Hour

// ErrLateReplyUnsupported is returned (wrapped) for a late reply whose type
// the customer-service API cannot carry here (voice, video, music,
// transfer_customer_service); it is logged and dropped.
var ErrLateReplyUnsupported = errors.New("gateway: late reply type not supported by the customer-service fallback")

// lateReply is the payload of a late-reply job: what to send to whom.
type lateReply struct {
	AppID   string            `json:"appid"`
	OpenID  string            `json:"openid"`
	Type    string            `json:"type"` // text | image | news
	Content string            `json:"content,omitempty"`
	MediaID string            `json:"media_id,omitempty"`
	Article *mp.CustomArticle `json:"article,omitempty"`
}

// newLateReply converts a passive reply into what the customer-service API
// can send: text, image, or the first article of news.
func newLateReply(appID string, m *message.Message, r message.Reply) (*lateReply, error) {
	lr := &lateReply{AppID: appID, OpenID: m.FromUserName}
	switch r := r.(type) {
	case *message.Text:
		lr.Type, lr.Content = "text", r.Content
	case *message.Image:
		lr.Type, lr.MediaID = "image", r.MediaID
	case *message.News:
		if len(r.Articles) == 0 {
			return nil, errors.New("gateway: late reply: news without articles")
		}
		a := r.Articles[0]
		lr.Type, lr.Article = "news", &mp.CustomArticle{Title: a.Title, Description: a.Description, URL: a.URL, PicURL: a.PicURL}
	default:
		return nil, fmt.Errorf("%w: %s", ErrLateReplyUnsupported, r.ReplyType())
	}
	return lr, nil
}

// wireLateReply sets up the async fallback of the webhook of app a: when the
// app has a secret, its Handler keeps running past the deadline (see
// LateHandlerTimeout) and a late reply becomes an outbox job (JobLateReply,
// keyed by the message's dedup key, so a message gets at most one) that
// any instance's drainer sends through the customer-service API (text →
// SendText, image → SendImage, news → SendNews with the first article). The
// job survives a restart of the instance that made it; a graceful
// shutdown waits for handlers still running. Without a secret nothing
// changes: a late reply is logged and dropped. Call it before srv.Init.
func (g *Gateway) wireLateReply(a *AppConfig, srv *webhook.Server) {
	if a.Secret == "" {
		return
	}
	appID := a.AppID
	srv.Handler = detachDeadline(srv.Handler, LateHandlerTimeout, &g.handlers)
	srv.LateReply = func(ctx context.Context, m *message.Message, r message.Reply) error {
		lr, err := newLateReply(appID, m, r)
		if err != nil {
			return err
		}
		payload, err := json.Marshal(lr)
		if err != nil {
			return err
		}
		now := g.now()
		job := &store.Job{Kind: JobLateReply, Key: appID + "/" + m.DedupKey(), Payload: payload,
			RunAt: now, Created: now, NotAfter: now.Add(lateReplyMaxAge)}
		if err := g.stores.Outbox.EnqueueJob(ctx, job); err != nil {
			return fmt.Errorf("gateway: late reply: queueing in the outbox: %w", err)
		}
		g.late.wake()
		return nil
	}
}

// startLateReplies starts the drainer of late-reply jobs.
func (g *Gateway) startLateReplies() {
	g.late = &drainer{
		outbox: g.stores.Outbox,
		kind:   JobLateReply,
		run:    g.sendLateReply,
		retry:  backoffSchedule(lateReplyRetries...),
		now:    g.now,
		logger: g.logger,
		hooks:  g.ops.metrics.drainHooks(), // metrics.go
	}
	g.late.start()
}

// sendLateReply runs one late-reply job.
func (g *Gateway) sendLateReply(ctx context.Context, j *store.Job) error {
	var lr lateReply
	if err := json.Unmarshal(j.Payload, &lr); err != nil {
		return permanent(fmt.Errorf("gateway: late reply: bad payload: %w", err))
	}
	if g.web == nil {
		return errors.New("gateway: late reply: gateway not fully built")
	}
	c, err := g.web.mpClient(lr.AppID)
	if err != nil {
		return permanent(fmt.Errorf("gateway: late reply: %w", err))
	}
	err = deliverLateReply(ctx, c.CustomerService(), &lr)
	switch {
	case err == nil:
		g.logger.LogAttrs(ctx, slog.LevelInfo, "gateway: late reply delivered through the customer-service API",
			slog.String("appid", lr.AppID), slog.String("openid", lr.OpenID), slog.String("reply_type", lr.Type))
		return nil
	case errors.Is(err, wxkit.ErrResponseOutOfTime):
		return permanent(fmt.Errorf("gateway: late reply to %s: the user has not interacted within 48 hours: %w", lr.OpenID, err))
	case errors.Is(err, wxkit.ErrAPIMinuteQuota) || notSent(err):
		return err // the platform did not run the send: try again
	default:
		// -1, a timeout after the request went out, …: the message may
		// have reached the user, and a second one would be a duplicate.
		return permanent(err)
	}
}

// notSent reports whether err happened before the request reached the
// platform (a refused or failed connection), so that sending again cannot
// deliver the message twice.
func notSent(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// deliverLateReply sends lr through cs.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
func deliverLateReply(ctx context.Context, cs *mp.CustomerServiceService, lr *lateReply) error {
	var err error
	switch lr.Type {
	case "text":
		err = cs.SendText(ctx, lr.OpenID, lr.Content)
	case "image":
		err = cs.SendImage(ctx, lr.OpenID, lr.MediaID)
	case "news":
		if lr.Article == nil {
			return permanent(errors.New("gateway: late reply: news without article"))
		}
		err = cs.SendNews(ctx, lr.OpenID, *lr.Article)
	default:
		return permanent(fmt.Errorf("%w: %s", ErrLateReplyUnsupported, lr.Type))
	}
	if err != nil {
		return fmt.Errorf("gateway: late reply to %s: %w", lr.OpenID, err)
	}
	return nil
}

// detachDeadline runs h under a context that keeps the values of the
// request's context but not its deadline or cancellation, bounded by d
// instead, so that a handler that misses the webhook deadline can still
// produce its reply for LateReply. running counts the handlers in flight
// (a graceful shutdown waits for them).
func detachDeadline(h webhook.Handler, d time.Duration, running *sync.WaitGroup) webhook.Handler {
	if h == nil {
		h = webhook.NotFound
	}
	return detached{h: h, d: d, running: running}
}

// detached is the Handler detachDeadline returns; it answers at once when h
// does (webhook.ImmediateHandler), with no context to detach.
type detached struct {
	h       webhook.Handler
	d       time.Duration
	running *sync.WaitGroup
}

// ServeMessage implements webhook.Handler.
func (x detached) ServeMessage(ctx context.Context, m *message.Message) (message.Reply, error) {
	x.running.Add(1)
	defer x.running.Done()
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), x.d)
	defer cancel()
	return x.h.ServeMessage(dctx, m)
}

// ServeImmediate implements webhook.ImmediateHandler.
func (x detached) ServeImmediate(m *message.Message) (message.Reply, bool, error) {
	if ih, ok := x.h.(webhook.ImmediateHandler); ok {
		return ih.ServeImmediate(m)
	}
	return nil, false, nil
}
