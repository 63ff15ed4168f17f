// Package oauth implements WeChat Official Account web authorization
// (网页授权, OAuth 2.0 with the snsapi_base and snsapi_userinfo scopes). It is
// shaped like golang.org/x/oauth2.Config: a Config builds the authorize URL
// that the user's WeChat browser is sent to, exchanges the returned code for
// a Token, refreshes it, reads the user's profile and checks a token.
//
// The flow:
//
//  1. Redirect the user to cfg.AuthCodeURL(state). WeChat (or the emulator)
//     shows the consent sheet for ScopeUserInfo, or redirects silently for
//     ScopeBase, to RedirectURL?code=CODE&state=STATE. When the user refuses,
//     the redirect carries state only.
//  2. cfg.Exchange(ctx, code) trades the code (single use, valid 5 minutes)
//     for a Token: an sns access_token (7200 s, distinct from the account's
//     cgi-bin access_token), a refresh_token (30 days) and the user's openid.
//  3. cfg.UserInfo(ctx, tok, LangZhCN) reads the profile (ScopeUserInfo only).
//  4. cfg.Refresh(ctx, tok.RefreshToken) renews the access_token.
//
// Every base URL is configurable (OpenBase, APIBase), so the same Config
// talks to WeChat, to the wxkit emulator or to an httptest server. Errors
// from WeChat are *wxkit.APIError (compare with errors.Is against
// wxkit.ErrInvalidCode, wxkit.ErrCodeBeenUsed, wxkit.ErrInvalidRefreshToken,
// wxkit.ErrRefreshTokenExpired, ...). The AppSecret and the tokens never
// appear in an error.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html
package oauth
