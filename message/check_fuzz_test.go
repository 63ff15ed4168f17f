package message

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// refCheckChars is the plain rune-by-rune statement of what checkChars
// computes 8 and 16 bytes at a time: the offset of the first byte that is
// not UTF-8 or starts a character outside XML 1.0's Char production, or -1.
func refCheckChars(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 || !isXMLChar(r) {
			return i
		}
		i += n
	}
	return -1
}

// FuzzCheckDocument checks CheckDocument against refCheckChars: it refuses
// exactly the documents with a forbidden character (or a declared encoding
// other than UTF-8, or a UTF-16 byte order mark), and names the offset of
// the first forbidden one. Every document Parse accepts passes it.
func FuzzCheckDocument(f *testing.F) {
	for _, s := range loadMessages(f) {
		f.Add(s.XML)
	}
	f.Add([]byte(loadgenEnvelope))
	f.Add([]byte("0123456789abcdef\x00"))
	f.Add([]byte("0123456789abcdef0123456\x1f"))
	f.Add([]byte("\ufeff<?xml version='1.0' encoding='gbk'?><xml/>"))
	f.Add([]byte("<xml>\uFFFE\uFFFF\xed\xa0\x80\U0010FFFF</xml>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		err := CheckDocument(b)
		if _, perr := prolog(b); perr != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("CheckDocument(%q) = %v with a bad prolog (%v)", b, err, perr)
			}
			return
		}
		bad := refCheckChars(b)
		switch {
		case bad < 0 && err != nil:
			t.Fatalf("CheckDocument(%q) = %v; every character is allowed", b, err)
		case bad >= 0 && !errors.Is(err, ErrInvalidChar):
			t.Fatalf("CheckDocument(%q) = %v; want ErrInvalidChar at offset %d", b, err, bad)
		case bad >= 0 && !strings.HasSuffix(err.Error(), fmt.Sprintf("at offset %d", bad)):
			t.Fatalf("CheckDocument(%q) = %v; want offset %d", b, err, bad)
		}
		if _, perr := Parse(b); perr == nil && err != nil {
			t.Fatalf("Parse accepts %q, which CheckDocument refuses: %v", b, err)
		}
	})
}
