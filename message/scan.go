package message

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// node is one element found by the scanner. All strings are substrings of the
// scanned document unless text needed decoding (entities, several segments).
type node struct {
	name   string
	text   string // decoded character data (CDATA unwrapped); valid when !nested
	inner  string // raw inner content between the tags
	nested bool   // the element has child elements
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func isNameStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || c >= 0x80
}

func isNameByte(c byte) bool {
	return isNameStart(c) || c >= '0' && c <= '9' || c == '-' || c == '.'
}

// skipMisc skips whitespace, comments and processing instructions.
func skipMisc(s string, i int) (int, error) {
	for i < len(s) {
		c := s[i]
		if isSpace(c) {
			i++
			continue
		}
		if c != '<' || i+1 >= len(s) {
			return i, nil
		}
		switch s[i+1] {
		case '?':
			if isDeclStart(s, i) {
				return i, malformed("XML declaration not at the start, offset %d", i)
			}
			k := strings.Index(s[i+2:], "?>")
			if k < 0 {
				return i, malformed("unterminated processing instruction at offset %d", i)
			}
			i += 2 + k + 2
		case '!':
			if !strings.HasPrefix(s[i:], "<!--") {
				return i, nil
			}
			k := strings.Index(s[i+4:], "-->")
			if k < 0 {
				return i, malformed("unterminated comment at offset %d", i)
			}
			i += 4 + k + 3
		default:
			return i, nil
		}
	}
	return i, nil
}

// startTag parses the start tag at s[i] == '<'. It returns the element name,
// the index just past the tag, and whether the tag was self-closing.
// Attributes are checked for shape and ignored.
func startTag(s string, i int) (name string, next int, empty bool, err error) {
	if i >= len(s) || s[i] != '<' {
		return "", i, false, malformed("expected '<' at offset %d", i)
	}
	j := i + 1
	if j >= len(s) || !isNameStart(s[j]) {
		return "", i, false, malformed("bad element name at offset %d", j)
	}
	k := j + 1
	for k < len(s) && isNameByte(s[k]) {
		k++
	}
	name = s[j:k]
	for {
		if k >= len(s) {
			return "", k, false, malformed("unexpected end in start tag <%.32s>", name)
		}
		c := s[k]
		switch {
		case c == '>':
			return name, k + 1, false, nil
		case c == '/':
			if k+1 < len(s) && s[k+1] == '>' {
				return name, k + 2, true, nil
			}
			return "", k, false, malformed("bad '/' in start tag <%.32s>", name)
		case isSpace(c):
			k++
		case isNameStart(c):
			for k < len(s) && isNameByte(s[k]) {
				k++
			}
			for k < len(s) && isSpace(s[k]) {
				k++
			}
			if k >= len(s) || s[k] != '=' {
				return "", k, false, malformed("attribute without value in <%.32s>", name)
			}
			k++
			for k < len(s) && isSpace(s[k]) {
				k++
			}
			if k >= len(s) || (s[k] != '"' && s[k] != '\'') {
				return "", k, false, malformed("unquoted attribute in <%.32s>", name)
			}
			q := strings.IndexByte(s[k+1:], s[k])
			if q < 0 {
				return "", k, false, malformed("unterminated attribute in <%.32s>", name)
			}
			k += 1 + q + 1
		default:
			return "", k, false, malformed("unexpected %q in start tag <%.32s>", c, name)
		}
	}
}

// endTag checks that s[i:] starts with "</name>" (whitespace allowed before
// '>') and returns the index past it.
func endTag(s string, i int, name string) (int, error) {
	j := i + 2
	if !strings.HasPrefix(s[j:], name) {
		return i, malformed("mismatched end tag at offset %d, want </%.32s>", i, name)
	}
	j += len(name)
	for j < len(s) && isSpace(s[j]) {
		j++
	}
	if j >= len(s) || s[j] != '>' {
		return i, malformed("mismatched end tag at offset %d, want </%.32s>", i, name)
	}
	return j + 1, nil
}

// closes reports whether s[i:] starts with exactly "</name>".
func closes(s string, i int, name string) bool {
	e := i + 2 + len(name)
	return e < len(s) && s[i] == '<' && s[i+1] == '/' && s[e] == '>' && s[i+2:e] == name
}

// element parses the element whose start tag begins at s[i] and returns it
// with the index past its end tag. depth is the element's nesting depth.
func element(s string, i, depth int) (node, int, error) {
	if depth > MaxDepth {
		return node{}, i, malformed("nesting deeper than %d", MaxDepth)
	}
	name, j, empty, err := startTag(s, i)
	if err != nil {
		return node{}, j, err
	}
	n := node{name: name}
	if empty {
		return n, j, nil
	}
	// Fast paths for the shapes WeChat sends: <N><![CDATA[text]]></N> and
	// <N>text</N> without entities.
	if j < len(s) && s[j] != '<' {
		if k := strings.IndexByte(s[j:], '<'); k >= 0 && closes(s, j+k, name) {
			if raw := s[j : j+k]; strings.IndexByte(raw, '&') < 0 {
				n.text, n.inner = raw, raw
				return n, j + k + 3 + len(name), nil
			}
		}
	} else if strings.HasPrefix(s[j:], "<![CDATA[") {
		if k := strings.Index(s[j+9:], "]]>"); k >= 0 && closes(s, j+9+k+3, name) {
			n.text, n.inner = s[j+9:j+9+k], s[j:j+9+k+3]
			return n, j + 9 + k + 3 + 3 + len(name), nil
		}
	}
	start := j
	var (
		nseg int
		buf  []byte // used when the text has several segments or entities
	)
	add := func(seg string) {
		switch nseg {
		case 0:
			n.text = seg
		case 1:
			buf = append(append(make([]byte, 0, len(n.text)+len(seg)+16), n.text...), seg...)
		default:
			buf = append(buf, seg...)
		}
		nseg++
	}
	for {
		if j >= len(s) {
			return node{}, j, malformed("unexpected end inside <%.32s>", name)
		}
		if s[j] != '<' {
			k := strings.IndexByte(s[j:], '<')
			if k < 0 {
				return node{}, len(s), malformed("unexpected end inside <%.32s>", name)
			}
			raw := s[j : j+k]
			if strings.IndexByte(raw, '&') >= 0 {
				dec, err := unescape(raw)
				if err != nil {
					return node{}, j, err
				}
				add(dec)
			} else {
				add(raw)
			}
			j += k
			continue
		}
		if j+1 >= len(s) {
			return node{}, j, malformed("unexpected end inside <%.32s>", name)
		}
		switch s[j+1] {
		case '/':
			n.inner = s[start:j]
			next, err := endTag(s, j, name)
			if err != nil {
				return node{}, next, err
			}
			if nseg > 1 {
				n.text = string(buf)
			}
			if n.nested {
				n.text = ""
			}
			return n, next, nil
		case '!':
			if strings.HasPrefix(s[j:], "<![CDATA[") {
				k := strings.Index(s[j+9:], "]]>")
				if k < 0 {
					return node{}, j, malformed("unclosed CDATA inside <%.32s>", name)
				}
				add(s[j+9 : j+9+k])
				j += 9 + k + 3
				continue
			}
			if strings.HasPrefix(s[j:], "<!--") {
				k := strings.Index(s[j+4:], "-->")
				if k < 0 {
					return node{}, j, malformed("unterminated comment inside <%.32s>", name)
				}
				j += 4 + k + 3
				continue
			}
			return node{}, j, malformed("unexpected markup inside <%.32s>", name)
		case '?':
			if isDeclStart(s, j) {
				return node{}, j, malformed("XML declaration inside <%.32s>", name)
			}
			k := strings.Index(s[j+2:], "?>")
			if k < 0 {
				return node{}, j, malformed("unterminated processing instruction inside <%.32s>", name)
			}
			j += 2 + k + 2
		default:
			_, next, err := element(s, j, depth+1)
			if err != nil {
				return node{}, next, err
			}
			n.nested = true
			j = next
		}
	}
}

// root parses the prolog (byte order mark, XML declaration, comments and
// processing instructions) and the root start tag. It returns the root name,
// the index of its content and whether the root was self-closing.
func root(s string) (name string, i int, empty bool, err error) {
	i, err = prolog(s)
	if err != nil {
		return "", i, false, err
	}
	i, err = skipMisc(s, i)
	if err != nil {
		return "", i, false, err
	}
	if i >= len(s) {
		return "", i, false, malformed("no root element")
	}
	if strings.HasPrefix(s[i:], "<!") {
		return "", i, false, malformed("DOCTYPE or markup before the root element")
	}
	return startTag(s, i)
}

// trailer checks that only whitespace, comments and processing instructions
// follow the root element.
func trailer(s string, i int) error {
	i, err := skipMisc(s, i)
	if err != nil {
		return err
	}
	if i != len(s) {
		return malformed("content after the root element at offset %d", i)
	}
	return nil
}

// nextChild advances to the next child element of the content starting at
// s[i]. It returns the child and the index past it, or done=true with the
// index past the closing tag of parent. Non-whitespace text between children
// is an error.
func nextChild(s string, i, depth int, parent string) (n node, next int, done bool, err error) {
	for {
		i, err = skipMisc(s, i)
		if err != nil {
			return node{}, i, false, err
		}
		if i >= len(s) {
			return node{}, i, false, malformed("unexpected end inside <%.32s>", parent)
		}
		if s[i] != '<' {
			return node{}, i, false, malformed("text outside an element inside <%.32s> at offset %d", parent, i)
		}
		if i+1 < len(s) && s[i+1] == '/' {
			next, err = endTag(s, i, parent)
			return node{}, next, true, err
		}
		if strings.HasPrefix(s[i:], "<![CDATA[") {
			k := strings.Index(s[i+9:], "]]>")
			if k < 0 {
				return node{}, i, false, malformed("unclosed CDATA inside <%.32s>", parent)
			}
			if strings.TrimLeft(s[i+9:i+9+k], " \t\r\n") != "" {
				return node{}, i, false, malformed("text outside an element inside <%.32s>", parent)
			}
			i += 9 + k + 3
			continue
		}
		n, next, err = element(s, i, depth)
		return n, next, false, err
	}
}

// children calls fn for each child element of n (a node whose inner content
// is a substring of a well-formed document). depth is the children's depth.
func children(n node, depth int, fn func(c node) error) error {
	s := n.inner + "</" + n.name + ">"
	i := 0
	for {
		c, next, done, err := nextChild(s, i, depth, n.name)
		if err != nil || done {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
		i = next
	}
}

var entities = map[string]string{"lt": "<", "gt": ">", "amp": "&", "apos": "'", "quot": "\""}

// unescape resolves the five predefined entities and character references.
func unescape(raw string) (string, error) {
	b := make([]byte, 0, len(raw))
	for {
		k := strings.IndexByte(raw, '&')
		if k < 0 {
			b = append(b, raw...)
			return string(b), nil
		}
		b = append(b, raw[:k]...)
		raw = raw[k+1:]
		e := strings.IndexByte(raw, ';')
		if e <= 0 || e > 10 {
			return "", malformed("bad entity reference")
		}
		ref := raw[:e]
		raw = raw[e+1:]
		if ref[0] != '#' {
			v, ok := entities[ref]
			if !ok {
				return "", malformed("unknown entity &%s;", ref)
			}
			b = append(b, v...)
			continue
		}
		var r rune
		digits, base := ref[1:], rune(10)
		if len(digits) > 0 && (digits[0] == 'x' || digits[0] == 'X') {
			digits, base = digits[1:], 16
		}
		if digits == "" {
			return "", malformed("bad character reference &%s;", ref)
		}
		for i := 0; i < len(digits); i++ {
			c := rune(digits[i])
			var d rune
			switch {
			case c >= '0' && c <= '9':
				d = c - '0'
			case base == 16 && c >= 'a' && c <= 'f':
				d = c - 'a' + 10
			case base == 16 && c >= 'A' && c <= 'F':
				d = c - 'A' + 10
			default:
				return "", malformed("bad character reference &%s;", ref)
			}
			r = r*base + d
			if r > utf8.MaxRune {
				return "", malformed("bad character reference &%s;", ref)
			}
		}
		if !isXMLChar(r) {
			return "", malformed("character reference &%s; is not an XML character", ref)
		}
		b = utf8.AppendRune(b, r)
	}
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
