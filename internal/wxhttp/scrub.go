package wxhttp

import "github.com/wxkit/wxkit"

// Scrub returns err made safe to log: the query of any *url.Error in it (net/http
// puts the full URL, access_token included, in its errors) is removed, and
// any of secrets still in the message is replaced by "***". An error that
// needed the second step keeps only its context error (for errors.Is) in its
// chain. APIErrors pass through unchanged (they never carry a query).
func Scrub(err error, secrets ...string) error { return wxkit.ScrubError(err, secrets...) }
