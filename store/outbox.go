package store

import (
	"context"
	"time"
)

// Job is a unit of work that must be done at least once although the
// process that created it may stop: a reply that missed the webhook
// deadline and goes out through the customer-service API, a paid event
// forwarded to the app. Jobs are written to the outbox, in the same
// transaction as the state change that announces them where there is one,
// and any instance drains them.
type Job struct {
	ID   int64  // assigned by EnqueueJob
	Kind string // what the job is, e.g. "late_reply"; drainers claim one kind
	// Key makes a job idempotent: EnqueueJob of an existing (Kind, Key) is
	// a no-op. Use a delivery id the receiver can deduplicate on.
	Key      string
	Payload  []byte    // the job's data, opaque to the store (JSON by convention)
	Attempts int       // how many times a drainer has claimed it
	NotAfter time.Time // zero, or when the job is given up (RetryJob then fails it)
	// RunAt is when the job is due; a claim moves it to the end of the
	// claim's lease, so that a drainer that dies lets it come due again.
	RunAt     time.Time
	LastError string
	Created   time.Time
}

// Outbox keeps jobs until a drainer completes them.
type Outbox interface {
	// EnqueueJob adds j (Kind, Key, Payload, RunAt, NotAfter; Created is
	// set to RunAt when zero) and sets j.ID. A job with the same Kind and
	// Key that exists already is left as it is, and j.ID is set to its id.
	EnqueueJob(ctx context.Context, j *Job) error
	// ClaimJobs leases up to limit jobs of kind due at now (RunAt <= now),
	// oldest RunAt first: each gets Attempts+1 and RunAt now+lease, so that
	// no other drainer, on any instance, claims it before the lease ends.
	ClaimJobs(ctx context.Context, kind string, now time.Time, lease time.Duration, limit int) ([]*Job, error)
	// CompleteJob deletes the job (done). An unknown id is not an error.
	CompleteJob(ctx context.Context, id int64) error
	// RetryJob records a failed attempt: the job comes due again at runAt
	// with lastError. When dead is true, or runAt is after the job's
	// NotAfter, the job is kept for inspection but never claimed again.
	RetryJob(ctx context.Context, id int64, runAt time.Time, lastError string, dead bool) error
	// DeadJobs returns up to limit jobs of kind ("" for all) that RetryJob
	// marked dead, newest first.
	DeadJobs(ctx context.Context, kind string, limit int) ([]*Job, error)
}
