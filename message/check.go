package message

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Errors that name why a document was refused. Each wraps ErrMalformed, so
// errors.Is(err, ErrMalformed) holds for them too.
var (
	// ErrInvalidChar reports a character that XML 1.0 forbids: a C0
	// control other than tab, CR and LF (NUL included), U+FFFE or U+FFFF,
	// or bytes that are not UTF-8 (which covers encoded surrogates).
	//
	// XML 1.0: https://www.w3.org/TR/xml/#charsets
	ErrInvalidChar = fmt.Errorf("%w: character not allowed in XML", ErrMalformed)
	// ErrUnsupportedEncoding reports a document in an encoding other than
	// UTF-8: an XML declaration naming another encoding (GBK, for example),
	// or a UTF-16 byte order mark. WeChat sends UTF-8 only.
	ErrUnsupportedEncoding = fmt.Errorf("%w: encoding other than UTF-8", ErrMalformed)
	// ErrMissingField reports a push without an element its kind requires
	// (see Parse). The error Parse returns is a *MissingFieldError naming
	// the element.
	ErrMissingField = fmt.Errorf("%w: missing required element", ErrMalformed)
)

// MissingFieldError reports a document without a required element. It
// matches ErrMissingField and ErrMalformed with errors.Is.
type MissingFieldError struct {
	// Field is the wire name of the element: "ToUserName", "FromUserName",
	// "CreateTime", "MsgType", "AppId" or "InfoType" for Parse, "Encrypt"
	// for ParseEnvelope.
	Field string
}

// Error implements error.
func (e *MissingFieldError) Error() string {
	return ErrMissingField.Error() + " <" + e.Field + ">"
}

// Unwrap returns ErrMissingField.
func (e *MissingFieldError) Unwrap() error { return ErrMissingField }

// CheckDocument returns nil when b may be read as the UTF-8 XML that WeChat
// sends, before any parsing. It returns an error wrapping
// ErrUnsupportedEncoding when b starts with a UTF-16 byte order mark or
// with an XML declaration whose encoding is not UTF-8 (compared without
// case; no declaration, or one without encoding, means UTF-8), and one
// wrapping ErrInvalidChar at the first byte that is not UTF-8 or encodes a
// character XML 1.0 forbids. Its errors name the byte offset (and the
// declared encoding), never other content. A malformed declaration is
// reported with ErrMalformed.
//
// Parse, ParseEnvelope and ParseReply apply it; callers that scan a
// document themselves (the webhook's envelope fast path) call it first.
func CheckDocument(b []byte) error {
	if _, err := prolog(b); err != nil {
		return err
	}
	return checkChars(b)
}

// Bit masks for checking 8 bytes in one uint64.
const (
	lows  = 0x2020202020202020
	highs = 0x8080808080808080
)

// checkChars returns an error wrapping ErrInvalidChar at the first byte of
// b that is not UTF-8 or starts a character XML 1.0 forbids. Runs of
// printable ASCII are checked 16, then 8, bytes at a time.
func checkChars(b []byte) error {
	i := 0
	for i < len(b) {
		// x-lows sets the high bit of the lowest byte below 0x20 (bytes
		// below it neither borrow nor have the high bit); x itself has it
		// in every non-ASCII byte. Both clear: 8 bytes in 0x20..0x7F.
		for i+16 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			y := binary.LittleEndian.Uint64(b[i+8:])
			if (x|(x-lows)|y|(y-lows))&highs != 0 {
				break
			}
			i += 16
		}
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			if (x|(x-lows))&highs != 0 {
				break
			}
			i += 8
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return fmt.Errorf("%w: U+%04X at offset %d", ErrInvalidChar, c, i)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return fmt.Errorf("%w: invalid UTF-8 at offset %d", ErrInvalidChar, i)
		}
		if r == 0xFFFE || r == 0xFFFF {
			return fmt.Errorf("%w: U+%04X at offset %d", ErrInvalidChar, r, i)
		}
		i += n
	}
	return nil
}

// prolog returns the index past the byte order mark and the XML
// declaration at the start of b (0 when there are none). It refuses a
// UTF-16 byte order mark and a declared encoding other than UTF-8.
//
// XML 1.0: https://www.w3.org/TR/xml/#NT-XMLDecl
func prolog[T string | []byte](b T) (int, error) {
	i := 0
	if len(b) >= 2 && (b[0] == 0xFE && b[1] == 0xFF || b[0] == 0xFF && b[1] == 0xFE) {
		return 0, fmt.Errorf("%w: UTF-16 byte order mark", ErrUnsupportedEncoding)
	}
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		i = 3
	}
	// Whitespace before the declaration is tolerated (hand-written test
	// bodies often have it), but nothing else.
	j := i
	for j < len(b) && isSpace(b[j]) {
		j++
	}
	if !isDeclStart(b, j) {
		return i, nil
	}
	end := strings.Index(string(b[j:]), "?>")
	if end < 0 {
		return j, malformed("unterminated XML declaration")
	}
	decl := string(b[j+5 : j+end])
	if err := checkDeclEncoding(decl); err != nil {
		return j, err
	}
	return j + end + 2, nil
}

// isDeclStart reports whether b[i:] starts with "<?xml" (any case, the
// reserved target) followed by whitespace or "?".
func isDeclStart[T string | []byte](b T, i int) bool {
	if len(b)-i < 6 || b[i] != '<' || b[i+1] != '?' {
		return false
	}
	if b[i+2]|0x20 != 'x' || b[i+3]|0x20 != 'm' || b[i+4]|0x20 != 'l' {
		return false
	}
	c := b[i+5]
	return isSpace(c) || c == '?'
}

// checkDeclEncoding checks the pseudo-attributes of an XML declaration
// (the text between "<?xml" and "?>") for an encoding other than UTF-8.
func checkDeclEncoding(decl string) error {
	for decl != "" {
		decl = strings.TrimLeft(decl, " \t\r\n")
		if decl == "" {
			break
		}
		name, rest, ok := strings.Cut(decl, "=")
		if !ok {
			return malformed("bad XML declaration")
		}
		name = strings.TrimRight(name, " \t\r\n")
		rest = strings.TrimLeft(rest, " \t\r\n")
		if rest == "" || rest[0] != '"' && rest[0] != '\'' {
			return malformed("bad XML declaration")
		}
		end := strings.IndexByte(rest[1:], rest[0])
		if end < 0 {
			return malformed("bad XML declaration")
		}
		value := rest[1 : 1+end]
		decl = rest[1+end+1:]
		if name == "encoding" && !strings.EqualFold(value, "UTF-8") {
			return fmt.Errorf("%w: declared %.32q", ErrUnsupportedEncoding, value)
		}
	}
	return nil
}
