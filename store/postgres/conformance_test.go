package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/store/storetest"
	"github.com/wxkit/wxkit/token"
	"github.com/wxkit/wxkit/token/tokentest"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

func TestUsersConformance(t *testing.T) {
	t.Parallel()
	storetest.TestUsers(t, func(t *testing.T) store.Users { return newMigrated(t) })
}

func TestSessionsConformance(t *testing.T) {
	t.Parallel()
	storetest.TestSessions(t, func(t *testing.T) store.Sessions { return newMigrated(t) })
}

func TestOAuthStatesConformance(t *testing.T) {
	t.Parallel()
	storetest.TestOAuthStates(t, func(t *testing.T) store.OAuthStates { return newMigrated(t) })
}

func TestMessageLogConformance(t *testing.T) {
	t.Parallel()
	storetest.TestMessageLog(t, func(t *testing.T) store.MessageLog { return newMigrated(t) })
}

func TestOutboxConformance(t *testing.T) {
	t.Parallel()
	storetest.TestOutbox(t, func(t *testing.T) store.Outbox { return newMigrated(t) })
}

// TestMigratorConformance opens three DBs on one empty schema at the same
// moment, standing for three instances starting, and has them all migrate
// at once.
func TestMigratorConformance(t *testing.T) {
	t.Parallel()
	u := newSchemaURL(t)
	handles := make([]store.Migrator, 3)
	var wg sync.WaitGroup
	for i := range handles {
		wg.Go(func() {
			db, err := Open(t.Context(), u)
			if err != nil {
				t.Errorf("Open = %v", err)
				return
			}
			t.Cleanup(db.Close)
			handles[i] = db
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	storetest.TestMigrator(t, handles)
}

func TestTokenStore(t *testing.T) {
	t.Parallel()
	db := newMigrated(t)
	tokentest.TestStore(t, func(t *testing.T) token.Store { return db.TokenStore() })
}

// TestTokenStoreShared runs the shared-store suite over several DBs on one
// schema, each standing for a process.
func TestTokenStoreShared(t *testing.T) {
	t.Parallel()
	tokentest.TestSharedStore(t, func(t *testing.T, n int) []token.Store {
		out := make([]token.Store, n)
		for i, db := range newShared(t, n) {
			out[i] = db.TokenStore()
		}
		return out
	})
}

func TestDedupConformance(t *testing.T) {
	t.Parallel()
	db := newMigrated(t)
	webhooktest.TestDedupStore(t, func(t *testing.T) webhook.DedupStore { return db.Dedup() })
}

// alternatingDedup sends each call to the next of several Dedups on one
// schema, so that the suite's sequences run across processes.
type alternatingDedup struct {
	ds []*Dedup
	n  atomic.Uint32
}

func (a *alternatingDedup) next() *Dedup { return a.ds[int(a.n.Add(1))%len(a.ds)] }

func (a *alternatingDedup) Claim(ctx context.Context, key string, ttl time.Duration) (webhook.Claim, error) {
	return a.next().Claim(ctx, key, ttl)
}

func (a *alternatingDedup) Complete(ctx context.Context, key string, reply []byte, ttl time.Duration) error {
	return a.next().Complete(ctx, key, reply, ttl)
}

func (a *alternatingDedup) Release(ctx context.Context, key string) error {
	return a.next().Release(ctx, key)
}

func TestDedupConformanceAcrossHandles(t *testing.T) {
	t.Parallel()
	dbs := newShared(t, 3)
	webhooktest.TestDedupStore(t, func(t *testing.T) webhook.DedupStore {
		a := &alternatingDedup{}
		for _, db := range dbs {
			a.ds = append(a.ds, db.Dedup())
		}
		return a
	})
}
