// Package wxkit holds the vocabulary shared by every wxkit package: the
// errcode/errmsg envelope that WeChat answers with ([APIError] and its
// sentinels), [Timestamp] for Unix-second times, and redaction helpers that
// keep secrets out of logs and error strings.
//
// It imports the standard library only. The clients live in sub-packages:
// [github.com/wxkit/wxkit/mp] (Official Account APIs),
// [github.com/wxkit/wxkit/webhook] (the message server),
// [github.com/wxkit/wxkit/token] (access_token and jsapi_ticket sources that
// are safe across processes), and the emulator of the platform in
// [github.com/wxkit/wxkit/emulator].
package wxkit
