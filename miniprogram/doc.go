// Package miniprogram is the server side of a WeChat Mini Program (小程序):
// the API client (login, session check, phone number, unlimited Mini
// Program codes, subscribe messages) and the cryptography of the data the
// Mini Program hands to its backend (encryptedData, rawData signatures).
//
// The login flow, from the Mini Program's wx.login to a user of the backend:
//
//  1. the Mini Program calls wx.login and sends the code to its backend;
//  2. the backend calls Client.Code2Session(ctx, code) and gets the user's
//     OpenID, UnionID and session_key. The session_key stays on the server:
//     it is never returned to the Mini Program;
//  3. the Mini Program sends data it got from WeChat (wx.getUserInfo,
//     getPhoneNumber of old) as encryptedData and iv, with rawData and
//     signature: CheckRawDataSignature verifies rawData with the
//     session_key, and DecryptUserInfo (or DecryptData) decrypts
//     encryptedData, checking that its watermark names this Mini Program and,
//     when asked, that it is recent.
//
// Client is built on the same API caller as package mp: the access_token of
// the wxa and cgi-bin calls comes from a token.CachedSource over
// cgi-bin/stable_token (shared across processes through WithStore), errcode
// is checked on every reply, and a *wxkit.APIError is returned for a
// non-zero one (compare with errors.Is and the sentinels of package wxkit
// and of this package). Calls that read (CheckSession, WXACodeUnlimited) are
// retried on -1 (system error); calls that use a single-use code
// (Code2Session, PhoneNumber) or send something (SendSubscribeMessage) are
// not, because the platform may have run them. Code2Session is never
// retried at all: its 45011 is a limit per user and minute.
//
// Message push (客服消息 and events sent to the Mini Program's message URL)
// is received by webhook.Server, in XML or JSON (webhook.Server.Format).
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/login.html
package miniprogram
