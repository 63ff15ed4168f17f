package message

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestParseCorpus parses every corpus message and checks every value of its
// sidecar: the whole document (fields, flattened, through Get), the source's
// assertions (expect), the derived values (expect_derived), and the typed
// fields.
func TestParseCorpus(t *testing.T) {
	t.Parallel()
	for _, s := range loadMessages(t) {
		t.Run(s.testName(), func(t *testing.T) {
			t.Parallel()
			m, err := Parse(s.XML)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if string(m.Raw) != string(s.XML) {
				t.Error("Raw is not the parsed document")
			}

			flat := map[string]string{}
			flatten("", s.Fields, flat)
			if len(flat) == 0 {
				t.Fatal("sidecar fields are empty")
			}
			for _, path := range sortedKeys(flat) {
				if got, ok := m.Get(path); !ok || got != flat[path] {
					t.Errorf("Get(%q) = %q, %v; want %q", path, got, ok, flat[path])
				}
			}
			for _, path := range sortedKeys(s.Expect) {
				if got, ok := m.Get(path); !ok || got != s.Expect[path] {
					t.Errorf("expect Get(%q) = %q, %v; want %q", path, got, ok, s.Expect[path])
				}
			}
			for _, k := range sortedKeys(s.ExpectDerived) {
				want := s.ExpectDerived[k]
				switch k {
				case "scene_id":
					if got := m.SceneID(); got != want {
						t.Errorf("SceneID() = %q, want %q", got, want)
					}
				case "content_base64_decoded":
					got, err := m.DeviceContent()
					if err != nil || string(got) != want {
						t.Errorf("DeviceContent() = %q, %v; want %q", got, err, want)
					}
				default:
					t.Errorf("expect_derived key %q has no accessor", k)
				}
			}

			// Typed identity fields.
			if s.MsgType != nil && string(m.MsgType) != *s.MsgType {
				t.Errorf("MsgType = %q, want %q", m.MsgType, *s.MsgType)
			}
			if s.MsgType == nil && m.MsgType != "" {
				t.Errorf("MsgType = %q, want empty", m.MsgType)
			}
			if got, want := string(m.Event), deref(s.Event); got != want {
				t.Errorf("Event = %q, want %q", got, want)
			}
			if got, want := string(m.InfoType), deref(s.InfoType); got != want {
				t.Errorf("InfoType = %q, want %q", got, want)
			}
			ct, _ := strconv.ParseInt(flat["CreateTime"], 10, 64)
			if ct == 0 || m.CreateTime != ct {
				t.Errorf("CreateTime = %d, want %s", m.CreateTime, flat["CreateTime"])
			}
			wantID := flat["MsgId"]
			if wantID == "" {
				wantID = flat["MsgID"]
			}
			if got := strconv.FormatInt(m.MsgID, 10); wantID != "" && got != wantID || wantID == "" && m.MsgID != 0 {
				t.Errorf("MsgID = %d, want %q", m.MsgID, wantID)
			}

			// Every top-level text element lands in its typed field, or in
			// Extra when it has none (or its text does not fit).
			checkTopLevel(t, m, s.Fields)

			// Nothing is dropped: the document rendered from the typed fields
			// and Extra holds every value of the original.
			re := *m
			re.Raw = nil
			for _, path := range sortedKeys(flat) {
				rpath := path
				if path == "MsgID" {
					rpath = "MsgId" // rendered with the documented spelling
				}
				got, ok := re.Get(rpath)
				if !ok && flat[path] == "" {
					continue // an empty typed string is not rendered
				}
				if !ok || !sameValue(got, flat[path]) {
					t.Errorf("after AppendXML, Get(%q) = %q, %v; want %q", rpath, got, ok, flat[path])
				}
			}
		})
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// sameValue compares texts, or numbers by value ("119.385040" == "119.38504").
func sameValue(a, b string) bool {
	if a == b {
		return true
	}
	x, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	y, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	return err1 == nil && err2 == nil && x == y
}

func checkTopLevel(t *testing.T, m *Message, fieldsDoc map[string]any) {
	t.Helper()
	extra := map[string]string{}
	for _, e := range m.Extra {
		extra[e.Name] = e.Value
	}
	for name, v := range fieldsDoc {
		text, isText := v.(string)
		idx, typed := fieldIndex[name]
		if !typed {
			if _, ok := extra[name]; !ok {
				t.Errorf("<%s> has no typed field and is not in Extra", name)
			} else if isText && extra[name] != text {
				t.Errorf("Extra[%s] = %q, want %q", name, extra[name], text)
			}
			continue
		}
		if !isText {
			continue // nested: checked by the typed-struct tests and the render check
		}
		f := fields[idx]
		switch f.kind {
		case kString:
			if got := *f.str(m); got != text {
				t.Errorf("typed <%s> = %q, want %q", name, got, text)
			}
		case kInt64, kInt, kFloat:
			want, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
			if err != nil {
				if got, ok := extra[name]; !ok || got != text {
					t.Errorf("non-numeric <%s>%s</%s> not kept in Extra (got %q)", name, text, name, got)
				}
				continue
			}
			var got float64
			switch f.kind {
			case kInt64:
				got = float64(*f.i64(m))
			case kInt:
				got = float64(*f.int(m))
			case kFloat:
				got = *f.f64(m)
			}
			if got != want {
				t.Errorf("typed <%s> = %v, want %v", name, got, want)
			}
		}
	}
}

// TestParseTypedNested checks the typed structs of the nested elements
// against the corpus samples that carry them.
func TestParseTypedNested(t *testing.T) {
	t.Parallel()
	byName := map[string]*Message{}
	for _, s := range loadMessages(t) {
		m, err := Parse(s.XML)
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		byName[s.Name] = m
	}
	get := func(name string) *Message {
		m := byName[name]
		if m == nil {
			t.Fatalf("corpus sample %s missing", name)
		}
		return m
	}
	tests := []struct {
		sample string
		got    func(m *Message) any
		want   any
	}{
		{"event_scancode_push", func(m *Message) any { return m.ScanCodeInfo },
			&ScanCodeInfo{ScanType: "qrcode", ScanResult: "1"}},
		{"event_subscribe_msg_popup_event", func(m *Message) any { return m.SubscribeMsgPopupEvent },
			[]SubscribeMsgPopup{
				{TemplateID: "VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc", SubscribeStatusString: "accept", PopupScene: "2"},
				{TemplateID: "9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI", SubscribeStatusString: "reject", PopupScene: "2"},
			}},
		{"event_subscribe_msg_sent_event", func(m *Message) any { return m.SubscribeMsgSentEvent },
			[]SubscribeMsgSent{{TemplateID: "VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc", MsgID: 1700827132819554304, ErrorCode: 0, ErrorStatus: "success"}}},
		{"mixed_all_fields_wxjava", func(m *Message) any { return m.SendPicsInfo },
			&SendPicsInfo{Count: 1, PicList: []SendPic{{PicMd5Sum: "1b5f7c23b5bf75682a53e7b6d163e185"}}}},
		{"mixed_all_fields_wxjava", func(m *Message) any { return m.SendLocationInfo },
			&SendLocationInfo{LocationX: 23, LocationY: 113, Scale: 15, Label: " 广州市海珠区客村艺苑路 106号", Poiname: "wo de poi"}},
		{"event_shakearound_user_shake", func(m *Message) any { return m.ChosenBeacon },
			&Beacon{UUID: "uuid", Major: "major", Minor: "minor", Distance: 0.057}},
		{"event_shakearound_user_shake", func(m *Message) any { return m.AroundBeacons },
			[]Beacon{{UUID: "uuid", Major: "major", Minor: "minor", Distance: 166.816}, {UUID: "uuid", Major: "major", Minor: "minor", Distance: 15.013}}},
		{"event_masssendjobfinish_wxjava", func(m *Message) any { return m.CopyrightCheckResult },
			&CopyrightCheckResult{Count: 2, CheckState: 2, ResultList: []CopyrightCheckItem{
				{ArticleIdx: 1, AuditState: 2, OriginalArticleURL: "Url_1", OriginalArticleType: 1, CanReprint: 1, NeedReplaceContent: 1, NeedShowReprintSource: 1},
				{ArticleIdx: 2, AuditState: 2, OriginalArticleURL: "Url_2", OriginalArticleType: 1, CanReprint: 1, NeedReplaceContent: 1, NeedShowReprintSource: 1},
			}}},
	}
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got(get(tt.sample))); diff != "" {
				t.Errorf("typed nested field mismatch (-want +got):\n%s", diff)
			}
		})
	}
	// Samples whose nested elements must all be typed (not left in Extra).
	for _, name := range []string{"event_scancode_push", "event_pic_weixin", "event_location_select", "event_subscribe_msg_change_event", "event_masssendjobfinish"} {
		if m := get(name); len(m.Extra) != 0 {
			t.Errorf("%s: Extra = %+v, want empty", name, m.Extra)
		}
	}
	if m := get("event_subscribe_msg_change_event"); len(m.SubscribeMsgChangeEvent) == 0 {
		t.Error("SubscribeMsgChangeEvent not parsed")
	}
	if m := get("event_masssendjobfinish"); m.ArticleURLResult == nil || len(m.ArticleURLResult.ResultList) == 0 {
		t.Errorf("ArticleURLResult = %+v, want parsed", m.ArticleURLResult)
	}
}

// TestAppendXMLRoundTrip renders every corpus message and parses it back:
// the typed fields and Extra must be unchanged, and rendering is stable.
func TestAppendXMLRoundTrip(t *testing.T) {
	t.Parallel()
	ignoreRaw := cmpopts.IgnoreFields(Message{}, "Raw")
	for _, s := range loadMessages(t) {
		t.Run(s.testName(), func(t *testing.T) {
			t.Parallel()
			m, err := Parse(s.XML)
			if err != nil {
				t.Fatal(err)
			}
			out := m.AppendXML([]byte("keep"))
			if !strings.HasPrefix(string(out), "keep<xml>") {
				t.Fatalf("AppendXML does not append: %.20q", out)
			}
			m2, err := Parse(out[4:])
			if err != nil {
				t.Fatalf("Parse(AppendXML) = %v\n%s", err, out[4:])
			}
			if diff := cmp.Diff(m, m2, ignoreRaw); diff != "" {
				t.Errorf("Parse(AppendXML(m)) differs (-orig +round trip):\n%s", diff)
			}
			if again := m2.AppendXML(nil); string(again) != string(out[4:]) {
				t.Errorf("rendering is not stable:\n%s\n%s", out[4:], again)
			}
		})
	}
}

// ids are the elements every push but an Open Platform one requires, for
// the tests about other syntax.
const ids = "<ToUserName>to</ToUserName><FromUserName>from</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"

// withIDs returns m with the values of ids where m leaves them zero.
func withIDs(m Message) Message {
	if m.ToUserName == "" {
		m.ToUserName = "to"
	}
	if m.FromUserName == "" {
		m.FromUserName = "from"
	}
	if m.CreateTime == 0 {
		m.CreateTime = 1
	}
	if m.MsgType == "" {
		m.MsgType = MsgTypeText
	}
	return m
}

func TestParseSyntax(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want Message
		get  map[string]string
	}{
		{
			name: "declaration, comments, whitespace, attributes",
			in: "\ufeff<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- push -->\n<xml a='1'>\n  <ToUserName >to</ToUserName >\n <!-- c --> <MsgType\t>text</MsgType>" +
				"<FromUserName>from</FromUserName><CreateTime>1</CreateTime><Content><![CDATA[hi]]></Content><?pi x?></xml>\n<!-- end -->\n",
			want: Message{ToUserName: "to", FromUserName: "from", CreateTime: 1, MsgType: MsgTypeText, Content: "hi"},
		},
		{
			name: "entities and character references",
			in:   "<xml>" + ids + "<Content>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#20013;&#x6587; &#X41;</Content></xml>",
			want: withIDs(Message{Content: `a <b> & "c" 'd' 中文 A`}),
		},
		{
			name: "CDATA keeps markup and entities literally",
			in:   "<xml>" + ids + "<Content><![CDATA[<b>&amp;</b>]]></Content></xml>",
			want: withIDs(Message{Content: "<b>&amp;</b>"}),
		},
		{
			name: "split CDATA sections and mixed text concatenate",
			in:   "<xml>" + ids + "<Content><![CDATA[a]]]]><![CDATA[>b]]> c&amp;<!-- x -->d</Content></xml>",
			want: withIDs(Message{Content: "a]]>b c&d"}),
		},
		{
			name: "whitespace around CDATA is kept, numbers are trimmed",
			in:   "<xml><ToUserName>to</ToUserName><FromUserName>from</FromUserName><MsgType>text</MsgType><Content>\n <![CDATA[x]]>\n</Content><CreateTime>\n 12 \n</CreateTime></xml>",
			want: withIDs(Message{Content: "\n x\n", CreateTime: 12}),
		},
		{
			name: "MsgID in upper case",
			in:   "<xml>" + ids + "<MsgID>42</MsgID></xml>",
			want: withIDs(Message{MsgID: 42}),
		},
		{
			name: "self-closing and empty elements",
			in:   "<xml>" + ids + "<Content/><EventKey></EventKey><Unknown/></xml>",
			want: withIDs(Message{Extra: []Element{{Name: "Unknown"}}}),
		},
		{
			name: "empty required elements are filled by later ones",
			in:   "<xml><ToUserName/><MsgType></MsgType><CreateTime>0</CreateTime>" + ids + "</xml>",
			want: withIDs(Message{}),
		},
		{
			name: "unknown elements go to Extra in order, nested ones raw",
			in:   "<xml><Z>1</Z><MsgType>event</MsgType><ToUserName>to</ToUserName><FromUserName>from</FromUserName><CreateTime>1</CreateTime><A><B>x</B><B>y</B></A><Y>&amp;</Y></xml>",
			want: withIDs(Message{MsgType: MsgTypeEvent, Extra: []Element{
				{Name: "Z", Value: "1"}, {Name: "A", Value: "<B>x</B><B>y</B>", Nested: true}, {Name: "Y", Value: "&"},
			}}),
			get: map[string]string{"A/B": "x", "A/B[0]": "x", "A/B[1]": "y", "A": "<B>x</B><B>y</B>", "Y": "&"},
		},
		{
			name: "repeated and non-numeric elements are kept in Extra",
			in:   "<xml>" + ids + "<Content>a</Content><Content>b</Content><CreateTime>soon</CreateTime><Content><x/></Content></xml>",
			want: withIDs(Message{Content: "a", Extra: []Element{
				{Name: "Content", Value: "b"}, {Name: "CreateTime", Value: "soon"}, {Name: "Content", Value: "<x/>", Nested: true},
			}}),
			get: map[string]string{"Content": "a", "Content[1]": "b", "Content[2]": "<x/>"},
		},
		{
			name: "any root name",
			in:   "<root>" + ids + "<out_refund_no>1</out_refund_no></root>",
			want: withIDs(Message{Extra: []Element{{Name: "out_refund_no", Value: "1"}}}),
		},
		{
			name: "float fields",
			in:   "<xml>" + ids + "<Location_X>23.134521</Location_X><Location_Y>-113.5</Location_Y><Scale>20</Scale><Precision>119.385040</Precision></xml>",
			want: withIDs(Message{LocationX: 23.134521, LocationY: -113.5, Scale: 20, Precision: 119.38504}),
		},
		{
			name: "invoice title lower-case elements",
			in:   "<xml>" + ids + "<title>T</title><tax_no>1</tax_no><title_type>B</title_type></xml>",
			want: withIDs(Message{InvoiceTitle: "T", TaxNo: "1", TitleType: "B"}),
		},
		{
			name: "Open Platform push: AppId, CreateTime and InfoType suffice",
			in:   "<xml><AppId>wxComp</AppId><CreateTime>1413192605</CreateTime><InfoType>component_verify_ticket</InfoType></xml>",
			want: Message{AppID: "wxComp", CreateTime: 1413192605, InfoType: InfoTypeComponentVerifyTicket},
		},
		{
			name: "surrogate pair, tab, CR, LF and U+FFFD are XML characters",
			in:   "<xml>\r\n\t" + ids + "<Content>\U0001F600\t\uFFFD\uE000\r\n</Content></xml>",
			want: withIDs(Message{Content: "\U0001F600\t\uFFFD\uE000\r\n"}),
		},
		{
			name: "declaration without encoding, lower-case utf-8, other PIs",
			in:   "  <?xml version='1.0' encoding = 'utf-8' standalone='yes'?><?xml-stylesheet href='a'?><xml>" + ids + "</xml>",
			want: withIDs(Message{}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tt.in, err)
			}
			if diff := cmp.Diff(&tt.want, m, cmpopts.IgnoreFields(Message{}, "Raw")); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
			for path, want := range tt.get {
				if got, ok := m.Get(path); !ok || got != want {
					t.Errorf("Get(%q) = %q, %v; want %q", path, got, ok, want)
				}
			}
		})
	}
}

func TestGetMisses(t *testing.T) {
	t.Parallel()
	m, err := Parse([]byte("<xml>" + ids + "<A><B>x</B></A><C>y</C></xml>"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"", "D", "A/C", "A/B[1]", "A/B/C", "C[1]", "A[", "A[x]", "A[-1]", "[0]", "A//B", "/A"} {
		if got, ok := m.Get(path); ok {
			t.Errorf("Get(%q) = %q, true; want false", path, got)
		}
	}
	// A Message built in code is read through AppendXML.
	built := &Message{ToUserName: "to", MsgType: MsgTypeText, Content: "a]]>b", ScanCodeInfo: &ScanCodeInfo{ScanType: "qrcode"}}
	for path, want := range map[string]string{"ToUserName": "to", "Content": "a]]>b", "ScanCodeInfo/ScanType": "qrcode", "CreateTime": "0"} {
		if got, ok := built.Get(path); !ok || got != want {
			t.Errorf("built Get(%q) = %q, %v; want %q", path, got, ok, want)
		}
	}
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("<a>", 10000) + strings.Repeat("</a>", 10000)
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"whitespace only", " \n\t"},
		{"text only", "hello"},
		{"binary", "\x00\x01\x02\xff\xfe"},
		{"binary after lt", "<\x00\x01>"},
		{"truncated start tag", "<xml"},
		{"truncated", "<xml><ToUserName><![CDATA[to]]></ToUserName><Content>hi"},
		{"truncated end tag", "<xml><Content>hi</Content></xm"},
		{"unclosed root", "<xml><Content>hi</Content>"},
		{"unclosed CDATA", "<xml><Content><![CDATA[hi</Content></xml>"},
		{"unclosed comment", "<xml><!-- x</xml>"},
		{"unclosed PI", "<?xml version='1.0'"},
		{"mismatched tags", "<xml><Content>hi</Contnt></xml>"},
		{"mismatched root", "<xml><Content>hi</Content></xmlx>"},
		{"end tag prefix of name", "<xml><Content>hi</Cont></xml>"},
		{"interleaved", "<xml><A><B></A></B></xml>"},
		{"stray end tag", "</xml>"},
		{"two roots", "<xml></xml><xml></xml>"},
		{"text after root", "<xml></xml>junk"},
		{"text between top-level elements", "<xml>junk<Content>hi</Content></xml>"},
		{"huge nesting", "<xml>" + deep + "</xml>"},
		{"nesting just over MaxDepth", "<xml>" + strings.Repeat("<a>", MaxDepth+1) + strings.Repeat("</a>", MaxDepth+1) + "</xml>"},
		{"unknown entity", "<xml><Content>&nbsp;</Content></xml>"},
		{"unterminated entity", "<xml><Content>a & b</Content></xml>"},
		{"bad char ref", "<xml><Content>&#xZZ;</Content></xml>"},
		{"NUL char ref", "<xml><Content>&#0;</Content></xml>"},
		{"char ref too big", "<xml><Content>&#x110000;</Content></xml>"},
		{"empty char ref", "<xml><Content>&#;</Content></xml>"},
		{"DOCTYPE", "<!DOCTYPE xml [<!ENTITY x 'y'>]><xml></xml>"},
		{"markup declaration inside", "<xml><!ELEMENT x></xml>"},
		{"bad name", "<xml><1a>x</1a></xml>"},
		{"unquoted attribute", "<xml a=1></xml>"},
		{"attribute without value", "<xml a></xml>"},
		{"unterminated attribute", "<xml a='1></xml>"},
		{"slash in start tag", "<xml / ></xml>"},
		{"lt in text", "<xml><Content>a < b</Content></xml>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Parse([]byte(tt.in))
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("Parse(%.60q) = %+v, %v; want ErrMalformed", tt.in, m, err)
			}
			if _, err := ParseEnvelope([]byte(tt.in)); !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseEnvelope(%.60q) = %v; want ErrMalformed", tt.in, err)
			}
			if _, err := ParseReply([]byte(tt.in)); !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseReply(%.60q) = %v; want ErrMalformed", tt.in, err)
			}
		})
	}
	// Nesting up to MaxDepth is fine.
	ok := "<xml>" + ids + strings.Repeat("<a>", MaxDepth) + strings.Repeat("</a>", MaxDepth) + "</xml>"
	if _, err := Parse([]byte(ok)); err != nil {
		t.Errorf("Parse(nesting %d) = %v, want nil", MaxDepth, err)
	}
}

func TestParseTooLarge(t *testing.T) {
	t.Parallel()
	big := []byte("<xml><Content>" + strings.Repeat("a", MaxSize) + "</Content></xml>")
	if _, err := Parse(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Parse(%d bytes) = %v, want ErrTooLarge", len(big), err)
	}
	if _, err := ParseEnvelope(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ParseEnvelope(%d bytes) = %v, want ErrTooLarge", len(big), err)
	}
	if _, err := ParseReply(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ParseReply(%d bytes) = %v, want ErrTooLarge", len(big), err)
	}
}

func TestDedupKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		m    Message
		want string
	}{
		{"message", Message{MsgID: 1234567890123456, FromUserName: "u", CreateTime: 1, Event: "x"}, "msg:1234567890123456"},
		{"event", Message{FromUserName: "oUser", CreateTime: 1348831860, MsgType: MsgTypeEvent, Event: EventTypeSubscribe}, "evt:oUser:1348831860:subscribe"},
		{"event with key", Message{FromUserName: "oUser", CreateTime: 1348831860, MsgType: MsgTypeEvent, Event: EventTypeClick, EventKey: "DEMO_HELLO"}, "evt:oUser:1348831860:CLICK:DEMO_HELLO"},
		{"info", Message{AppID: "wxComp", CreateTime: 1413192605, InfoType: InfoTypeComponentVerifyTicket}, "info:wxComp:1413192605:component_verify_ticket"},
		{"info with authorizer", Message{AppID: "wxComp", CreateTime: 1413192605, InfoType: InfoTypeAuthorized, AuthorizerAppID: "wxAuth"}, "info:wxComp:1413192605:authorized:wxAuth"},
	}
	for _, tt := range tests {
		if got := tt.m.DedupKey(); got != tt.want {
			t.Errorf("%s: DedupKey() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSceneIDAndDeviceContent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m    Message
		want string
	}{
		{Message{Event: EventTypeSubscribe, EventKey: "qrscene_123"}, "123"},
		{Message{Event: EventTypeSubscribe, EventKey: ""}, ""},
		{Message{Event: EventTypeSubscribe, EventKey: "last_trade_no_4200"}, ""},
		{Message{Event: EventTypeScan, EventKey: "SCENE"}, "SCENE"},
		{Message{Event: EventTypeClick, EventKey: "qrscene_1"}, ""},
	}
	for _, tt := range tests {
		if got := tt.m.SceneID(); got != tt.want {
			t.Errorf("%+v.SceneID() = %q, want %q", tt.m, got, tt.want)
		}
	}
	m := Message{Content: base64.StdEncoding.EncodeToString([]byte("\x01\x02bin"))}
	if got, err := m.DeviceContent(); err != nil || string(got) != "\x01\x02bin" {
		t.Errorf("DeviceContent() = %q, %v", got, err)
	}
	if _, err := (&Message{Content: "%%%"}).DeviceContent(); err == nil {
		t.Error("DeviceContent() of non-base64 = nil error")
	}
}

// TestParseMiniProgramCustomerService: the Mini Program's customer-service
// pushes (a card, a temporary session) get typed fields and render back.
func TestParseMiniProgramCustomerService(t *testing.T) {
	t.Parallel()
	card := []byte(`<xml><ToUserName><![CDATA[gh_mp]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>` +
		`<CreateTime>1482048670</CreateTime><MsgType><![CDATA[miniprogrampage]]></MsgType><MsgId>1234567890123456</MsgId>` +
		`<Title><![CDATA[标题]]></Title><AppId><![CDATA[wxmp0123456789abcd]]></AppId><PagePath><![CDATA[pages/index/index?x=1]]></PagePath>` +
		`<ThumbUrl><![CDATA[https://example.com/t.png]]></ThumbUrl><ThumbMediaId><![CDATA[media]]></ThumbMediaId></xml>`)
	m, err := Parse(card)
	if err != nil {
		t.Fatal(err)
	}
	if m.MsgType != MsgTypeMiniProgramPage || m.PagePath != "pages/index/index?x=1" || m.ThumbURL != "https://example.com/t.png" || m.Title != "标题" || len(m.Extra) != 0 {
		t.Errorf("Parse(miniprogrampage) = %+v, want typed PagePath, ThumbUrl and Title and no Extra", m)
	}
	again, err := Parse(m.AppendXML(nil))
	if err != nil || again.PagePath != m.PagePath || again.ThumbURL != m.ThumbURL {
		t.Errorf("render and parse again = %+v, %v", again, err)
	}
	enter := []byte(`<xml><ToUserName><![CDATA[gh_mp]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>` +
		`<CreateTime>1482048670</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[user_enter_tempsession]]></Event>` +
		`<SessionFrom><![CDATA[sessionFrom]]></SessionFrom></xml>`)
	if m, err := Parse(enter); err != nil || m.Event != EventTypeUserEnterTempSession || m.SessionFrom != "sessionFrom" {
		t.Errorf("Parse(user_enter_tempsession) = %+v, %v", m, err)
	}
}
