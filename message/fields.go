package message

import (
	"strconv"
	"strings"
)

type fieldKind uint8

const (
	kString fieldKind = iota
	kInt64
	kInt
	kFloat
	kCustom
)

// field describes one typed top-level element of Message. The same table
// drives Parse, AppendXML and Get's fallback, so they cannot disagree. The
// table order is the order AppendXML writes, which follows WeChat's samples
// (AppId first for Open Platform pushes, MsgId after the message fields).
type field struct {
	name  string // wire name used when rendering
	kind  fieldKind
	str   func(m *Message) *string
	i64   func(m *Message) *int64
	int   func(m *Message) *int
	f64   func(m *Message) *float64
	parse func(m *Message, n node) error // kCustom
	// render appends the element (kCustom); it appends nothing when unset.
	render func(dst []byte, m *Message) []byte
	// always renders a zero numeric value when it returns true (a count of
	// 0 is meaningful in, for example, MASSSENDJOBFINISH).
	always func(m *Message) bool
}

func sf(name string, p func(m *Message) *string) field {
	return field{name: name, kind: kString, str: p}
}
func i64f(name string, p func(m *Message) *int64, always func(*Message) bool) field {
	return field{name: name, kind: kInt64, i64: p, always: always}
}
func intf(name string, p func(m *Message) *int, always func(*Message) bool) field {
	return field{name: name, kind: kInt, int: p, always: always}
}
func ff(name string, p func(m *Message) *float64, always func(*Message) bool) field {
	return field{name: name, kind: kFloat, f64: p, always: always}
}

func isEvent(e EventType) func(*Message) bool {
	return func(m *Message) bool { return m.Event == e }
}
func isType(t MsgType) func(*Message) bool {
	return func(m *Message) bool { return m.MsgType == t }
}

var fields = []field{
	sf("AppId", func(m *Message) *string { return &m.AppID }),
	sf("ToUserName", func(m *Message) *string { return &m.ToUserName }),
	sf("FromUserName", func(m *Message) *string { return &m.FromUserName }),
	i64f("CreateTime", func(m *Message) *int64 { return &m.CreateTime }, func(*Message) bool { return true }),
	sf("MsgType", func(m *Message) *string { return (*string)(&m.MsgType) }),
	sf("Content", func(m *Message) *string { return &m.Content }),
	sf("PicUrl", func(m *Message) *string { return &m.PicURL }),
	sf("MediaId", func(m *Message) *string { return &m.MediaID }),
	sf("Format", func(m *Message) *string { return &m.Format }),
	sf("Recognition", func(m *Message) *string { return &m.Recognition }),
	sf("ThumbMediaId", func(m *Message) *string { return &m.ThumbMediaID }),
	ff("Location_X", func(m *Message) *float64 { return &m.LocationX }, isType(MsgTypeLocation)),
	ff("Location_Y", func(m *Message) *float64 { return &m.LocationY }, isType(MsgTypeLocation)),
	intf("Scale", func(m *Message) *int { return &m.Scale }, isType(MsgTypeLocation)),
	sf("Label", func(m *Message) *string { return &m.Label }),
	sf("Title", func(m *Message) *string { return &m.Title }),
	sf("Description", func(m *Message) *string { return &m.Description }),
	sf("Url", func(m *Message) *string { return &m.URL }),
	sf("PagePath", func(m *Message) *string { return &m.PagePath }),
	sf("ThumbUrl", func(m *Message) *string { return &m.ThumbURL }),
	sf("SessionFrom", func(m *Message) *string { return &m.SessionFrom }),
	i64f("MsgId", func(m *Message) *int64 { return &m.MsgID }, nil),
	sf("Event", func(m *Message) *string { return (*string)(&m.Event) }),
	sf("EventKey", func(m *Message) *string { return &m.EventKey }),
	sf("Ticket", func(m *Message) *string { return &m.Ticket }),
	ff("Latitude", func(m *Message) *float64 { return &m.Latitude }, isEvent(EventTypeLocation)),
	ff("Longitude", func(m *Message) *float64 { return &m.Longitude }, isEvent(EventTypeLocation)),
	ff("Precision", func(m *Message) *float64 { return &m.Precision }, isEvent(EventTypeLocation)),
	sf("MenuId", func(m *Message) *string { return &m.MenuID }),
	sf("Status", func(m *Message) *string { return &m.Status }),
	{name: "ScanCodeInfo", kind: kCustom, parse: parseScanCodeInfo, render: renderScanCodeInfo},
	{name: "SendPicsInfo", kind: kCustom, parse: parseSendPicsInfo, render: renderSendPicsInfo},
	{name: "SendLocationInfo", kind: kCustom, parse: parseSendLocationInfo, render: renderSendLocationInfo},
	{name: "SubscribeMsgPopupEvent", kind: kCustom, parse: parseSubscribeMsgPopup, render: renderSubscribeMsgPopup},
	{name: "SubscribeMsgChangeEvent", kind: kCustom, parse: parseSubscribeMsgChange, render: renderSubscribeMsgChange},
	{name: "SubscribeMsgSentEvent", kind: kCustom, parse: parseSubscribeMsgSent, render: renderSubscribeMsgSent},
	intf("TotalCount", func(m *Message) *int { return &m.TotalCount }, isEvent(EventTypeMassSendJobFinish)),
	intf("FilterCount", func(m *Message) *int { return &m.FilterCount }, isEvent(EventTypeMassSendJobFinish)),
	intf("SentCount", func(m *Message) *int { return &m.SentCount }, isEvent(EventTypeMassSendJobFinish)),
	intf("ErrorCount", func(m *Message) *int { return &m.ErrorCount }, isEvent(EventTypeMassSendJobFinish)),
	{name: "CopyrightCheckResult", kind: kCustom, parse: parseCopyrightCheckResult, render: renderCopyrightCheckResult},
	{name: "ArticleUrlResult", kind: kCustom, parse: parseArticleURLResult, render: renderArticleURLResult},
	{name: "PublishEventInfo", kind: kCustom, parse: parsePublishEventInfo, render: renderPublishEventInfo},
	sf("KfAccount", func(m *Message) *string { return &m.KfAccount }),
	sf("FromKfAccount", func(m *Message) *string { return &m.FromKfAccount }),
	sf("ToKfAccount", func(m *Message) *string { return &m.ToKfAccount }),
	i64f("ExpiredTime", func(m *Message) *int64 { return &m.ExpiredTime }, nil),
	i64f("FailTime", func(m *Message) *int64 { return &m.FailTime }, nil),
	sf("FailReason", func(m *Message) *string { return &m.FailReason }),
	sf("DeviceType", func(m *Message) *string { return &m.DeviceType }),
	sf("DeviceID", func(m *Message) *string { return &m.DeviceID }),
	sf("SessionID", func(m *Message) *string { return &m.SessionID }),
	sf("OpenID", func(m *Message) *string { return &m.OpenID }),
	sf("CardId", func(m *Message) *string { return &m.CardID }),
	sf("Code", func(m *Message) *string { return &m.Code }),
	sf("SuccOrderId", func(m *Message) *string { return &m.SuccOrderID }),
	sf("FailOrderId", func(m *Message) *string { return &m.FailOrderID }),
	sf("Source", func(m *Message) *string { return &m.Source }),
	sf("title", func(m *Message) *string { return &m.InvoiceTitle }),
	sf("tax_no", func(m *Message) *string { return &m.TaxNo }),
	sf("addr", func(m *Message) *string { return &m.Addr }),
	sf("phone", func(m *Message) *string { return &m.Phone }),
	sf("bank_type", func(m *Message) *string { return &m.BankType }),
	sf("bank_no", func(m *Message) *string { return &m.BankNo }),
	sf("attach", func(m *Message) *string { return &m.Attach }),
	sf("title_type", func(m *Message) *string { return &m.TitleType }),
	sf("OrderId", func(m *Message) *string { return &m.OrderID }),
	intf("OrderStatus", func(m *Message) *int { return &m.OrderStatus }, isEvent(EventTypeMerchantOrder)),
	sf("ProductId", func(m *Message) *string { return &m.ProductID }),
	sf("SkuInfo", func(m *Message) *string { return &m.SkuInfo }),
	{name: "ChosenBeacon", kind: kCustom, parse: parseChosenBeacon, render: renderChosenBeacon},
	{name: "AroundBeacons", kind: kCustom, parse: parseAroundBeacons, render: renderAroundBeacons},
	i64f("ConnectTime", func(m *Message) *int64 { return &m.ConnectTime }, isEvent(EventTypeWifiConnected)),
	i64f("ExpireTime", func(m *Message) *int64 { return &m.ExpireTime }, isEvent(EventTypeWifiConnected)),
	sf("VendorId", func(m *Message) *string { return &m.VendorID }),
	sf("PlaceId", func(m *Message) *string { return &m.PlaceID }),
	sf("DeviceNo", func(m *Message) *string { return &m.DeviceNo }),
	sf("KeyStandard", func(m *Message) *string { return &m.KeyStandard }),
	sf("KeyStr", func(m *Message) *string { return &m.KeyStr }),
	sf("Country", func(m *Message) *string { return &m.Country }),
	sf("Province", func(m *Message) *string { return &m.Province }),
	sf("City", func(m *Message) *string { return &m.City }),
	intf("Sex", func(m *Message) *int { return &m.Sex }, nil),
	intf("Scene", func(m *Message) *int { return &m.Scene }, nil),
	sf("ExtInfo", func(m *Message) *string { return &m.ExtInfo }),
	sf("RegionCode", func(m *Message) *string { return &m.RegionCode }),
	sf("ReasonMsg", func(m *Message) *string { return &m.ReasonMsg }),
	sf("InfoType", func(m *Message) *string { return (*string)(&m.InfoType) }),
	sf("ComponentVerifyTicket", func(m *Message) *string { return &m.ComponentVerifyTicket }),
	sf("AuthorizerAppid", func(m *Message) *string { return &m.AuthorizerAppID }),
	sf("AuthorizationCode", func(m *Message) *string { return &m.AuthorizationCode }),
	i64f("AuthorizationCodeExpiredTime", func(m *Message) *int64 { return &m.AuthorizationCodeExpiredTime }, nil),
	sf("PreAuthCode", func(m *Message) *string { return &m.PreAuthCode }),
}

// fieldIndex maps a wire element name to its index in fields.
var fieldIndex = map[string]int{}

// Indexes of the elements every push carries, looked up without hashing.
var (
	idxToUserName, idxFromUserName, idxCreateTime, idxMsgType int
	idxMsgID, idxContent, idxEvent, idxEventKey               int
)

// lookupField returns the index in fields of the element name.
func lookupField(name string) (int, bool) {
	switch name {
	case "ToUserName":
		return idxToUserName, true
	case "FromUserName":
		return idxFromUserName, true
	case "CreateTime":
		return idxCreateTime, true
	case "MsgType":
		return idxMsgType, true
	case "Content":
		return idxContent, true
	case "MsgId", "MsgID":
		return idxMsgID, true
	case "Event":
		return idxEvent, true
	case "EventKey":
		return idxEventKey, true
	}
	i, ok := fieldIndex[name]
	return i, ok
}

func init() {
	for i, f := range fields {
		fieldIndex[f.name] = i
	}
	fieldIndex["MsgID"] = fieldIndex["MsgId"]
	idxToUserName, idxFromUserName = fieldIndex["ToUserName"], fieldIndex["FromUserName"]
	idxCreateTime, idxMsgType = fieldIndex["CreateTime"], fieldIndex["MsgType"]
	idxMsgID, idxContent = fieldIndex["MsgId"], fieldIndex["Content"]
	idxEvent, idxEventKey = fieldIndex["Event"], fieldIndex["EventKey"]
	if len(fields) > 128 {
		panic("message: too many fields for the seen bitset")
	}
}

// set stores n in the typed field f of m. ok is false when the text does not
// fit the field (for example a non-numeric <CreateTime>), in which case the
// caller keeps the element in Extra. final is true when the stored value is
// not the zero value: a later element of the same name then goes to Extra,
// while an empty or zero one may still be replaced (so that AppendXML, which
// omits zero values, renders a document that parses back the same).
func (f *field) set(m *Message, n node) (ok, final bool, err error) {
	if n.nested && f.kind != kCustom {
		return false, false, nil
	}
	switch f.kind {
	case kString:
		*f.str(m) = n.text
		return true, n.text != "", nil
	case kInt64:
		v, err := strconv.ParseInt(trimSpace(n.text), 10, 64)
		if err != nil {
			return false, false, nil
		}
		*f.i64(m) = v
		return true, v != 0, nil
	case kInt:
		v, err := strconv.Atoi(trimSpace(n.text))
		if err != nil {
			return false, false, nil
		}
		*f.int(m) = v
		return true, v != 0, nil
	case kFloat:
		v, err := strconv.ParseFloat(trimSpace(n.text), 64)
		if err != nil {
			return false, false, nil
		}
		*f.f64(m) = v
		return true, v != 0, nil
	default: // kCustom
		if err := f.parse(m, n); err != nil {
			return false, false, err
		}
		return true, true, nil
	}
}

// appendTo renders the field when it is set (or always required).
func (f *field) appendTo(dst []byte, m *Message) []byte {
	switch f.kind {
	case kString:
		if v := *f.str(m); v != "" {
			dst = appendCDATAElem(dst, f.name, v)
		}
	case kInt64:
		if v := *f.i64(m); v != 0 || f.always != nil && f.always(m) {
			dst = appendIntElem(dst, f.name, v)
		}
	case kInt:
		if v := *f.int(m); v != 0 || f.always != nil && f.always(m) {
			dst = appendIntElem(dst, f.name, int64(v))
		}
	case kFloat:
		if v := *f.f64(m); v != 0 || f.always != nil && f.always(m) {
			dst = appendFloatElem(dst, f.name, v)
		}
	case kCustom:
		dst = f.render(dst, m)
	}
	return dst
}

func trimSpace(s string) string {
	if len(s) > 0 && (isSpace(s[0]) || isSpace(s[len(s)-1])) {
		return strings.TrimSpace(s)
	}
	return s
}
