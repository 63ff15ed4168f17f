package memory_test

import (
	"testing"

	"github.com/wxkit/wxkit/store"
	"github.com/wxkit/wxkit/store/memory"
	"github.com/wxkit/wxkit/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Run("Users", func(t *testing.T) {
		storetest.TestUsers(t, func(*testing.T) store.Users { return new(memory.Store) })
	})
	t.Run("Sessions", func(t *testing.T) {
		storetest.TestSessions(t, func(*testing.T) store.Sessions { return new(memory.Store) })
	})
	t.Run("OAuthStates", func(t *testing.T) {
		storetest.TestOAuthStates(t, func(*testing.T) store.OAuthStates { return new(memory.Store) })
	})
	t.Run("MessageLog", func(t *testing.T) {
		storetest.TestMessageLog(t, func(*testing.T) store.MessageLog { return new(memory.Store) })
	})
	t.Run("Outbox", func(t *testing.T) {
		storetest.TestOutbox(t, func(*testing.T) store.Outbox { return new(memory.Store) })
	})
}
