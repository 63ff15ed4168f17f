package message

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// DedupKey returns the key that identifies a push across WeChat's retries
// (WeChat retries a push three times when it gets no answer in 5 s):
//   - "msg:<MsgId>" when MsgID != 0;
//   - "info:<AppID>:<CreateTime>:<InfoType>" for Open Platform pushes,
//     with ":<AuthorizerAppid>" when the push names an authorizer (two
//     accounts authorizing in the same second are two pushes);
//   - "evt:<FromUserName>:<CreateTime>:<Event>" otherwise, with
//     ":<EventKey>" when the event has one. WeChat's docs name
//     FromUserName + CreateTime; a retry repeats every field, so the
//     EventKey changes nothing for retries, while two menu taps of one
//     user within a second (two keys) stay two events.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
func (m *Message) DedupKey() string {
	var b []byte
	switch {
	case m.MsgID != 0:
		b = make([]byte, 0, 24)
		b = append(b, "msg:"...)
		b = strconv.AppendInt(b, m.MsgID, 10)
	case m.InfoType != "":
		b = make([]byte, 0, 9+len(m.AppID)+20+len(m.InfoType)+len(m.AuthorizerAppID))
		b = append(b, "info:"...)
		b = append(b, m.AppID...)
		b = append(b, ':')
		b = strconv.AppendInt(b, m.CreateTime, 10)
		b = append(b, ':')
		b = append(b, m.InfoType...)
		if m.AuthorizerAppID != "" {
			b = append(b, ':')
			b = append(b, m.AuthorizerAppID...)
		}
	default:
		b = make([]byte, 0, 9+len(m.FromUserName)+20+len(m.Event)+len(m.EventKey))
		b = append(b, "evt:"...)
		b = append(b, m.FromUserName...)
		b = append(b, ':')
		b = strconv.AppendInt(b, m.CreateTime, 10)
		b = append(b, ':')
		b = append(b, m.Event...)
		if m.EventKey != "" {
			b = append(b, ':')
			b = append(b, m.EventKey...)
		}
	}
	return string(b)
}

// SceneID returns the QR-code scene of a subscribe or SCAN event: EventKey
// without the "qrscene_" prefix that subscribe events carry. It returns ""
// for other messages and for a subscribe without a QR code.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
func (m *Message) SceneID() string {
	switch m.Event {
	case EventTypeSubscribe:
		if s, ok := strings.CutPrefix(m.EventKey, "qrscene_"); ok {
			return s
		}
		return ""
	case EventTypeScan:
		return m.EventKey
	}
	return ""
}

// DeviceContent returns the base64-decoded Content of a device_text or
// device_event message (device payloads are base64 on the wire).
//
// WeChat docs: https://iot.weixin.qq.com/wiki/new/index.html?page=3-4-2
func (m *Message) DeviceContent() ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.TrimSpace(m.Content))
}
