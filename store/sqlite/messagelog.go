package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
)

// MessageLog is the gateway's log of accepted pushes, one row per message
// (table wxkit_message_log, UNIQUE(app_id, dedup_key)), which doubles as a
// durable, cross-process webhook.DedupStore.
//
// Writes use group commit: one writer goroutine owns a dedicated connection
// and runs the operations of all concurrent requests that are queued at the
// time in one IMMEDIATE transaction; each caller waits until its batch has
// committed. Under load that turns N small transactions into one, which is
// what makes a durable log affordable per message.
//
// A MessageLog is safe for concurrent use. Close flushes the queue and stops
// the writer; operations after Close fail with ErrClosed.
type MessageLog struct {
	db       *DB
	conn     *sql.Conn
	now      func() time.Time
	maxBatch int

	claimDelay time.Duration // Deferred: when an unrecorded delivery writes its pending row

	ops  chan *logOp
	quit chan struct{}
	done chan struct{}

	closeOnce sync.Once
	closed    chan struct{}

	stmts logStmts
	args  []driver.NamedValue // writer's scratch
	dest  [3]driver.Value     // writer's scratch for selectClaim
	reads []*logOp            // writer's scratch for read-only ops

	batches, opsCount atomic.Int64
}

// Stats reports the number of transactions the writer has committed (or
// tried to) and the operations they held; ops/batches is the mean batch
// size.
func (l *MessageLog) Stats() (batches, ops int64) { return l.batches.Load(), l.opsCount.Load() }

// LoggedMessage is one row of the message log.
type LoggedMessage struct {
	AppID      string
	DedupKey   string
	Done       bool // false while the first delivery is being processed
	FromUser   string
	ToUser     string
	MsgType    string
	Event      string
	MsgID      int64
	CreateTime int64     // Unix seconds, from the message
	ReceivedAt time.Time // when the row was claimed or recorded (ms precision)
	Request    []byte    // plaintext message XML
	Reply      []byte    // plaintext reply XML; empty for "success"
}

// ErrClosed is returned by operations on a closed MessageLog.
var ErrClosed = errors.New("sqlite: message log closed")

// DefaultMaxBatch is the most operations one group-commit transaction holds.
const DefaultMaxBatch = 256

const (
	statePending = 1
	stateDone    = 2
)

const (
	sqlClaimInsert = `INSERT INTO wxkit_message_log (app_id, dedup_key, state, lease_until, received_at)
		VALUES (?, ?, 1, ?, ?) ON CONFLICT (app_id, dedup_key) DO NOTHING`
	sqlClaimSelect   = `SELECT state, lease_until, reply FROM wxkit_message_log WHERE app_id = ? AND dedup_key = ?`
	sqlClaimTakeover = `UPDATE wxkit_message_log SET lease_until = ?, received_at = ? WHERE app_id = ? AND dedup_key = ? AND state = 1`
	sqlArchive       = `UPDATE wxkit_message_log SET dedup_key = dedup_key || '#' || id WHERE app_id = ? AND dedup_key = ?`
	sqlRecordUpdate  = `UPDATE wxkit_message_log SET state = 2, lease_until = ?, received_at = ?, from_user = ?, to_user = ?,
		msg_type = ?, event = ?, msg_id = ?, create_time = ?, request = ?, reply = ?
		WHERE app_id = ? AND dedup_key = ? AND state = 1`
	sqlRecordInsert = `INSERT INTO wxkit_message_log (lease_until, received_at, from_user, to_user, msg_type, event, msg_id, create_time,
		request, reply, app_id, dedup_key, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 2)
		ON CONFLICT (app_id, dedup_key) DO NOTHING`
	// sqlRecordOnce inserts the done row, or completes a pending one
	// (whoever claimed it); a done row is left alone.
	sqlRecordOnce = `INSERT INTO wxkit_message_log (lease_until, received_at, from_user, to_user, msg_type, event, msg_id, create_time,
		request, reply, app_id, dedup_key, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 2)
		ON CONFLICT (app_id, dedup_key) DO UPDATE SET state = 2, lease_until = excluded.lease_until, received_at = excluded.received_at,
		from_user = excluded.from_user, to_user = excluded.to_user, msg_type = excluded.msg_type, event = excluded.event,
		msg_id = excluded.msg_id, create_time = excluded.create_time, request = excluded.request, reply = excluded.reply
		WHERE state = 1`
	sqlRelease  = `DELETE FROM wxkit_message_log WHERE app_id = ? AND dedup_key = ? AND state = 1`
	sqlComplete = `INSERT INTO wxkit_message_log (app_id, dedup_key, state, received_at, lease_until, reply) VALUES (?, ?, 2, ?, ?, ?)
		ON CONFLICT (app_id, dedup_key) DO UPDATE SET state = 2, lease_until = excluded.lease_until, reply = excluded.reply WHERE state = 1`
)

// logStmts are the writer's statements, prepared on its driver connection
// and used only inside l.conn.Raw: the writer owns the connection, and
// going around database/sql spares its per-call wrapping (argument
// conversion, Rows, locks) on the hot path.
type logStmts struct {
	begin, beginRead, commit                                                                        driver.Stmt
	claimInsert, claimSelect, claimTakeover, archive, recordUpdate, recordInsert, release, complete driver.Stmt
	recordOnce                                                                                      driver.Stmt
}

func (s *logStmts) all() []driver.Stmt {
	return []driver.Stmt{s.begin, s.beginRead, s.commit, s.claimInsert, s.claimSelect, s.claimTakeover, s.archive,
		s.recordUpdate, s.recordInsert, s.release, s.complete, s.recordOnce}
}

type opKind uint8

const (
	opClaim opKind = iota + 1
	opRecord
	opRelease
	opComplete
	opCheck      // read-only Claim: no row is written
	opRecordOnce // insert or complete; a done row answers with its reply
)

// logOp is one queued operation and its result.
type logOp struct {
	kind    opKind
	appID   string
	key     string
	lease   time.Duration
	m       *message.Message
	reply   []byte
	claimed bool // opRecord: a pending row was claimed for the key

	// results
	claim  webhook.Claim // opRecordOnce: Done with the recorded reply when not stored
	stored bool
	err    error
	ready  chan struct{}
}

var opPool = sync.Pool{New: func() any { return &logOp{ready: make(chan struct{}, 1)} }}

// MessageLogOption configures NewMessageLog.
type MessageLogOption func(*MessageLog)

// WithLogClock replaces time.Now (for tests of lease expiry).
func WithLogClock(now func() time.Time) MessageLogOption {
	return func(l *MessageLog) { l.now = now }
}

// WithMaxBatch sets the most operations per transaction (DefaultMaxBatch).
func WithMaxBatch(n int) MessageLogOption {
	return func(l *MessageLog) {
		if n > 0 {
			l.maxBatch = n
		}
	}
}

// NewMessageLog applies the missing migrations (see DB.Migrate), takes a
// dedicated connection of db for the writer and starts it. Close releases
// both.
func NewMessageLog(ctx context.Context, db *DB, opts ...MessageLogOption) (*MessageLog, error) {
	if db == nil {
		return nil, errors.New("sqlite: NewMessageLog: nil DB")
	}
	if err := db.migrateNow(ctx); err != nil {
		return nil, err
	}
	l := &MessageLog{
		db:       db,
		now:      time.Now,
		maxBatch: DefaultMaxBatch,

		claimDelay: DefaultClaimDelay,
		ops:        make(chan *logOp, 1024),
		quit:       make(chan struct{}),
		done:       make(chan struct{}),
		closed:     make(chan struct{}),
	}
	for _, o := range opts {
		o(l)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: message log: %w", err)
	}
	// The writer commits often: let the WAL grow to about 40 MB between
	// checkpoints (instead of 4 MB), so that a page rewritten by many small
	// transactions is copied back to the database file once, not each time.
	if _, err := conn.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 10000"); err != nil {
		conn.Close()
		return nil, fmt.Errorf("sqlite: message log: %w", err)
	}
	type prep struct {
		dst *driver.Stmt
		q   string
	}
	preps := []prep{
		{&l.stmts.begin, "BEGIN IMMEDIATE"}, {&l.stmts.beginRead, "BEGIN"}, {&l.stmts.commit, "COMMIT"},
		{&l.stmts.claimInsert, sqlClaimInsert}, {&l.stmts.claimSelect, sqlClaimSelect},
		{&l.stmts.claimTakeover, sqlClaimTakeover}, {&l.stmts.archive, sqlArchive}, {&l.stmts.recordUpdate, sqlRecordUpdate},
		{&l.stmts.recordInsert, sqlRecordInsert}, {&l.stmts.release, sqlRelease}, {&l.stmts.complete, sqlComplete},
		{&l.stmts.recordOnce, sqlRecordOnce},
	}
	err = conn.Raw(func(dc any) error {
		pc, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("driver connection %T cannot prepare with a context", dc)
		}
		for _, p := range preps {
			st, err := pc.PrepareContext(ctx, p.q)
			if err != nil {
				return fmt.Errorf("prepare: %w", err)
			}
			_, canExec := st.(driver.StmtExecContext)
			_, canQuery := st.(driver.StmtQueryContext)
			if !canExec || !canQuery {
				st.Close()
				return fmt.Errorf("driver statement %T lacks ExecContext or QueryContext", st)
			}
			*p.dst = st
		}
		return nil
	})
	if err != nil {
		l.closeStmts(conn)
		return nil, fmt.Errorf("sqlite: message log: %w", err)
	}
	l.conn = conn
	go l.writer()
	return l, nil
}

// Close stops accepting operations, commits what is queued and releases the
// writer's connection. It does not close the DB.
func (l *MessageLog) Close() error {
	l.closeOnce.Do(func() {
		close(l.closed)
		close(l.quit)
		<-l.done
	})
	return nil
}

// submit queues op and waits for its batch to commit. The wait does not
// end with ctx: once queued, an operation is carried out, and its caller
// must learn the outcome (a record that became durable must be answered).
func (l *MessageLog) submit(ctx context.Context, op *logOp) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-l.closed:
		return ErrClosed
	default:
	}
	select {
	case l.ops <- op: // the queue has room (almost always): no need for ctx.Done
	default:
		select {
		case l.ops <- op:
		case <-l.closed:
			return ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	<-op.ready
	return op.err
}

// writer is the group-commit loop.
func (l *MessageLog) writer() {
	defer close(l.done)
	defer func() {
		l.closeStmts(l.conn)
	}()
	batch := make([]*logOp, 0, l.maxBatch)
	for {
		var op *logOp
		select {
		case op = <-l.ops:
		case <-l.quit:
			// Drain what was queued before Close.
			batch = batch[:0]
			for {
				select {
				case op := <-l.ops:
					batch = append(batch, op)
					if len(batch) == l.maxBatch {
						l.commit(batch)
						batch = batch[:0]
					}
				default:
					if len(batch) > 0 {
						l.commit(batch)
					}
					return
				}
			}
		}
		batch = append(batch[:0], op)
		// Collect what the other requests queue meanwhile. Yielding lets
		// the handlers that are ready to run (on a busy single core, most
		// of them) reach the queue before the transaction starts, so one
		// commit serves them all. (Waiting longer for requests still on the
		// network costs more in timer and wake-up overhead than the commits
		// it saves.)
		for yields := 0; len(batch) < l.maxBatch; {
			select {
			case op := <-l.ops:
				batch = append(batch, op)
				continue
			default:
			}
			if yields == 2 {
				break
			}
			yields++
			runtime.Gosched()
		}
		l.commit(batch)
		clear(batch)
		batch = batch[:0]
	}
}

// closeStmts closes the writer's statements and its connection.
func (l *MessageLog) closeStmts(conn *sql.Conn) {
	conn.Raw(func(any) error {
		for _, st := range l.stmts.all() {
			if st != nil {
				st.Close()
			}
		}
		return nil
	})
	conn.Close()
}

// exec runs st with args on the writer's connection (inside l.conn.Raw).
func (l *MessageLog) exec(ctx context.Context, st driver.Stmt, args ...any) (driver.Result, error) {
	nv := l.args[:0]
	for i, a := range args {
		nv = append(nv, driver.NamedValue{Ordinal: i + 1, Value: a})
	}
	l.args = nv
	res, err := st.(driver.StmtExecContext).ExecContext(ctx, nv)
	clear(nv)
	return res, err
}

// selectClaim reads the state, lease and reply of (appID, key) on the
// writer's connection (inside l.conn.Raw); sql.ErrNoRows when there is no
// row.
func (l *MessageLog) selectClaim(ctx context.Context, appID, key string) (state int, until int64, reply []byte, err error) {
	nv := append(l.args[:0], driver.NamedValue{Ordinal: 1, Value: appID}, driver.NamedValue{Ordinal: 2, Value: key})
	l.args = nv
	rows, err := l.stmts.claimSelect.(driver.StmtQueryContext).QueryContext(ctx, nv)
	clear(nv)
	if err != nil {
		return 0, 0, nil, err
	}
	defer rows.Close()
	dest := l.dest[:]
	defer clear(dest)
	if err := rows.Next(dest); err != nil {
		if err == io.EOF {
			err = sql.ErrNoRows
		}
		return 0, 0, nil, err
	}
	st, ok1 := dest[0].(int64)
	until, ok2 := dest[1].(int64)
	switch v := dest[2].(type) {
	case []byte:
		reply = v // the driver's own copy
	case string:
		reply = []byte(v)
	case nil:
	default:
		ok2 = false
	}
	if !ok1 || !ok2 {
		return 0, 0, nil, fmt.Errorf("unexpected column types %T, %T, %T", dest[0], dest[1], dest[2])
	}
	return int(st), until, reply, nil
}

// rollback ends the open transaction after an error.
func (l *MessageLog) rollback(ctx context.Context, dc any) {
	if ex, ok := dc.(driver.ExecerContext); ok {
		ex.ExecContext(ctx, "ROLLBACK", nil)
	}
}

// commit runs batch in one transaction and wakes every caller. If the
// transaction fails, every operation of the batch fails with its error.
//
// Read-only Claims (Deferred) are answered first, in a read transaction of
// their own, and do not hold up a commit: only operations that write make
// the batch a write transaction.
func (l *MessageLog) commit(batch []*logOp) {
	ctx := context.Background()
	writes := batch[:0]
	var reads []*logOp
	for i, op := range batch {
		if op.kind == opCheck {
			if reads == nil {
				reads = l.reads[:0]
			}
			reads = append(reads, op)
			continue
		}
		batch[len(writes)] = batch[i] // in place: len(writes) <= i
		writes = batch[:len(writes)+1]
	}
	if len(reads) > 0 {
		l.reads = reads
		err := l.runChecks(ctx, reads)
		for _, op := range reads {
			if err != nil {
				op.err = err
			}
			op.ready <- struct{}{}
		}
		clear(reads)
	}
	if len(writes) == 0 {
		return
	}
	batch = writes
	l.batches.Add(1)
	l.opsN(len(batch))
	err := l.runBatch(ctx, batch)
	for _, op := range batch {
		if err != nil {
			op.err = err
		}
		op.ready <- struct{}{}
	}
}

// runChecks answers read-only Claims in one deferred (read) transaction.
func (l *MessageLog) runChecks(ctx context.Context, ops []*logOp) error {
	return l.conn.Raw(func(dc any) error { return l.runChecksRaw(ctx, dc, ops) })
}

func (l *MessageLog) runChecksRaw(ctx context.Context, dc any, ops []*logOp) (err error) {
	if _, err := l.exec(ctx, l.stmts.beginRead); err != nil {
		return fmt.Errorf("sqlite: message log: begin: %w", err)
	}
	defer func() {
		if err != nil {
			l.rollback(ctx, dc)
		}
	}()
	nowMS := l.now().UnixMilli()
	for _, op := range ops {
		op.err = nil
		switch state, until, reply, err := l.selectClaim(ctx, op.appID, op.key); {
		case errors.Is(err, sql.ErrNoRows):
			op.claim = webhook.Claim{State: webhook.ClaimOwned}
		case err != nil:
			return fmt.Errorf("sqlite: message log: check: %w", err)
		default:
			op.claim = checkState(state, until, reply, nowMS)
		}
	}
	if _, err := l.exec(ctx, l.stmts.commit); err != nil {
		return fmt.Errorf("sqlite: message log: commit: %w", err)
	}
	return nil
}

// checkState is the answer of a read-only Claim for a row.
func checkState(state int, until int64, reply []byte, nowMS int64) webhook.Claim {
	switch {
	case state == stateDone && (until == 0 || until > nowMS):
		return webhook.Claim{State: webhook.ClaimDone, Reply: reply}
	case state != stateDone && until > nowMS:
		return webhook.Claim{State: webhook.ClaimPending}
	}
	// No live row: an expired record (recordOnce archives it) or an
	// abandoned pending row (recordOnce completes it).
	return webhook.Claim{State: webhook.ClaimOwned}
}

func (l *MessageLog) runBatch(ctx context.Context, batch []*logOp) error {
	return l.conn.Raw(func(dc any) error { return l.runBatchRaw(ctx, dc, batch) })
}

func (l *MessageLog) runBatchRaw(ctx context.Context, dc any, batch []*logOp) (err error) {
	// The writer owns its connection, so it drives the transaction itself
	// and uses the statements prepared on the connection directly
	// (database/sql's Tx.Stmt would prepare them again in every
	// transaction).
	if _, err := l.exec(ctx, l.stmts.begin); err != nil {
		return fmt.Errorf("sqlite: message log: begin: %w", err)
	}
	defer func() {
		if err != nil {
			l.rollback(ctx, dc)
		}
	}()
	now := l.now()
	nowMS := now.UnixMilli()
	st := &l.stmts
	for _, op := range batch {
		op.err = nil
		switch op.kind {
		case opClaim:
			lease := nowMS + op.lease.Milliseconds()
			res, err := l.exec(ctx, st.claimInsert, op.appID, op.key, lease, nowMS)
			if err != nil {
				return fmt.Errorf("sqlite: message log: claim: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				op.claim = webhook.Claim{State: webhook.ClaimOwned}
				continue
			}
			var state int
			var until int64
			var reply []byte
			if state, until, reply, err = l.selectClaim(ctx, op.appID, op.key); err != nil {
				return fmt.Errorf("sqlite: message log: claim: %w", err)
			}
			switch {
			case state == stateDone && (until == 0 || until > nowMS):
				op.claim = webhook.Claim{State: webhook.ClaimDone, Reply: reply}
			case state == stateDone:
				// The dedup record has expired: the key is free again. Keep
				// the old row in the log under an archived key.
				if _, err := l.exec(ctx, st.archive, op.appID, op.key); err != nil {
					return fmt.Errorf("sqlite: message log: claim: %w", err)
				}
				if _, err := l.exec(ctx, st.claimInsert, op.appID, op.key, lease, nowMS); err != nil {
					return fmt.Errorf("sqlite: message log: claim: %w", err)
				}
				op.claim = webhook.Claim{State: webhook.ClaimOwned}
			case until > nowMS:
				op.claim = webhook.Claim{State: webhook.ClaimPending}
			default: // the holder's lease has expired: take over
				if _, err := l.exec(ctx, st.claimTakeover, lease, nowMS, op.appID, op.key); err != nil {
					return fmt.Errorf("sqlite: message log: claim: %w", err)
				}
				op.claim = webhook.Claim{State: webhook.ClaimOwned}
			}
		case opRecord:
			m := op.m
			until := int64(0)
			if op.lease > 0 {
				until = nowMS + op.lease.Milliseconds()
			}
			args := []any{until, nowMS, m.FromUserName, m.ToUserName, string(m.MsgType), string(m.Event), m.MsgID, m.CreateTime,
				m.Raw, nonNil(op.reply), op.appID, op.key}
			if op.claimed {
				res, err := l.exec(ctx, st.recordUpdate, args...)
				if err != nil {
					return fmt.Errorf("sqlite: message log: record: %w", err)
				}
				if n, _ := res.RowsAffected(); n == 1 {
					op.stored = true
					continue
				}
			}
			res, err := l.exec(ctx, st.recordInsert, args...)
			if err != nil {
				return fmt.Errorf("sqlite: message log: record: %w", err)
			}
			n, _ := res.RowsAffected()
			op.stored = n == 1
		case opRecordOnce:
			m := op.m
			until := int64(0)
			if op.lease > 0 {
				until = nowMS + op.lease.Milliseconds()
			}
			res, err := l.exec(ctx, st.recordOnce, until, nowMS, m.FromUserName, m.ToUserName, string(m.MsgType), string(m.Event),
				m.MsgID, m.CreateTime, m.Raw, nonNil(op.reply), op.appID, op.key)
			if err != nil {
				return fmt.Errorf("sqlite: message log: record: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				op.stored = true
				continue
			}
			// A done row holds the key: answer its reply, unless it has
			// expired, then archive it and store this delivery.
			_, doneUntil, reply, err := l.selectClaim(ctx, op.appID, op.key)
			if err != nil {
				return fmt.Errorf("sqlite: message log: record: %w", err)
			}
			if doneUntil == 0 || doneUntil > nowMS {
				op.claim = webhook.Claim{State: webhook.ClaimDone, Reply: reply}
				continue
			}
			if _, err := l.exec(ctx, st.archive, op.appID, op.key); err != nil {
				return fmt.Errorf("sqlite: message log: record: %w", err)
			}
			if _, err := l.exec(ctx, st.recordOnce, until, nowMS, m.FromUserName, m.ToUserName, string(m.MsgType), string(m.Event),
				m.MsgID, m.CreateTime, m.Raw, nonNil(op.reply), op.appID, op.key); err != nil {
				return fmt.Errorf("sqlite: message log: record: %w", err)
			}
			op.stored = true
		case opRelease:
			if _, err := l.exec(ctx, st.release, op.appID, op.key); err != nil {
				return fmt.Errorf("sqlite: message log: release: %w", err)
			}
		case opComplete:
			until := int64(0)
			if op.lease > 0 {
				until = nowMS + op.lease.Milliseconds()
			}
			if _, err := l.exec(ctx, st.complete, op.appID, op.key, nowMS, until, nonNil(op.reply)); err != nil {
				return fmt.Errorf("sqlite: message log: complete: %w", err)
			}
		}
	}
	if _, err := l.exec(ctx, l.stmts.commit); err != nil {
		return fmt.Errorf("sqlite: message log: commit: %w", err)
	}
	return nil
}

func (l *MessageLog) opsN(n int) { l.opsCount.Add(int64(n)) }

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func (l *MessageLog) do(ctx context.Context, kind opKind, appID, key string, lease time.Duration, m *message.Message, reply []byte, claimed bool) (webhook.Claim, bool, error) {
	op := opPool.Get().(*logOp)
	op.kind, op.appID, op.key, op.lease, op.m, op.reply, op.claimed = kind, appID, key, lease, m, reply, claimed
	err := l.submit(ctx, op)
	claim, stored := op.claim, op.stored
	if err == nil || !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrClosed) {
		// The op went through the writer: it can be reused.
		*op = logOp{ready: op.ready}
		opPool.Put(op)
	}
	return claim, stored, err
}

// Record stores m (its plaintext XML, m.Raw) with reply under (appID, key):
// when claimed it completes the row taken by Claim, otherwise (or when that
// row is gone) it inserts one. It reports whether a row was written: false
// when the key was already recorded (a duplicate is never stored twice). It
// returns after the row has committed. The row answers Claim as done for
// ttl (forever when 0); after that the key may be claimed again and the old
// row stays in the log under an archived key ("key#id").
func (l *MessageLog) Record(ctx context.Context, appID, key string, m *message.Message, reply []byte, claimed bool, ttl time.Duration) (stored bool, err error) {
	_, stored, err = l.do(ctx, opRecord, appID, key, ttl, m, reply, claimed)
	return stored, err
}

// Claim takes (appID, key) for processing: it inserts a pending row with a
// lease of ttl, or reports the row that exists (done with its reply, or
// pending while its lease runs; an expired lease is taken over). Exactly one
// of concurrent Claims, in any process sharing the file, gets ClaimOwned.
func (l *MessageLog) Claim(ctx context.Context, appID, key string, ttl time.Duration) (webhook.Claim, error) {
	c, _, err := l.do(ctx, opClaim, appID, key, ttl, nil, nil, false)
	return c, err
}

// Release deletes a pending row of (appID, key); done rows stay.
func (l *MessageLog) Release(ctx context.Context, appID, key string) error {
	_, _, err := l.do(ctx, opRelease, appID, key, 0, nil, nil, false)
	return err
}

// Get returns the row of (appID, key), or sql.ErrNoRows.
func (l *MessageLog) Get(ctx context.Context, appID, key string) (*LoggedMessage, error) {
	row := l.db.QueryRowContext(ctx, `SELECT app_id, dedup_key, state, from_user, to_user, msg_type, event, msg_id,
		create_time, received_at, request, reply FROM wxkit_message_log WHERE app_id = ? AND dedup_key = ?`, appID, key)
	return scanLogged(row)
}

// List returns the last limit done rows of appID ("" for every app), newest
// first.
func (l *MessageLog) List(ctx context.Context, appID string, limit int) ([]*LoggedMessage, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT app_id, dedup_key, state, from_user, to_user, msg_type, event, msg_id,
		create_time, received_at, request, reply FROM wxkit_message_log
		WHERE state = 2 AND (? = '' OR app_id = ?) ORDER BY id DESC LIMIT ?`, appID, appID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: message log: %w", err)
	}
	defer rows.Close()
	var out []*LoggedMessage
	for rows.Next() {
		m, err := scanLogged(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Count returns the number of rows of appID ("" for every app), pending ones
// included.
func (l *MessageLog) Count(ctx context.Context, appID string) (int, error) {
	var n int
	err := l.db.QueryRowContext(ctx, `SELECT count(*) FROM wxkit_message_log WHERE ? = '' OR app_id = ?`, appID, appID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: message log: %w", err)
	}
	return n, nil
}

type scanner interface{ Scan(...any) error }

func scanLogged(s scanner) (*LoggedMessage, error) {
	var m LoggedMessage
	var state int
	var recv int64
	err := s.Scan(&m.AppID, &m.DedupKey, &state, &m.FromUser, &m.ToUser, &m.MsgType, &m.Event, &m.MsgID,
		&m.CreateTime, &recv, &m.Request, &m.Reply)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("sqlite: message log: %w", err)
	}
	m.Done = state == stateDone
	m.ReceivedAt = time.UnixMilli(recv)
	return &m, nil
}

// App returns the view of the log for one app that is both the
// webhook.DedupStore and the webhook.Recorder of the app's webhook.Server:
// Claim inserts a pending row and Record completes it, so Complete has
// nothing left to do.
//
// ttl is how long a recorded message answers Claim as done: the webhook
// Server's DedupTTL (at least its timestamp window; 0 means forever).
func (l *MessageLog) App(appID string, ttl time.Duration) *AppLog {
	return &AppLog{log: l, appID: appID, claims: true, ttl: ttl}
}

// Recorder returns the view of the log for one app as a webhook.Recorder
// only, for a Server whose DedupStore is something else (memory, Redis):
// Record inserts the row, unless the key is already recorded.
func (l *MessageLog) Recorder(appID string) *AppLog { return &AppLog{log: l, appID: appID} }

// DefaultClaimDelay is how long a delivery handled through MessageLog.Deferred
// runs before its pending row is written (see WithClaimDelay).
const DefaultClaimDelay = time.Second

// WithClaimDelay sets the delay after which a delivery handled through
// MessageLog.Deferred that has not been recorded yet writes its pending row
// (DefaultClaimDelay).
func WithClaimDelay(d time.Duration) MessageLogOption {
	return func(l *MessageLog) {
		if d > 0 {
			l.claimDelay = d
		}
	}
}

// Deferred returns the view of the log for one app that is the
// webhook.Recorder (a webhook.OnceRecorder) and the shared half of the
// gateway's two-tier dedup, at one write per message instead of two:
//
//   - Claim only reads: it reports the row of the key (done with its reply,
//     or pending while a lease runs) and answers ClaimOwned when there is
//     none, without writing anything. It is therefore not a DedupStore on
//     its own (concurrent Claims of a fresh key all get ClaimOwned): put a
//     process-local store in front of it (gateway's tiered dedup with a
//     webhook.MemoryDedup) so that one process runs the Handler once.
//   - RecordOnce writes the whole row in one statement: it inserts it, or
//     completes a pending row; when a done row exists (another process
//     recorded the key first) nothing is written and that row's reply is
//     returned, which the webhook Server answers instead of its own.
//   - A delivery still unrecorded after the claim delay (WithClaimDelay,
//     DefaultClaimDelay; checked every quarter of it, so within 1.25 times
//     the delay) gets a pending row with the lease ttl, so that
//     a retry in another process waits for it instead of running the
//     Handler (exactly as with App).
//
// Cross-process guarantee. Every delivery of a key answers the reply of the
// first delivery whose record committed (in any process sharing the file),
// and the log holds one row per key. The Handler runs once per key, except
// when two deliveries reach different processes within the claim delay plus
// the record's commit time of each other (both read "absent"); then both
// Handlers run and the later one's reply is discarded. WeChat retries a push
// only after 5 s without an answer, and the first delivery is recorded by
// its deadline (below 5 s) or has its pending row written by 1.25 times the
// claim delay (1.25 s), so WeChat's own retries fall outside that window
// unless a commit takes more than about 3.5 s.
//
// ttl is how long a recorded message answers Claim as done (as for App).
func (l *MessageLog) Deferred(appID string, ttl time.Duration) *AppLog {
	return &AppLog{log: l, appID: appID, claims: true, deferred: true, ttl: ttl}
}

// AppLog is the message log of one app; see MessageLog.App,
// MessageLog.Deferred and MessageLog.Recorder.
type AppLog struct {
	log      *MessageLog
	appID    string
	claims   bool
	deferred bool
	ttl      time.Duration

	recorded sync.Map // keys recorded and not yet completed (App)

	// Deferred: deliveries between Claim and Complete.
	mu       sync.Mutex
	inflight map[string]inflight
	sweeping bool // a sweep goroutine runs
}

// inflight is a Deferred delivery that Claim answered ClaimOwned.
type inflight struct {
	since    time.Time     // when Claim answered
	lease    time.Duration // Claim's ttl
	claimed  bool          // the pending row has been written (or is being)
	recorded bool          // RecordOnce has stored the key (or found it done)
}

var (
	_ webhook.DedupStore   = (*AppLog)(nil)
	_ webhook.Recorder     = (*AppLog)(nil)
	_ webhook.OnceRecorder = (*AppLog)(nil)
)

// Claim implements webhook.DedupStore. In deferred mode (MessageLog.Deferred)
// it only reads; see there.
func (a *AppLog) Claim(ctx context.Context, key string, ttl time.Duration) (webhook.Claim, error) {
	if !a.deferred {
		return a.log.Claim(ctx, a.appID, key, ttl)
	}
	c, _, err := a.log.do(ctx, opCheck, a.appID, key, 0, nil, nil, false)
	if err != nil || c.State != webhook.ClaimOwned {
		return c, err
	}
	// The sweep writes the pending row if the delivery is not recorded
	// within the claim delay.
	now := time.Now()
	a.mu.Lock()
	if a.inflight == nil {
		a.inflight = make(map[string]inflight)
	}
	a.inflight[key] = inflight{since: now, lease: ttl}
	if !a.sweeping {
		a.sweeping = true
		go a.sweep()
	}
	a.mu.Unlock()
	return c, nil
}

// sweep writes the pending rows of deliveries unrecorded after the claim
// delay, checking every quarter of it; it ends when nothing is in flight or
// the log closes.
func (a *AppLog) sweep() {
	delay := a.log.claimDelay
	t := time.NewTicker(max(delay/4, time.Millisecond))
	defer t.Stop()
	type due struct {
		key   string
		lease time.Duration
	}
	var todo []due
	for {
		select {
		case <-t.C:
		case <-a.log.closed:
			a.mu.Lock()
			a.sweeping = false
			a.mu.Unlock()
			return
		}
		now := time.Now()
		a.mu.Lock()
		if len(a.inflight) == 0 {
			a.sweeping = false
			a.mu.Unlock()
			return
		}
		todo = todo[:0]
		for k, e := range a.inflight {
			if !e.claimed && !e.recorded && now.Sub(e.since) >= delay {
				e.claimed = true
				a.inflight[k] = e
				todo = append(todo, due{k, e.lease})
			}
		}
		a.mu.Unlock()
		for _, d := range todo {
			ctx, cancel := context.WithTimeout(context.Background(), d.lease)
			a.log.Claim(ctx, a.appID, d.key, d.lease)
			cancel()
		}
		clear(todo)
	}
}

// done forgets the in-flight delivery of key (Deferred), reporting whether
// RecordOnce had stored it.
func (a *AppLog) done(key string) (recorded bool) {
	a.mu.Lock()
	e, ok := a.inflight[key]
	delete(a.inflight, key)
	a.mu.Unlock()
	return ok && e.recorded
}

// Complete implements webhook.DedupStore. When Record has stored the key
// (the Server records before it completes) there is nothing left to do;
// otherwise the pending row is marked done with reply for ttl (a row is
// created if none exists). Rows are never deleted: once ttl has passed the
// key may be claimed again and the old row is archived ("key#id").
func (a *AppLog) Complete(ctx context.Context, key string, reply []byte, ttl time.Duration) error {
	if a.deferred {
		if a.done(key) {
			return nil
		}
	} else if _, ok := a.recorded.LoadAndDelete(key); ok {
		return nil
	}
	_, _, err := a.log.do(ctx, opComplete, a.appID, key, ttl, nil, reply, false)
	return err
}

// Release implements webhook.DedupStore.
func (a *AppLog) Release(ctx context.Context, key string) error {
	if a.deferred {
		a.done(key)
	} else {
		a.recorded.Delete(key)
	}
	return a.log.Release(ctx, a.appID, key)
}

// Record implements webhook.Recorder: it stores m with reply under
// m.DedupKey(). A delivery whose key is already recorded is not stored again.
func (a *AppLog) Record(ctx context.Context, m *message.Message, reply []byte) error {
	if a.deferred {
		_, _, err := a.RecordOnce(ctx, m, reply)
		return err
	}
	key := m.DedupKey()
	_, err := a.log.Record(ctx, a.appID, key, m, reply, a.claims, a.ttl)
	if err == nil && a.claims {
		a.recorded.Store(key, struct{}{})
	}
	return err
}

// RecordOnce implements webhook.OnceRecorder: it stores m with reply under
// m.DedupKey() (completing a pending row, whoever wrote it) unless a done
// row holds the key; then it writes nothing and returns that row's reply
// with dup == true. In claims mode (App, Deferred) the key counts as
// completed afterwards. Without claims (Recorder) it is Record, never dup.
func (a *AppLog) RecordOnce(ctx context.Context, m *message.Message, reply []byte) (recorded []byte, dup bool, err error) {
	if !a.deferred {
		return nil, false, a.Record(ctx, m, reply)
	}
	key := m.DedupKey()
	a.mu.Lock()
	e, ok := a.inflight[key]
	if ok {
		e.claimed = true // no pending row from now on
		a.inflight[key] = e
	}
	a.mu.Unlock()
	c, stored, err := a.log.do(ctx, opRecordOnce, a.appID, key, a.ttl, m, reply, true)
	if err != nil {
		return nil, false, err
	}
	if ok { // Claimed here: Complete has nothing left to do
		a.mu.Lock()
		if _, still := a.inflight[key]; still {
			e.recorded = true
			a.inflight[key] = e
		}
		a.mu.Unlock()
	}
	if !stored {
		return c.Reply, true, nil
	}
	return nil, false, nil
}
