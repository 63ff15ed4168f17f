package message

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzParse checks that Parse never panics, fails only with ErrMalformed or
// ErrTooLarge, that what it accepts passes CheckDocument and carries the
// elements its kind requires, and that for accepted input AppendXML → Parse
// is stable: the typed fields survive, and a second render is
// byte-identical. Get must not panic on any path.
func FuzzParse(f *testing.F) {
	for _, s := range loadMessages(f) {
		f.Add(s.XML)
	}
	for _, s := range loadReplies(f) {
		f.Add(s.XML)
	}
	f.Add([]byte("<xml><Content>a &lt; &#x4e2d; <![CDATA[]]]]><![CDATA[>]]></Content><A><B/></A></xml>"))
	f.Add([]byte("<xml><Content></Content><Content>b</Content><Scale>0</Scale><Scale>3</Scale></xml>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Parse error %v wraps neither ErrMalformed nor ErrTooLarge", err)
			}
			return
		}
		if err := CheckDocument(b); err != nil {
			t.Fatalf("Parse accepted %q, which CheckDocument refuses: %v", b, err)
		}
		if m.CreateTime <= 0 || (m.InfoType == "" && (m.ToUserName == "" || m.FromUserName == "" || m.MsgType == "")) ||
			(m.InfoType != "" && m.AppID == "") {
			t.Fatalf("Parse accepted %q without a required element: %+v", b, m)
		}
		for _, p := range []string{"Content", "A/B[1]", "ScanCodeInfo/ScanType", "x[0]/y"} {
			m.Get(p)
		}
		out := m.AppendXML(nil)
		m2, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(AppendXML(m)) = %v\ninput: %q\nrendered: %q", err, b, out)
		}
		if diff := cmp.Diff(m, m2, cmpopts.IgnoreFields(Message{}, "Raw", "Extra"), cmpopts.EquateNaNs()); diff != "" {
			t.Fatalf("typed fields changed (-first +second):\n%s\ninput: %q", diff, b)
		}
		if again := m2.AppendXML(nil); string(again) != string(out) {
			t.Fatalf("render not stable:\n%q\n%q", out, again)
		}
	})
}

// FuzzParseEnvelope checks that ParseEnvelope never panics and that an
// accepted envelope's values survive AppendEnvelope → ParseEnvelope.
func FuzzParseEnvelope(f *testing.F) {
	for _, s := range loadMessages(f) {
		f.Add(s.XML)
	}
	f.Add([]byte("<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[QUJD]]></Encrypt></xml>"))
	f.Add(AppendEnvelope(nil, "e]]>x", "sig", "1411525903", "n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEnvelope(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("ParseEnvelope error %v wraps neither ErrMalformed nor ErrTooLarge", err)
			}
			return
		}
		out := AppendEnvelope(nil, e.Encrypt, e.MsgSignature, e.TimeStamp, e.Nonce)
		e2, err := ParseEnvelope(out)
		if err != nil {
			t.Fatalf("ParseEnvelope(AppendEnvelope) = %v\n%q", err, out)
		}
		e.ToUserName = ""
		// TimeStamp and MsgSignature are trimmed on parse.
		if e2.Encrypt != e.Encrypt || e2.Nonce != e.Nonce || e2.TimeStamp != trimSpace(e.TimeStamp) || e2.MsgSignature != trimSpace(e.MsgSignature) {
			t.Fatalf("envelope round trip: %+v → %+v", e, e2)
		}
	})
}

// topLevelTexts reads b with encoding/xml (strict) and returns, for the first
// occurrence of every top-level element without children, its text. ok is
// false when encoding/xml rejects the document.
func topLevelTexts(b []byte) (map[string]string, bool) {
	d := xml.NewDecoder(bytes.NewReader(b))
	out := map[string]string{}
	var (
		depth  int
		name   string
		text   []byte
		nested bool
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out, depth == 0
		}
		if err != nil {
			return nil, false
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 {
				name, text, nested = tok.Name.Local, text[:0], false
				if tok.Name.Space != "" {
					nested = true // prefixed names: encoding/xml splits them
				}
			} else if depth > 2 {
				nested = true
			}
		case xml.CharData:
			if depth == 2 {
				text = append(text, tok...)
			}
		case xml.EndElement:
			if depth == 2 && !nested {
				if _, seen := out[name]; !seen {
					out[name] = string(text)
				}
			}
			depth--
		}
	}
}

// FuzzParseVsEncodingXML is a differential check: when both encoding/xml and
// Parse accept a document, every top-level text element reads the same.
func FuzzParseVsEncodingXML(f *testing.F) {
	for _, s := range loadMessages(f) {
		f.Add(s.XML)
	}
	f.Add([]byte("<xml><A>a &lt; &#x4e2d;<![CDATA[ <x> ]]>b<!-- c -->d</A><B><![CDATA[]]]]><![CDATA[>]]></B></xml>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if bytes.IndexByte(b, '\r') >= 0 || bytes.Contains(b, []byte("<!DOCTYPE")) {
			return // encoding/xml normalizes line ends; DOCTYPE is refused by Parse by design
		}
		want, ok := topLevelTexts(b)
		if !ok {
			return
		}
		m, err := Parse(b)
		if err != nil {
			return
		}
		for name, text := range want {
			if !utf8.ValidString(text) {
				continue
			}
			got, ok := m.Get(name)
			if !ok || got != text {
				t.Fatalf("Get(%q) = %q, %v; encoding/xml reads %q\ninput: %q", name, got, ok, text, b)
			}
		}
	})
}
