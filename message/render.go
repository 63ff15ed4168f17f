package message

import "strconv"

// appendCDATA appends v as one or more CDATA sections; a "]]>" inside v is
// split across two sections so that it survives a round trip.
func appendCDATA(dst []byte, v string) []byte {
	dst = append(dst, "<![CDATA["...)
	dst = appendCDATABody(dst, v)
	return append(dst, "]]>"...)
}
func appendCDATAElem(dst []byte, name, v string) []byte {
	dst = appendOpen(dst, name)
	dst = appendCDATA(dst, v)
	return appendClose(dst, name)
}

// appendEscaped appends v with &, < and > escaped (for plain text elements).
func appendEscaped(dst []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '&':
			dst = append(dst, "&amp;"...)
		case '<':
			dst = append(dst, "&lt;"...)
		case '>':
			dst = append(dst, "&gt;"...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func appendTextElem(dst []byte, name, v string) []byte {
	dst = appendOpen(dst, name)
	dst = appendEscaped(dst, v)
	return appendClose(dst, name)
}

func appendIntElem(dst []byte, name string, v int64) []byte {
	dst = appendOpen(dst, name)
	dst = strconv.AppendInt(dst, v, 10)
	return appendClose(dst, name)
}

func appendFloatElem(dst []byte, name string, v float64) []byte {
	dst = appendOpen(dst, name)
	dst = strconv.AppendFloat(dst, v, 'f', -1, 64)
	return appendClose(dst, name)
}

// AppendXML appends m rendered as an inbound push document (<xml>…</xml>) to
// dst and returns the extended slice. It writes every typed field that is set
// (strings non-empty, numbers non-zero, plus zero numbers that the message
// type requires, such as Location_X of a location message and the counts of
// MASSSENDJOBFINISH), in a fixed order, strings as CDATA, then m.Extra in
// order (Nested values are written unescaped). m.Raw is ignored.
//
// Parse(m.AppendXML(nil)) yields a Message equal to m in its typed fields.
// The emulator and webhooktest use it to build pushes.
func (m *Message) AppendXML(dst []byte) []byte {
	dst = append(dst, "<xml>"...)
	for i := range fields {
		dst = fields[i].appendTo(dst, m)
	}
	for _, e := range m.Extra {
		if e.Nested {
			dst = appendOpen(dst, e.Name)
			dst = append(dst, e.Value...)
			dst = appendClose(dst, e.Name)
		} else {
			dst = appendCDATAElem(dst, e.Name, e.Value)
		}
	}
	return append(dst, "</xml>"...)
}
