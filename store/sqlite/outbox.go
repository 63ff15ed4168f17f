package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wxkit/wxkit/store"
)

// jobCols are the columns scanJob reads, in its order.
const jobCols = `id, kind, key, payload, attempts, run_at, not_after, last_error, created_at`

// EnqueueJob implements store.Outbox: in one IMMEDIATE transaction it
// inserts j into wxkit_outbox (Created defaults to RunAt) and sets j.ID, or,
// when a job of j.Kind and j.Key exists (live or dead), leaves that job as
// it is and sets j.ID to its id. Kind and Key are required.
func (db *DB) EnqueueJob(ctx context.Context, j *store.Job) error {
	if j == nil || j.Kind == "" || j.Key == "" {
		return errors.New("sqlite: enqueue job: kind and key are required")
	}
	if j.Created.IsZero() {
		j.Created = j.RunAt
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: enqueue job: %w", err)
	}
	defer tx.Rollback()
	var id int64
	err = tx.QueryRowContext(ctx,
		`INSERT INTO wxkit_outbox (kind, key, payload, run_at, not_after, created_at) VALUES (?, ?, ?, ?, ?, ?)
		 ON CONFLICT (kind, key) DO NOTHING RETURNING id`,
		j.Kind, j.Key, nonNil(j.Payload), ms(j.RunAt), ms(j.NotAfter), ms(j.Created)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) { // the job exists
		if err := tx.QueryRowContext(ctx, `SELECT id FROM wxkit_outbox WHERE kind = ? AND key = ?`,
			j.Kind, j.Key).Scan(&id); err != nil {
			return fmt.Errorf("sqlite: enqueue job: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("sqlite: enqueue job: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: enqueue job: %w", err)
	}
	j.ID = id
	return nil
}

// ClaimJobs implements store.Outbox: in one IMMEDIATE transaction (so that
// no other process claims the same jobs) it selects up to limit live jobs
// of kind with RunAt <= now, oldest RunAt first, gives each Attempts+1 and
// RunAt now+lease, and returns them as updated, in that order. limit <= 0
// claims nothing.
func (db *DB) ClaimJobs(ctx context.Context, kind string, now time.Time, lease time.Duration, limit int) ([]*store.Job, error) {
	if limit <= 0 {
		return nil, nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim jobs: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx,
		`SELECT id FROM wxkit_outbox WHERE kind = ? AND dead = 0 AND run_at <= ? ORDER BY run_at, id LIMIT ?`,
		kind, now.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim jobs: %w", err)
	}
	var ids []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: claim jobs: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: claim jobs: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	args := append([]any{now.Add(lease).UnixMilli()}, ids...)
	rows, err = tx.QueryContext(ctx,
		`UPDATE wxkit_outbox SET attempts = attempts + 1, run_at = ?
		 WHERE id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) RETURNING `+jobCols, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim jobs: %w", err)
	}
	byID := make(map[int64]*store.Job, len(ids))
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: claim jobs: %w", err)
		}
		byID[j.ID] = j
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: claim jobs: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: claim jobs: %w", err)
	}
	out := make([]*store.Job, 0, len(ids))
	for _, id := range ids {
		if j, ok := byID[id.(int64)]; ok {
			out = append(out, j)
		}
	}
	return out, nil
}

// CompleteJob implements store.Outbox: it deletes the job; an unknown id is
// not an error.
func (db *DB) CompleteJob(ctx context.Context, id int64) error {
	if _, err := db.ExecContext(ctx, `DELETE FROM wxkit_outbox WHERE id = ?`, id); err != nil {
		return fmt.Errorf("sqlite: complete job %d: %w", id, err)
	}
	return nil
}

// RetryJob implements store.Outbox: the job comes due again at runAt with
// lastError. It is marked dead (kept, never claimed again) when dead is
// true or when runAt is after the job's NotAfter. An unknown id gives an
// error wrapping store.ErrNotFound.
func (db *DB) RetryJob(ctx context.Context, id int64, runAt time.Time, lastError string, dead bool) error {
	d := 0
	if dead {
		d = 1
	}
	at := ms(runAt)
	res, err := db.ExecContext(ctx,
		`UPDATE wxkit_outbox SET run_at = ?, last_error = ?,
			dead = CASE WHEN ? = 1 OR (not_after <> 0 AND ? > not_after) THEN 1 ELSE 0 END
		 WHERE id = ?`, at, lastError, d, at, id)
	if err != nil {
		return fmt.Errorf("sqlite: retry job %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: retry job %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: retry job %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// DeadJobs implements store.Outbox: up to limit dead jobs of kind ("" for
// every kind), newest (highest id) first. limit <= 0 returns none.
func (db *DB) DeadJobs(ctx context.Context, kind string, limit int) ([]*store.Job, error) {
	if limit <= 0 {
		return nil, nil
	}
	var rows *sql.Rows
	var err error
	if kind == "" {
		rows, err = db.QueryContext(ctx, `SELECT `+jobCols+` FROM wxkit_outbox WHERE dead = 1 ORDER BY id DESC LIMIT ?`, limit)
	} else {
		rows, err = db.QueryContext(ctx, `SELECT `+jobCols+` FROM wxkit_outbox WHERE dead = 1 AND kind = ? ORDER BY id DESC LIMIT ?`,
			kind, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: dead jobs: %w", err)
	}
	defer rows.Close()
	var out []*store.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: dead jobs: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: dead jobs: %w", err)
	}
	return out, nil
}

// scanJob reads the columns of jobCols from the current row of rows.
func scanJob(rows *sql.Rows) (*store.Job, error) {
	var j store.Job
	var runAt, notAfter, created int64
	if err := rows.Scan(&j.ID, &j.Kind, &j.Key, &j.Payload, &j.Attempts, &runAt, &notAfter, &j.LastError, &created); err != nil {
		return nil, err
	}
	if len(j.Payload) == 0 {
		j.Payload = nil
	}
	j.RunAt, j.NotAfter, j.Created = fromMS(runAt), fromMS(notAfter), fromMS(created)
	return &j, nil
}
