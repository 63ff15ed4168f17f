package pay

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// ErrMalformed: a body is not the flat XML document WeChat Pay v2 uses
// (<xml><field>value</field>…</xml>): not well-formed, not UTF-8, a field
// with children, a field given twice, or too many fields.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_2
var ErrMalformed = errors.New("pay: malformed XML")

// maxFields caps the fields of one document (a refundquery reply listing 50
// refunds with coupons stays far below it).
const maxFields = 4096

// DecodeXML parses a v2 request, response or notify body: a root element
// <xml> whose children are fields, each holding text or CDATA. It returns
// field name → value, values exactly as sent (no trimming), empty elements
// as "". Attributes, comments and processing instructions are ignored; a
// field with child elements, a repeated field, text outside the fields, a
// DOCTYPE or a namespace prefix is an error wrapping ErrMalformed, so that a
// signature can never cover a value other than the one read. It never
// panics.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_2
func DecodeXML(b []byte) (map[string]string, error) { return decodeFlat(b, "xml") }

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

func isBlank(b []byte) bool { return len(bytes.TrimLeft(b, " \t\r\n")) == 0 }

// decodeFlat parses a flat document whose root element is named root.
func decodeFlat(b []byte, root string) (map[string]string, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	// Prolog, then the root element.
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil, malformed("no <%s> element", root)
		}
		if err != nil {
			return nil, malformed("%v", err)
		}
		if t, ok := tok.(xml.StartElement); ok {
			if t.Name.Space != "" || t.Name.Local != root {
				return nil, malformed("root element <%s>, want <%s>", t.Name.Local, root)
			}
			break
		}
		if err := skippable(tok); err != nil {
			return nil, err
		}
	}
	m := make(map[string]string)
fields:
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, malformed("%v", unexpectedEOF(err))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != "" {
				return nil, malformed("namespaced element <%s:%s>", t.Name.Space, t.Name.Local)
			}
			name := t.Name.Local
			v, err := fieldValue(d, name)
			if err != nil {
				return nil, err
			}
			if _, dup := m[name]; dup {
				return nil, malformed("field %s given twice", name)
			}
			if len(m) == maxFields {
				return nil, malformed("more than %d fields", maxFields)
			}
			m[name] = v
		case xml.EndElement:
			break fields
		case xml.CharData:
			if !isBlank(t) {
				return nil, malformed("text outside the fields")
			}
		default:
			if err := skippable(tok); err != nil {
				return nil, err
			}
		}
	}
	// Nothing but blanks, comments and processing instructions may follow.
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return m, nil
		}
		if err != nil {
			return nil, malformed("%v", err)
		}
		if err := skippable(tok); err != nil {
			return nil, err
		}
	}
}

// fieldValue reads the text of the field just opened, up to its end tag.
func fieldValue(d *xml.Decoder, name string) (string, error) {
	var sb strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			return "", malformed("field %s: %v", name, unexpectedEOF(err))
		}
		switch t := tok.(type) {
		case xml.CharData:
			sb.Write(t)
		case xml.EndElement:
			return sb.String(), nil
		case xml.StartElement:
			return "", malformed("field %s has child elements", name)
		case xml.Directive:
			return "", malformed("directive in field %s", name)
		}
	}
}

// skippable accepts the tokens allowed around elements.
func skippable(tok xml.Token) error {
	switch t := tok.(type) {
	case xml.CharData:
		if !isBlank(t) {
			return malformed("text outside the root element")
		}
	case xml.Comment, xml.ProcInst:
	case xml.Directive:
		return malformed("directives (DOCTYPE) are not allowed")
	case xml.StartElement:
		return malformed("second root element <%s>", t.Name.Local)
	case xml.EndElement:
		return malformed("unexpected end tag </%s>", t.Name.Local)
	}
	return nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// EncodeXML renders params as a v2 document: <xml>, then one element per
// param in key order, numbers as plain text and other values as CDATA (a
// "]]>" inside a value is split across two sections; a value holding a
// carriage return is escaped text instead, since parsers turn a raw CR into
// LF). Keys must be
// non-empty ASCII names ([A-Za-z0-9_], not starting with a digit) and values
// valid UTF-8 made of XML characters; anything else is an error wrapping
// ErrMalformed. Empty values are rendered as empty elements.
//
// WeChat docs: https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=4_2
func EncodeXML(params map[string]string) ([]byte, error) {
	keys := make([]string, 0, len(params))
	n := len("<xml></xml>")
	for k, v := range params {
		if !validName(k) {
			return nil, malformed("field name %q", k)
		}
		if !validText(v) {
			return nil, malformed("field %s: value is not valid XML text", k)
		}
		keys = append(keys, k)
		n += 2*len(k) + len(v) + len("<></><![CDATA[]]>")
	}
	slices.Sort(keys)
	b := make([]byte, 0, n)
	b = append(b, "<xml>"...)
	for _, k := range keys {
		b = appendField(b, k, params[k])
	}
	return append(b, "</xml>"...), nil
}

// appendField appends <k>v</k>, v as plain digits or CDATA.
func appendField(b []byte, k, v string) []byte {
	b = append(b, '<')
	b = append(b, k...)
	b = append(b, '>')
	switch {
	case isDigits(v) || v == "":
		b = append(b, v...)
	case strings.IndexByte(v, '\r') >= 0:
		// A parser turns a raw CR (even in CDATA) into LF, which would
		// break the signature: escape it as a character reference.
		var sb strings.Builder
		_ = xml.EscapeText(&sb, []byte(v)) // writes to a Builder: no error
		b = append(b, sb.String()...)
	default:
		b = appendCDATA(b, v)
	}
	b = append(b, "</"...)
	b = append(b, k...)
	return append(b, '>')
}

// appendCDATA appends v as CDATA sections; v must be valid XML text.
func appendCDATA(b []byte, v string) []byte {
	b = append(b, "<![CDATA["...)
	for {
		i := strings.Index(v, "]]>")
		if i < 0 {
			break
		}
		b = append(b, v[:i+2]...)
		b = append(b, "]]><![CDATA["...)
		v = v[i+2:]
	}
	b = append(b, v...)
	return append(b, "]]>"...)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func validName(k string) bool {
	if k == "" || (k[0] >= '0' && k[0] <= '9') {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			return false
		}
	}
	return !strings.HasPrefix(strings.ToLower(k), "xml")
}

// validText reports whether s is valid UTF-8 made of XML 1.0 characters.
func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !isXMLChar(r) {
			return false
		}
	}
	return true
}

func isXMLChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}
