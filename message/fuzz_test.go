package message

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzParse checks that Parse never panics, fails only with ErrMalformed or
// ErrTooLarge, and that for accepted input AppendXML → Parse is stable: the
// typed fields survive, and a second render is byte-identical. Get must not
// panic on any path.
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
