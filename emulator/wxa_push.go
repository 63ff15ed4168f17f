package emulator

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/wxkit/wxkit/wxcrypto"
)

// MiniProgramServiceUnavailableText is what the WeChat client shows a Mini
// Program user in the customer-service session when the Mini Program's
// server does not answer a push in time or answers something invalid.
const MiniProgramServiceUnavailableText = "该小程序客服暂时无法提供服务，请稍后再试"

// unavailableText returns what a user of a sees when a push fails.
func unavailableText(a *app) string {
	if a.cfg.Type == AppTypeMiniProgram {
		return MiniProgramServiceUnavailableText
	}
	return ServiceUnavailableText
}

// pushJSONNumbers are the elements a JSON push carries as numbers.
var pushJSONNumbers = map[string]bool{"CreateTime": true, "MsgId": true}

// pushJSON renders the plaintext XML of a push as the JSON a Mini Program in
// JSON format receives: one field per element, in order, CreateTime and
// MsgId as numbers, other values as strings, nested elements as objects:
//
//	{"ToUserName":"gh_...","FromUserName":"o...","CreateTime":1482048670,
//	 "MsgType":"text","Content":"this is a test","MsgId":1234567890123456}
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html
func pushJSON(xmlText string) (string, error) {
	dec := xml.NewDecoder(strings.NewReader(xmlText))
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", fmt.Errorf("%w: message XML: %v", ErrBadPushRequest, err)
		}
		if _, ok := tok.(xml.StartElement); ok {
			break
		}
	}
	var b bytes.Buffer
	if err := writeJSONObject(&b, dec, nil); err != nil {
		return "", fmt.Errorf("%w: message XML: %v", ErrBadPushRequest, err)
	}
	return b.String(), nil
}

// writeJSONObject writes the child elements of the element being read,
// first (already read) included when not nil, up to its end, as a JSON
// object.
func writeJSONObject(b *bytes.Buffer, dec *xml.Decoder, first *xml.StartElement) error {
	b.WriteByte('{')
	n := 0
	field := func(se xml.StartElement) error {
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		writeJSONString(b, se.Name.Local)
		b.WriteByte(':')
		return writeJSONValue(b, dec, se)
	}
	if first != nil {
		if err := field(*first); err != nil {
			return err
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := field(t); err != nil {
				return err
			}
		case xml.EndElement:
			b.WriteByte('}')
			return nil
		}
	}
}

// writeJSONValue writes element start (already read) as a JSON value: an
// object when it has child elements (text between them is layout), else
// its text, a number for the elements of pushJSONNumbers.
func writeJSONValue(b *bytes.Buffer, dec *xml.Decoder, start xml.StartElement) error {
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.CharData:
			text.Write(t)
		case xml.StartElement:
			return writeJSONObject(b, dec, &t)
		case xml.EndElement:
			v := text.String()
			if n := strings.TrimSpace(v); pushJSONNumbers[start.Name.Local] {
				if _, err := strconv.ParseInt(n, 10, 64); err == nil {
					b.WriteString(n)
					return nil
				}
			}
			writeJSONString(b, v)
			return nil
		}
	}
}

// writeJSONString writes s as a JSON string, without HTML escaping.
func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Truncate(b.Len() - 1) // the newline Encode adds
}

// pushJSONBody returns the body of a JSON push in compat or safe mode:
// compat sends the plaintext fields and "Encrypt" together, safe only
// {"ToUserName","Encrypt"}.
func pushJSONBody(mode Mode, in *InboundMessage, enc string) []byte {
	var b bytes.Buffer
	if mode == ModeCompat {
		b.WriteString(strings.TrimSuffix(strings.TrimSpace(in.JSON), "}"))
		b.WriteByte(',')
	} else {
		b.WriteString(`{"ToUserName":`)
		writeJSONString(&b, in.ToUserName)
		b.WriteByte(',')
	}
	b.WriteString(`"Encrypt":`)
	writeJSONString(&b, enc)
	b.WriteByte('}')
	return b.Bytes()
}

// flatFields decodes a flat XML document (<xml><A>..</A>...</xml>) or JSON
// object into its top-level fields as text (JSON numbers as written). It
// returns the XML root's name ("" for JSON).
func flatFields(body []byte, asJSON bool) (string, map[string]string, error) {
	out := map[string]string{}
	if asJSON {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(body, &raw); err != nil {
			return "", nil, err
		}
		for k, v := range raw {
			var s string
			if json.Unmarshal(v, &s) == nil {
				out[k] = s
				continue
			}
			out[k] = string(bytes.TrimSpace(v))
		}
		return "", out, nil
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	root := ""
	depth := 0
	var name string
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if root == "" {
				return "", nil, errors.New("no root element")
			}
			return root, out, nil
		}
		if err != nil {
			return "", nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				if root != "" {
					return "", nil, errors.New("more than one root element")
				}
				root = t.Name.Local
			} else if depth == 2 {
				name = t.Name.Local
				text.Reset()
			}
		case xml.CharData:
			if depth == 2 {
				text.Write(t)
			}
		case xml.EndElement:
			if depth == 2 {
				out[name] = text.String()
			}
			depth--
		}
	}
}

// validateMiniProgramReply checks the answer to a push to a Mini Program.
// A Mini Program takes no passive reply but transfer_customer_service
// (which hands the message to the customer-service tool): the server
// answers "success" or an empty body and replies through
// cgi-bin/message/custom/send. The reply, like the push, is XML or JSON as
// the Mini Program is configured; in safe mode it is the envelope
// (Encrypt, MsgSignature, TimeStamp, Nonce). body is not a "no reply".
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/customer-message/trans.html
func validateMiniProgramReply(a *app, tgt pushTarget, in *InboundMessage, body []byte) (*Reply, error) {
	format := "XML"
	if tgt.json {
		format = "JSON"
	}
	root, f, err := flatFields(bytes.TrimSpace(body), tgt.json)
	if err != nil {
		return nil, invalid("not well-formed %s (the Mini Program pushes %s): %v", format, format, err)
	}
	if !tgt.json && root != "xml" {
		return nil, invalid("root element is <%s>, want <xml>", root)
	}
	plain := body
	encrypted := false
	if enc, ok := f["Encrypt"]; ok {
		if tgt.mode == ModePlain || tgt.cipher == nil {
			return nil, invalid("encrypted reply but the Mini Program is in plain mode")
		}
		if f["MsgSignature"] == "" || f["TimeStamp"] == "" || f["Nonce"] == "" {
			return nil, invalid("encrypted reply needs MsgSignature, TimeStamp and Nonce")
		}
		if err := wxcrypto.CheckMsgSignature(f["MsgSignature"], tgt.token, f["TimeStamp"], f["Nonce"], enc); err != nil {
			return nil, invalid("MsgSignature does not match sha1(sort(token, TimeStamp, Nonce, Encrypt))")
		}
		msg, appID, err := tgt.cipher.DecryptBytes([]byte(enc))
		if err != nil {
			return nil, invalid("cannot decrypt Encrypt: %v", err)
		}
		if appID != tgt.cipher.AppID() {
			return nil, invalid("AppID inside the ciphertext is %q, want %q", appID, tgt.cipher.AppID())
		}
		if root, f, err = flatFields(msg, tgt.json); err != nil || (!tgt.json && root != "xml") {
			return nil, invalid("decrypted reply is not a %s message", format)
		}
		plain, encrypted = msg, true
	} else if tgt.mode == ModeSafe {
		return nil, invalid("safe mode requires an encrypted reply (Encrypt, MsgSignature, TimeStamp, Nonce)")
	}
	if typ := MsgType(strings.TrimSpace(f["MsgType"])); typ != MsgTypeTransferCustomerService {
		return nil, invalid("a Mini Program takes no passive %q reply: answer success (or an empty body) and send "+
			"customer-service messages with cgi-bin/message/custom/send; only transfer_customer_service is a reply", typ)
	}
	if f["ToUserName"] != in.FromUserName {
		return nil, invalid("ToUserName is %q, want the user's openid %q", f["ToUserName"], in.FromUserName)
	}
	if f["FromUserName"] != a.cfg.OriginalID {
		return nil, invalid("FromUserName is %q, want the Mini Program's original id %q", f["FromUserName"], a.cfg.OriginalID)
	}
	ct, err := strconv.ParseInt(strings.TrimSpace(f["CreateTime"]), 10, 64)
	if err != nil {
		return nil, invalid("CreateTime %q is not an integer", f["CreateTime"])
	}
	return &Reply{Type: MsgTypeTransferCustomerService, CreateTime: ct, Encrypted: encrypted, XML: string(plain)}, nil
}
