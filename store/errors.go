package store

import "errors"

// ErrNotFound is returned when a record does not exist, has expired or, for
// single-use records (OAuth states), has been used already.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when a write would break a uniqueness rule that
// the caller must know about (a session id or an OAuth state nonce that
// exists). Writes that are idempotent by contract do not return it: an
// outbox job whose key exists is left as it is (Outbox.EnqueueJob).
var ErrConflict = errors.New("store: conflict")
