// Package openplatform is the server side of a WeChat Open Platform
// third-party platform (第三方平台, a "component"): the accounts (Official
// Accounts and Mini Programs) that authorize it let it act for them.
//
// A Component
//
//   - receives, at its authorization event URL (NotifyServer), the
//     encrypted component_verify_ticket that WeChat pushes every 10 minutes,
//     keeps the latest per component in a shared token.Store (valid 12
//     hours), and the authorized, updateauthorized and unauthorized events;
//   - gets the component_access_token (api_component_token) through a
//     token.CachedSource: one fetch per token lifetime across every
//     instance sharing the store; without a ticket newer than 12 hours
//     every component call fails with ErrNoTicket;
//   - creates pre-authorization codes (PreAuthCode) and the PC and mobile
//     authorization links (AuthorizeURL, MobileAuthorizeURL);
//   - exchanges authorization codes (QueryAuth), keeping each authorizer in
//     a store.Authorizers with its refresh token encrypted (AES-256-GCM,
//     WithRefreshTokenCipher) and durable, and reads accounts
//     (AuthorizerInfo);
//   - acts for an authorizer with its access token (AuthorizerTokenSource,
//     refreshed from the stored refresh token) through the same mp client
//     as an Official Account's own (MPClient);
//   - receives the messages of its authorizers (MessageServer), which the
//     platform encrypts with the component's token and key.
//
// Wiring, for every instance of a deployment:
//
//	aead, _ := openplatform.NewRefreshTokenCipher(key) // 32 bytes, the same everywhere
//	c, err := openplatform.NewComponent(appID, secret, msgToken, aesKey,
//		openplatform.WithTokenStore(tokens),   // shared: tickets and tokens
//		openplatform.WithAuthorizers(db),      // store/sqlite, store/postgres
//		openplatform.WithRefreshTokenCipher(aead))
//	http.Handle("POST /component/notify", c.NotifyServer())
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/creat_token.html
package openplatform
