package postgres

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wxkit/wxkit/store"
)

func logged(app string, i int) *store.LoggedMessage {
	return &store.LoggedMessage{AppID: app, DedupKey: fmt.Sprintf("msg:%d", i), FromUser: "oUser", ToUser: "gh_1",
		MsgType: "text", MsgID: int64(i), CreateTime: t0.Unix(), ReceivedAt: t0.Add(time.Duration(i) * time.Millisecond),
		Request: []byte("<xml/>")}
}

// TestAppendOverlappingBatches has instances append batches that share
// keys, in opposite orders, at once: no deadlock, one row per key.
func TestAppendOverlappingBatches(t *testing.T) {
	t.Parallel()
	dbs := newShared(t, 3)
	const keys = 200
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			<-start
			var batch []*store.LoggedMessage
			for i := range keys {
				batch = append(batch, logged("wxapp", i))
			}
			if w%2 == 1 {
				slices.Reverse(batch)
			}
			if err := dbs[w%len(dbs)].AppendMessages(t.Context(), batch); err != nil {
				t.Errorf("AppendMessages() = %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if n, err := dbs[0].CountMessages(t.Context(), "wxapp"); err != nil || n != keys {
		t.Errorf("CountMessages() = %d, %v; want %d", n, err, keys)
	}
}

// TestAppendLargeBatch appends more rows in one call than one statement
// could carry as separate parameters (65535 / 11 columns).
func TestAppendLargeBatch(t *testing.T) {
	t.Parallel()
	db := newMigrated(t)
	const n = 7000
	batch := make([]*store.LoggedMessage, n)
	for i := range batch {
		batch[i] = logged("wxbig", i)
	}
	if err := db.AppendMessages(t.Context(), batch); err != nil {
		t.Fatalf("AppendMessages(%d) = %v", n, err)
	}
	if got, err := db.CountMessages(t.Context(), ""); err != nil || got != n {
		t.Errorf("CountMessages() = %d, %v; want %d", got, err, n)
	}
}

func TestAppendInvalid(t *testing.T) {
	t.Parallel()
	db := newMigrated(t)
	tests := []struct {
		name string
		msgs []*store.LoggedMessage
	}{
		{"nil message", []*store.LoggedMessage{logged("wx", 1), nil}},
		{"no appid", []*store.LoggedMessage{{DedupKey: "msg:1"}}},
		{"no dedup key", []*store.LoggedMessage{{AppID: "wx"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := db.AppendMessages(t.Context(), tt.msgs); err == nil {
				t.Errorf("AppendMessages() = nil, want an error")
			}
		})
	}
	if n, _ := db.CountMessages(t.Context(), ""); n != 0 {
		t.Errorf("CountMessages() = %d after failed batches, want 0 (nothing of a failed batch is logged)", n)
	}
}
