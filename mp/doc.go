// Package mp is the client of the WeChat Official Account (公众号) server
// API at api.weixin.qq.com: one Client per app, built with NewClient, and a
// service per API area (menus, users, tags, templates, media, QR codes,
// customer service, mass messages, JS-SDK, auto-reply settings, data
// statistics, quotas and rids), each
// declared as
//
//	type MenuService service
//
// and reached through an accessor defined in the service's own file:
//
//	func (c *Client) Menu() *MenuService { return (*MenuService)(&c.common) }
//
// Every call goes through Client.Do, which injects the access_token and
// checks errcode on every reply (HTTP 200 included) into a *wxkit.APIError.
//
// Retries. A call that the platform did not run is retried whatever it
// does: on 40001/40014/42001 the rejected token is invalidated and the call
// retried once; on 45011 (minute quota) the call is retried with backoff
// within the ctx's deadline. On -1 (system error) only reads are retried
// (user/info, user/info/batchget, user/get, tags/get, tags/getidlist,
// user/tag/get, menu/get, menu/trymatch, get_current_selfmenu_info,
// media/get, material/get_material, material/get_materialcount,
// template/get_all_private_template, tags/members/getblacklist,
// get_current_autoreply_info, every datacube/..., template/get_industry,
// wxaapi/newtmpl/getcategory, getpubtemplatetitles,
// getpubtemplatekeywords, gettemplate, getcallbackip, get_api_domain_ip,
// openapi/quota/get, openapi/rid/get, mass/get, mass/speed/get, getkflist,
// getonlinekflist, kfsession/getsession, getsessionlist, getwaitcase), each
// marked so in its method
// whatever its HTTP method. Calls that send, create, change or delete are
// not retried on -1, because the platform answers -1 now and then after it
// has done the work and a retry would deliver a message twice; pass the
// CallOption RetryUnsafe to one call, or WithRetryUnsafe to NewClient, to
// retry them anyway. The reads of drafts and publishing (draft/get,
// draft/count, draft/batchget, freepublish/get, freepublish/getarticle,
// freepublish/batchget) and material/batchget_material are marked too.
// Transport errors are never retried. Token and ticket
// fetches (package token) retry -1 and 45011 on their own.
//
// Options are given to NewClient (Option) or to one call (CallOption),
// never through the ctx.
//
// Tokens come from a token.CachedSource over
// cgi-bin/stable_token by default, shared across processes through the
// token.Store given with WithStore.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/en/Getting_Started/Overview.html
package mp
