// Package redis holds wxkit's Redis stores on github.com/redis/go-redis/v9,
// for gateways scaled out over several instances: one Client opened with Open
// (or wrapping an existing go-redis client with New), shared by every store.
package redis
