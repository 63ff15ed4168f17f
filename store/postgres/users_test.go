package postgres

import (
	"sync"
	"testing"
	"time"

	"github.com/wxkit/wxkit/store"
)

// TestUpsertUserAcrossInstances has 50 logins of one user reach three
// instances at once: one row, with the latest LastSeen.
func TestUpsertUserAcrossInstances(t *testing.T) {
	t.Parallel()
	dbs := newShared(t, 3)
	const n = 50
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			u := &store.User{AppID: "wxapp", OpenID: "oSame", UnionID: "uSame", Nickname: "n"}
			if _, err := dbs[i%len(dbs)].UpsertUser(t.Context(), u, i%2 == 0, t0.Add(time.Duration(i)*time.Second)); err != nil {
				t.Errorf("UpsertUser() = %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	var rows int
	var last time.Time
	if err := dbs[0].Pool().QueryRow(t.Context(), `SELECT count(*), max(last_seen) FROM wxkit_users`).Scan(&rows, &last); err != nil {
		t.Fatal(err)
	}
	if want := t0.Add((n - 1) * time.Second); rows != 1 || !last.Equal(want) {
		t.Errorf("after %d concurrent upserts: %d rows, LastSeen %v; want 1 row, LastSeen %v", n, rows, last, want)
	}
}
