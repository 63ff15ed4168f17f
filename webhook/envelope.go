package webhook

import "bytes"

// encryptElement returns the text of the top-level <Encrypt> element of a
// safe-mode or compatible-mode body, without copying: the result aliases
// body. It skips CDATA sections, comments and processing instructions, so
// that an "<Encrypt>" inside a plaintext field of a compatible-mode body is
// never taken for the real one. It reports false when there is no such
// element or the document is malformed around it.
//
// This is the hot path's alternative to message.ParseEnvelope, which
// returns strings (a copy of the ciphertext).
func encryptElement(b []byte) ([]byte, bool) {
	depth := 0
	for {
		i := bytes.IndexByte(b, '<')
		if i < 0 {
			return nil, false
		}
		b = b[i:]
		switch {
		case bytes.HasPrefix(b, cdataOpen):
			j := bytes.Index(b, cdataClose)
			if j < 0 {
				return nil, false
			}
			b = b[j+len(cdataClose):]
		case bytes.HasPrefix(b, commentOpen):
			j := bytes.Index(b[len(commentOpen):], commentClose)
			if j < 0 {
				return nil, false
			}
			b = b[len(commentOpen)+j+len(commentClose):]
		case len(b) > 1 && b[1] == '?':
			j := bytes.Index(b, piClose)
			if j < 0 {
				return nil, false
			}
			b = b[j+len(piClose):]
		case len(b) > 1 && b[1] == '!':
			j := bytes.IndexByte(b, '>')
			if j < 0 {
				return nil, false
			}
			b = b[j+1:]
		case len(b) > 1 && b[1] == '/':
			depth--
			j := bytes.IndexByte(b, '>')
			if j < 0 || depth < 0 {
				return nil, false
			}
			b = b[j+1:]
		default:
			j := startTagEnd(b)
			if j < 0 {
				return nil, false
			}
			tag := b[1:j]
			selfClosing := len(tag) > 0 && tag[len(tag)-1] == '/'
			if depth == 1 && !selfClosing && nameIs(tag, "Encrypt") {
				return elementText(b[j+1:])
			}
			if !selfClosing {
				depth++
			}
			b = b[j+1:]
		}
	}
}

// startTagEnd returns the index of the '>' that ends the start tag at
// b[0] == '<', skipping quoted attribute values (which may hold '>' or
// "/>"), or -1.
func startTagEnd(b []byte) int {
	j := bytes.IndexByte(b, '>')
	if j < 0 || bytes.IndexByte(b[:j], '"') < 0 && bytes.IndexByte(b[:j], '\'') < 0 {
		return j
	}
	for k := 1; k < len(b); k++ {
		switch c := b[k]; c {
		case '"', '\'':
			q := bytes.IndexByte(b[k+1:], c)
			if q < 0 {
				return -1
			}
			k += 1 + q
		case '>':
			return k
		}
	}
	return -1
}

var (
	piClose      = []byte("?>")
	cdataOpen    = []byte("<![CDATA[")
	cdataClose   = []byte("]]>")
	commentOpen  = []byte("<!--")
	commentClose = []byte("-->")
	encryptClose = []byte("</Encrypt>")
)

// nameIs reports whether the start-tag content tag (between '<' and '>')
// names the element name, with or without attributes.
func nameIs(tag []byte, name string) bool {
	if len(tag) < len(name) || string(tag[:len(name)]) != name {
		return false
	}
	if len(tag) == len(name) {
		return true
	}
	switch tag[len(name)] {
	case ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// elementText returns the content of an element whose start tag has been
// consumed: either one CDATA section (surrounding whitespace allowed) or
// plain text without markup (base64 needs no entities).
func elementText(b []byte) ([]byte, bool) {
	end := bytes.Index(b, encryptClose)
	if end < 0 {
		return nil, false
	}
	in := bytes.TrimSpace(b[:end])
	if bytes.HasPrefix(in, cdataOpen) {
		if !bytes.HasSuffix(in, cdataClose) {
			return nil, false
		}
		in = in[len(cdataOpen) : len(in)-len(cdataClose)]
		if bytes.Contains(in, cdataClose) {
			return nil, false
		}
	}
	// Base64 ciphertext holds neither; markup or an entity outside CDATA
	// would need the full parser, and inside CDATA it is no ciphertext.
	if bytes.IndexByte(in, '<') >= 0 || bytes.IndexByte(in, '&') >= 0 {
		return nil, false
	}
	if len(in) == 0 {
		return nil, false
	}
	return in, true
}
