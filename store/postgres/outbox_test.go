package postgres

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/store"
)

// TestDrainersOnTwoInstances has two instances drain one outbox at once,
// in small claims: every job is claimed exactly once.
func TestDrainersOnTwoInstances(t *testing.T) {
	t.Parallel()
	dbs := newShared(t, 2)
	const jobs = 60
	for i := range jobs {
		j := &store.Job{Kind: "late_reply", Key: fmt.Sprint("d", i), Payload: []byte(`{}`), RunAt: t0}
		if err := dbs[i%2].EnqueueJob(t.Context(), j); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	claimed := map[int64]int{}
	byInstance := [2]int{}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for d := range 4 { // two drainers on each instance
		wg.Go(func() {
			<-start
			for {
				js, err := dbs[d%2].ClaimJobs(t.Context(), "late_reply", t0, time.Minute, 2)
				if err != nil {
					t.Errorf("ClaimJobs() = %v", err)
					return
				}
				if len(js) == 0 {
					return
				}
				mu.Lock()
				for _, j := range js {
					claimed[j.ID]++
					byInstance[d%2]++
				}
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if len(claimed) != jobs {
		t.Errorf("%d distinct jobs claimed, want %d", len(claimed), jobs)
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("job %d claimed %d times, want once", id, n)
		}
	}
	t.Logf("claims by instance: %v", byInstance)
}

func TestOutboxDetails(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	db := newMigrated(t, WithClock(clock.Now))
	ctx := t.Context()

	// A zero RunAt is the clock's now, a zero Created is RunAt.
	j := &store.Job{Kind: "paid", Key: "tx-1", Payload: []byte(`{"a":1}`), NotAfter: clock.Now().Add(time.Hour)}
	if err := db.EnqueueJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	if !j.RunAt.Equal(clock.Now()) || !j.Created.Equal(clock.Now()) {
		t.Errorf("EnqueueJob() set RunAt %v, Created %v; want both %v", j.RunAt, j.Created, clock.Now())
	}
	got, err := db.ClaimJobs(ctx, "paid", clock.Now(), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []*store.Job{{ID: j.ID, Kind: "paid", Key: "tx-1", Payload: []byte(`{"a":1}`), Attempts: 1,
		NotAfter: j.NotAfter, RunAt: clock.Now().Add(time.Minute), Created: clock.Now()}}
	if diff := cmp.Diff(want, got, timeUS); diff != "" {
		t.Errorf("ClaimJobs() mismatch (-want +got):\n%s", diff)
	}

	// A retry before NotAfter stays alive; one after it is dead.
	if err := db.RetryJob(ctx, j.ID, j.NotAfter, "HTTP 500", false); err != nil {
		t.Fatal(err)
	}
	if dead, _ := db.DeadJobs(ctx, "paid", 10); len(dead) != 0 {
		t.Errorf("DeadJobs() after a retry at NotAfter = %d jobs, want none", len(dead))
	}
	if err := db.RetryJob(ctx, j.ID, j.NotAfter.Add(time.Second), "HTTP 500", false); err != nil {
		t.Fatal(err)
	}
	dead, err := db.DeadJobs(ctx, "", 0)
	if err != nil || len(dead) != 1 || dead[0].ID != j.ID || dead[0].LastError != "HTTP 500" {
		t.Errorf("DeadJobs() after a retry past NotAfter = %+v, %v; want the job", dead, err)
	}
	if js, _ := db.ClaimJobs(ctx, "paid", j.NotAfter.Add(time.Hour), time.Minute, 10); len(js) != 0 {
		t.Errorf("ClaimJobs() of a dead job = %d jobs, want none", len(js))
	}

	for _, bad := range []*store.Job{{Kind: "paid"}, {Key: "k"}} {
		if err := db.EnqueueJob(ctx, bad); err == nil {
			t.Errorf("EnqueueJob(%+v) = nil, want an error (kind and key are required)", bad)
		}
	}
	if _, err := db.ClaimJobs(ctx, "paid", clock.Now(), 0, 10); err == nil {
		t.Errorf("ClaimJobs(lease 0) = nil error, want one")
	}
}
