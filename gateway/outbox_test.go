package gateway

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/store/memory"
)

func TestDrainerRunsRetriesAndBuries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ob := new(memory.Store)
		var mu sync.Mutex
		attempts := map[string]int{}
		outcomes := map[string]int{}
		d := &drainer{
			outbox: ob, kind: "k", now: time.Now, logger: slog.New(slog.DiscardHandler),
			retry: backoffSchedule(time.Second, 10*time.Second),
			run: func(ctx context.Context, j *store.Job) error {
				mu.Lock()
				defer mu.Unlock()
				attempts[j.Key]++
				switch j.Key {
				case "ok":
					return nil
				case "flaky":
					if attempts[j.Key] < 3 {
						return errors.New("HTTP 503")
					}
					return nil
				case "permanent":
					return permanent(errors.New("errcode 45015"))
				default: // "hopeless"
					return errors.New("HTTP 503")
				}
			},
			hooks: drainHooks{outcome: func(_, o string) { mu.Lock(); outcomes[o]++; mu.Unlock() }},
		}
		for _, k := range []string{"ok", "flaky", "permanent", "hopeless"} {
			if err := ob.EnqueueJob(t.Context(), &store.Job{Kind: "k", Key: k, RunAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		// A job of another kind is not this drainer's.
		ob.EnqueueJob(t.Context(), &store.Job{Kind: "other", Key: "x", RunAt: time.Now()})
		d.start()
		time.Sleep(time.Minute)
		d.stop(t.Context())

		want := map[string]int{"ok": 1, "flaky": 3, "permanent": 1, "hopeless": 3}
		if diff := cmp.Diff(want, attempts); diff != "" {
			t.Errorf("attempts per job mismatch (-want +got):\n%s", diff)
		}
		wantOutcomes := map[string]int{"done": 2, "retry": 4, "dead": 2}
		if diff := cmp.Diff(wantOutcomes, outcomes); diff != "" {
			t.Errorf("outcomes mismatch (-want +got):\n%s", diff)
		}
		dead, _ := ob.DeadJobs(t.Context(), "k", 10)
		if len(dead) != 2 {
			t.Errorf("dead jobs = %d, want 2 (permanent and hopeless)", len(dead))
		}
		if left, _ := ob.ClaimJobs(t.Context(), "other", time.Now(), time.Minute, 10); len(left) != 1 {
			t.Errorf("the other kind's job was touched: %d claimable, want 1", len(left))
		}
	})
}

func TestDrainerStoppedMidJobLeavesItDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ob := new(memory.Store)
		started := make(chan struct{})
		d := &drainer{
			outbox: ob, kind: "k", now: time.Now, logger: slog.New(slog.DiscardHandler),
			retry: backoffSchedule(time.Second),
			run: func(ctx context.Context, j *store.Job) error {
				close(started)
				<-ctx.Done() // a job that does not finish before shutdown
				return ctx.Err()
			},
		}
		ob.EnqueueJob(t.Context(), &store.Job{Kind: "k", Key: "slow", RunAt: time.Now()})
		d.start()
		<-started
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		d.stop(ctx)
		// Not completed, not buried: another instance runs it after the lease.
		if jobs, _ := ob.ClaimJobs(t.Context(), "k", time.Now().Add(outboxLease), time.Minute, 10); len(jobs) != 1 {
			t.Fatalf("after a stop mid-job %d jobs are due after the lease, want 1", len(jobs))
		}
	})
}

// TestDrainerStopLetsRunningJobFinish: a job under way when stop is called
// (a delivery sent, its answer not yet read) is given until the stop
// deadline to finish, and is then completed, not left to run a second time
// after the lease.
func TestDrainerStopLetsRunningJobFinish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ob := new(memory.Store)
		started := make(chan struct{})
		d := &drainer{
			outbox: ob, kind: "k", now: time.Now, logger: slog.New(slog.DiscardHandler),
			retry: backoffSchedule(time.Second),
			run: func(ctx context.Context, j *store.Job) error {
				close(started)
				select {
				case <-time.After(time.Second): // the answer arrives after stop was called
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			},
		}
		ob.EnqueueJob(t.Context(), &store.Job{Kind: "k", Key: "in-flight", RunAt: time.Now()})
		d.start()
		<-started
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		d.stop(ctx)
		if jobs, _ := ob.ClaimJobs(t.Context(), "k", time.Now().Add(365*24*time.Hour), time.Minute, 10); len(jobs) != 0 {
			t.Fatalf("a job that finished within the stop deadline is still in the outbox (%d jobs)", len(jobs))
		}
		if dead, _ := ob.DeadJobs(t.Context(), "k", 10); len(dead) != 0 {
			t.Fatalf("dead jobs: %d", len(dead))
		}
	})
}
