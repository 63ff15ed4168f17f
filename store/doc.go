// Package store holds the domain types that wxkit keeps (users, sessions,
// OAuth login states, logged messages, outbox jobs) and the small
// interfaces through which the gateway reads and writes them.
//
// It imports no database driver. The implementations live beside it, one
// package per backend:
//
//	store/sqlite    the embedded default: one file, one instance (or a few
//	                processes on one host)
//	store/postgres  scale-out: any number of instances on one database
//	store/redis     optional accelerator for the ephemeral kinds (tokens,
//	                locks, dedup claims, OAuth states, sessions)
//
// and store/storetest is the conformance suite that each of them passes, so
// that the gateway behaves the same on all of them.
//
// Every interface here is safe for concurrent use, and processes that share
// one backing database see each other's writes: that is what lets N gateway
// instances behave as one. Times are compared with the caller's clock
// (arguments named now), never the database's, so that tests and the
// emulator's clock can move time.
//
// Errors: a missing record is ErrNotFound (wrapped or not; test with
// errors.Is). A backend that cannot be reached returns its own error,
// which callers treat as "store unavailable".
package store
