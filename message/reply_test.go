package message

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// xmlItem is one element of a document in document order: its path and its
// whitespace-trimmed text (empty for elements with children).
type xmlItem struct {
	Path, Text string
}

// xmlItems reads a document with encoding/xml (an independent oracle) and
// lists its elements in order, ignoring whitespace between elements.
func xmlItems(t testing.TB, b []byte) []xmlItem {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	var (
		out   []xmlItem
		stack []string
		texts []*strings.Builder
		idx   []int
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("encoding/xml: %v\n%s", err, b)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			stack = append(stack, tok.Name.Local)
			texts = append(texts, &strings.Builder{})
			idx = append(idx, len(out))
			out = append(out, xmlItem{Path: strings.Join(stack, "/")})
		case xml.CharData:
			if len(texts) > 0 {
				texts[len(texts)-1].Write(tok)
			}
		case xml.EndElement:
			out[idx[len(idx)-1]].Text = strings.TrimSpace(texts[len(texts)-1].String())
			stack, texts, idx = stack[:len(stack)-1], texts[:len(texts)-1], idx[:len(idx)-1]
		}
	}
}

// TestAppendReplyCorpus renders every corpus reply from its inputs and
// compares it element by element, in order, with the corpus XML.
func TestAppendReplyCorpus(t *testing.T) {
	t.Parallel()
	for _, s := range loadReplies(t) {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			r := s.reply(t)
			if r.ReplyType() != s.Inputs.MsgType {
				t.Errorf("ReplyType() = %q, want %q", r.ReplyType(), s.Inputs.MsgType)
			}
			out, err := AppendReply([]byte("keep"), s.Inputs.ToUserName, s.Inputs.FromUserName, s.Inputs.CreateTime, r)
			if err != nil {
				t.Fatalf("AppendReply: %v", err)
			}
			if !bytes.HasPrefix(out, []byte("keep<xml>")) {
				t.Fatalf("AppendReply does not append: %.20q", out)
			}
			out = out[4:]
			if diff := cmp.Diff(xmlItems(t, s.XML), xmlItems(t, out)); diff != "" {
				t.Errorf("AppendReply differs from %s.xml (-want +got):\n%s\ngot: %s", s.Name, diff, out)
			}
			// Whitespace-insensitive byte comparison, as the sources do.
			strip := func(b []byte) string {
				return strings.Map(func(r rune) rune {
					if r == ' ' || r == '\n' || r == '\t' || r == '\r' {
						return -1
					}
					return r
				}, string(b))
			}
			if strip(out) != strip(s.XML) {
				t.Errorf("AppendReply (whitespace removed) =\n%s\nwant\n%s", strip(out), strip(s.XML))
			}
			// The sidecar's flattened fields, through Parse + Get.
			m, err := Parse(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, path := range sortedKeys(s.Fields) {
				if got, ok := m.Get(path); !ok || got != s.Fields[path] {
					t.Errorf("Get(%q) = %q, %v; want %q", path, got, ok, s.Fields[path])
				}
			}
		})
	}
}

// TestParseReplyCorpus parses every corpus reply and checks it against the
// inputs, then round-trips it through AppendReply.
func TestParseReplyCorpus(t *testing.T) {
	t.Parallel()
	for _, s := range loadReplies(t) {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			want := &ReplyMessage{
				ToUserName:   s.Inputs.ToUserName,
				FromUserName: s.Inputs.FromUserName,
				CreateTime:   s.Inputs.CreateTime,
				MsgType:      s.Inputs.MsgType,
				Reply:        s.reply(t),
			}
			got, err := ParseReply(s.XML)
			if err != nil {
				t.Fatalf("ParseReply: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ParseReply mismatch (-want +got):\n%s", diff)
			}
			out, err := AppendReply(nil, got.ToUserName, got.FromUserName, got.CreateTime, got.Reply)
			if err != nil {
				t.Fatal(err)
			}
			again, err := ParseReply(out)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("ParseReply(AppendReply) mismatch (-first +second):\n%s", diff)
			}
		})
	}
}

func TestAppendReplyEscaping(t *testing.T) {
	t.Parallel()
	tricky := []string{"]]>", "a]]>b]]>c", "]]]]>>", "<b>&amp;</b>", "]", "]]", "x]]", "中文 ]]> 表情😀", ""}
	for _, s := range tricky {
		replies := []Reply{
			&Text{Content: s},
			&Image{MediaID: s},
			&Voice{MediaID: s},
			&Video{MediaID: s, Title: s, Description: s},
			&Music{Title: s, Description: s, MusicURL: s, HQMusicURL: s, ThumbMediaID: s},
			&News{Articles: []Article{{Title: s, Description: s, PicURL: s, URL: s}}},
			&TransferCustomerService{KfAccount: s},
		}
		for _, r := range replies {
			out, err := AppendReply(nil, s, s, 7, r)
			if err != nil {
				t.Fatalf("AppendReply(%T %q): %v", r, s, err)
			}
			// encoding/xml must accept it and read the same text back.
			for _, it := range xmlItems(t, out) {
				if strings.HasSuffix(it.Path, "ToUserName") && it.Text != strings.TrimSpace(s) {
					t.Errorf("%T %q: ToUserName read back as %q", r, s, it.Text)
				}
			}
			got, err := ParseReply(out)
			if err != nil {
				t.Fatalf("ParseReply(%s): %v", out, err)
			}
			want := &ReplyMessage{ToUserName: s, FromUserName: s, CreateTime: 7, MsgType: r.ReplyType(), Reply: r}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("round trip of %q (-want +got):\n%s\n%s", s, diff, out)
			}
		}
	}
}

func TestAppendReplyErrors(t *testing.T) {
	t.Parallel()
	many := make([]Article, MaxArticles+1)
	tests := []struct {
		name string
		r    Reply
	}{
		{"nil", nil},
		{"nil *Text", (*Text)(nil)},
		{"nil *News", (*News)(nil)},
		{"news without articles", &News{}},
		{"news with too many articles", &News{Articles: many}},
		{"unknown type", otherReply{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := AppendReply([]byte("keep"), "to", "from", 1, tt.r)
			if !errors.Is(err, ErrInvalidReply) {
				t.Errorf("AppendReply = %v, want ErrInvalidReply", err)
			}
			if string(out) != "keep" {
				t.Errorf("AppendReply wrote %q on error, want dst unchanged", out)
			}
		})
	}
	if _, err := AppendReply(nil, "to", "from", 1, &News{Articles: many[:MaxArticles]}); err != nil {
		t.Errorf("AppendReply(%d articles) = %v", MaxArticles, err)
	}
}

type otherReply struct{}

func (otherReply) ReplyType() MsgType { return "other" }

func TestParseReplyErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"<xml/>",
		"<xml><ToUserName>a</ToUserName></xml>",
		"<xml><MsgType>unknown</MsgType></xml>",
		"<xml><MsgType>text</MsgType><CreateTime>x</CreateTime></xml>",
		"<xml><MsgType>news</MsgType><Articles><item><Title>a</Tit></item></Articles></xml>",
	} {
		if _, err := ParseReply([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseReply(%q) = %v, want ErrMalformed", in, err)
		}
	}
}
