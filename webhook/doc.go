// Package webhook receives WeChat message pushes: the URL handshake (GET with
// echostr) and inbound messages and events (POST) in plain, compatible and
// safe mode, for Official Accounts, the Open Platform's authorization-event
// URL and WeCom-style encrypted callbacks.
//
// [Server] is an [http.Handler]. For every POST it caps the body, verifies
// signature or msg_signature in constant time, rejects stale timestamps,
// decrypts and checks the AppID inside the ciphertext, parses the message,
// drops repeated deliveries through a [DedupStore], runs the [Handler] under
// a deadline below WeChat's 5-second limit, renders and (in safe and
// compatible mode) encrypts the passive reply. Handler errors, panics and
// missed deadlines are answered "success", so that WeChat does not retry;
// a reply that arrives after the deadline goes to [Server.LateReply] (the
// customer-service API). Bad input gets a 4xx status and one log line.
//
// [Mux] routes by typed keys: MsgType, EventType, (EventType, EventKey) and
// the Open Platform's InfoType. [Middleware], [Chain] and [Recover] wrap
// handlers in the net/http style.
//
// Package [github.com/wxkit/wxkit/webhook/webhooktest] builds requests
// exactly as WeChat signs and encrypts them, and holds the conformance suite
// for DedupStore implementations.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
// and https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
package webhook
