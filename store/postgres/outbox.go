package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wxkit/wxkit/store"
)

// DefaultDeadJobsLimit is the number of jobs DeadJobs returns for a limit
// <= 0.
const DefaultDeadJobsLimit = 100

const jobColumns = `id, kind, key, payload, attempts, not_after, run_at, last_error, created_at`

// nullTime maps the zero time to SQL NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// EnqueueJob implements store.Outbox: INSERT … ON CONFLICT (kind, key) DO
// NOTHING RETURNING id, and when the key exists, the id of the job that
// holds it (a dead job holds its key too). Kind and Key are required. A
// zero RunAt is the DB's clock now; a zero Created is RunAt. j.ID, and
// j.RunAt and j.Created when they were zero, are set.
func (db *DB) EnqueueJob(ctx context.Context, j *store.Job) error {
	if j == nil || j.Kind == "" || j.Key == "" {
		return errors.New("postgres: enqueue job: kind and key are required")
	}
	runAt, created := j.RunAt, j.Created
	if runAt.IsZero() {
		runAt = db.now()
	}
	if created.IsZero() {
		created = runAt
	}
	// A job that exists may be completed (deleted) between the INSERT that
	// sees its key and the SELECT of its id: then insert again.
	for range 3 {
		var id int64
		err := db.pool.QueryRow(ctx, `INSERT INTO wxkit_outbox (kind, key, payload, not_after, run_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, key) DO NOTHING RETURNING id`,
			j.Kind, j.Key, j.Payload, nullTime(j.NotAfter), runAt, created).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			err = db.pool.QueryRow(ctx, `SELECT id FROM wxkit_outbox WHERE kind = $1 AND key = $2`, j.Kind, j.Key).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			}
		}
		if err != nil {
			return wrap("enqueue job", err)
		}
		j.ID, j.RunAt, j.Created = id, runAt, created
		return nil
	}
	return fmt.Errorf("postgres: enqueue job: key %q of kind %q keeps being completed under contention", j.Key, j.Kind)
}

// ClaimJobs implements store.Outbox with one UPDATE of the rows that a
// subquery selects FOR UPDATE SKIP LOCKED: drainers on any number of
// instances claiming at once each lock different rows, never wait for one
// another, and never get the same job within a lease. Jobs come back
// oldest RunAt (before the claim) first. A limit <= 0 claims nothing; a
// lease must be positive.
func (db *DB) ClaimJobs(ctx context.Context, kind string, now time.Time, lease time.Duration, limit int) ([]*store.Job, error) {
	if lease <= 0 {
		return nil, errors.New("postgres: claim jobs: lease must be positive")
	}
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, `WITH due AS (
			SELECT id, run_at FROM wxkit_outbox
			WHERE kind = $1 AND NOT dead AND run_at <= $2
			ORDER BY run_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
		UPDATE wxkit_outbox o SET attempts = o.attempts + 1, run_at = $3
		FROM due WHERE o.id = due.id
		RETURNING due.run_at, o.id, o.kind, o.key, o.payload, o.attempts, o.not_after, o.run_at, o.last_error, o.created_at`,
		kind, now, now.Add(lease), limit)
	if err != nil {
		return nil, wrap("claim jobs", err)
	}
	type claimed struct {
		due time.Time
		job *store.Job
	}
	cs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (claimed, error) {
		var c claimed
		var err error
		c.job, err = scanJob(row, &c.due)
		return c, err
	})
	if err != nil {
		return nil, wrap("claim jobs", err)
	}
	slices.SortFunc(cs, func(a, b claimed) int {
		return cmp.Or(a.due.Compare(b.due), cmp.Compare(a.job.ID, b.job.ID))
	})
	out := make([]*store.Job, len(cs))
	for i, c := range cs {
		out[i] = c.job
	}
	return out, nil
}

// scanJob scans jobColumns, preceded by the destinations in pre.
func scanJob(row pgx.Row, pre ...any) (*store.Job, error) {
	var j store.Job
	var notAfter *time.Time
	dest := append(pre, &j.ID, &j.Kind, &j.Key, &j.Payload, &j.Attempts, &notAfter, &j.RunAt, &j.LastError, &j.Created)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if notAfter != nil {
		j.NotAfter = *notAfter
	}
	return &j, nil
}

// CompleteJob implements store.Outbox.
func (db *DB) CompleteJob(ctx context.Context, id int64) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM wxkit_outbox WHERE id = $1`, id); err != nil {
		return wrap("complete job", err)
	}
	return nil
}

// RetryJob implements store.Outbox. The job is also marked dead, whatever
// dead says, when it has a NotAfter and runAt is after it: it would come
// due only once it has been given up. An unknown id is store.ErrNotFound.
func (db *DB) RetryJob(ctx context.Context, id int64, runAt time.Time, lastError string, dead bool) error {
	tag, err := db.pool.Exec(ctx, `UPDATE wxkit_outbox SET run_at = $2, last_error = $3,
		dead = $4 OR (not_after IS NOT NULL AND $2 > not_after) WHERE id = $1`,
		id, runAt, lastError, dead)
	if err != nil {
		return wrap("retry job", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: retry job %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// DeadJobs implements store.Outbox: the dead jobs of kind ("" for every
// kind), newest (highest id) first. A limit <= 0 means DefaultDeadJobsLimit.
func (db *DB) DeadJobs(ctx context.Context, kind string, limit int) ([]*store.Job, error) {
	if limit <= 0 {
		limit = DefaultDeadJobsLimit
	}
	var rows pgx.Rows
	var err error
	if kind == "" {
		rows, err = db.pool.Query(ctx, `SELECT `+jobColumns+` FROM wxkit_outbox WHERE dead ORDER BY id DESC LIMIT $1`, limit)
	} else {
		rows, err = db.pool.Query(ctx, `SELECT `+jobColumns+` FROM wxkit_outbox WHERE dead AND kind = $1 ORDER BY id DESC LIMIT $2`, kind, limit)
	}
	if err != nil {
		return nil, wrap("dead jobs", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.Job, error) { return scanJob(row) })
	if err != nil {
		return nil, wrap("dead jobs", err)
	}
	return out, nil
}
