package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/wxkit/wxkit/store"
)

// appendChunk is the most rows one multi-row INSERT of AppendMessages
// writes (11 parameters each, well below SQLite's limit); a batch is
// written in chunks of it, the last one shorter, each chunk size on a
// statement prepared once.
const appendChunk = 32

// appendCols are the columns AppendMessages writes, in the order of its
// arguments: 11 per row.
const appendCols = `(app_id, dedup_key, received_at, from_user, to_user, msg_type, event, msg_id, create_time, request, reply)`

// appendRow is the VALUES tuple of one row.
const appendRow = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// sqlAppend holds the INSERT of n rows at index n (1..appendChunk).
var sqlAppend = func() []string {
	out := make([]string, appendChunk+1)
	for n := 1; n <= appendChunk; n++ {
		out[n] = `INSERT INTO wxkit_message_log ` + appendCols + ` VALUES ` +
			strings.Repeat(appendRow+", ", n-1) + appendRow + ` ON CONFLICT (app_id, dedup_key) DO NOTHING`
	}
	return out
}()

// AppendMessages implements store.MessageLog: it writes msgs as rows of
// wxkit_message_log in one IMMEDIATE transaction, in multi-row INSERTs of
// up to appendChunk rows (ON CONFLICT (app_id, dedup_key) DO NOTHING, so
// that a key already logged, by this or another process, keeps its row):
// a statement per chunk, not per row, since a statement costs about as
// much as the rows it carries. AppID and DedupKey are required; ReceivedAt
// is stored in milliseconds.
func (db *DB) AppendMessages(ctx context.Context, msgs []*store.LoggedMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	for i, m := range msgs {
		if m == nil || m.AppID == "" || m.DedupKey == "" {
			return fmt.Errorf("sqlite: append messages: message %d: appid and dedup key are required", i)
		}
	}
	w, err := db.logWriter(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: append messages: %w", err)
	}
	defer w.mu.Unlock()
	if err := w.append(ctx, msgs); err != nil {
		return fmt.Errorf("sqlite: append messages: %w", err)
	}
	return nil
}

// logWriter is the connection that AppendMessages writes on, kept open
// with its statements prepared on it: a batch then costs one BEGIN, one
// statement per chunk and one COMMIT, with none of the pool's or of
// per-transaction statement re-preparation. Its mutex serializes the
// writers of this process (SQLite has one writer at a time anyway).
type logWriter struct {
	mu    sync.Mutex
	conn  *sql.Conn
	stmts [appendChunk + 1]*sql.Stmt
}

// logWriter returns the writer, locked; the caller unlocks w.mu.
func (db *DB) logWriter(ctx context.Context) (*logWriter, error) {
	db.writerOnce.Do(func() { db.writer = &logWriter{} })
	w := db.writer
	w.mu.Lock()
	if w.conn == nil {
		conn, err := db.Conn(ctx)
		if err != nil {
			w.mu.Unlock()
			return nil, err
		}
		w.conn = conn
	}
	return w, nil
}

// append writes msgs in one IMMEDIATE transaction on the writer's
// connection; on error the connection is dropped, to be opened afresh.
func (w *logWriter) append(ctx context.Context, msgs []*store.LoggedMessage) (err error) {
	defer func() {
		if err != nil {
			w.reset()
		}
	}()
	if _, err := w.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			w.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	args := make([]any, 0, 11*min(len(msgs), appendChunk))
	for rest := msgs; len(rest) > 0; {
		n := min(len(rest), appendChunk)
		st := w.stmts[n]
		if st == nil {
			if st, err = w.conn.PrepareContext(ctx, sqlAppend[n]); err != nil {
				return err
			}
			w.stmts[n] = st
		}
		args = args[:0]
		for _, m := range rest[:n] {
			args = appendArgs(args, m)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
		rest = rest[n:]
	}
	if _, err := w.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return err
	}
	committed = true
	return nil
}

// reset closes the writer's statements and connection (after an error).
func (w *logWriter) reset() {
	for i, st := range w.stmts {
		if st != nil {
			st.Close()
			w.stmts[i] = nil
		}
	}
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

// closeWriter releases the writer's connection (DB.Close).
func (db *DB) closeWriter() {
	if w := db.writer; w != nil {
		w.mu.Lock()
		w.reset()
		w.mu.Unlock()
	}
}

func appendArgs(args []any, m *store.LoggedMessage) []any {
	return append(args, m.AppID, m.DedupKey, ms(m.ReceivedAt), m.FromUser, m.ToUser, m.MsgType, m.Event, m.MsgID,
		m.CreateTime, nonNil(m.Request), nonNil(m.Reply))
}

// Messages implements store.MessageLog: the rows of q.AppID ("" for
// every app) received at or after q.Since, newest (received_at, then id)
// first, at most q.Limit (0 means 100).
func (db *DB) Messages(ctx context.Context, q store.MessageQuery) ([]*store.LoggedMessage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	since := int64(math.MinInt64)
	if !q.Since.IsZero() {
		since = q.Since.UnixMilli()
	}
	const cols = `SELECT app_id, dedup_key, from_user, to_user, msg_type, event, msg_id, create_time, received_at, request, reply
		FROM wxkit_message_log WHERE received_at >= ?`
	var rows *sql.Rows
	var err error
	if q.AppID == "" {
		rows, err = db.QueryContext(ctx, cols+` ORDER BY received_at DESC, id DESC LIMIT ?`, since, limit)
	} else {
		rows, err = db.QueryContext(ctx, cols+` AND app_id = ? ORDER BY received_at DESC, id DESC LIMIT ?`, since, q.AppID, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: messages: %w", err)
	}
	defer rows.Close()
	var out []*store.LoggedMessage
	for rows.Next() {
		var m store.LoggedMessage
		var recv int64
		if err := rows.Scan(&m.AppID, &m.DedupKey, &m.FromUser, &m.ToUser, &m.MsgType, &m.Event, &m.MsgID, &m.CreateTime,
			&recv, &m.Request, &m.Reply); err != nil {
			return nil, fmt.Errorf("sqlite: messages: %w", err)
		}
		m.ReceivedAt = fromMS(recv)
		if len(m.Request) == 0 {
			m.Request = nil
		}
		if len(m.Reply) == 0 {
			m.Reply = nil
		}
		out = append(out, &m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: messages: %w", err)
	}
	return out, nil
}

// CountMessages implements store.MessageLog: the number of rows of appID
// ("" for every app).
func (db *DB) CountMessages(ctx context.Context, appID string) (int, error) {
	var n int
	var err error
	if appID == "" {
		err = db.QueryRowContext(ctx, `SELECT count(*) FROM wxkit_message_log`).Scan(&n)
	} else {
		err = db.QueryRowContext(ctx, `SELECT count(*) FROM wxkit_message_log WHERE app_id = ?`, appID).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: count messages: %w", err)
	}
	return n, nil
}

// PruneMessages implements store.MessageLog: one DELETE of at most limit
// rows received before before, oldest first (on the received_at index). It
// returns how many it deleted; limit <= 0 deletes nothing.
func (db *DB) PruneMessages(ctx context.Context, before time.Time, limit int) (int64, error) {
	if limit <= 0 {
		return 0, nil
	}
	res, err := db.ExecContext(ctx, `DELETE FROM wxkit_message_log WHERE id IN (
		SELECT id FROM wxkit_message_log WHERE received_at < ? ORDER BY received_at, id LIMIT ?)`,
		before.UnixMilli(), limit)
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune messages: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune messages: %w", err)
	}
	return n, nil
}

// prepared returns the statement of query, prepared once per DB (and by
// database/sql once per connection that runs it).
func (db *DB) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	if st, ok := db.stmts[query]; ok {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if db.stmts == nil {
		db.stmts = make(map[string]*sql.Stmt)
	}
	db.stmts[query] = st
	return st, nil
}

// fromMS is the time of Unix ms v, the zero time for 0 (see ms).
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}
