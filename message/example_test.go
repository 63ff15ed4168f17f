package message_test

import (
	"fmt"

	"github.com/wxkit/wxkit/message"
)

func ExampleParse() {
	m, err := message.Parse([]byte(`<xml>
<ToUserName><![CDATA[gh_123]]></ToUserName>
<FromUserName><![CDATA[oUser]]></FromUserName>
<CreateTime>1348831860</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[scancode_push]]></Event>
<EventKey><![CDATA[6]]></EventKey>
<ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[1]]></ScanResult></ScanCodeInfo>
<NewField>kept</NewField>
</xml>`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.MsgType, m.Event, m.EventKey, m.ScanCodeInfo.ScanType)
	fmt.Println(m.Extra[0].Name, m.Extra[0].Value)
	v, _ := m.Get("ScanCodeInfo/ScanResult")
	fmt.Println(v, m.DedupKey())
	// Output:
	// event scancode_push 6 qrcode
	// NewField kept
	// 1 evt:oUser:1348831860:scancode_push:6
}

func ExampleAppendReply() {
	out, err := message.AppendReply(nil, "oUser", "gh_123", 1348831860, &message.Text{Content: "hi ]]> there"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out))
	// Output:
	// <xml><ToUserName><![CDATA[oUser]]></ToUserName><FromUserName><![CDATA[gh_123]]></FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi ]]]]><![CDATA[> there]]></Content></xml>
}

func ExampleAppendEnvelope() {
	out := message.AppendEnvelope(nil, "Q0lQSEVS", "9f0c", "1411525903", "461056294")
	fmt.Println(string(out))
	e, _ := message.ParseEnvelope(out)
	fmt.Println(e.Encrypt, e.MsgSignature, e.TimeStamp, e.Nonce)
	// Output:
	// <xml><Encrypt><![CDATA[Q0lQSEVS]]></Encrypt><MsgSignature><![CDATA[9f0c]]></MsgSignature><TimeStamp>1411525903</TimeStamp><Nonce><![CDATA[461056294]]></Nonce></xml>
	// Q0lQSEVS 9f0c 1411525903 461056294
}
