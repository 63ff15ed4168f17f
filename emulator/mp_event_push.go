package emulator

import (
	"context"
	"strconv"
	"strings"
	"sync"
)

// platformEvents are the events the platform itself pushes about a user
// (the outcome of a send), as opposed to what the user does. They reach
// the account even when it has blacklisted the user.
var platformEvents = []EventType{eventTemplateSendJobFinish, eventSubscribeMsgSent}

// Events pushed by the template and subscription-notification routes.
const (
	eventTemplateSendJobFinish EventType = "TEMPLATESENDJOBFINISH"
	eventSubscribeMsgPopup     EventType = "subscribe_msg_popup_event"
	eventSubscribeMsgChange    EventType = "subscribe_msg_change_event"
	eventSubscribeMsgSent      EventType = "subscribe_msg_sent_event"
)

// eventQueue pushes the events that follow an API call (the platform
// pushes them after it answered the call), one at a time and in the order
// the calls were made. Guarded by its own mu.
type eventQueue struct {
	mu      sync.Mutex
	pending []PushRequest
	idle    chan struct{} // closed when the queue drains; nil when idle
}

// queueEvent pushes req to the account a after the current call, in a
// goroutine of its own. Pushes that cannot be delivered (no push URL) are
// dropped, as the platform drops them; the conversation log records those
// that are delivered.
func (e *Emulator) queueEvent(a *app, req PushRequest) {
	q := appExt[eventQueue](a, "mp_event_queue")
	q.mu.Lock()
	q.pending = append(q.pending, req)
	start := q.idle == nil
	if start {
		q.idle = make(chan struct{})
	}
	q.mu.Unlock()
	if !start {
		return
	}
	appID := a.cfg.AppID
	go func() {
		for {
			q.mu.Lock()
			if len(q.pending) == 0 {
				close(q.idle)
				q.idle = nil
				q.mu.Unlock()
				return
			}
			next := q.pending[0]
			q.pending = q.pending[1:]
			q.mu.Unlock()
			_, _ = e.Push(context.Background(), appID, next)
		}
	}()
}

// WaitEvents waits until the events that API calls of appID queued (such
// as TEMPLATESENDJOBFINISH after message/template/send, or
// subscribe_msg_sent_event after bizsend) have been pushed, or ctx is done.
func (e *Emulator) WaitEvents(ctx context.Context, appID string) error {
	a := e.app(appID)
	if a == nil {
		return ErrUnknownApp
	}
	q := appExt[eventQueue](a, "mp_event_queue")
	q.mu.Lock()
	idle := q.idle
	q.mu.Unlock()
	if idle == nil {
		return nil
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// eventXML builds the inner XML of an event for PushRequest.RawXML:
// MsgType event, Event ev, then body (elements already escaped).
func eventXML(ev EventType, body string) string {
	var x xmlBuilder
	x.cdata("MsgType", string(MsgTypeEvent))
	x.cdata("Event", string(ev))
	x.b.WriteString(body)
	return x.b.String()
}

// subscribeListXML builds <Wrapper><List>...</List>...</Wrapper>, each
// item's elements in order (numbers bare, text in CDATA).
func subscribeListXML(wrapper string, items [][][2]string) string {
	var x xmlBuilder
	x.b.WriteString("<" + wrapper + ">")
	for _, it := range items {
		x.b.WriteString("<List>")
		for _, kv := range it {
			if allDigits(kv[1]) {
				x.num(kv[0], kv[1])
			} else {
				x.cdata(kv[0], kv[1])
			}
		}
		x.b.WriteString("</List>")
	}
	x.b.WriteString("</" + wrapper + ">")
	return x.b.String()
}

// allDigits reports whether s is a non-empty run of ASCII digits.
func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// itoa64 formats n in base 10.
func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
