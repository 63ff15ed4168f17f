package webhook

import (
	"context"
	"fmt"
	"sync"

	"github.com/wxkit/wxkit/message"
)

// Mux is a Handler that routes a message to the Handler registered for its
// typed keys. For an Open Platform push (InfoType set) it looks up the
// InfoType. For an event (MsgType "event") it tries, in order, the pair
// (Event, EventKey), the Event, and the MsgType "event". For any other
// message it looks up the MsgType. When nothing matches it calls the
// fallback, NotFound unless HandleDefault changed it.
//
// Keys match exactly (WeChat spells events in mixed case: "subscribe",
// "CLICK"); there are no string patterns. Registering a nil Handler or the
// same key twice panics, as http.ServeMux does. A Mux is safe for concurrent
// use; register handlers before serving for best performance.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
type Mux struct {
	mu       sync.RWMutex
	msg      map[message.MsgType]Handler
	event    map[message.EventType]Handler
	eventKey map[eventKey]Handler
	info     map[message.InfoType]Handler
	fallback Handler
}

type eventKey struct {
	event message.EventType
	key   string
}

// NewMux returns an empty Mux whose fallback is NotFound. The zero Mux is
// ready to use as well.
func NewMux() *Mux { return new(Mux) }

// Handle registers h for messages of type t (message.MsgTypeText, ...). A
// handler for message.MsgTypeEvent receives the events that no HandleEvent
// or HandleEventKey registration matches.
func (x *Mux) Handle(t message.MsgType, h Handler) {
	register(x, &x.msg, t, h, "MsgType")
}

// HandleFunc registers f for messages of type t.
func (x *Mux) HandleFunc(t message.MsgType, f func(context.Context, *message.Message) (message.Reply, error)) {
	x.Handle(t, HandlerFunc(f))
}

// HandleEvent registers h for events (MsgType "event") whose Event is e.
func (x *Mux) HandleEvent(e message.EventType, h Handler) {
	register(x, &x.event, e, h, "EventType")
}

// HandleEventFunc registers f for events whose Event is e.
func (x *Mux) HandleEventFunc(e message.EventType, f func(context.Context, *message.Message) (message.Reply, error)) {
	x.HandleEvent(e, HandlerFunc(f))
}

// HandleEventKey registers h for events whose Event is e and EventKey is key,
// e.g. (message.EventTypeClick, "V1001_TODAY_MUSIC"). It takes precedence
// over HandleEvent(e).
func (x *Mux) HandleEventKey(e message.EventType, key string, h Handler) {
	register(x, &x.eventKey, eventKey{e, key}, h, "(EventType, EventKey)")
}

// HandleEventKeyFunc registers f for events whose Event is e and EventKey is key.
func (x *Mux) HandleEventKeyFunc(e message.EventType, key string, f func(context.Context, *message.Message) (message.Reply, error)) {
	x.HandleEventKey(e, key, HandlerFunc(f))
}

// HandleInfo registers h for Open Platform pushes whose InfoType is t
// (message.InfoTypeComponentVerifyTicket, message.InfoTypeAuthorized, ...).
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/component_verify_ticket.html
func (x *Mux) HandleInfo(t message.InfoType, h Handler) {
	register(x, &x.info, t, h, "InfoType")
}

// HandleInfoFunc registers f for Open Platform pushes whose InfoType is t.
func (x *Mux) HandleInfoFunc(t message.InfoType, f func(context.Context, *message.Message) (message.Reply, error)) {
	x.HandleInfo(t, HandlerFunc(f))
}

// HandleDefault replaces the fallback Handler (NotFound) that receives the
// messages no registration matches.
func (x *Mux) HandleDefault(h Handler) {
	if h == nil {
		panic("webhook: nil fallback Handler")
	}
	x.mu.Lock()
	x.fallback = h
	x.mu.Unlock()
}

func register[K comparable](x *Mux, m *map[K]Handler, k K, h Handler, what string) {
	if h == nil {
		panic(fmt.Sprintf("webhook: nil Handler for %s %v", what, k))
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if *m == nil {
		*m = make(map[K]Handler)
	}
	if _, dup := (*m)[k]; dup {
		panic(fmt.Sprintf("webhook: Handler for %s %v registered twice", what, k))
	}
	(*m)[k] = h
}

// Handler returns the Handler that would serve m: the registered one, or the
// fallback.
func (x *Mux) Handler(m *message.Message) Handler {
	x.mu.RLock()
	h := x.lookup(m)
	x.mu.RUnlock()
	return h
}

func (x *Mux) lookup(m *message.Message) Handler {
	if m.InfoType != "" {
		if h, ok := x.info[m.InfoType]; ok {
			return h
		}
	}
	if m.MsgType == message.MsgTypeEvent {
		if len(x.eventKey) > 0 {
			if h, ok := x.eventKey[eventKey{m.Event, m.EventKey}]; ok {
				return h
			}
		}
		if h, ok := x.event[m.Event]; ok {
			return h
		}
	}
	if h, ok := x.msg[m.MsgType]; ok {
		return h
	}
	if x.fallback != nil {
		return x.fallback
	}
	return NotFound
}

// ServeMessage dispatches m to the Handler that Handler(m) returns.
func (x *Mux) ServeMessage(ctx context.Context, m *message.Message) (message.Reply, error) {
	return x.Handler(m).ServeMessage(ctx, m)
}

// ServeImmediate implements ImmediateHandler: it asks the Handler that
// Handler(m) returns, when that is an ImmediateHandler.
func (x *Mux) ServeImmediate(m *message.Message) (message.Reply, bool, error) {
	if h, ok := x.Handler(m).(ImmediateHandler); ok {
		return h.ServeImmediate(m)
	}
	return nil, false, nil
}
