package message

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// full is a text push with every element a push requires.
const full = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>" +
	"<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>42</MsgId></xml>"

// withContent returns full with Content replaced by raw bytes.
func withContent(raw string) string {
	return strings.Replace(full, "<![CDATA[hi]]>", raw, 1)
}

// without returns full without the element name (and its content).
func without(name string) string {
	i := strings.Index(full, "<"+name+">")
	j := strings.Index(full, "</"+name+">")
	return full[:i] + full[j+len(name)+3:]
}

// replaceElem returns full with the content of element name replaced.
func replaceElem(name, content string) string {
	i := strings.Index(full, "<"+name+">") + len(name) + 2
	j := strings.Index(full, "</"+name+">")
	return full[:i] + content + full[j:]
}

// TestParseRefuses checks the refusals Parse adds to well-formedness:
// characters XML 1.0 forbids, encodings other than UTF-8, and pushes
// without the elements their kind requires. Each is reported with its own
// error, which also matches ErrMalformed.
func TestParseRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		want  error
		field string // for ErrMissingField
		at    string // expected in the error text (offset, code point)
	}{
		{"NUL", withContent("a\x00b"), ErrInvalidChar, "", "U+0000"},
		{"SOH", withContent("\x01"), ErrInvalidChar, "", "U+0001"},
		{"ESC", withContent("\x1b[31m"), ErrInvalidChar, "", "U+001B"},
		{"unit separator", withContent("\x1f"), ErrInvalidChar, "", "U+001F"},
		{"vertical tab", withContent("\v"), ErrInvalidChar, "", "U+000B"},
		{"form feed", withContent("\f"), ErrInvalidChar, "", "U+000C"},
		{"control in an element name", "<xml><To\x02UserName/></xml>", ErrInvalidChar, "", "offset 8"},
		{"control between elements", "<xml>\x00" + full[5:], ErrInvalidChar, "", "offset 5"},
		{"control in a CDATA section of 8 printable bytes", withContent("<![CDATA[abcdefg\x08hijklmno]]>"), ErrInvalidChar, "", "U+0008"},
		{"U+FFFE", withContent("a\uFFFE"), ErrInvalidChar, "", "U+FFFE"},
		{"U+FFFF", withContent("\uFFFF"), ErrInvalidChar, "", "U+FFFF"},
		{"lone byte 0xFF", withContent("\xff"), ErrInvalidChar, "", "invalid UTF-8"},
		{"truncated sequence", withContent("\xe4\xb8"), ErrInvalidChar, "", "invalid UTF-8"},
		{"truncated sequence at the end", full + "\xe4", ErrInvalidChar, "", "invalid UTF-8"},
		{"overlong encoding", withContent("\xc0\xaf"), ErrInvalidChar, "", "invalid UTF-8"},
		{"encoded high surrogate", withContent("\xed\xa0\x80"), ErrInvalidChar, "", "invalid UTF-8"},
		{"encoded low surrogate", withContent("\xed\xbf\xbf"), ErrInvalidChar, "", "invalid UTF-8"},
		{"beyond U+10FFFF", withContent("\xf4\x90\x80\x80"), ErrInvalidChar, "", "invalid UTF-8"},
		{"GBK bytes without declaration", withContent("\xc4\xe3\xba\xc3"), ErrInvalidChar, "", "invalid UTF-8"},
		{"GBK declaration", `<?xml version="1.0" encoding="GBK"?>` + full, ErrUnsupportedEncoding, "", `"GBK"`},
		{"GBK declaration with GBK bytes", `<?xml version="1.0" encoding="GBK"?>` + withContent("\xc4\xe3\xba\xc3"), ErrUnsupportedEncoding, "", "GBK"},
		{"gb2312 declaration, single quotes", "<?xml version='1.0' encoding='gb2312'?>" + full, ErrUnsupportedEncoding, "", "gb2312"},
		{"ISO-8859-1 declaration after whitespace", "\n <?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>" + full, ErrUnsupportedEncoding, "", "ISO-8859-1"},
		{"UTF-16 declaration after a byte order mark", "\ufeff<?xml version=\"1.0\" encoding=\"UTF-16\"?>" + full, ErrUnsupportedEncoding, "", "UTF-16"},
		{"UTF8 without hyphen", `<?xml version="1.0" encoding="UTF8"?>` + full, ErrUnsupportedEncoding, "", "UTF8"},
		{"upper-case reserved target", `<?XML version="1.0" encoding="GBK"?>` + full, ErrUnsupportedEncoding, "", "GBK"},
		{"UTF-16BE byte order mark", "\xfe\xff\x00<\x00x", ErrUnsupportedEncoding, "", "byte order mark"},
		{"UTF-16LE byte order mark", "\xff\xfe<\x00x\x00", ErrUnsupportedEncoding, "", "byte order mark"},
		{"bare root", "<xml/>", ErrMissingField, "ToUserName", ""},
		{"empty root", "<xml></xml>", ErrMissingField, "ToUserName", ""},
		{"only unknown elements", "<xml><A>1</A></xml>", ErrMissingField, "ToUserName", ""},
		{"no ToUserName", without("ToUserName"), ErrMissingField, "ToUserName", ""},
		{"no FromUserName", without("FromUserName"), ErrMissingField, "FromUserName", ""},
		{"no CreateTime", without("CreateTime"), ErrMissingField, "CreateTime", ""},
		{"no MsgType", without("MsgType"), ErrMissingField, "MsgType", ""},
		{"empty ToUserName", replaceElem("ToUserName", ""), ErrMissingField, "ToUserName", ""},
		{"empty FromUserName CDATA", replaceElem("FromUserName", "<![CDATA[]]>"), ErrMissingField, "FromUserName", ""},
		{"empty MsgType", replaceElem("MsgType", ""), ErrMissingField, "MsgType", ""},
		{"non-numeric CreateTime", replaceElem("CreateTime", "soon"), ErrMissingField, "CreateTime", ""},
		{"zero CreateTime", replaceElem("CreateTime", "0"), ErrMissingField, "CreateTime", ""},
		{"negative CreateTime", replaceElem("CreateTime", "-1"), ErrMissingField, "CreateTime", ""},
		{"nested MsgType", replaceElem("MsgType", "<a>text</a>"), ErrMissingField, "MsgType", ""},
		{"Open Platform push without AppId", "<xml><CreateTime>1413192605</CreateTime><InfoType>authorized</InfoType></xml>", ErrMissingField, "AppId", ""},
		{"Open Platform push without CreateTime", "<xml><AppId>wxComp</AppId><InfoType>authorized</InfoType></xml>", ErrMissingField, "CreateTime", ""},
		{"empty InfoType is no Open Platform push", "<xml><AppId>wxComp</AppId><CreateTime>1413192605</CreateTime><InfoType></InfoType></xml>", ErrMissingField, "ToUserName", ""},
		{"declaration after a comment", "<!-- c --><?xml version=\"1.0\"?>" + full, ErrMalformed, "", "not at the start"},
		{"declaration inside the root", "<xml><?xml version=\"1.0\"?>" + full[5:], ErrMalformed, "", "XML declaration"},
		{"declaration after the root", full + "<?xml version=\"1.0\"?>", ErrMalformed, "", "not at the start"},
		{"declaration without quotes", "<?xml version=1.0?>" + full, ErrMalformed, "", "XML declaration"},
		{"declaration with unterminated value", "<?xml encoding=\"GBK?>" + full, ErrMalformed, "", "XML declaration"},
		{"unterminated declaration", "<?xml version=\"1.0\"" + full, ErrMalformed, "", "XML declaration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Parse([]byte(tt.in))
			if m != nil || !errors.Is(err, tt.want) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%q) = %v, %v; want nil, %v (and ErrMalformed)", tt.in, m, err, tt.want)
			}
			if tt.want == ErrMissingField {
				mf, ok := errors.AsType[*MissingFieldError](err)
				if !ok || mf.Field != tt.field {
					t.Fatalf("Parse(%q) = %v; want a *MissingFieldError for %q", tt.in, err, tt.field)
				}
				if !strings.Contains(err.Error(), "<"+tt.field+">") {
					t.Errorf("error %q does not name <%s>", err, tt.field)
				}
				return
			}
			if !strings.Contains(err.Error(), tt.at) {
				t.Errorf("error %q does not contain %q", err, tt.at)
			}
			if errors.Is(tt.want, ErrMalformed) && tt.want != ErrMalformed {
				// The document-level refusals apply to every parser.
				if err2 := CheckDocument([]byte(tt.in)); !errors.Is(err2, tt.want) {
					t.Errorf("CheckDocument = %v, want %v", err2, tt.want)
				}
				env := strings.Replace(tt.in, "<MsgId>42</MsgId>", "<Encrypt>QUJD</Encrypt>", 1)
				if _, err := ParseEnvelope([]byte(env)); !errors.Is(err, tt.want) {
					t.Errorf("ParseEnvelope(%q) = %v, want %v", env, err, tt.want)
				}
				if _, err := ParseReply([]byte(tt.in)); !errors.Is(err, tt.want) {
					t.Errorf("ParseReply(%q) = %v, want %v", tt.in, err, tt.want)
				}
			}
		})
	}
}

// TestCheckDocumentOffsets checks that the first offending byte is found
// wherever it lies relative to the 8-byte fast path, and that every
// allowed control character and boundary code point passes.
func TestCheckDocumentOffsets(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"\x00", "\x01", "\x1f", "\uFFFE", "\uFFFF", "\xed\xa0\x80", "\xff", "\xc3"} {
		for pos := range 20 {
			in := []byte(strings.Repeat("a", pos) + bad + strings.Repeat("b", 19-pos))
			err := CheckDocument(in)
			if !errors.Is(err, ErrInvalidChar) {
				t.Fatalf("CheckDocument(%q) = %v, want ErrInvalidChar", in, err)
			}
			if want := "offset " + strconv.Itoa(pos); !strings.HasSuffix(err.Error(), want) {
				t.Errorf("CheckDocument(%q) = %q, want offset %d", in, err, pos)
			}
		}
	}
	for _, good := range []string{"\t", "\n", "\r", " ", "~", "\x7f", "\u0080", "\uD7FF", "\uE000", "\uFFFD", "\U00010000", "\U0010FFFF", "中文"} {
		for pos := range 20 {
			in := []byte(strings.Repeat("a", pos) + good + strings.Repeat("b", 19-pos))
			if err := CheckDocument(in); err != nil {
				t.Errorf("CheckDocument(%q) = %v, want nil", in, err)
			}
		}
	}
}

// TestParseEnvelopeMissingEncrypt checks that an envelope without a usable
// <Encrypt> names it.
func TestParseEnvelopeMissingEncrypt(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"<xml/>", "<xml><ToUserName>gh</ToUserName></xml>", "<xml><Encrypt> </Encrypt></xml>", "<xml><Encrypt><a/></Encrypt></xml>"} {
		_, err := ParseEnvelope([]byte(in))
		if mf, ok := errors.AsType[*MissingFieldError](err); !ok || mf.Field != "Encrypt" || !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseEnvelope(%q) = %v, want a *MissingFieldError for Encrypt", in, err)
		}
	}
	// Malformed input is reported as such, not as a missing element.
	for _, in := range []string{"<A/><><Encrypt>0</Encrypt>", "<xml/>junk"} {
		_, err := ParseEnvelope([]byte(in))
		if !errors.Is(err, ErrMalformed) || errors.Is(err, ErrMissingField) {
			t.Errorf("ParseEnvelope(%q) = %v, want ErrMalformed but not ErrMissingField", in, err)
		}
		if _, err := Parse([]byte(in)); !errors.Is(err, ErrMalformed) || errors.Is(err, ErrMissingField) {
			t.Errorf("Parse(%q) = %v, want ErrMalformed but not ErrMissingField", in, err)
		}
	}
}
