package token_test

import (
	"testing"

	"github.com/wxkit/wxkit/token"
	"github.com/wxkit/wxkit/token/tokentest"
)

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	tokentest.TestStore(t, func(t *testing.T) token.Store { return &token.MemoryStore{} })
}

func TestMemoryStoreShared(t *testing.T) {
	t.Parallel()
	tokentest.TestSharedStore(t, func(t *testing.T, n int) []token.Store {
		s := &token.MemoryStore{}
		out := make([]token.Store, n)
		for i := range out {
			out[i] = s
		}
		return out
	})
}
