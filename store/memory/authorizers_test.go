package memory_test

import (
	"testing"

	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/store/memory"
	"github.com/wxkit/wxkit/store/storetest"
)

func TestAuthorizersConformance(t *testing.T) {
	t.Parallel()
	storetest.TestAuthorizers(t, func(*testing.T) store.Authorizers { return new(memory.Store) })
}
