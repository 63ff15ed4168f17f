// Package sqlite holds wxkit's SQLite stores on modernc.org/sqlite (pure Go,
// driver name "sqlite"): one DB handle opened with Open, shared by every
// store, each of which creates its own tables (CREATE TABLE IF NOT EXISTS) in
// its constructor. Several processes may open the same file: WAL mode and a
// busy timeout are set, and every store's writes are single statements or
// IMMEDIATE transactions, so they stay correct across processes.
package sqlite
