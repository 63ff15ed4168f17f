// Package token holds the access_token and jsapi_ticket machinery shared by
// every wxkit client: the Token value, the Source interface, the Store
// interface that lets many processes share one token, CachedSource (which
// makes exactly one upstream fetch per token lifetime across every process
// sharing a Store), and the providers that talk to WeChat
// (cgi-bin/stable_token, cgi-bin/token, cgi-bin/ticket/getticket, and for
// Open Platform components cgi-bin/component/api_component_token and
// api_authorizer_token) or to the wxkit gateway's central token service
// (Remote).
//
// Store keys are namespaced by kind (AccessTokenKey, JSAPITicketKey,
// ComponentTokenKey, ComponentTicketKey, AuthorizerTokenKey), so that an
// app's own token, a component's token and an authorizer's token for the
// same AppID never clash.
//
// A typical wiring, which mp.NewClient does for you:
//
//	store := &token.MemoryStore{} // or store/sqlite, store/redis
//	src := token.NewCachedSource(store, token.AccessTokenKey(appID),
//		token.NewStableTokenProvider(appID, secret))
//	tok, err := src.Token(ctx)
//
// The package imports the standard library, golang.org/x/sync and the root
// wxkit package only. No error or log line it produces carries a secret or a
// token value.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/developers/dev/AccessToken.html
package token
