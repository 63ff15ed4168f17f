package message

import "testing"

// loadgenText is a text push shaped like the ones shared/tools/loadgen sends.
const loadgenText = "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><FromUserName><![CDATA[oBench0000000000000000000042]]></FromUserName>" +
	"<CreateTime>1718000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello 你好 1000000000042]]></Content>" +
	"<MsgId>1000000000042</MsgId></xml>"

const loadgenEnvelope = "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><Encrypt><![CDATA[" +
	"rTNFcsut4LfGuAFKEUVVpwcaCOTJzOd9twZdIW910jb3k+iicx2uvhttIZ3Qg9Qgty3BEF2xbOrz6boTfb30dMomcgrkTqdFPwnhqbk+kIQ7rZiwny9D7NUrTgA5kpX3KsZvrXzUZyP2x9YOlxbgm572lmxKvM7HAQQhIQ/p6HBmoY30bGXFK0BtIu1pW9TjhOYrLQoU18nWYjWqDA1ynkmOytpv7QRI1P1+0NoxL0q2zO1DgeSvnE8CZGo/o5Ap/WHK5W2RAsinpzN4/LjPnmB6U01I5XCoJoC0GK/yMZycd2Oh8Nq6+wBkC1U85oy0ktOY4nLvsQMLrourmMGdZHuTbqpeJ8Ao/5PRYJ+WBvRUwPfGKBL2+2IKZF49vAJqkcGWSHGE76ZN2erXeuNazf/o9o3lIE3q739o4c8t9QGPe31GT2Go/rOz1BsrASwvauNulCh+++yz+CQzBIuikA==" +
	"]]></Encrypt></xml>"

func BenchmarkParseText(b *testing.B) {
	in := []byte(loadgenText)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := Parse(in)
		if err != nil || m.MsgID == 0 {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseEnvelope(b *testing.B) {
	in := []byte(loadgenEnvelope)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		e, err := ParseEnvelope(in)
		if err != nil || e.Encrypt == "" {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendReplyText(b *testing.B) {
	buf := make([]byte, 0, 1024)
	r := &Text{Content: "hello 你好 1000000000042"}
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, err = AppendReply(buf[:0], "oBench0000000000000000000042", "gh_0123456789ab", 1718000000, r)
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendXML(b *testing.B) {
	m, err := Parse([]byte(loadgenText))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = m.AppendXML(buf[:0])
	}
}

func BenchmarkGet(b *testing.B) {
	m, err := Parse([]byte(loadgenText))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if v, ok := m.Get("Content"); !ok || v == "" {
			b.Fatal("Get failed")
		}
	}
}

// BenchmarkCheckDocument measures the encoding and character check that
// Parse and ParseEnvelope apply, on a text push and on an envelope.
func BenchmarkCheckDocument(b *testing.B) {
	for _, in := range []struct{ name, doc string }{{"text", loadgenText}, {"envelope", loadgenEnvelope}} {
		b.Run(in.name, func(b *testing.B) {
			doc := []byte(in.doc)
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				if err := CheckDocument(doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
