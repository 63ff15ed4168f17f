package message

import "errors"

// Errors returned by this package. Errors from Parse, ParseEnvelope and
// ParseReply wrap one of them with detail (use errors.Is).
var (
	// ErrMalformed reports input that is not well-formed XML of the expected
	// shape (truncated, unclosed CDATA, mismatched tags, nesting deeper than
	// MaxDepth, bad entities, binary data, missing required elements).
	ErrMalformed = errors.New("message: malformed XML")
	// ErrTooLarge reports input longer than MaxSize bytes.
	ErrTooLarge = errors.New("message: XML too large")
	// ErrInvalidReply reports a Reply that cannot be rendered (nil, or a
	// News with no or too many articles).
	ErrInvalidReply = errors.New("message: invalid reply")
)

const (
	// MaxSize is the largest document Parse, ParseEnvelope and ParseReply
	// accept, in bytes (1 MiB, the body cap of the webhook server).
	MaxSize = 1 << 20
	// MaxDepth is the deepest element nesting accepted; the root is depth 0.
	MaxDepth = 32
	// MaxArticles is the most articles a News reply may carry.
	//
	// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
	MaxArticles = 8
)

// MsgType is the <MsgType> of a pushed message or of a passive reply.
type MsgType string

// Message types. Music, News and TransferCustomerService occur in replies only.
const (
	MsgTypeText                    MsgType = "text"
	MsgTypeImage                   MsgType = "image"
	MsgTypeVoice                   MsgType = "voice"
	MsgTypeVideo                   MsgType = "video"
	MsgTypeShortVideo              MsgType = "shortvideo"
	MsgTypeLocation                MsgType = "location"
	MsgTypeLink                    MsgType = "link"
	MsgTypeEvent                   MsgType = "event"
	MsgTypeDeviceText              MsgType = "device_text"
	MsgTypeDeviceEvent             MsgType = "device_event"
	MsgTypeMiniProgramPage         MsgType = "miniprogrampage" // a Mini Program card sent to customer service
	MsgTypeMusic                   MsgType = "music"
	MsgTypeNews                    MsgType = "news"
	MsgTypeTransferCustomerService MsgType = "transfer_customer_service"
)

// EventType is the <Event> of a message whose MsgType is "event" (or
// "device_event").
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
type EventType string

// Event types. The spelling (case) is WeChat's own.
const (
	EventTypeSubscribe                  EventType = "subscribe"
	EventTypeUnsubscribe                EventType = "unsubscribe"
	EventTypeScan                       EventType = "SCAN"
	EventTypeLocation                   EventType = "LOCATION"
	EventTypeClick                      EventType = "CLICK"
	EventTypeView                       EventType = "VIEW"
	EventTypeViewMiniProgram            EventType = "view_miniprogram"
	EventTypeScanCodePush               EventType = "scancode_push"
	EventTypeScanCodeWaitMsg            EventType = "scancode_waitmsg"
	EventTypePicSysPhoto                EventType = "pic_sysphoto"
	EventTypePicPhotoOrAlbum            EventType = "pic_photo_or_album"
	EventTypePicWeixin                  EventType = "pic_weixin"
	EventTypeLocationSelect             EventType = "location_select"
	EventTypeTemplateSendJobFinish      EventType = "TEMPLATESENDJOBFINISH"
	EventTypeMassSendJobFinish          EventType = "MASSSENDJOBFINISH"
	EventTypeKfCreateSession            EventType = "kf_create_session"
	EventTypeKfCloseSession             EventType = "kf_close_session"
	EventTypeKfSwitchSession            EventType = "kf_switch_session"
	EventTypeSubscribeMsgPopup          EventType = "subscribe_msg_popup_event"
	EventTypeSubscribeMsgChange         EventType = "subscribe_msg_change_event"
	EventTypeSubscribeMsgSent           EventType = "subscribe_msg_sent_event"
	EventTypeQualificationVerifySuccess EventType = "qualification_verify_success"
	// EventTypeUserEnterTempSession: a user opened the Mini Program's
	// customer-service session.
	EventTypeUserEnterTempSession    EventType = "user_enter_tempsession"
	EventTypeQualificationVerifyFail EventType = "qualification_verify_fail"
	EventTypeNamingVerifySuccess     EventType = "naming_verify_success"
	EventTypeNamingVerifyFail        EventType = "naming_verify_fail"
	EventTypeAnnualRenew             EventType = "annual_renew"
	EventTypeVerifyExpired           EventType = "verify_expired"
	EventTypeSubmitInvoiceTitle      EventType = "submit_invoice_title"
	EventTypeUserAuthorizeInvoice    EventType = "user_authorize_invoice"
	EventTypeUpdateInvoiceStatus     EventType = "update_invoice_status"
	EventTypeMerchantOrder           EventType = "merchant_order"
	EventTypeShakearoundUserShake    EventType = "ShakearoundUserShake"
	EventTypeWifiConnected           EventType = "WifiConnected"
	// EventTypePublishJobFinish reports the outcome of freepublish/submit
	// (see PublishEventInfo).
	EventTypePublishJobFinish EventType = "PUBLISHJOBFINISH"
	// EventTypeDeviceBind and EventTypeDeviceUnbind come with MsgTypeDeviceEvent.
	EventTypeDeviceBind   EventType = "bind"
	EventTypeDeviceUnbind EventType = "unbind"
)

// InfoType is the <InfoType> of an Open Platform (third-party platform) push.
//
// WeChat docs: https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/authorize_event.html
type InfoType string

// Open Platform push types.
const (
	InfoTypeComponentVerifyTicket InfoType = "component_verify_ticket"
	InfoTypeAuthorized            InfoType = "authorized"
	InfoTypeUnauthorized          InfoType = "unauthorized"
	InfoTypeUpdateAuthorized      InfoType = "updateauthorized"
)

// Element is one top-level element of a pushed message that has no typed
// field in Message (or whose text did not fit its typed field, such as a
// non-numeric CreateTime, or a repeated element).
type Element struct {
	// Name is the element name as on the wire.
	Name string
	// Value is the decoded text (CDATA unwrapped, entities resolved), or the
	// raw inner XML when Nested is true.
	Value string
	// Nested reports that the element had child elements and Value holds its
	// raw inner XML, which AppendXML writes back unescaped.
	Nested bool
}

// Message is an inbound push: a normal message, an event, or an Open
// Platform InfoType push. Fields are named after the wire elements (see
// docs/STYLE.md: MsgId→MsgID, PicUrl→PicURL, Location_X→LocationX). Times are
// Unix seconds. A field absent from the XML is the zero value; Get reads any
// element, typed or not, by path.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
type Message struct {
	ToUserName   string  // developer's account (gh_…)
	FromUserName string  // sender OpenID
	CreateTime   int64   // Unix seconds
	MsgType      MsgType // text, image, event, …
	MsgID        int64   // <MsgId> or <MsgID>; 0 for most events

	// Normal messages.
	Content      string  // text; base64 payload for device_text/device_event
	MediaID      string  // <MediaId> image/voice/video/shortvideo
	PicURL       string  // <PicUrl> image
	Format       string  // voice format (amr, speex)
	Recognition  string  // voice recognition result
	ThumbMediaID string  // <ThumbMediaId> video/shortvideo
	LocationX    float64 // <Location_X> latitude of a location message
	LocationY    float64 // <Location_Y> longitude of a location message
	Scale        int     // map zoom of a location message
	Label        string  // place description of a location message
	Title        string  // link title
	Description  string  // link description
	URL          string  // <Url> link URL

	// Mini Program customer-service messages.
	PagePath    string // <PagePath> miniprogrampage: the page of the card
	ThumbURL    string // <ThumbUrl> miniprogrampage: the card's image
	SessionFrom string // <SessionFrom> user_enter_tempsession: the button's session-from

	// Events.
	Event     EventType
	EventKey  string  // CLICK key, VIEW URL, qrscene_… for subscribe, scene for SCAN
	Ticket    string  // QR-code ticket (subscribe via QR, SCAN)
	Latitude  float64 // LOCATION event
	Longitude float64 // LOCATION event
	Precision float64 // LOCATION event, metres
	MenuID    string  // <MenuId> VIEW/CLICK from a conditional menu
	Status    string  // TEMPLATESENDJOBFINISH / MASSSENDJOBFINISH / update_invoice_status

	ScanCodeInfo            *ScanCodeInfo        // scancode_push / scancode_waitmsg
	SendPicsInfo            *SendPicsInfo        // pic_sysphoto / pic_photo_or_album / pic_weixin
	SendLocationInfo        *SendLocationInfo    // location_select
	SubscribeMsgPopupEvent  []SubscribeMsgPopup  // subscribe_msg_popup_event <List> items
	SubscribeMsgChangeEvent []SubscribeMsgChange // subscribe_msg_change_event <List> items
	SubscribeMsgSentEvent   []SubscribeMsgSent   // subscribe_msg_sent_event <List> items

	// MASSSENDJOBFINISH.
	TotalCount           int
	FilterCount          int
	SentCount            int
	ErrorCount           int
	CopyrightCheckResult *CopyrightCheckResult
	ArticleURLResult     *ArticleURLResult // <ArticleUrlResult>

	// PUBLISHJOBFINISH.
	PublishEventInfo *PublishEventInfo

	// Customer service sessions.
	KfAccount     string
	FromKfAccount string
	ToKfAccount   string

	// Account verification (qualification/naming/annual_renew/verify_expired).
	ExpiredTime int64 // Unix seconds
	FailTime    int64 // Unix seconds
	FailReason  string

	// Devices (device_text / device_event).
	DeviceType string
	DeviceID   string
	SessionID  string
	OpenID     string

	// Invoices and cards.
	CardID       string // <CardId>
	Code         string
	SuccOrderID  string // <SuccOrderId>
	FailOrderID  string // <FailOrderId>
	Source       string
	InvoiceTitle string // <title> submit_invoice_title
	TaxNo        string // <tax_no>
	Addr         string // <addr>
	Phone        string // <phone>
	BankType     string // <bank_type>
	BankNo       string // <bank_no>
	Attach       string // <attach>
	TitleType    string // <title_type>

	// Shop orders (merchant_order).
	OrderID     string // <OrderId>
	OrderStatus int
	ProductID   string // <ProductId>
	SkuInfo     string

	// Shake-around and Wi-Fi.
	ChosenBeacon  *Beacon
	AroundBeacons []Beacon // <AroundBeacons><AroundBeacon>…
	ConnectTime   int64    // Unix seconds
	ExpireTime    int64    // Unix seconds
	VendorID      string   // <VendorId>
	PlaceID       string   // <PlaceId>
	DeviceNo      string

	// Scan-product (subscribe/scan from a product code).
	KeyStandard string
	KeyStr      string
	Country     string
	Province    string
	City        string
	Sex         int
	Scene       int
	ExtInfo     string
	RegionCode  string
	ReasonMsg   string

	// Open Platform pushes (no ToUserName/FromUserName/MsgType).
	InfoType                     InfoType
	AppID                        string // <AppId> component AppID (also user_authorize_invoice)
	ComponentVerifyTicket        string
	AuthorizerAppID              string // <AuthorizerAppid>
	AuthorizationCode            string
	AuthorizationCodeExpiredTime int64 // Unix seconds
	PreAuthCode                  string

	// Extra holds, in document order, the top-level elements that have no
	// typed field (and elements whose text did not fit their typed field).
	Extra []Element
	// Raw is the document as parsed. Parse does not copy it: Raw aliases the
	// slice passed to Parse, which the caller must not modify afterwards.
	Raw []byte
}

// ScanCodeInfo is <ScanCodeInfo> of scancode_push / scancode_waitmsg.
type ScanCodeInfo struct {
	ScanType   string // "qrcode", "barcode", …
	ScanResult string
}

// SendPicsInfo is <SendPicsInfo> of the pic_* menu events.
type SendPicsInfo struct {
	Count   int
	PicList []SendPic // <PicList><item>…
}

// SendPic is one <PicList><item>.
type SendPic struct {
	PicMd5Sum string
}

// SendLocationInfo is <SendLocationInfo> of location_select.
type SendLocationInfo struct {
	LocationX float64 // <Location_X>
	LocationY float64 // <Location_Y>
	Scale     int
	Label     string
	Poiname   string
}

// SubscribeMsgPopup is one <SubscribeMsgPopupEvent><List>.
type SubscribeMsgPopup struct {
	TemplateID            string // <TemplateId>
	SubscribeStatusString string // "accept" or "reject"
	PopupScene            string // "0", "1", "2"
}

// SubscribeMsgChange is one <SubscribeMsgChangeEvent><List>.
type SubscribeMsgChange struct {
	TemplateID            string // <TemplateId>
	SubscribeStatusString string
}

// SubscribeMsgSent is one <SubscribeMsgSentEvent><List>.
type SubscribeMsgSent struct {
	TemplateID  string // <TemplateId>
	MsgID       int64  // <MsgID>
	ErrorCode   int
	ErrorStatus string
}

// CopyrightCheckResult is <CopyrightCheckResult> of MASSSENDJOBFINISH.
type CopyrightCheckResult struct {
	Count      int
	ResultList []CopyrightCheckItem // <ResultList><item>…
	CheckState int
}

// CopyrightCheckItem is one <ResultList><item> of CopyrightCheckResult.
type CopyrightCheckItem struct {
	ArticleIdx            int
	UserDeclareState      int
	AuditState            int
	OriginalArticleURL    string // <OriginalArticleUrl>
	OriginalArticleType   int
	CanReprint            int
	NeedReplaceContent    int
	NeedShowReprintSource int
}

// ArticleURLResult is <ArticleUrlResult> of MASSSENDJOBFINISH.
type ArticleURLResult struct {
	Count      int
	ResultList []ArticleURL // <ResultList><item>…
}

// ArticleURL is one <ResultList><item> of ArticleURLResult.
type ArticleURL struct {
	ArticleIdx int
	ArticleURL string // <ArticleUrl>
}

// Beacon is <ChosenBeacon> or one <AroundBeacon> of ShakearoundUserShake.
// Major and Minor are kept as text.
type Beacon struct {
	UUID     string // <Uuid>
	Major    string
	Minor    string
	Distance float64 // metres
}

// Envelope is the safe-mode XML wrapper. Inbound pushes carry ToUserName and
// Encrypt; reply envelopes carry Encrypt, MsgSignature, TimeStamp and Nonce.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
type Envelope struct {
	ToUserName   string
	Encrypt      string // base64 AES-256-CBC ciphertext
	MsgSignature string // hex sha1
	TimeStamp    string // Unix seconds, as text
	Nonce        string
}

// Reply is a passive reply that AppendReply renders. It is implemented by
// *Text, *Image, *Voice, *Video, *Music, *News and *TransferCustomerService.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
type Reply interface {
	// ReplyType is the <MsgType> the reply is rendered with.
	ReplyType() MsgType
}

// Text is a text reply.
type Text struct {
	Content string
}

// Image is an image reply; MediaID is a permanent or temporary media id.
type Image struct {
	MediaID string
}

// Voice is a voice reply.
type Voice struct {
	MediaID string
}

// Video is a video reply.
type Video struct {
	MediaID     string
	Title       string
	Description string
}

// Music is a music reply.
type Music struct {
	Title        string
	Description  string
	MusicURL     string // <MusicUrl>
	HQMusicURL   string // <HQMusicUrl>
	ThumbMediaID string // <ThumbMediaId>
}

// News is a news (articles) reply with 1 to MaxArticles articles.
type News struct {
	Articles []Article
}

// Article is one news item.
type Article struct {
	Title       string
	Description string
	PicURL      string // <PicUrl>
	URL         string // <Url>
}

// TransferCustomerService hands the conversation to the customer-service
// system; KfAccount, when set, names the agent (<TransInfo><KfAccount>).
type TransferCustomerService struct {
	KfAccount string
}

// ReplyType implements Reply.
func (*Text) ReplyType() MsgType { return MsgTypeText }

// ReplyType implements Reply.
func (*Image) ReplyType() MsgType { return MsgTypeImage }

// ReplyType implements Reply.
func (*Voice) ReplyType() MsgType { return MsgTypeVoice }

// ReplyType implements Reply.
func (*Video) ReplyType() MsgType { return MsgTypeVideo }

// ReplyType implements Reply.
func (*Music) ReplyType() MsgType { return MsgTypeMusic }

// ReplyType implements Reply.
func (*News) ReplyType() MsgType { return MsgTypeNews }

// ReplyType implements Reply.
func (*TransferCustomerService) ReplyType() MsgType { return MsgTypeTransferCustomerService }

// ReplyMessage is a parsed passive reply (ParseReply).
type ReplyMessage struct {
	ToUserName   string
	FromUserName string
	CreateTime   int64 // Unix seconds
	MsgType      MsgType
	Reply        Reply
}
