package pay

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDecodeXML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want map[string]string // nil: ErrMalformed
	}{
		{"CDATA and text", "<xml><a><![CDATA[x y]]></a><b>1</b></xml>", map[string]string{"a": "x y", "b": "1"}},
		{"prolog, comments, blanks", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c --><xml>\n <a>1</a><!-- d -->\n</xml>\n", map[string]string{"a": "1"}},
		{"empty elements", "<xml><a/><b></b><c><![CDATA[]]></c></xml>", map[string]string{"a": "", "b": "", "c": ""}},
		{"values kept exactly", "<xml><a> x </a><b>&lt;&amp;&#x41;</b><c><![CDATA[<&]]></c></xml>", map[string]string{"a": " x ", "b": "<&A", "c": "<&"}},
		{"split CDATA", "<xml><a><![CDATA[a]]]]><![CDATA[>b]]></a></xml>", map[string]string{"a": "a]]>b"}},
		{"attributes ignored", `<xml><a t="1">v</a></xml>`, map[string]string{"a": "v"}},
		{"empty document", "<xml></xml>", map[string]string{}},
		{"empty input", "", nil},
		{"blank input", "  \n", nil},
		{"other root", "<root><a>1</a></root>", nil},
		{"nested", "<xml><a><b>1</b></a></xml>", nil},
		{"repeated field", "<xml><a>1</a><a>2</a></xml>", nil},
		{"text in root", "<xml>hello<a>1</a></xml>", nil},
		{"text after root", "<xml><a>1</a></xml>tail", nil},
		{"second root", "<xml><a>1</a></xml><xml></xml>", nil},
		{"unclosed", "<xml><a>1</a>", nil},
		{"mismatched tag", "<xml><a>1</b></xml>", nil},
		{"doctype", `<!DOCTYPE xml [<!ENTITY e "x">]><xml><a>&e;</a></xml>`, nil},
		{"unknown entity", "<xml><a>&e;</a></xml>", nil},
		{"invalid UTF-8", "<xml><a>\xff</a></xml>", nil},
		{"namespace prefix", `<xml xmlns:p="urn:x"><p:a>1</p:a></xml>`, nil},
		{"JSON", `{"return_code":"SUCCESS"}`, nil},
		{"too many fields", "<xml>" + manyFields(maxFields+1) + "</xml>", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeXML([]byte(tt.in))
			if tt.want == nil {
				if !errors.Is(err, ErrMalformed) {
					t.Errorf("DecodeXML(%q) = %v, %v; want ErrMalformed", tt.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeXML(%q) = %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecodeXML(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
	if _, err := DecodeXML([]byte("<xml>" + manyFields(maxFields) + "</xml>")); err != nil {
		t.Errorf("DecodeXML(%d fields) = %v", maxFields, err)
	}
}

func manyFields(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "<f%d>1</f%d>", i, i)
	}
	return b.String()
}

func TestEncodeXML(t *testing.T) {
	t.Parallel()
	in := map[string]string{
		"total_fee": "1",
		"body":      "腾讯充值中心-QQ会员充值",
		"attach":    "a]]>b <c> & d]]]]>",
		"detail":    "line1\r\nline2\tx",
		"empty":     "",
		"zero":      "0",
	}
	b, err := EncodeXML(in)
	if err != nil {
		t.Fatalf("EncodeXML = %v", err)
	}
	// The platform's parser reads back every value exactly.
	if diff := cmp.Diff(in, wireParse(t, b)); diff != "" {
		t.Errorf("EncodeXML, parsed by encoding/xml (-in +got):\n%s", diff)
	}
	if got, err := DecodeXML(b); err != nil || !cmp.Equal(in, got) {
		t.Errorf("DecodeXML(EncodeXML(x)) = %v, %v; want %v", got, err, in)
	}
	if !strings.Contains(string(b), "<total_fee>1</total_fee>") || !strings.HasPrefix(string(b), "<xml><attach>") {
		t.Errorf("EncodeXML = %s; want keys in order, numbers as plain text", b)
	}
	for _, bad := range []map[string]string{
		{"": "x"}, {"1a": "x"}, {"a-b": "x"}, {"a b": "x"}, {"<a>": "x"}, {"xmlfoo": "x"},
		{"a": "\x00"}, {"a": "\x1b"}, {"a": "\xff"}, {"a": "\uFFFE"},
	} {
		if b, err := EncodeXML(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("EncodeXML(%q) = %s, %v; want ErrMalformed", bad, b, err)
		}
	}
}
