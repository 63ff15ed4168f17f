package token

import "context"

// A Source returns a valid token, fetching a new one when needed. Token must
// be safe for concurrent use by many goroutines. Unlike oauth2.TokenSource it
// takes a ctx, whose cancellation or deadline bounds the call.
type Source interface {
	Token(ctx context.Context) (*Token, error)
}

// SourceFunc adapts an ordinary function to a Source.
type SourceFunc func(ctx context.Context) (*Token, error)

// Token calls f(ctx).
func (f SourceFunc) Token(ctx context.Context) (*Token, error) { return f(ctx) }

// An Invalidator is told that a token it handed out was rejected by WeChat
// (errcode 40001, 40014 or 42001). It must forget bad only if bad is still the
// token it holds, so that a burst of rejections of the same token causes one
// refresh, not a stampede. CachedSource implements it; API clients call it
// before their single retry.
type Invalidator interface {
	Invalidate(ctx context.Context, bad *Token) error
}

// A Rejecter is an optional interface of the fetching Source given to
// NewCachedSource: CachedSource calls Reject after it invalidated bad, so that
// the provider can ask for a really new token on its next fetch (the
// stable_token provider then sets force_refresh). Reject must not block.
type Rejecter interface {
	Reject(bad *Token)
}
