package message

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The PUBLISHJOBFINISH samples of the platform's documentation (success
// and a failure with fail_idx).
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Publish/Publish.html
const (
	publishOKSample = `<xml>
<ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName>
<FromUserName><![CDATA[oV5CrjpxgaGXNHIQigzNlgLTnwic]]></FromUserName>
<CreateTime>1481013459</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[PUBLISHJOBFINISH]]></Event>
<PublishEventInfo>
<publish_id>2247503051</publish_id>
<publish_status>0</publish_status>
<article_id><![CDATA[b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvyWP4Hq4]]></article_id>
<article_detail>
<count>1</count>
<item>
<idx>1</idx>
<article_url><![CDATA[ARTICLE_URL]]></article_url>
</item>
</article_detail>
</PublishEventInfo>
</xml>`
	publishFailSample = `<xml>
<ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName>
<FromUserName><![CDATA[oV5CrjpxgaGXNHIQigzNlgLTnwic]]></FromUserName>
<CreateTime>1481013459</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[PUBLISHJOBFINISH]]></Event>
<PublishEventInfo>
<publish_id>2247503051</publish_id>
<publish_status>2</publish_status>
<fail_idx>1</fail_idx>
<fail_idx>2</fail_idx>
</PublishEventInfo>
</xml>`
)

func TestParsePublishJobFinish(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		sample string
		want   *PublishEventInfo
	}{
		{"success", publishOKSample, &PublishEventInfo{
			PublishID: "2247503051", PublishStatus: 0, ArticleID: "b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvyWP4Hq4",
			ArticleDetail: &PublishArticleDetail{Count: 1, Items: []PublishArticle{{Idx: 1, ArticleURL: "ARTICLE_URL"}}},
		}},
		{"failure", publishFailSample, &PublishEventInfo{PublishID: "2247503051", PublishStatus: 2, FailIdx: []int{1, 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.sample))
			if err != nil {
				t.Fatalf("Parse = %v", err)
			}
			if m.Event != EventTypePublishJobFinish || len(m.Extra) != 0 {
				t.Errorf("Parse: Event %q, Extra %+v; want PUBLISHJOBFINISH, nothing untyped", m.Event, m.Extra)
			}
			if diff := cmp.Diff(tt.want, m.PublishEventInfo); diff != "" {
				t.Errorf("Parse: PublishEventInfo mismatch (-want +got):\n%s", diff)
			}
			back, err := Parse(m.AppendXML(nil))
			if err != nil {
				t.Fatalf("Parse(AppendXML) = %v", err)
			}
			if diff := cmp.Diff(tt.want, back.PublishEventInfo); diff != "" {
				t.Errorf("round trip mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
