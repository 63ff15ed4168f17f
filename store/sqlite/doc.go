// Package sqlite holds wxkit's SQLite stores on modernc.org/sqlite (pure Go,
// driver name "sqlite"): one DB handle opened with Open, shared by every
// store.
//
// A *DB implements the interfaces of package store (store.Users,
// store.Sessions, store.OAuthStates, store.MessageLog, store.Outbox,
// store.Migrator, store.Pinger); DB.TokenStore returns its token.Store (a
// *TokenStore) and DB.Dedup its webhook.DedupStore (a *Dedup, the same one
// at every call).
//
// The schema is versioned: the migrations embedded from
// migrations/NNNN_name.sql are applied in order by DB.Migrate, each in one
// IMMEDIATE transaction, and recorded in schema_migrations (version, name,
// applied_at in Unix ms). Migration 1 is the baseline of the release
// before versioning (CREATE ... IF NOT EXISTS), so a file that release
// wrote is adopted as it is. Open does not migrate: call DB.Migrate before
// using the stores.
//
// Several processes may open the same file: WAL mode and a busy timeout are
// set, and every write is a single statement or an IMMEDIATE transaction,
// so that it stays correct across processes; Migrate applies each
// migration once however many processes run it at the same time. Times are
// stored as INTEGER Unix milliseconds and compared with the caller's clock.
package sqlite
