package message

import (
	"strconv"
	"strings"
)

// Parse parses an inbound push (the plaintext XML of a normal message, an
// event or an Open Platform InfoType push). Every top-level element with a
// typed field of Message sets it; the others, in document order, go to
// Message.Extra. The root element may have any name (WeChat uses <xml>).
//
// Parse accepts CDATA sections, the predefined entities and character
// references, comments, processing instructions and an XML declaration
// (with no encoding or encoding="UTF-8"). It rejects, with an error
// wrapping ErrMalformed:
//   - malformed input (truncated, unclosed CDATA, mismatched tags, nesting
//     deeper than MaxDepth, unknown entities, a DOCTYPE);
//   - another encoding than UTF-8 (ErrUnsupportedEncoding) and characters
//     XML 1.0 forbids (ErrInvalidChar), as CheckDocument does;
//   - a push without the elements its kind requires (a *MissingFieldError,
//     matching ErrMissingField): an Open Platform push (one with a
//     non-empty <InfoType>) requires <AppId>, <CreateTime> and
//     <InfoType>; every other push, messages and events alike, requires
//     <ToUserName>, <FromUserName>, <CreateTime> and <MsgType>. An element
//     counts as missing when it is absent or empty, and <CreateTime> also
//     when it is not a positive integer (these are what DedupKey and a
//     reply are built from).
//
// Input longer than MaxSize is rejected with ErrTooLarge.
//
// Parse does not copy b: Message.Raw aliases it, so the caller must not
// modify b afterwards. String fields share one copy of the document.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
func Parse(b []byte) (*Message, error) {
	if len(b) > MaxSize {
		return nil, ErrTooLarge
	}
	if err := CheckDocument(b); err != nil {
		return nil, err
	}
	s := string(b)
	rootName, i, empty, err := root(s)
	if err != nil {
		return nil, err
	}
	m := &Message{Raw: b}
	if empty {
		if err := trailer(s, i); err != nil {
			return nil, err
		}
		return nil, m.missing()
	}
	var seen [2]uint64
	for {
		n, next, done, err := nextChild(s, i, 1, rootName)
		if err != nil {
			return nil, err
		}
		i = next
		if done {
			break
		}
		idx, ok := lookupField(n.name)
		if ok && seen[idx>>6]&(1<<(idx&63)) == 0 {
			var final bool
			ok, final, err = fields[idx].set(m, n)
			if err != nil {
				return nil, err
			}
			if final {
				seen[idx>>6] |= 1 << (idx & 63)
			}
		} else {
			ok = false
		}
		if !ok {
			m.Extra = append(m.Extra, elementOf(n))
		}
	}
	if err := trailer(s, i); err != nil {
		return nil, err
	}
	if err := m.missing(); err != nil {
		return nil, err
	}
	return m, nil
}

// missing returns a *MissingFieldError for the first element that m's kind
// requires and lacks (see Parse), or nil.
func (m *Message) missing() error {
	var field string
	if m.InfoType != "" {
		switch {
		case m.AppID == "":
			field = "AppId"
		case m.CreateTime <= 0:
			field = "CreateTime"
		}
	} else {
		switch {
		case m.ToUserName == "":
			field = "ToUserName"
		case m.FromUserName == "":
			field = "FromUserName"
		case m.CreateTime <= 0:
			field = "CreateTime"
		case m.MsgType == "":
			field = "MsgType"
		}
	}
	if field == "" {
		return nil
	}
	return &MissingFieldError{Field: field}
}

func elementOf(n node) Element {
	if n.nested {
		return Element{Name: n.name, Value: n.inner, Nested: true}
	}
	return Element{Name: n.name, Value: n.text}
}

// Get returns the text of the element at path, which names elements below the
// root separated by "/", each optionally followed by a 0-based index among
// same-named siblings: "Content", "ScanCodeInfo/ScanType",
// "SubscribeMsgPopupEvent/List[1]/TemplateId". Names match the wire spelling
// exactly (a document with <MsgID> has no "MsgId"). For an element with children
// it returns the raw inner XML. ok is false when there is no such element or
// the path is invalid.
//
// Get reads m.Raw; for a Message built in code (Raw nil) it reads the
// document AppendXML renders.
func (m *Message) Get(path string) (value string, ok bool) {
	src := m.Raw
	if src == nil {
		src = m.AppendXML(nil)
	}
	if path == "" {
		return "", false
	}
	s := string(src)
	name, i, empty, err := root(s)
	if err != nil || empty {
		return "", false
	}
	parent, depth := name, 1
	for {
		seg, rest, more := strings.Cut(path, "/")
		want, idx, valid := splitIndex(seg)
		if !valid {
			return "", false
		}
		var found node
		for {
			n, next, done, err := nextChild(s, i, depth, parent)
			if err != nil || done {
				return "", false
			}
			if n.name == want {
				if idx == 0 {
					found = n
					i = next
					break
				}
				idx--
			}
			i = next
		}
		if !more {
			if found.nested {
				return found.inner, true
			}
			return found.text, true
		}
		// Descend: scan the found element's content.
		s = found.inner + "</" + found.name + ">"
		i, parent, path = 0, found.name, rest
		depth++
	}
}

// splitIndex splits "Name[3]" into ("Name", 3).
func splitIndex(seg string) (name string, idx int, ok bool) {
	if seg == "" {
		return "", 0, false
	}
	k := strings.IndexByte(seg, '[')
	if k < 0 {
		return seg, 0, true
	}
	if k == 0 || seg[len(seg)-1] != ']' {
		return "", 0, false
	}
	v, err := strconv.Atoi(seg[k+1 : len(seg)-1])
	if err != nil || v < 0 {
		return "", 0, false
	}
	return seg[:k], v, true
}
