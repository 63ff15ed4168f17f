package message

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseEnvelope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want Envelope
	}{
		{
			name: "inbound",
			in:   "<xml>\n    <ToUserName><![CDATA[gh_1]]></ToUserName>\n    <Encrypt><![CDATA[abc+/=]]></Encrypt>\n</xml>",
			want: Envelope{ToUserName: "gh_1", Encrypt: "abc+/="},
		},
		{
			name: "WeCom with AgentID and plaintext fields beside Encrypt",
			in:   "<xml><ToUserName><![CDATA[wx]]></ToUserName><MsgType>text</MsgType><Encrypt>QUJD</Encrypt><AgentID><![CDATA[218]]></AgentID><X><Y>1</Y></X></xml>",
			want: Envelope{ToUserName: "wx", Encrypt: "QUJD"},
		},
		{
			name: "reply envelope",
			in:   "<xml><Encrypt><![CDATA[e]]></Encrypt><MsgSignature><![CDATA[s]]></MsgSignature><TimeStamp>1411525903</TimeStamp><Nonce><![CDATA[n]]></Nonce></xml>",
			want: Envelope{Encrypt: "e", MsgSignature: "s", TimeStamp: "1411525903", Nonce: "n"},
		},
		{
			name: "whitespace around the ciphertext",
			in:   "<xml><Encrypt>\n  QUJD\n</Encrypt></xml>",
			want: Envelope{Encrypt: "QUJD"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEnvelope([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParseEnvelope: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseEnvelope mismatch (-want +got):\n%s", diff)
			}
		})
	}
	for _, in := range []string{"<xml/>", "<xml><ToUserName>a</ToUserName></xml>", "<xml><Encrypt></Encrypt></xml>", "<xml><Encrypt><a/></Encrypt></xml>"} {
		if _, err := ParseEnvelope([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseEnvelope(%q) = %v, want ErrMalformed", in, err)
		}
	}
}

func TestAppendEnvelopeRoundTrip(t *testing.T) {
	t.Parallel()
	want := Envelope{Encrypt: "9s4gMv99m88kKTh/H8Idk+==", MsgSignature: "407518b7649e86ef23978113f92d27afa9296533", TimeStamp: "1411525903", Nonce: "46]]>1056294"}
	out := AppendEnvelope([]byte("keep"), want.Encrypt, want.MsgSignature, want.TimeStamp, want.Nonce)
	const head = "keep<xml><Encrypt><![CDATA[9s4gMv99m88kKTh/H8Idk+==]]></Encrypt><MsgSignature><![CDATA[407518b7649e86ef23978113f92d27afa9296533]]></MsgSignature><TimeStamp>1411525903</TimeStamp>"
	if string(out[:len(head)]) != head {
		t.Errorf("AppendEnvelope =\n%s\nwant prefix\n%s", out, head)
	}
	got, err := ParseEnvelope(out[4:])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", diff)
	}
}
