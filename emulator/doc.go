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
// # Platform APIs served here
//
//	GET  /cgi-bin/token                  access_token (2000/day, 5-minute overlap)
//	POST /cgi-bin/stable_token           stable access_token (force_refresh 20/day, 30 s apart)
//	GET  /cgi-bin/ticket/getticket       jsapi / wx_card ticket
//
// Every API that takes an access_token checks it first: 41001 missing,
// 40014 malformed, 40001 unknown or superseded, 42001 expired. Every errmsg
// ends with " rid: xxxxxxxx-xxxxxxxx-xxxxxxxx" as on the real platform.
package emulator
