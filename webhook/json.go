package webhook

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/wxcrypto"
)

// Format is the data format of an account's pushes (数据格式). Mini Programs
// (and Mini Games) choose XML or JSON on their console; Official Accounts
// and the Open Platform push XML.
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html
type Format string

const (
	// FormatXML: pushes are XML (the default, also when Server.Format is
	// empty).
	FormatXML Format = "xml"
	// FormatJSON: pushes are JSON. Plaintext pushes are the message's JSON
	// object signed with "signature"; encrypted pushes are
	// {"ToUserName", "Encrypt"} (safe mode; compatible mode adds the
	// plaintext fields) with encrypt_type=aes and msg_signature over
	// Encrypt, whose plaintext is the message's JSON object. The scheme
	// (signatures, AES, AppID check, timestamp window, replay check) is the
	// XML one.
	FormatJSON Format = "json"
	// FormatAuto takes a body whose first non-blank byte is '{' as JSON and
	// any other body as XML.
	FormatAuto Format = "auto"
)

// Rejection reasons of JSON pushes.
const (
	reasonJSON        = "malformed message JSON"
	reasonJSONMissing = "malformed message JSON: missing field "
	reasonJSONLarge   = "message JSON too large"
)

// isJSON reports whether body is taken as JSON under format f.
func isJSON(f Format, body []byte) bool {
	switch f {
	case FormatJSON:
		return true
	case FormatAuto:
		b := bytes.TrimLeft(body, " \t\r\n")
		return len(b) > 0 && b[0] == '{'
	}
	return false
}

// readJSON turns the body of a JSON push, whose query readPush has
// validated (and, for a plaintext push, whose signature it has verified),
// into the Message, or writes the rejection and returns ok == false.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, q *query, body []byte, encrypted bool) (m *message.Message, ok bool) {
	plain := body
	if encrypted {
		var env struct {
			Encrypt string `json:"Encrypt"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			s.reject(w, r, http.StatusBadRequest, reasonJSON)
			return nil, false
		}
		if env.Encrypt == "" {
			s.reject(w, r, http.StatusBadRequest, reasonNoEncrypt)
			return nil, false
		}
		if wxcrypto.CheckMsgSignature(q.msgSignature, s.Token, q.timestamp, q.nonce, env.Encrypt) != nil {
			s.reject(w, r, http.StatusForbidden, reasonBadMsgSig)
			return nil, false
		}
		if !s.checkTimestamp(q.ts) {
			s.reject(w, r, http.StatusForbidden, reasonStale)
			return nil, false
		}
		msg, appID, err := s.cfg.cipher.DecryptBytes([]byte(env.Encrypt))
		if err != nil {
			s.reject(w, r, http.StatusBadRequest, reasonCiphertext)
			return nil, false
		}
		if !wxcrypto.Equal(appID, s.AppID) {
			s.reject(w, r, http.StatusForbidden, reasonAppID)
			return nil, false
		}
		plain = msg
	}
	m, err := ParseJSON(plain)
	if err != nil {
		switch mf, isMissing := errors.AsType[*message.MissingFieldError](err); {
		case isMissing:
			s.reject(w, r, http.StatusBadRequest, reasonJSONMissing+mf.Field)
		case errors.Is(err, message.ErrTooLarge):
			s.reject(w, r, http.StatusRequestEntityTooLarge, reasonJSONLarge)
		default:
			s.reject(w, r, http.StatusBadRequest, reasonJSON)
		}
		return nil, false
	}
	return m, true
}

// ParseJSON parses a push in JSON format (the plaintext message object)
// into a message.Message with the fields message.Parse gives for the same
// push in XML: the JSON object is converted into the XML document WeChat
// sends in XML format, which message.Parse then reads, and which
// Message.Raw holds. The conversion, member by member in document order:
//
//   - a string becomes the element's text, a number its literal digits
//     (CreateTime and MsgId may come as either), true and false their
//     names; null members are left out;
//   - an object becomes an element with its members as children; an array
//     becomes one element per item, with the array's name;
//   - "List" at the top level of a subscribe_msg_popup_event,
//     subscribe_msg_change_event or subscribe_msg_sent_event (an object for
//     one template, an array for several) goes into the
//     SubscribeMsgPopupEvent, SubscribeMsgChangeEvent or
//     SubscribeMsgSentEvent element that the XML format wraps it in; such
//     a wrapper member given directly as an array (or an object without
//     "List") is read the same way;
//   - members whose names cannot be XML element names are left out, and
//     characters XML 1.0 forbids become U+FFFD.
//
// Errors: a body that is not one JSON object, or nests deeper than
// message.MaxDepth, wraps message.ErrMalformed; a result larger than
// message.MaxSize is message.ErrTooLarge; a push without its required
// fields is a *message.MissingFieldError (see message.Parse).
//
// WeChat docs: https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/customer-message/receive.html
func ParseJSON(b []byte) (*message.Message, error) {
	doc, err := jsonToXML(b)
	if err != nil {
		return nil, err
	}
	return message.Parse(doc)
}

// subscribeWrappers maps the subscribe-message events to the element that
// wraps their List items in XML.
var subscribeWrappers = map[string]string{
	string(message.EventTypeSubscribeMsgPopup):  "SubscribeMsgPopupEvent",
	string(message.EventTypeSubscribeMsgChange): "SubscribeMsgChangeEvent",
	string(message.EventTypeSubscribeMsgSent):   "SubscribeMsgSentEvent",
}

// errJSON is the error of a body that is not a JSON push.
var errJSON = fmt.Errorf("%w: not a JSON push", message.ErrMalformed)

// jsonToXML converts the JSON object b into <xml>...</xml>.
func jsonToXML(b []byte) ([]byte, error) {
	var head struct {
		Event json.RawMessage `json:"Event"`
	}
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, errJSON
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("%w: %v", message.ErrMalformed, err)
	}
	var event string
	json.Unmarshal(head.Event, &event) // not a string: no event
	cv := converter{buf: make([]byte, 0, len(b)+len(b)/2+64)}
	cv.buf = append(cv.buf, "<xml>"...)
	dec := newDecoder(b)
	if _, err := dec.Token(); err != nil { // '{'
		return nil, errJSON
	}
	for dec.More() {
		name, err := key(dec)
		if err != nil {
			return nil, err
		}
		wrapper, isWrapper := subscribeWrappers[event]
		switch {
		case name == "List" && isWrapper:
			err = cv.wrapped(dec, wrapper, false)
		case name == wrapper && isWrapper:
			err = cv.wrapped(dec, wrapper, true)
		default:
			err = cv.value(dec, name, 1)
		}
		if err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, errJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", message.ErrMalformed)
	}
	cv.buf = append(cv.buf, "</xml>"...)
	return cv.buf, nil
}

func newDecoder(b []byte) *json.Decoder {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec
}

// key reads an object member's name.
func key(dec *json.Decoder) (string, error) {
	t, err := dec.Token()
	if err != nil {
		return "", fmt.Errorf("%w: %v", message.ErrMalformed, err)
	}
	k, ok := t.(string)
	if !ok {
		return "", errJSON
	}
	return k, nil
}

// converter accumulates the XML document.
type converter struct {
	buf []byte
}

// grow fails when the document has passed message.MaxSize.
func (cv *converter) grow() error {
	if len(cv.buf) > message.MaxSize {
		return message.ErrTooLarge
	}
	return nil
}

// wrapped writes the next value as <wrapper><List>...</List>...</wrapper>.
// asWrapper tells that the value was given under the wrapper's own name: an
// object with a "List" member is then the wrapper itself.
func (cv *converter) wrapped(dec *json.Decoder, wrapper string, asWrapper bool) error {
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("%w: %v", message.ErrMalformed, err)
	}
	inner := newDecoder(raw)
	if asWrapper {
		var probe map[string]json.RawMessage
		if json.Unmarshal(raw, &probe) == nil {
			if _, ok := probe["List"]; ok {
				return cv.value(inner, wrapper, 1)
			}
		}
	}
	cv.buf = appendTag(cv.buf, "<", wrapper)
	if err := cv.value(inner, "List", 2); err != nil {
		return err
	}
	cv.buf = appendTag(cv.buf, "</", wrapper)
	return cv.grow()
}

// value writes the next JSON value of dec as element(s) named name at
// depth (the root is depth 0).
func (cv *converter) value(dec *json.Decoder, name string, depth int) error {
	if depth >= message.MaxDepth {
		return fmt.Errorf("%w: nesting deeper than %d", message.ErrMalformed, message.MaxDepth)
	}
	if !validName(name) {
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return fmt.Errorf("%w: %v", message.ErrMalformed, err)
		}
		return nil
	}
	t, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%w: %v", message.ErrMalformed, err)
	}
	switch v := t.(type) {
	case json.Delim:
		switch v {
		case '{':
			cv.buf = appendTag(cv.buf, "<", name)
			for dec.More() {
				k, err := key(dec)
				if err != nil {
					return err
				}
				if err := cv.value(dec, k, depth+1); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // '}'
				return fmt.Errorf("%w: %v", message.ErrMalformed, err)
			}
			cv.buf = appendTag(cv.buf, "</", name)
		case '[':
			// Items take the array's name; nesting counts against the
			// depth limit although arrays add no element.
			for dec.More() {
				if err := cv.value(dec, name, depth+1); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // ']'
				return fmt.Errorf("%w: %v", message.ErrMalformed, err)
			}
		default:
			return errJSON
		}
	case string:
		cv.element(name, v)
	case json.Number:
		cv.element(name, v.String())
	case bool:
		if v {
			cv.element(name, "true")
		} else {
			cv.element(name, "false")
		}
	case nil:
	}
	return cv.grow()
}

// element appends <name>text</name> with text escaped.
func (cv *converter) element(name, text string) {
	cv.buf = appendTag(cv.buf, "<", name)
	var w bytesWriter
	w.b = cv.buf
	xml.EscapeText(&w, []byte(text))
	cv.buf = appendTag(w.b, "</", name)
}

// bytesWriter appends to a slice.
type bytesWriter struct{ b []byte }

func (w *bytesWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func appendTag(dst []byte, open, name string) []byte {
	dst = append(dst, open...)
	dst = append(dst, name...)
	return append(dst, '>')
}

// validName reports whether s can be an XML element name here: an ASCII
// letter or '_' followed by ASCII letters, digits, '_', '-' or '.', at most
// 256 bytes.
func validName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '_':
		case i > 0 && ('0' <= c && c <= '9' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}
