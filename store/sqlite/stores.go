package sqlite

import (
	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/token"
	"github.com/wxkit/wxkit/webhook"
)

// A DB is every store of package store, on the tables its migrations make
// (call Migrate first).
var (
	_ store.Users       = (*DB)(nil)
	_ store.Sessions    = (*DB)(nil)
	_ store.OAuthStates = (*DB)(nil)
	_ store.MessageLog  = (*DB)(nil)
	_ store.Outbox      = (*DB)(nil)
	_ store.Migrator    = (*DB)(nil)
	_ store.Pinger      = (*DB)(nil)
)

// TokenStore returns the token.Store on db's tables (a *TokenStore, which
// is also a token.ValueDeleter). It does not migrate: call Migrate first.
func (db *DB) TokenStore() token.Store { return &TokenStore{db: db, now: db.now} }

// Dedup returns the webhook.DedupStore on db's tables (a *Dedup). It does
// not migrate: call Migrate first.
//
// Every call returns the same store: it tracks, with the other processes
// on the file, whether this process may keep its claims in memory.
func (db *DB) Dedup() webhook.DedupStore {
	db.dedupOnce.Do(func() { db.dedup = &Dedup{db: db, now: db.now} })
	return db.dedup
}
