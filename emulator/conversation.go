package emulator

import (
	"slices"
	"time"
)

// Direction tells who sent a conversation entry.
type Direction string

// Directions of conversation entries.
const (
	// DirectionIn is a message or event from the user to the account.
	DirectionIn Direction = "in"
	// DirectionOut is a message from the account to the user (a passive
	// reply, or later a customer-service or template message).
	DirectionOut Direction = "out"
)

// maxConversation is how many entries are kept per user and app.
const maxConversation = 500

// ConversationEntry is one line of the chat between a user and an account,
// as the WeChat client would show it.
type ConversationEntry struct {
	Time      time.Time `json:"time"`
	User      string    `json:"user"` // openid
	Direction Direction `json:"direction"`
	// Via tells how an outgoing message came: "reply" (passive reply),
	// "error" (the user saw ServiceUnavailableText), or what a later route
	// sets ("custom", "template", ...).
	Via       string    `json:"via,omitempty"`
	Type      MsgType   `json:"type"`
	Event     EventType `json:"event,omitempty"`
	EventKey  string    `json:"event_key,omitempty"`
	MsgID     int64     `json:"msg_id,omitempty,string"`
	Text      string    `json:"text,omitempty"` // content, or what the user sees
	Reply     *Reply    `json:"reply,omitempty"`
	Error     string    `json:"error,omitempty"`
	XML       string    `json:"xml,omitempty"`
	Delivered int       `json:"deliveries,omitempty"` // HTTP deliveries of an inbound message
	// Blocked is set on an inbound message that was not delivered because
	// the account has blacklisted the user.
	Blocked bool `json:"blocked,omitempty"`
	// RoutedTo is set on an inbound message that the platform forwarded to
	// this customer-service account instead of pushing it (mp_kf.go).
	RoutedTo string `json:"routed_to,omitempty"`
}

// appendConversation adds entry to the log of openID. a.mu must be held.
func (a *app) appendConversation(openID string, entry ConversationEntry) {
	entry.User = openID
	log := append(a.conv[openID], entry)
	if len(log) > maxConversation {
		log = slices.Clone(log[len(log)-maxConversation:])
	}
	a.conv[openID] = log
}

// logInbound records a pushed message before it is delivered.
func (e *Emulator) logInbound(a *app, in *InboundMessage, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.appendConversation(in.FromUserName, ConversationEntry{
		Time: now, Direction: DirectionIn, Type: in.MsgType, Event: in.Event, EventKey: in.EventKey,
		MsgID: in.MsgID, Text: in.Content, XML: in.XML,
	})
}

// logConversation records the outcome of a push whose message logInbound
// recorded: the number of deliveries, and the reply or error the user saw.
func (e *Emulator) logConversation(a *app, in *InboundMessage, res *PushResult, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	log := a.conv[in.FromUserName]
	for i := len(log) - 1; i >= 0; i-- {
		if en := &log[i]; en.Direction == DirectionIn && en.Time.Equal(now) && en.XML == in.XML {
			en.Delivered = len(res.Attempts)
			break
		}
	}
	switch {
	case res.Error != "":
		a.appendConversation(in.FromUserName, ConversationEntry{
			Time: now, Direction: DirectionOut, Via: "error", Type: MsgTypeText,
			Text: res.UserSees, Error: res.Error,
		})
	case res.Reply != nil:
		a.appendConversation(in.FromUserName, ConversationEntry{
			Time: now, Direction: DirectionOut, Via: "reply", Type: res.Reply.Type,
			Text: res.UserSees, Reply: res.Reply, XML: res.Reply.XML,
		})
	}
}

// Conversation returns the conversation log of openID with appID, oldest
// first (at most 500 entries are kept per user). An empty openID returns
// the entries of every user of the app, ordered by time.
func (e *Emulator) Conversation(appID, openID string) ([]ConversationEntry, error) {
	a := e.app(appID)
	if a == nil {
		return nil, ErrUnknownApp
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if openID != "" {
		return slices.Clone(a.conv[openID]), nil
	}
	var all []ConversationEntry
	for _, u := range a.users {
		all = append(all, a.conv[u.OpenID]...)
	}
	slices.SortStableFunc(all, func(x, y ConversationEntry) int { return x.Time.Compare(y.Time) })
	return all, nil
}
