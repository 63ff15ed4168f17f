// Package storetest is the conformance suite of the store interfaces: every
// backend (store/sqlite, store/postgres, store/redis for the kinds it
// holds) runs it from its own tests, after the manner of testing/slogtest:
//
//	func TestConformance(t *testing.T) {
//		storetest.TestUsers(t, func(t *testing.T) store.Users { return openFresh(t) })
//		storetest.TestSessions(t, …)
//	}
//
// Each constructor is called once per subtest and must return a store of
// its own (a new file, schema or key prefix), registering its cleanup on
// the t it is given. The suite checks behaviour through the interfaces
// only: expiry against the caller's clock, single use, conflicts, and
// concurrency (many goroutines on one handle; backends add their own
// cross-process tests with several handles).
//
// Tokens and locks are covered by token/tokentest, dedup claims by
// webhook/webhooktest.TestDedupStore.
package storetest
