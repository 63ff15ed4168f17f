package token

import "context"

// ObserveFetches returns a Source that calls fetch and then tells observe
// about the call's error (nil on success), once per call. Wrap the
// upstream Source given to NewCachedSource with it to count upstream
// fetches (for metrics): the CachedSource calls it only when no process
// sharing its store holds a fresh token, about once per token lifetime.
//
//	fetch := token.ObserveFetches(token.NewStableTokenProvider(appID, secret),
//		func(ctx context.Context, err error) { fetches.Inc() })
//	src := token.NewCachedSource(store, token.AccessTokenKey(appID), fetch)
//
// When fetch implements Rejecter so does the returned Source, forwarding
// Reject, so that wrapping does not lose the stable_token provider's
// force_refresh after an invalidation. observe runs on the fetching
// goroutine after fetch returns; it must be safe for concurrent use and
// must not block. A nil observe returns fetch itself.
func ObserveFetches(fetch Source, observe func(ctx context.Context, err error)) Source {
	if observe == nil {
		return fetch
	}
	o := observedSource{fetch: fetch, observe: observe}
	if r, ok := fetch.(Rejecter); ok {
		return observedRejecter{observedSource: o, rejecter: r}
	}
	return o
}

// observedSource is the Source of ObserveFetches.
type observedSource struct {
	fetch   Source
	observe func(ctx context.Context, err error)
}

// Token calls the wrapped Source and reports the outcome.
func (s observedSource) Token(ctx context.Context) (*Token, error) {
	t, err := s.fetch.Token(ctx)
	s.observe(ctx, err)
	return t, err
}

// observedRejecter is an observedSource over a Rejecter.
type observedRejecter struct {
	observedSource
	rejecter Rejecter
}

// Reject forwards to the wrapped Source.
func (s observedRejecter) Reject(bad *Token) { s.rejecter.Reject(bad) }
