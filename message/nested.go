package message

import "strconv"

// Parsing and rendering of the known elements with children. Numbers that do
// not parse are left zero; the raw element stays readable through Get.

func atoi(s string) int {
	v, _ := strconv.Atoi(trimSpace(s))
	return v
}

func atof(s string) float64 {
	v, _ := strconv.ParseFloat(trimSpace(s), 64)
	return v
}

func atoi64(s string) int64 {
	v, _ := strconv.ParseInt(trimSpace(s), 10, 64)
	return v
}

func appendOpen(dst []byte, name string) []byte {
	dst = append(dst, '<')
	dst = append(dst, name...)
	return append(dst, '>')
}

func appendClose(dst []byte, name string) []byte {
	dst = append(dst, "</"...)
	dst = append(dst, name...)
	return append(dst, '>')
}

func parseScanCodeInfo(m *Message, n node) error {
	v := &ScanCodeInfo{}
	m.ScanCodeInfo = v
	return children(n, 2, func(c node) error {
		switch c.name {
		case "ScanType":
			v.ScanType = c.text
		case "ScanResult":
			v.ScanResult = c.text
		}
		return nil
	})
}

func renderScanCodeInfo(dst []byte, m *Message) []byte {
	v := m.ScanCodeInfo
	if v == nil {
		return dst
	}
	dst = appendOpen(dst, "ScanCodeInfo")
	dst = appendCDATAElem(dst, "ScanType", v.ScanType)
	dst = appendCDATAElem(dst, "ScanResult", v.ScanResult)
	return appendClose(dst, "ScanCodeInfo")
}

func parseSendPicsInfo(m *Message, n node) error {
	v := &SendPicsInfo{}
	m.SendPicsInfo = v
	return children(n, 2, func(c node) error {
		switch c.name {
		case "Count":
			v.Count = atoi(c.text)
		case "PicList":
			return children(c, 3, func(item node) error {
				var p SendPic
				err := children(item, 4, func(f node) error {
					if f.name == "PicMd5Sum" {
						p.PicMd5Sum = f.text
					}
					return nil
				})
				v.PicList = append(v.PicList, p)
				return err
			})
		}
		return nil
	})
}

func renderSendPicsInfo(dst []byte, m *Message) []byte {
	v := m.SendPicsInfo
	if v == nil {
		return dst
	}
	dst = appendOpen(dst, "SendPicsInfo")
	dst = appendIntElem(dst, "Count", int64(v.Count))
	dst = appendOpen(dst, "PicList")
	for _, p := range v.PicList {
		dst = appendOpen(dst, "item")
		dst = appendCDATAElem(dst, "PicMd5Sum", p.PicMd5Sum)
		dst = appendClose(dst, "item")
	}
	dst = appendClose(dst, "PicList")
	return appendClose(dst, "SendPicsInfo")
}

func parseSendLocationInfo(m *Message, n node) error {
	v := &SendLocationInfo{}
	m.SendLocationInfo = v
	return children(n, 2, func(c node) error {
		switch c.name {
		case "Location_X":
			v.LocationX = atof(c.text)
		case "Location_Y":
			v.LocationY = atof(c.text)
		case "Scale":
			v.Scale = atoi(c.text)
		case "Label":
			v.Label = c.text
		case "Poiname":
			v.Poiname = c.text
		}
		return nil
	})
}

func renderSendLocationInfo(dst []byte, m *Message) []byte {
	v := m.SendLocationInfo
	if v == nil {
		return dst
	}
	dst = appendOpen(dst, "SendLocationInfo")
	dst = appendFloatElem(dst, "Location_X", v.LocationX)
	dst = appendFloatElem(dst, "Location_Y", v.LocationY)
	dst = appendIntElem(dst, "Scale", int64(v.Scale))
	dst = appendCDATAElem(dst, "Label", v.Label)
	dst = appendCDATAElem(dst, "Poiname", v.Poiname)
	return appendClose(dst, "SendLocationInfo")
}

func parseSubscribeMsgPopup(m *Message, n node) error {
	return children(n, 2, func(l node) error {
		if l.name != "List" {
			return nil
		}
		var v SubscribeMsgPopup
		err := children(l, 3, func(c node) error {
			switch c.name {
			case "TemplateId":
				v.TemplateID = c.text
			case "SubscribeStatusString":
				v.SubscribeStatusString = c.text
			case "PopupScene":
				v.PopupScene = c.text
			}
			return nil
		})
		m.SubscribeMsgPopupEvent = append(m.SubscribeMsgPopupEvent, v)
		return err
	})
}

func renderSubscribeMsgPopup(dst []byte, m *Message) []byte {
	if m.SubscribeMsgPopupEvent == nil {
		return dst
	}
	dst = appendOpen(dst, "SubscribeMsgPopupEvent")
	for _, v := range m.SubscribeMsgPopupEvent {
		dst = appendOpen(dst, "List")
		dst = appendCDATAElem(dst, "TemplateId", v.TemplateID)
		dst = appendCDATAElem(dst, "SubscribeStatusString", v.SubscribeStatusString)
		dst = appendTextElem(dst, "PopupScene", v.PopupScene)
		dst = appendClose(dst, "List")
	}
	return appendClose(dst, "SubscribeMsgPopupEvent")
}

func parseSubscribeMsgChange(m *Message, n node) error {
	return children(n, 2, func(l node) error {
		if l.name != "List" {
			return nil
		}
		var v SubscribeMsgChange
		err := children(l, 3, func(c node) error {
			switch c.name {
			case "TemplateId":
				v.TemplateID = c.text
			case "SubscribeStatusString":
				v.SubscribeStatusString = c.text
			}
			return nil
		})
		m.SubscribeMsgChangeEvent = append(m.SubscribeMsgChangeEvent, v)
		return err
	})
}

func renderSubscribeMsgChange(dst []byte, m *Message) []byte {
	if m.SubscribeMsgChangeEvent == nil {
		return dst
	}
	dst = appendOpen(dst, "SubscribeMsgChangeEvent")
	for _, v := range m.SubscribeMsgChangeEvent {
		dst = appendOpen(dst, "List")
		dst = appendCDATAElem(dst, "TemplateId", v.TemplateID)
		dst = appendCDATAElem(dst, "SubscribeStatusString", v.SubscribeStatusString)
		dst = appendClose(dst, "List")
	}
	return appendClose(dst, "SubscribeMsgChangeEvent")
}

func parseSubscribeMsgSent(m *Message, n node) error {
	return children(n, 2, func(l node) error {
		if l.name != "List" {
			return nil
		}
		var v SubscribeMsgSent
		err := children(l, 3, func(c node) error {
			switch c.name {
			case "TemplateId":
				v.TemplateID = c.text
			case "MsgID", "MsgId":
				v.MsgID = atoi64(c.text)
			case "ErrorCode":
				v.ErrorCode = atoi(c.text)
			case "ErrorStatus":
				v.ErrorStatus = c.text
			}
			return nil
		})
		m.SubscribeMsgSentEvent = append(m.SubscribeMsgSentEvent, v)
		return err
	})
}

func renderSubscribeMsgSent(dst []byte, m *Message) []byte {
	if m.SubscribeMsgSentEvent == nil {
		return dst
	}
	dst = appendOpen(dst, "SubscribeMsgSentEvent")
	for _, v := range m.SubscribeMsgSentEvent {
		dst = appendOpen(dst, "List")
		dst = appendCDATAElem(dst, "TemplateId", v.TemplateID)
		dst = appendIntElem(dst, "MsgID", v.MsgID)
		dst = appendIntElem(dst, "ErrorCode", int64(v.ErrorCode))
		dst = appendCDATAElem(dst, "ErrorStatus", v.ErrorStatus)
		dst = appendClose(dst, "List")
	}
	return appendClose(dst, "SubscribeMsgSentEvent")
}

// eachItem calls fn for the children of every <item> under n.
func eachItem(n node, depth int, start func(), fn func(c node)) error {
	return children(n, depth, func(item node) error {
		if item.name != "item" {
			return nil
		}
		start()
		return children(item, depth+1, func(c node) error { fn(c); return nil })
	})
}

func parseCopyrightCheckResult(m *Message, n node) error {
	v := &CopyrightCheckResult{}
	m.CopyrightCheckResult = v
	return children(n, 2, func(c node) error {
		switch c.name {
		case "Count":
			v.Count = atoi(c.text)
		case "CheckState":
			v.CheckState = atoi(c.text)
		case "ResultList":
			return eachItem(c, 3, func() { v.ResultList = append(v.ResultList, CopyrightCheckItem{}) }, func(f node) {
				it := &v.ResultList[len(v.ResultList)-1]
				switch f.name {
				case "ArticleIdx":
					it.ArticleIdx = atoi(f.text)
				case "UserDeclareState":
					it.UserDeclareState = atoi(f.text)
				case "AuditState":
					it.AuditState = atoi(f.text)
				case "OriginalArticleUrl":
					it.OriginalArticleURL = f.text
				case "OriginalArticleType":
					it.OriginalArticleType = atoi(f.text)
				case "CanReprint":
					it.CanReprint = atoi(f.text)
				case "NeedReplaceContent":
					it.NeedReplaceContent = atoi(f.text)
				case "NeedShowReprintSource":
					it.NeedShowReprintSource = atoi(f.text)
				}
			})
		}
		return nil
	})
}

func renderCopyrightCheckResult(dst []byte, m *Message) []byte {
	v := m.CopyrightCheckResult
	if v == nil {
		return dst
	}
	dst = appendOpen(dst, "CopyrightCheckResult")
	dst = appendIntElem(dst, "Count", int64(v.Count))
	dst = appendOpen(dst, "ResultList")
	for _, it := range v.ResultList {
		dst = appendOpen(dst, "item")
		dst = appendIntElem(dst, "ArticleIdx", int64(it.ArticleIdx))
		dst = appendIntElem(dst, "UserDeclareState", int64(it.UserDeclareState))
		dst = appendIntElem(dst, "AuditState", int64(it.AuditState))
		dst = appendCDATAElem(dst, "OriginalArticleUrl", it.OriginalArticleURL)
		dst = appendIntElem(dst, "OriginalArticleType", int64(it.OriginalArticleType))
		dst = appendIntElem(dst, "CanReprint", int64(it.CanReprint))
		dst = appendIntElem(dst, "NeedReplaceContent", int64(it.NeedReplaceContent))
		dst = appendIntElem(dst, "NeedShowReprintSource", int64(it.NeedShowReprintSource))
		dst = appendClose(dst, "item")
	}
	dst = appendClose(dst, "ResultList")
	dst = appendIntElem(dst, "CheckState", int64(v.CheckState))
	return appendClose(dst, "CopyrightCheckResult")
}

func parseArticleURLResult(m *Message, n node) error {
	v := &ArticleURLResult{}
	m.ArticleURLResult = v
	return children(n, 2, func(c node) error {
		switch c.name {
		case "Count":
			v.Count = atoi(c.text)
		case "ResultList":
			return eachItem(c, 3, func() { v.ResultList = append(v.ResultList, ArticleURL{}) }, func(f node) {
				it := &v.ResultList[len(v.ResultList)-1]
				switch f.name {
				case "ArticleIdx":
					it.ArticleIdx = atoi(f.text)
				case "ArticleUrl":
					it.ArticleURL = f.text
				}
			})
		}
		return nil
	})
}

func renderArticleURLResult(dst []byte, m *Message) []byte {
	v := m.ArticleURLResult
	if v == nil {
		return dst
	}
	dst = appendOpen(dst, "ArticleUrlResult")
	dst = appendIntElem(dst, "Count", int64(v.Count))
	dst = appendOpen(dst, "ResultList")
	for _, it := range v.ResultList {
		dst = appendOpen(dst, "item")
		dst = appendIntElem(dst, "ArticleIdx", int64(it.ArticleIdx))
		dst = appendCDATAElem(dst, "ArticleUrl", it.ArticleURL)
		dst = appendClose(dst, "item")
	}
	dst = appendClose(dst, "ResultList")
	return appendClose(dst, "ArticleUrlResult")
}

func parseBeacon(n node, depth int) (Beacon, error) {
	var b Beacon
	err := children(n, depth, func(c node) error {
		switch c.name {
		case "Uuid":
			b.UUID = c.text
		case "Major":
			b.Major = c.text
		case "Minor":
			b.Minor = c.text
		case "Distance":
			b.Distance = atof(c.text)
		}
		return nil
	})
	return b, err
}

func appendBeacon(dst []byte, name string, b *Beacon) []byte {
	dst = appendOpen(dst, name)
	dst = appendCDATAElem(dst, "Uuid", b.UUID)
	dst = appendTextElem(dst, "Major", b.Major)
	dst = appendTextElem(dst, "Minor", b.Minor)
	dst = appendFloatElem(dst, "Distance", b.Distance)
	return appendClose(dst, name)
}

func parseChosenBeacon(m *Message, n node) error {
	b, err := parseBeacon(n, 2)
	m.ChosenBeacon = &b
	return err
}

func renderChosenBeacon(dst []byte, m *Message) []byte {
	if m.ChosenBeacon == nil {
		return dst
	}
	return appendBeacon(dst, "ChosenBeacon", m.ChosenBeacon)
}

func parseAroundBeacons(m *Message, n node) error {
	m.AroundBeacons = []Beacon{}
	return children(n, 2, func(c node) error {
		if c.name != "AroundBeacon" {
			return nil
		}
		b, err := parseBeacon(c, 3)
		m.AroundBeacons = append(m.AroundBeacons, b)
		return err
	})
}

func renderAroundBeacons(dst []byte, m *Message) []byte {
	if m.AroundBeacons == nil {
		return dst
	}
	dst = appendOpen(dst, "AroundBeacons")
	for i := range m.AroundBeacons {
		dst = appendBeacon(dst, "AroundBeacon", &m.AroundBeacons[i])
	}
	return appendClose(dst, "AroundBeacons")
}
