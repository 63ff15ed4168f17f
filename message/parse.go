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
// references, comments, processing instructions and an XML declaration. It
// rejects malformed input (truncated, unclosed CDATA, mismatched tags,
// nesting deeper than MaxDepth, unknown entities, a DOCTYPE) with an error
// wrapping ErrMalformed, and input longer than MaxSize with ErrTooLarge.
//
// Parse does not copy b: Message.Raw aliases it, so the caller must not
// modify b afterwards. String fields share one copy of the document.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
func Parse(b []byte) (*Message, error) {
	if len(b) > MaxSize {
		return nil, ErrTooLarge
	}
	s := string(b)
	rootName, i, empty, err := root(s)
	if err != nil {
		return nil, err
	}
	m := &Message{Raw: b}
	if empty {
		return m, trailer(s, i)
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
	return m, nil
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
