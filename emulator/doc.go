// Package emulator is an offline fake of the WeChat platform: it answers
// the APIs of api.weixin.qq.com, open.weixin.qq.com and api.mch.weixin.qq.com
// on one http.Handler, and pushes signed (and, in compat and safe mode,
// encrypted) messages to the accounts' servers, with the lifetimes, quotas,
// errcodes and retry schedule of the real platform (docs/PLATFORM.md).
//
// It is the other side of the wire: it never uses wxkit's client code to
// answer a request, only the shared protocol packages (wxkit, wxcrypto).
//
// Use it in-process (emulator.New, or emulatortest.New in tests) or through
// `wxkit emulator --listen ADDR --config FILE`. Its time is an injectable
// Clock plus an offset moved by Advance (or POST /_emulator/clock), so that
// tokens expire and quotas reset without waiting.
//
// # Control API
//
// Served under /_emulator/ on the same listener; JSON in and out; errors are
// {"error":"..."} with a 4xx status.
//
//	GET    /_emulator/apps                    {"apps":[AppInfo...]} (no secrets)
//	GET    /_emulator/apps/{appid}            AppInfo
//	PATCH  /_emulator/apps/{appid}            {"push_url":"http://..."} → AppInfo
//	POST   /_emulator/apps/{appid}/push       PushRequest → PushResult
//	GET    /_emulator/apps/{appid}/messages   ?user=openid → {"messages":[ConversationEntry...]}
//	GET    /_emulator/clock                   {"now":RFC3339,"unix":N,"offset":"2h0m0s"}
//	POST   /_emulator/clock                   {"advance":"2h"} → same as GET
//	GET    /_emulator/faults                  {"faults":[Fault...]}
//	POST   /_emulator/faults                  Fault → {"faults":[...]}
//	DELETE /_emulator/faults                  clears all faults
//	GET    /_emulator/stats                   Stats
//	DELETE /_emulator/stats                   resets the counters
//
// A push, for example:
//
//	POST /_emulator/apps/wx0123456789abcdef/push
//	{"user":"oWxkt1Qy6Fh0bK7Xc2Lp9Tn3Rs4A","type":"text","content":"hello"}
//
//	200 {"appid":"wx0123456789abcdef","user":"oWxkt1Qy6Fh0bK7Xc2Lp9Tn3Rs4A",
//	     "message":{"to_user_name":"gh_0123456789ab","from_user_name":"oWxkt1...","create_time":1740794400,
//	                "msg_type":"text","content":"hello","msg_id":"7476740545287438337","xml":"<xml>...</xml>"},
//	     "attempts":[{"status":200,"duration":"1.2ms","body":"<xml><Encrypt>...</xml>"}],
//	     "reply":{"type":"text","content":"world","create_time":1740794400,"encrypted":true,"xml":"<xml>...</xml>"},
//	     "no_reply":false,"user_sees":"world"}
//
// A failed push has "user_sees":"该公众号暂时无法提供服务，请稍后再试" and an "error".
//
// # Extending the route table
//
// Files of this package register platform routes from init() with
// handle(path, handler); handlers check the token with requireToken, answer
// with writeJSON / writeErr / writeErrMsg / writeAPIError (so that stats see
// the errcode), count daily quotas with app.takeQuota and dailyLimit, and
// keep per-app state in a struct reached through appExt.
//
// # The browser page
//
//	GET  /  (and /ui/)                   a page that looks like the WeChat app: pick an app and
//	                                     a user, chat, tap the custom menu, follow/unfollow, scan,
//	                                     send a location; a dev drawer shows the XML of each push
//
// The page and its helper routes (/ui/api/menu, /ui/api/click) are not
// platform calls: they are neither counted in stats nor subject to faults.
//
// # Platform APIs served here
//
//	GET  /cgi-bin/token                  access_token (2000/day, 5-minute overlap)
//	POST /cgi-bin/stable_token           stable access_token (force_refresh 20/day, 30 s apart)
//	GET  /cgi-bin/ticket/getticket       jsapi / wx_card ticket
//	GET  /connect/oauth2/authorize       web authorization (consent page for snsapi_userinfo,
//	                                     silent for snsapi_base, apps[].oauth.auto_approve for tests)
//	GET  /sns/oauth2/access_token        code → sns access_token (codes single use, 5 minutes)
//	GET  /sns/oauth2/refresh_token       refresh_token (30 days)
//	GET  /sns/userinfo                   user profile (snsapi_userinfo only, else 48001)
//	GET  /sns/auth                       sns access_token check
//	     /cgi-bin/menu/…, user/…, tags/…, message/…, media/…, material/…, qrcode/…
//	                                     the Official Account APIs (see mp_*.go)
//
// Every API that takes an access_token checks it first: 41001 missing,
// 40014 malformed, 40001 unknown or superseded, 42001 expired. Every errmsg
// ends with " rid: xxxxxxxx-xxxxxxxx-xxxxxxxx" as on the real platform.
package emulator
