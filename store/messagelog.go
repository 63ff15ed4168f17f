package store

import (
	"context"
	"time"
)

// LoggedMessage is one push accepted by a webhook: the message as WeChat
// sent it (plaintext XML, after decryption) and the passive reply answered
// (plaintext XML; empty for "success").
type LoggedMessage struct {
	AppID      string    `json:"appid"`
	DedupKey   string    `json:"dedup_key"` // message.Message.DedupKey: "msg:<MsgId>" or "evt:…"
	FromUser   string    `json:"from_user"`
	ToUser     string    `json:"to_user"`
	MsgType    string    `json:"msg_type"`
	Event      string    `json:"event,omitempty"`
	MsgID      int64     `json:"msg_id,omitempty"`
	CreateTime int64     `json:"create_time"` // Unix seconds, from the message
	ReceivedAt time.Time `json:"received_at"` // when the gateway accepted it (ms precision)
	Request    []byte    `json:"request"`
	Reply      []byte    `json:"reply,omitempty"`
}

// MessageQuery selects logged messages: those of AppID ("" for every app)
// received at or after Since (zero for any), newest first, at most Limit
// (0 means 100).
type MessageQuery struct {
	AppID string
	Since time.Time
	Limit int
}

// MessageLog keeps the log of accepted pushes, one record per (AppID,
// DedupKey).
type MessageLog interface {
	// AppendMessages writes msgs in one transaction. A message whose
	// (AppID, DedupKey) is already logged is skipped, not overwritten, so
	// that a retried batch, or a duplicate delivery logged by another
	// instance, leaves one record.
	AppendMessages(ctx context.Context, msgs []*LoggedMessage) error
	// Messages returns the messages q selects, newest first.
	Messages(ctx context.Context, q MessageQuery) ([]*LoggedMessage, error)
	// CountMessages returns the number of messages of appID ("" for all).
	CountMessages(ctx context.Context, appID string) (int, error)
	// PruneMessages deletes at most limit messages received before before,
	// oldest first, and returns how many it deleted. Callers prune in small
	// batches so that no statement holds the database for long.
	PruneMessages(ctx context.Context, before time.Time, limit int) (int64, error)
}
