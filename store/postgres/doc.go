// Package postgres is wxkit's PostgreSQL backend, on github.com/jackc/pgx/v5
// (pgxpool) with plain SQL: any number of gateway instances sharing one
// PostgreSQL database is a complete deployment.
//
// One *DB, opened with Open, implements store.Users, store.Sessions,
// store.OAuthStates, store.MessageLog, store.Outbox, store.Orders,
// store.Authorizers, store.Migrator and
// store.Pinger; DB.TokenStore is its token.Store (and token.ValueDeleter)
// and DB.Dedup its webhook.DedupStore. Every operation is safe for
// concurrent use and correct across instances: what must happen once is
// one statement that decides it (an upsert with a condition, a DELETE …
// RETURNING, a claim FOR UPDATE SKIP LOCKED), never a read followed by a
// write.
//
// # URL
//
//	postgres://user:password@host:5432/dbname?sslmode=require&search_path=wxkit
//
// Any libpq URL or key=value string. Parameters that are not connection
// settings are run-time parameters of every connection: search_path picks
// the schema that holds the tables (it must exist; tests use one schema
// each), application_name (default "wxkit") names the connections in
// pg_stat_activity. pool_max_conns and the other pool_* parameters, or
// WithMaxConns, size the pool. The password never appears in an error or a
// log record of this package.
//
// # Tables
//
//	schema_migrations   version, name, applied_at of each applied migration
//	wxkit_users         one row per (appid, openid)
//	wxkit_sessions      keyed by the hex SHA-256 of the session id (the id
//	                    itself is never stored); the user copy as jsonb
//	wxkit_oauth_states  nonce, data, expires_at; taken by DELETE … RETURNING
//	wxkit_tokens        key, value, expires_at (NULL: no expiry)
//	wxkit_token_locks   key, holder (random id), expires_at: token leases
//	wxkit_dedup         key, done, reply, expires_at: webhook dedup claims
//	wxkit_message_log   accepted pushes, UNIQUE (appid, dedup_key)
//	wxkit_outbox        jobs, UNIQUE (kind, key); dead jobs are kept
//
// Times are timestamptz (microseconds; LoggedMessage.ReceivedAt is kept to
// the millisecond) and are compared with the caller's now argument, or, in
// methods without one (tokens, leases, dedup, migration times), with the
// clock set by WithClock; never with the database's now(), so that tests
// and the emulator can move time.
//
// # Migrations
//
// The schema is versioned: migrations/NNNN_name.sql, embedded in the
// binary and never changed once released. Open does not migrate. Migrate
// (the gateway calls it at start, and `wxkit migrate`) applies the missing
// ones in order, each in a transaction of its own that first takes
// pg_advisory_xact_lock(0x77786b74, hashtext(current_schema())), then
// reads schema_migrations: instances started at the same moment queue on
// the lock, each sees what those before it applied, and every migration
// runs exactly once. The lock key includes the schema, so wxkit
// deployments in different schemas of one database do not wait for each
// other. Migrations reports the status; SchemaReady tells whether this
// binary's migrations are all applied (ErrSchemaNotReady if not).
// Migration SQL runs inside a transaction, so it cannot use CREATE INDEX
// CONCURRENTLY. The table is named schema_migrations: give wxkit a schema
// of its own if another tool already uses that name in the same schema.
//
// # Expired rows
//
// Expired rows are invisible as soon as they expire, and deleted in two
// ways: opportunistically (every SweepEvery operations of a DB: Dedup
// claims, Session reads and TakeState calls each delete up to SweepBatch
// expired rows of their table) and by DB.Sweep, which deletes every
// expired token, lease, dedup key, session and OAuth state and may be run
// on a schedule by any instance. The message log is pruned with
// PruneMessages, jobs leave the outbox with CompleteJob.
package postgres
