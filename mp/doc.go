// Package mp is the client of the WeChat Official Account (公众号) server
// API at api.weixin.qq.com: one Client per app, built with NewClient, and a
// service per API area (menus, users, tags, templates, media, QR codes,
// customer service, JS-SDK), each declared as
//
//	type MenuService service
//
// and reached through an accessor defined in the service's own file:
//
//	func (c *Client) Menu() *MenuService { return (*MenuService)(&c.common) }
//
// Every call goes through Client.Do, which injects the access_token, checks
// errcode on every reply (HTTP 200 included) into a *wxkit.APIError, on
// 40001/40014/42001 invalidates the rejected token and retries once, and
// retries -1 (system busy) and 45011 (minute quota) with backoff within the
// ctx's deadline. Tokens come from a token.CachedSource over
// cgi-bin/stable_token by default, shared across processes through the
// token.Store given with WithStore.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/en/Getting_Started/Overview.html
package mp
