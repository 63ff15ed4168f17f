// Package message holds the inbound messages and events that WeChat pushes to a
// server, the passive replies a server answers with, and the safe-mode envelope
// that wraps both when messages are encrypted.
//
// Parsing and rendering are hand-written for the flat XML WeChat uses: Parse,
// ParseEnvelope, AppendReply and AppendEnvelope do not use encoding/xml, make
// a handful of allocations and never panic on input. Malformed input is
// reported with an error that wraps ErrMalformed; so are input in another
// encoding than UTF-8 (ErrUnsupportedEncoding), characters that XML 1.0
// forbids (ErrInvalidChar) and, for Parse, a push without the elements its
// kind requires (ErrMissingField).
//
// WeChat docs:
//   - https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
//   - https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
//   - https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
//   - https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
//
// The package imports the standard library only.
package message
