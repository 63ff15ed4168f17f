package emulator

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MsgType is the MsgType of an inbound message or a passive reply.
type MsgType string

// Inbound message types (the user's side) and reply-only types.
const (
	MsgTypeText       MsgType = "text"
	MsgTypeImage      MsgType = "image"
	MsgTypeVoice      MsgType = "voice"
	MsgTypeVideo      MsgType = "video"
	MsgTypeShortVideo MsgType = "shortvideo"
	MsgTypeLocation   MsgType = "location"
	MsgTypeLink       MsgType = "link"
	MsgTypeEvent      MsgType = "event"
	// Reply-only types.
	MsgTypeMusic                   MsgType = "music"
	MsgTypeNews                    MsgType = "news"
	MsgTypeTransferCustomerService MsgType = "transfer_customer_service"
)

// EventType is the Event of an inbound event. Any string is accepted; these
// are the common ones.
type EventType string

// Common events.
const (
	EventTypeSubscribe   EventType = "subscribe"
	EventTypeUnsubscribe EventType = "unsubscribe"
	EventTypeScan        EventType = "SCAN"
	EventTypeLocation    EventType = "LOCATION"
	EventTypeClick       EventType = "CLICK"
	EventTypeView        EventType = "VIEW"
)

// NumString is a decimal number kept as text ("23.134521"), so that it is
// pushed exactly as given. In JSON it accepts a number or a string.
type NumString string

// UnmarshalJSON accepts 23.13 or "23.13".
func (n *NumString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*n = NumString(s)
		return nil
	}
	var num json.Number
	if err := json.Unmarshal(b, &num); err != nil {
		return fmt.Errorf("emulator: not a number: %s", b)
	}
	*n = NumString(num.String())
	return nil
}

// PushRequest describes what a user does: send a message or cause an event.
// Fields that do not apply to Type are ignored; media ids and URLs that are
// left empty get realistic generated values.
type PushRequest struct {
	// User is the openid of the sender; the app's first user when empty.
	User string `json:"user,omitempty"`
	// Type is the MsgType; "text" when empty (or "event" when Event is set).
	Type MsgType `json:"type,omitempty"`
	// Content is the text of a text message.
	Content string `json:"content,omitempty"`
	// Event and EventKey are the event and its key (CLICK key, VIEW URL,
	// SCAN scene, "qrscene_123" for subscribe through a QR code).
	Event    EventType `json:"event,omitempty"`
	EventKey string    `json:"event_key,omitempty"`
	// Ticket is the QR code ticket of SCAN and subscribe-by-QR events.
	Ticket string `json:"ticket,omitempty"`
	// MenuID is the MenuId of a CLICK or VIEW event. When empty, Push fills
	// it with the menuid of the menu the user sees, if the app has one.
	MenuID string `json:"menu_id,omitempty"`
	// MediaID, PicURL, Format, Recognition, ThumbMediaID: media messages.
	MediaID      string `json:"media_id,omitempty"`
	PicURL       string `json:"pic_url,omitempty"`
	Format       string `json:"format,omitempty"`
	Recognition  string `json:"recognition,omitempty"`
	ThumbMediaID string `json:"thumb_media_id,omitempty"`
	// LocationX (latitude), LocationY (longitude), Scale, Label: location messages.
	LocationX NumString `json:"location_x,omitempty"`
	LocationY NumString `json:"location_y,omitempty"`
	Scale     int       `json:"scale,omitempty"`
	Label     string    `json:"label,omitempty"`
	// Title, Description, URL: link messages.
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
	// Latitude, Longitude, Precision: LOCATION events.
	Latitude  NumString `json:"latitude,omitempty"`
	Longitude NumString `json:"longitude,omitempty"`
	Precision NumString `json:"precision,omitempty"`
	// Extra adds text elements (name → text) after the standard ones, for
	// events the request has no field for.
	Extra map[string]string `json:"extra,omitempty"`
	// RawXML, when set, is pushed as the message instead of building one:
	// a whole <xml>...</xml> document or its inner elements. ToUserName and
	// FromUserName are overwritten; CreateTime is added when absent.
	RawXML string `json:"raw_xml,omitempty"`
}

// InboundMessage is the message the emulator pushed, as the account's
// server receives it after decryption.
type InboundMessage struct {
	ToUserName   string    `json:"to_user_name"`
	FromUserName string    `json:"from_user_name"`
	CreateTime   int64     `json:"create_time"`
	MsgType      MsgType   `json:"msg_type"`
	Event        EventType `json:"event,omitempty"`
	EventKey     string    `json:"event_key,omitempty"`
	Content      string    `json:"content,omitempty"`
	// MsgID is the MsgId of a normal message (0 for events). JSON carries
	// it as a string: it does not fit a JavaScript number.
	MsgID int64 `json:"msg_id,omitempty,string"`
	// XML is the plaintext message XML.
	XML string `json:"xml"`
	// JSON is the plaintext message JSON of a Mini Program pushed in JSON
	// format (the XML's elements as fields; CreateTime and MsgId numbers).
	JSON string `json:"json,omitempty"`
}

// xmlBuilder writes inbound XML the way the platform does: one element per
// line is not used; elements follow each other, text in CDATA, numbers bare.
type xmlBuilder struct{ b bytes.Buffer }

func (x *xmlBuilder) cdata(name, v string) {
	x.b.WriteString("<" + name + "><![CDATA[")
	x.b.WriteString(strings.ReplaceAll(v, "]]>", "]]]]><![CDATA[>"))
	x.b.WriteString("]]></" + name + ">")
}

func (x *xmlBuilder) num(name, v string) {
	x.b.WriteString("<" + name + ">" + v + "</" + name + ">")
}

// validElementName matches names usable in Extra.
var validElementName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// buildInbound renders the plaintext XML of req from openID to the account
// originalID at now. msgID is used for normal messages.
func buildInbound(req *PushRequest, originalID, openID string, now time.Time, msgID int64) (*InboundMessage, error) {
	typ := req.Type
	if typ == "" {
		typ = MsgTypeText
		if req.Event != "" {
			typ = MsgTypeEvent
		}
	}
	in := &InboundMessage{ToUserName: originalID, FromUserName: openID, CreateTime: now.Unix(), MsgType: typ}
	var x xmlBuilder
	x.b.WriteString("<xml>")
	x.cdata("ToUserName", originalID)
	x.cdata("FromUserName", openID)
	x.num("CreateTime", strconv.FormatInt(in.CreateTime, 10))
	x.cdata("MsgType", string(typ))
	msgIDText := strconv.FormatInt(msgID, 10)
	orDefault := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	numOr := func(v NumString, def string) string { return orDefault(string(v), def) }
	switch typ {
	case MsgTypeText:
		x.cdata("Content", req.Content)
		x.num("MsgId", msgIDText)
		in.Content = req.Content
	case MsgTypeImage:
		x.cdata("PicUrl", orDefault(req.PicURL, "http://mmbiz.qpic.cn/mmbiz_jpg/"+randomString(54, tokenAlphabet[:62])+"/0"))
		x.num("MsgId", msgIDText)
		x.cdata("MediaId", orDefault(req.MediaID, newMediaID()))
	case MsgTypeVoice:
		x.cdata("MediaId", orDefault(req.MediaID, newMediaID()))
		x.cdata("Format", orDefault(req.Format, "amr"))
		x.num("MsgId", msgIDText)
		if req.Recognition != "" {
			x.cdata("Recognition", req.Recognition)
		}
	case MsgTypeVideo, MsgTypeShortVideo:
		x.cdata("MediaId", orDefault(req.MediaID, newMediaID()))
		x.cdata("ThumbMediaId", orDefault(req.ThumbMediaID, newMediaID()))
		x.num("MsgId", msgIDText)
	case MsgTypeLocation:
		x.num("Location_X", numOr(req.LocationX, "23.134521"))
		x.num("Location_Y", numOr(req.LocationY, "113.358803"))
		scale := req.Scale
		if scale == 0 {
			scale = 15
		}
		x.num("Scale", strconv.Itoa(scale))
		x.cdata("Label", req.Label)
		x.num("MsgId", msgIDText)
	case MsgTypeLink:
		x.cdata("Title", req.Title)
		x.cdata("Description", req.Description)
		x.cdata("Url", req.URL)
		x.num("MsgId", msgIDText)
	case MsgTypeEvent:
		if req.Event == "" {
			return nil, fmt.Errorf("%w: type event needs an event", ErrBadPushRequest)
		}
		in.Event, in.EventKey = req.Event, req.EventKey
		x.cdata("Event", string(req.Event))
		switch req.Event {
		case EventTypeSubscribe, EventTypeUnsubscribe:
			x.cdata("EventKey", req.EventKey)
			if req.Ticket != "" {
				x.cdata("Ticket", req.Ticket)
			}
		case EventTypeScan:
			x.cdata("EventKey", req.EventKey)
			x.cdata("Ticket", orDefault(req.Ticket, "gQ"+randomString(94, tokenAlphabet[:62])+"=="))
		case EventTypeLocation:
			x.num("Latitude", numOr(req.Latitude, "23.137466"))
			x.num("Longitude", numOr(req.Longitude, "113.352425"))
			x.num("Precision", numOr(req.Precision, "119.385040"))
		case EventTypeView, EventTypeClick:
			x.cdata("EventKey", req.EventKey)
			if req.MenuID != "" {
				x.num("MenuId", req.MenuID)
			}
		default:
			x.cdata("EventKey", req.EventKey)
		}
	default:
		return nil, fmt.Errorf("%w: unknown type %q", ErrBadPushRequest, typ)
	}
	if typ != MsgTypeEvent {
		in.MsgID = msgID
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range req.Extra {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range names {
		if !validElementName.MatchString(k) || k == "xml" {
			return nil, fmt.Errorf("%w: extra: invalid element name %q", ErrBadPushRequest, k)
		}
		x.cdata(k, req.Extra[k])
	}
	x.b.WriteString("</xml>")
	in.XML = x.b.String()
	return in, nil
}

// newMediaID returns a media id shaped like the platform's (64 characters).
func newMediaID() string { return randomString(64, tokenAlphabet) }

var (
	reToUser   = regexp.MustCompile(`(?s)<ToUserName>.*?</ToUserName>`)
	reFromUser = regexp.MustCompile(`(?s)<FromUserName>.*?</FromUserName>`)
)

// rawFields are the fields read back from a raw_xml message.
type rawFields struct {
	XMLName    xml.Name
	CreateTime string    `xml:"CreateTime"`
	MsgType    MsgType   `xml:"MsgType"`
	Event      EventType `xml:"Event"`
	EventKey   string    `xml:"EventKey"`
	Content    string    `xml:"Content"`
	MsgID      string    `xml:"MsgId"`
}

// buildRawInbound pushes raw (a whole <xml> document or its inner
// elements) with ToUserName and FromUserName overwritten.
func buildRawInbound(raw, originalID, openID string, now time.Time) (*InboundMessage, error) {
	inner := strings.TrimSpace(raw)
	if strings.HasPrefix(inner, "<xml>") && strings.HasSuffix(inner, "</xml>") {
		inner = strings.TrimSuffix(strings.TrimPrefix(inner, "<xml>"), "</xml>")
	}
	inner = reToUser.ReplaceAllString(inner, "")
	inner = reFromUser.ReplaceAllString(inner, "")
	var x xmlBuilder
	x.b.WriteString("<xml>")
	x.cdata("ToUserName", originalID)
	x.cdata("FromUserName", openID)
	if !strings.Contains(inner, "<CreateTime>") {
		x.num("CreateTime", strconv.FormatInt(now.Unix(), 10))
	}
	x.b.WriteString(inner)
	x.b.WriteString("</xml>")
	var f rawFields
	if err := xml.Unmarshal(x.b.Bytes(), &f); err != nil {
		return nil, fmt.Errorf("%w: raw_xml is not well-formed XML: %v", ErrBadPushRequest, err)
	}
	if f.MsgType == "" {
		return nil, fmt.Errorf("%w: raw_xml has no MsgType", ErrBadPushRequest)
	}
	in := &InboundMessage{
		ToUserName: originalID, FromUserName: openID, MsgType: f.MsgType,
		Event: f.Event, EventKey: f.EventKey, Content: f.Content, XML: x.b.String(),
	}
	in.CreateTime, _ = strconv.ParseInt(strings.TrimSpace(f.CreateTime), 10, 64)
	in.MsgID, _ = strconv.ParseInt(strings.TrimSpace(f.MsgID), 10, 64)
	return in, nil
}
