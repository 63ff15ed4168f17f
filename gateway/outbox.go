package gateway

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/wxkit/wxkit/store"
)

// Tuning of outbox drainers.
const (
	// outboxLease is how long a claimed job is hidden from other drainers:
	// a drainer that dies lets its job come due again after it.
	outboxLease = time.Minute
	// outboxPoll is how often an idle drainer looks for due jobs (jobs
	// enqueued by this instance are started at once, by a poke).
	outboxPoll = time.Second
	// outboxBatch is how many jobs one claim takes.
	outboxBatch = 16
	// outboxJobTimeout bounds one attempt at a job.
	outboxJobTimeout = 30 * time.Second
)

// errPermanent marks a job failure that retrying cannot fix (the job is
// marked dead at once).
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// permanent wraps err so that the drainer gives the job up.
func permanent(err error) error { return permanentError{err} }

// drainer runs the outbox jobs of one kind on every instance: it claims due
// jobs (store.Outbox leases them, so two instances never run one job at
// once), runs them, and completes, retries or buries each. Jobs are done
// at least once: a drainer stopped mid-job leaves it to come due again
// when its lease ends.
type drainer struct {
	outbox store.Outbox
	kind   string
	run    func(ctx context.Context, j *store.Job) error
	// retry returns the pause before attempt n+1 after n failed attempts,
	// and false to give the job up.
	retry  func(attempts int) (time.Duration, bool)
	now    func() time.Time
	logger *slog.Logger
	hooks  drainHooks

	poke chan struct{}
	// cancel stops claiming; cancelJobs ends the job running (at the
	// stop deadline), so that a job whose delivery is under way when
	// stop is called can still finish and be completed.
	cancel     context.CancelFunc
	cancelJobs context.CancelFunc
	done       chan struct{}
	once       sync.Once
}

// drainHooks let the gateway count what a drainer does.
type drainHooks struct {
	storeError func(op string)
	outcome    func(kind, outcome string) // done, retry, dead
}

// start runs the drainer until stop.
func (d *drainer) start() {
	d.poke = make(chan struct{}, 1)
	d.done = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	jobs, cancelJobs := context.WithCancel(context.Background())
	d.cancel, d.cancelJobs = cancel, cancelJobs
	go d.loop(ctx, jobs)
}

// wake makes an idle drainer look for due jobs now (after an enqueue).
func (d *drainer) wake() {
	select {
	case d.poke <- struct{}{}:
	default:
	}
}

// stop ends the drainer; the job running, if any, is given until ctx ends
// to finish (its context is cancelled then).
func (d *drainer) stop(ctx context.Context) {
	d.once.Do(func() {
		stopped := make(chan struct{})
		go func() {
			select {
			case <-ctx.Done():
				d.cancelJobs()
			case <-stopped:
			}
		}()
		d.cancel()
		<-d.done
		close(stopped)
		d.cancelJobs()
	})
}

func (d *drainer) loop(ctx, jobs context.Context) {
	defer close(d.done)
	t := time.NewTicker(outboxPoll)
	defer t.Stop()
	for {
		for d.drainOnce(ctx, jobs) == outboxBatch && ctx.Err() == nil {
		}
		select {
		case <-ctx.Done():
			return
		case <-d.poke:
		case <-t.C:
		}
	}
}

// drainOnce claims and runs one batch; it returns how many jobs it claimed.
// ctx ends claiming (stop); jobs ends the job running (the stop deadline).
func (d *drainer) drainOnce(ctx, jobs context.Context) int {
	claimed, err := d.outbox.ClaimJobs(ctx, d.kind, d.now(), outboxLease, outboxBatch)
	if err != nil {
		if ctx.Err() == nil {
			d.storeErr("claim_jobs", err)
		}
		return 0
	}
	for _, j := range claimed {
		if ctx.Err() != nil {
			return len(claimed) // left to come due again after the lease
		}
		d.runJob(jobs, j)
	}
	return len(claimed)
}

func (d *drainer) runJob(ctx context.Context, j *store.Job) {
	jctx, cancel := context.WithTimeout(ctx, outboxJobTimeout)
	err := d.run(jctx, j)
	cancel()
	// The outcome is written even when the drainer is stopping.
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer wcancel()
	if err == nil {
		if err := d.outbox.CompleteJob(wctx, j.ID); err != nil {
			d.storeErr("complete_job", err)
		}
		d.count("done")
		return
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return // stopped mid-job: the lease brings it back
	}
	pause, again := d.retry(j.Attempts)
	var perm permanentError
	dead := !again || errors.As(err, &perm) || (!j.NotAfter.IsZero() && d.now().Add(pause).After(j.NotAfter))
	level, outcome := slog.LevelWarn, "retry"
	if dead {
		level, outcome = slog.LevelError, "dead"
	}
	d.logger.LogAttrs(ctx, level, "outbox: job failed",
		slog.String("kind", d.kind), slog.Int64("job_id", j.ID), slog.Int("attempt", j.Attempts),
		slog.Bool("given_up", dead), slog.String("error", err.Error()))
	if err := d.outbox.RetryJob(wctx, j.ID, d.now().Add(pause), err.Error(), dead); err != nil {
		d.storeErr("retry_job", err)
	}
	d.count(outcome)
}

func (d *drainer) storeErr(op string, err error) {
	if d.hooks.storeError != nil {
		d.hooks.storeError(op)
	}
	d.logger.LogAttrs(context.Background(), slog.LevelError, "outbox: store failed",
		slog.String("kind", d.kind), slog.String("op", op), slog.String("error", err.Error()))
}

func (d *drainer) count(outcome string) {
	if d.hooks.outcome != nil {
		d.hooks.outcome(d.kind, outcome)
	}
}

// backoffSchedule returns a retry function over a fixed schedule of
// pauses: attempt n (1-based) that failed waits schedule[n-1]; after the
// last the job is given up.
func backoffSchedule(schedule ...time.Duration) func(int) (time.Duration, bool) {
	return func(attempts int) (time.Duration, bool) {
		if attempts < 1 || attempts > len(schedule) {
			return 0, false
		}
		return schedule[attempts-1], true
	}
}
