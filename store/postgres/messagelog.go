package postgres

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wxkit/wxkit/store"
)

// DefaultMessageLimit is the number of messages Messages returns when the
// query's Limit is 0.
const DefaultMessageLimit = 100

const messageColumns = `appid, dedup_key, from_user, to_user, msg_type, event, msg_id, create_time, received_at, request, reply`

// AppendMessages implements store.MessageLog with one multi-row INSERT …
// SELECT FROM unnest(…) ON CONFLICT (appid, dedup_key) DO NOTHING, atomic
// like any statement: the batch is logged whole or not at all, and a key
// logged already (by this batch, an earlier one, or another instance) is
// skipped. Rows are inserted in (appid, dedup_key) order, so that
// concurrent batches sharing keys wait for each other instead of
// deadlocking; of a key repeated within msgs the first is kept. ReceivedAt
// is stored to the millisecond. A nil message, or one without AppID or
// DedupKey, fails the batch.
func (db *DB) AppendMessages(ctx context.Context, msgs []*store.LoggedMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	for i, m := range msgs {
		if m == nil || m.AppID == "" || m.DedupKey == "" {
			return errors.New("postgres: append messages: message " + strconv.Itoa(i) + " has no appid or dedup key")
		}
	}
	sorted := slices.Clone(msgs)
	slices.SortStableFunc(sorted, func(a, b *store.LoggedMessage) int {
		return cmp.Or(cmp.Compare(a.AppID, b.AppID), cmp.Compare(a.DedupKey, b.DedupKey))
	})
	n := len(sorted)
	var (
		appID, key, from, to, typ, event = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		msgID, created                   = make([]int64, n), make([]int64, n)
		received                         = make([]time.Time, n)
		request, reply                   = make([][]byte, n), make([][]byte, n)
	)
	for i, m := range sorted {
		appID[i], key[i], from[i], to[i], typ[i], event[i] = m.AppID, m.DedupKey, m.FromUser, m.ToUser, m.MsgType, m.Event
		msgID[i], created[i] = m.MsgID, m.CreateTime
		received[i] = m.ReceivedAt.Truncate(time.Millisecond)
		request[i], reply[i] = m.Request, m.Reply
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO wxkit_message_log (`+messageColumns+`)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
			$7::bigint[], $8::bigint[], $9::timestamptz[], $10::bytea[], $11::bytea[])
		ON CONFLICT (appid, dedup_key) DO NOTHING`,
		appID, key, from, to, typ, event, msgID, created, received, request, reply)
	if err != nil {
		return wrap("append messages", err)
	}
	return nil
}

// Messages implements store.MessageLog: newest ReceivedAt first (ties in
// reverse order of logging).
func (db *DB) Messages(ctx context.Context, q store.MessageQuery) ([]*store.LoggedMessage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultMessageLimit
	}
	sql := `SELECT ` + messageColumns + ` FROM wxkit_message_log WHERE true`
	args := []any{}
	if q.AppID != "" {
		args = append(args, q.AppID)
		sql += ` AND appid = $` + strconv.Itoa(len(args))
	}
	if !q.Since.IsZero() {
		args = append(args, q.Since)
		sql += ` AND received_at >= $` + strconv.Itoa(len(args))
	}
	args = append(args, limit)
	sql += ` ORDER BY received_at DESC, id DESC LIMIT $` + strconv.Itoa(len(args))
	rows, err := db.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, wrap("messages", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.LoggedMessage, error) {
		var m store.LoggedMessage
		err := row.Scan(&m.AppID, &m.DedupKey, &m.FromUser, &m.ToUser, &m.MsgType, &m.Event, &m.MsgID,
			&m.CreateTime, &m.ReceivedAt, &m.Request, &m.Reply)
		return &m, err
	})
	if err != nil {
		return nil, wrap("messages", err)
	}
	return out, nil
}

// CountMessages implements store.MessageLog.
func (db *DB) CountMessages(ctx context.Context, appID string) (int, error) {
	var n int
	var err error
	if appID == "" {
		err = db.pool.QueryRow(ctx, `SELECT count(*) FROM wxkit_message_log`).Scan(&n)
	} else {
		err = db.pool.QueryRow(ctx, `SELECT count(*) FROM wxkit_message_log WHERE appid = $1`, appID).Scan(&n)
	}
	if err != nil {
		return 0, wrap("count messages", err)
	}
	return n, nil
}

// PruneMessages implements store.MessageLog: one DELETE of the oldest (by
// ReceivedAt) at most limit messages received before before. Rows that
// another transaction has locked (a concurrent prune on another instance)
// are skipped rather than waited for. A limit <= 0 deletes nothing.
func (db *DB) PruneMessages(ctx context.Context, before time.Time, limit int) (int64, error) {
	if limit <= 0 {
		return 0, nil
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM wxkit_message_log WHERE id IN (
		SELECT id FROM wxkit_message_log WHERE received_at < $1
		ORDER BY received_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)`, before, limit)
	if err != nil {
		return 0, wrap("prune messages", err)
	}
	return tag.RowsAffected(), nil
}
