package store

import "errors"

// ErrNotFound is returned when a record does not exist, has expired or, for
// single-use records (OAuth states), has been used already.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when a write would break a uniqueness rule that
// the caller must know about (an outbox job whose key exists with another
// payload, a session id that exists).
var ErrConflict = errors.New("store: conflict")
