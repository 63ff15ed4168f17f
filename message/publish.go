package message

// PublishEventInfo is <PublishEventInfo> of the PUBLISHJOBFINISH event,
// pushed once a freepublish/submit job ends:
//
//	<PublishEventInfo>
//	  <publish_id>2247503051</publish_id>
//	  <publish_status>0</publish_status>
//	  <article_id><![CDATA[b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvyWP4Hq4]]></article_id>
//	  <article_detail><count>1</count><item><idx>1</idx><article_url><![CDATA[…]]></article_url></item></article_detail>
//	</PublishEventInfo>
//
// A failed job has no article_id or article_detail; fail_idx (repeated)
// lists the failing articles (from 1) for statuses 2 and 4.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Publish/Publish.html
type PublishEventInfo struct {
	PublishID string // <publish_id>
	// PublishStatus is 0 success, 2 原创失败 (originality check failed),
	// 3 常规失败 (failed), 4 平台审核不通过 (rejected by review), 5 成功后用户删除所有文章,
	// 6 成功后系统封禁所有文章.
	PublishStatus int    // <publish_status>
	ArticleID     string // <article_id>, on success
	ArticleDetail *PublishArticleDetail
	FailIdx       []int // <fail_idx>, one element per failing article
}

// PublishArticleDetail is <article_detail> of PublishEventInfo.
type PublishArticleDetail struct {
	Count int // <count>
	Items []PublishArticle
}

// PublishArticle is one <article_detail><item>: the published article at
// position Idx (from 1) and its URL.
type PublishArticle struct {
	Idx        int    // <idx>
	ArticleURL string // <article_url>
}

func parsePublishEventInfo(m *Message, n node) error {
	v := &PublishEventInfo{}
	m.PublishEventInfo = v
	return children(n, 2, func(c node) error {
		switch c.name {
		case "publish_id":
			v.PublishID = c.text
		case "publish_status":
			v.PublishStatus = atoi(c.text)
		case "article_id":
			v.ArticleID = c.text
		case "fail_idx":
			v.FailIdx = append(v.FailIdx, atoi(c.text))
		case "article_detail":
			d := &PublishArticleDetail{}
			v.ArticleDetail = d
			return children(c, 3, func(f node) error {
				switch f.name {
				case "count":
					d.Count = atoi(f.text)
				case "item":
					d.Items = append(d.Items, PublishArticle{})
					it := &d.Items[len(d.Items)-1]
					return children(f, 4, func(g node) error {
						switch g.name {
						case "idx":
							it.Idx = atoi(g.text)
						case "article_url":
							it.ArticleURL = g.text
						}
						return nil
					})
				}
				return nil
			})
		}
		return nil
	})
}

func renderPublishEventInfo(dst []byte, m *Message) []byte {
	v := m.PublishEventInfo
	if v == nil {
		return dst
	}
	dst = appendOpen(dst, "PublishEventInfo")
	dst = appendTextElem(dst, "publish_id", v.PublishID)
	dst = appendIntElem(dst, "publish_status", int64(v.PublishStatus))
	if v.ArticleID != "" {
		dst = appendCDATAElem(dst, "article_id", v.ArticleID)
	}
	if d := v.ArticleDetail; d != nil {
		dst = appendOpen(dst, "article_detail")
		dst = appendIntElem(dst, "count", int64(d.Count))
		for _, it := range d.Items {
			dst = appendOpen(dst, "item")
			dst = appendIntElem(dst, "idx", int64(it.Idx))
			dst = appendCDATAElem(dst, "article_url", it.ArticleURL)
			dst = appendClose(dst, "item")
		}
		dst = appendClose(dst, "article_detail")
	}
	for _, i := range v.FailIdx {
		dst = appendIntElem(dst, "fail_idx", int64(i))
	}
	return appendClose(dst, "PublishEventInfo")
}
