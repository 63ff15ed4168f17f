package token

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"time"
)

// Errors returned by Store implementations.
var (
	// ErrNotFound is returned by Store.Get when the key holds no token or
	// only an expired one.
	ErrNotFound = errors.New("token: not found")
	// ErrLocked is returned by Store.Lock when another holder has a live
	// lease on the key.
	ErrLocked = errors.New("token: locked by another holder")
)

// Store persists tokens so that several processes share one access_token
// (fetching a new one through /cgi-bin/token invalidates the old one).
// Implementations must be safe for concurrent use, and processes sharing the
// same backing store (one Redis, one SQLite file) must see each other's
// writes and locks.
//
// Lock's key space is separate from the tokens': locking key does not touch
// the token stored under key. A lease ends at ttl or when its unlock function
// is called, whichever is first; an unlock after the lease has ended (and
// maybe been taken by another holder) must not release the new holder's lease.
type Store interface {
	// Get returns the token under key, or ErrNotFound if there is none or it
	// has expired.
	Get(ctx context.Context, key string) (*Token, error)
	// Set stores t under key until t.Expiry (forever if t.Expiry is zero).
	// Setting a token that has already expired removes key.
	Set(ctx context.Context, key string, t *Token) error
	// Delete removes key; deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
	// Lock leases key for at most ttl; ErrLocked if another holder has it.
	Lock(ctx context.Context, key string, ttl time.Duration) (unlock func(context.Context) error, err error)
}

// A ValueDeleter is an optional interface of a Store that can delete a key
// only while it still holds a given value, atomically. CachedSource.Invalidate
// uses it when present; otherwise it does a Get, a compare and a Delete.
type ValueDeleter interface {
	// DeleteValue removes key if it holds a token whose Value is value, and
	// reports whether it did.
	DeleteValue(ctx context.Context, key, value string) (bool, error)
}

// MemoryStore is a Store in process memory: tokens are shared by the
// goroutines of one process only. The zero value is ready to use. Now, when
// set, replaces time.Now (for tests).
type MemoryStore struct {
	Now func() time.Time

	mu     sync.Mutex
	tokens map[string]Token
	locks  map[string]memLease
}

type memLease struct {
	holder string
	until  time.Time
}

var (
	_ Store        = (*MemoryStore)(nil)
	_ ValueDeleter = (*MemoryStore)(nil)
)

func (s *MemoryStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Get implements Store.
func (s *MemoryStore) Get(ctx context.Context, key string) (*Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[key]
	if !ok {
		return nil, ErrNotFound
	}
	if !t.validAt(s.now()) {
		delete(s.tokens, key)
		return nil, ErrNotFound
	}
	return &t, nil
}

// Set implements Store.
func (s *MemoryStore) Set(ctx context.Context, key string, t *Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t == nil {
		return errors.New("token: MemoryStore.Set: nil token")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !t.validAt(s.now()) {
		delete(s.tokens, key)
		return nil
	}
	if s.tokens == nil {
		s.tokens = make(map[string]Token)
	}
	s.tokens[key] = *t
	return nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, key)
	return nil
}

// DeleteValue implements ValueDeleter.
func (s *MemoryStore) DeleteValue(ctx context.Context, key, value string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[key]
	if !ok || t.Value != value {
		return false, nil
	}
	delete(s.tokens, key)
	return true, nil
}

// Lock implements Store.
func (s *MemoryStore) Lock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if ttl <= 0 {
		return nil, errors.New("token: MemoryStore.Lock: ttl must be positive")
	}
	holder := NewHolderID()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if l, ok := s.locks[key]; ok && now.Before(l.until) {
		return nil, ErrLocked
	}
	if s.locks == nil {
		s.locks = make(map[string]memLease)
	}
	s.locks[key] = memLease{holder: holder, until: now.Add(ttl)}
	return func(context.Context) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if l, ok := s.locks[key]; ok && l.holder == holder {
			delete(s.locks, key)
		}
		return nil
	}, nil
}

// NewHolderID returns a random 128-bit lock holder id in hex, for Store
// implementations that need one.
func NewHolderID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
