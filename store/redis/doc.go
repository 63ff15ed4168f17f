// Package redis holds wxkit's Redis stores on github.com/redis/go-redis/v9,
// for gateways scaled out over several instances: one Client opened with Open
// (or wrapping an existing go-redis client with New), shared by every store.
//
// A *Client implements store.Sessions, store.OAuthStates and store.Pinger
// directly; TokenStore (token.Store) and Dedup (webhook.DedupStore) are
// built on it with NewTokenStore and NewDedup.
package redis
