package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wxkit/wxkit/store"
)

// TestOutbox checks a store.Outbox: idempotent enqueue, due-time claims
// with leases, retries, dead jobs, and concurrent drainers that never
// claim one job twice.
func TestOutbox(t *testing.T, newStore func(t *testing.T) store.Outbox) {
	t.Helper()
	const lease = time.Minute
	enqueue := func(t *testing.T, s store.Outbox, kind, key string, runAt time.Time) *store.Job {
		t.Helper()
		j := &store.Job{Kind: kind, Key: key, Payload: []byte(`{"k":"` + key + `"}`), RunAt: runAt}
		mustNoErr(t, "EnqueueJob", s.EnqueueJob(t.Context(), j))
		if j.ID == 0 {
			t.Fatalf("EnqueueJob left ID 0")
		}
		return j
	}

	t.Run("EnqueueIdempotent", func(t *testing.T) {
		s := newStore(t)
		kind := unique("k")
		a := enqueue(t, s, kind, "delivery-1", base)
		b := &store.Job{Kind: kind, Key: "delivery-1", Payload: []byte(`{"other":true}`), RunAt: base}
		mustNoErr(t, "EnqueueJob(same key)", s.EnqueueJob(t.Context(), b))
		if b.ID != a.ID {
			t.Errorf("EnqueueJob(same kind and key) ID = %d, want the existing %d", b.ID, a.ID)
		}
		jobs, err := s.ClaimJobs(t.Context(), kind, base, lease, 10)
		mustNoErr(t, "ClaimJobs", err)
		if len(jobs) != 1 || string(jobs[0].Payload) != string(a.Payload) {
			t.Fatalf("ClaimJobs() = %d jobs (%v), want the first job only with its payload", len(jobs), jobs)
		}
		// The same key under another kind is another job.
		c := enqueue(t, s, kind+"x", "delivery-1", base)
		if c.ID == a.ID {
			t.Errorf("EnqueueJob(other kind) reused ID %d", a.ID)
		}
	})

	t.Run("ClaimDueOnlyWithLease", func(t *testing.T) {
		s := newStore(t)
		kind := unique("k")
		due := enqueue(t, s, kind, "due", base)
		enqueue(t, s, kind, "later", base.Add(time.Hour))
		jobs, err := s.ClaimJobs(t.Context(), kind, base, lease, 10)
		mustNoErr(t, "ClaimJobs", err)
		if len(jobs) != 1 || jobs[0].ID != due.ID || jobs[0].Attempts != 1 || jobs[0].Key != "due" {
			t.Fatalf("ClaimJobs() = %+v, want the due job with Attempts 1", jobs)
		}
		if !sameTime(jobs[0].RunAt, base.Add(lease)) {
			t.Errorf("claimed job RunAt = %v, want now+lease %v", jobs[0].RunAt, base.Add(lease))
		}
		// Leased: another drainer gets nothing until the lease ends.
		jobs, err = s.ClaimJobs(t.Context(), kind, base.Add(lease-time.Second), lease, 10)
		mustNoErr(t, "ClaimJobs(leased)", err)
		if len(jobs) != 0 {
			t.Errorf("ClaimJobs() during the lease = %d jobs, want 0", len(jobs))
		}
		// The drainer died: after the lease the job is due again.
		jobs, err = s.ClaimJobs(t.Context(), kind, base.Add(lease), lease, 10)
		mustNoErr(t, "ClaimJobs(after lease)", err)
		if len(jobs) != 1 || jobs[0].ID != due.ID || jobs[0].Attempts != 2 {
			t.Errorf("ClaimJobs() after the lease = %+v, want the job again with Attempts 2", jobs)
		}
		// Other kinds are not claimed.
		other, err := s.ClaimJobs(t.Context(), kind+"-none", base.Add(2*time.Hour), lease, 10)
		if err != nil || len(other) != 0 {
			t.Errorf("ClaimJobs(other kind) = %v, %v; want none", other, err)
		}
	})

	t.Run("OrderAndLimit", func(t *testing.T) {
		s := newStore(t)
		kind := unique("k")
		for i := range 5 {
			enqueue(t, s, kind, fmt.Sprint("j", i), base.Add(time.Duration(4-i)*time.Second))
		}
		jobs, err := s.ClaimJobs(t.Context(), kind, base.Add(time.Minute), lease, 2)
		mustNoErr(t, "ClaimJobs", err)
		if len(jobs) != 2 || jobs[0].Key != "j4" || jobs[1].Key != "j3" {
			t.Errorf("ClaimJobs(limit 2) = %v, want j4 then j3 (oldest RunAt first)", keysOf(jobs))
		}
	})

	t.Run("CompleteRetryDead", func(t *testing.T) {
		s := newStore(t)
		kind := unique("k")
		a := enqueue(t, s, kind, "a", base)
		b := enqueue(t, s, kind, "b", base)
		_, err := s.ClaimJobs(t.Context(), kind, base, lease, 10)
		mustNoErr(t, "ClaimJobs", err)
		mustNoErr(t, "CompleteJob", s.CompleteJob(t.Context(), a.ID))
		mustNoErr(t, "CompleteJob(again)", s.CompleteJob(t.Context(), a.ID))
		retryAt := base.Add(10 * time.Second)
		mustNoErr(t, "RetryJob", s.RetryJob(t.Context(), b.ID, retryAt, "HTTP 503", false))
		if jobs, _ := s.ClaimJobs(t.Context(), kind, retryAt.Add(-time.Millisecond), lease, 10); len(jobs) != 0 {
			t.Errorf("ClaimJobs() before the retry time = %v, want none", keysOf(jobs))
		}
		jobs, err := s.ClaimJobs(t.Context(), kind, retryAt, lease, 10)
		mustNoErr(t, "ClaimJobs(retry)", err)
		if len(jobs) != 1 || jobs[0].ID != b.ID || jobs[0].LastError != "HTTP 503" || jobs[0].Attempts != 2 {
			t.Fatalf("ClaimJobs() at the retry time = %+v, want job b with LastError and Attempts 2", jobs)
		}
		mustNoErr(t, "RetryJob(dead)", s.RetryJob(t.Context(), b.ID, retryAt, "gave up", true))
		if jobs, _ := s.ClaimJobs(t.Context(), kind, retryAt.Add(24*time.Hour), lease, 10); len(jobs) != 0 {
			t.Errorf("ClaimJobs() of a dead job = %v, want none", keysOf(jobs))
		}
		dead, err := s.DeadJobs(t.Context(), kind, 10)
		mustNoErr(t, "DeadJobs", err)
		if len(dead) != 1 || dead[0].ID != b.ID || dead[0].LastError != "gave up" {
			t.Errorf("DeadJobs() = %+v, want job b with its last error", dead)
		}
		// A dead key stays taken: enqueueing it again is a no-op.
		again := &store.Job{Kind: kind, Key: "b", RunAt: base}
		mustNoErr(t, "EnqueueJob(dead key)", s.EnqueueJob(t.Context(), again))
		if again.ID != b.ID {
			t.Errorf("EnqueueJob(dead key) ID = %d, want %d", again.ID, b.ID)
		}
	})

	t.Run("ConcurrentDrainers", func(t *testing.T) {
		s := newStore(t)
		kind := unique("k")
		const jobs = 40
		for i := range jobs {
			enqueue(t, s, kind, fmt.Sprint("c", i), base)
		}
		var mu sync.Mutex
		claimed := map[int64]int{}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for {
					js, err := s.ClaimJobs(t.Context(), kind, base, lease, 3)
					if err != nil {
						t.Errorf("ClaimJobs = %v", err)
						return
					}
					if len(js) == 0 {
						return
					}
					mu.Lock()
					for _, j := range js {
						claimed[j.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(claimed) != jobs {
			t.Errorf("drainers claimed %d distinct jobs, want %d", len(claimed), jobs)
		}
		for id, n := range claimed {
			if n != 1 {
				t.Errorf("job %d claimed %d times within one lease, want once", id, n)
			}
		}
	})

	t.Run("RetryPastNotAfterIsDead", func(t *testing.T) {
		s := newStore(t)
		kind := unique("k")
		j := &store.Job{Kind: kind, Key: "late", RunAt: base, NotAfter: base.Add(time.Minute)}
		mustNoErr(t, "EnqueueJob", s.EnqueueJob(t.Context(), j))
		if _, err := s.ClaimJobs(t.Context(), kind, base, lease, 1); err != nil {
			t.Fatal(err)
		}
		// The retry would run after NotAfter: the job is given up.
		mustNoErr(t, "RetryJob", s.RetryJob(t.Context(), j.ID, base.Add(2*time.Minute), "HTTP 503", false))
		if jobs, _ := s.ClaimJobs(t.Context(), kind, base.Add(time.Hour), lease, 10); len(jobs) != 0 {
			t.Errorf("ClaimJobs() of a job retried past NotAfter = %v, want none", keysOf(jobs))
		}
		if dead, _ := s.DeadJobs(t.Context(), kind, 10); len(dead) != 1 {
			t.Errorf("DeadJobs() = %d jobs, want the job retried past NotAfter", len(dead))
		}
	})

	t.Run("UnknownID", func(t *testing.T) {
		s := newStore(t)
		err := s.RetryJob(t.Context(), 987654321, base, "x", false)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RetryJob(unknown) = %v, want nil or store.ErrNotFound", err)
		}
	})
}

func keysOf(js []*store.Job) []string {
	var out []string
	for _, j := range js {
		out = append(out, j.Key)
	}
	return out
}
