package emulator

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/wxkit/wxkit/wxcrypto"
)

// ServiceUnavailableText is what the WeChat client shows the user when the
// account's server does not answer in time or answers something invalid.
const ServiceUnavailableText = "该公众号暂时无法提供服务，请稍后再试"

// Reply is a passive reply as the user receives it.
type Reply struct {
	Type         MsgType   `json:"type"`
	Content      string    `json:"content,omitempty"`
	MediaID      string    `json:"media_id,omitempty"`
	Title        string    `json:"title,omitempty"`
	Description  string    `json:"description,omitempty"`
	MusicURL     string    `json:"music_url,omitempty"`
	HQMusicURL   string    `json:"hq_music_url,omitempty"`
	ThumbMediaID string    `json:"thumb_media_id,omitempty"`
	Articles     []Article `json:"articles,omitempty"`
	KfAccount    string    `json:"kf_account,omitempty"`
	CreateTime   int64     `json:"create_time"`
	// Encrypted tells whether the reply came in the safe-mode envelope.
	Encrypted bool `json:"encrypted"`
	// XML is the plaintext reply XML (decrypted when Encrypted).
	XML string `json:"xml"`
}

// Article is one item of a news reply.
type Article struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	PicURL      string `json:"pic_url,omitempty"`
	URL         string `json:"url,omitempty"`
}

// ErrInvalidReply is wrapped by every reply validation error.
var ErrInvalidReply = errors.New("invalid passive reply")

// text is an XML element whose presence is recorded.
type text struct {
	Set bool
	V   string
}

func (t *text) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	t.Set = true
	return d.DecodeElement(&t.V, &start)
}

type mediaXML struct {
	MediaID     text `xml:"MediaId"`
	Title       text `xml:"Title"`
	Description text `xml:"Description"`
}

// replyXML is every element a passive reply or its envelope may carry.
type replyXML struct {
	XMLName      xml.Name
	ToUserName   text      `xml:"ToUserName"`
	FromUserName text      `xml:"FromUserName"`
	CreateTime   text      `xml:"CreateTime"`
	MsgType      text      `xml:"MsgType"`
	Content      text      `xml:"Content"`
	Image        *mediaXML `xml:"Image"`
	Voice        *mediaXML `xml:"Voice"`
	Video        *mediaXML `xml:"Video"`
	Music        *struct {
		Title        text `xml:"Title"`
		Description  text `xml:"Description"`
		MusicURL     text `xml:"MusicUrl"`
		HQMusicURL   text `xml:"HQMusicUrl"`
		ThumbMediaID text `xml:"ThumbMediaId"`
	} `xml:"Music"`
	ArticleCount text `xml:"ArticleCount"`
	Articles     *struct {
		Items []struct {
			Title       text `xml:"Title"`
			Description text `xml:"Description"`
			PicURL      text `xml:"PicUrl"`
			URL         text `xml:"Url"`
		} `xml:"item"`
	} `xml:"Articles"`
	TransInfo *struct {
		KfAccount text `xml:"KfAccount"`
	} `xml:"TransInfo"`
	// Safe-mode envelope.
	Encrypt      text `xml:"Encrypt"`
	MsgSignature text `xml:"MsgSignature"`
	TimeStamp    text `xml:"TimeStamp"`
	Nonce        text `xml:"Nonce"`
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidReply, fmt.Sprintf(format, args...))
}

// isNoReply reports whether body means "no reply": empty or "success".
func isNoReply(body []byte) bool {
	t := bytes.TrimSpace(body)
	return len(t) == 0 || string(t) == "success"
}

// validateReply checks the answer body of a push to tgt as the platform
// does and returns the reply the user receives, nil for "no reply" (empty
// body or "success"), or an error wrapping ErrInvalidReply.
//
// In safe mode the reply must be the envelope (Encrypt, MsgSignature,
// TimeStamp, Nonce) with a valid msg_signature and the target's AppID
// inside the ciphertext (the account's, or the third-party platform's for
// an authorized account); in compat mode plaintext or the envelope are
// both accepted; in plain mode the reply must be plaintext. The inner reply
// must be addressed to the user (ToUserName = openid) from the account
// (FromUserName = original id), carry a CreateTime and a known MsgType with
// its required elements. A Mini Program's replies follow
// validateMiniProgramReply.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
func validateReply(a *app, tgt pushTarget, in *InboundMessage, body []byte) (*Reply, error) {
	if isNoReply(body) {
		return nil, nil
	}
	if tgt.miniProgram {
		return validateMiniProgramReply(a, tgt, in, body)
	}
	var r replyXML
	if err := xml.Unmarshal(body, &r); err != nil {
		return nil, invalid("not well-formed XML: %v", err)
	}
	if r.XMLName.Local != "xml" {
		return nil, invalid("root element is <%s>, want <xml>", r.XMLName.Local)
	}
	encrypted := false
	plain := body
	if r.Encrypt.Set {
		if tgt.mode == ModePlain || tgt.cipher == nil {
			return nil, invalid("encrypted reply but the account is in plain mode")
		}
		if !r.MsgSignature.Set || !r.TimeStamp.Set || !r.Nonce.Set {
			return nil, invalid("encrypted reply needs MsgSignature, TimeStamp and Nonce")
		}
		if err := wxcrypto.CheckMsgSignature(r.MsgSignature.V, tgt.token, r.TimeStamp.V, r.Nonce.V, r.Encrypt.V); err != nil {
			return nil, invalid("MsgSignature does not match sha1(sort(token, TimeStamp, Nonce, Encrypt))")
		}
		msg, appID, err := tgt.cipher.DecryptBytes([]byte(r.Encrypt.V))
		if err != nil {
			return nil, invalid("cannot decrypt Encrypt: %v", err)
		}
		if appID != tgt.cipher.AppID() {
			return nil, invalid("AppID inside the ciphertext is %q, want %q", appID, tgt.cipher.AppID())
		}
		encrypted = true
		plain = msg
		r = replyXML{}
		if err := xml.Unmarshal(msg, &r); err != nil {
			return nil, invalid("decrypted reply is not well-formed XML: %v", err)
		}
		if r.XMLName.Local != "xml" {
			return nil, invalid("decrypted root element is <%s>, want <xml>", r.XMLName.Local)
		}
		if r.Encrypt.Set {
			return nil, invalid("decrypted reply is itself an envelope")
		}
	} else if tgt.mode == ModeSafe {
		return nil, invalid("safe mode requires an encrypted reply (Encrypt, MsgSignature, TimeStamp, Nonce)")
	}
	rep, err := checkReplyFields(&r, a.cfg.OriginalID, in)
	if err != nil {
		return nil, err
	}
	rep.Encrypted = encrypted
	rep.XML = string(plain)
	return rep, nil
}

// checkReplyFields validates a plaintext reply addressed from originalID to
// the sender of in.
func checkReplyFields(r *replyXML, originalID string, in *InboundMessage) (*Reply, error) {
	if !r.ToUserName.Set || r.ToUserName.V != in.FromUserName {
		if r.ToUserName.V == originalID {
			return nil, invalid("ToUserName is the account's original id: ToUserName and FromUserName must be swapped")
		}
		return nil, invalid("ToUserName is %q, want the user's openid %q", r.ToUserName.V, in.FromUserName)
	}
	if !r.FromUserName.Set || r.FromUserName.V != originalID {
		return nil, invalid("FromUserName is %q, want the account's original id %q", r.FromUserName.V, originalID)
	}
	if !r.CreateTime.Set {
		return nil, invalid("CreateTime missing")
	}
	ct, err := strconv.ParseInt(strings.TrimSpace(r.CreateTime.V), 10, 64)
	if err != nil {
		return nil, invalid("CreateTime %q is not an integer", r.CreateTime.V)
	}
	rep := &Reply{Type: MsgType(strings.TrimSpace(r.MsgType.V)), CreateTime: ct}
	media := func(name string, m *mediaXML) error {
		if m == nil || !m.MediaID.Set || strings.TrimSpace(m.MediaID.V) == "" {
			return invalid("%s reply needs %s/MediaId", rep.Type, name)
		}
		rep.MediaID = m.MediaID.V
		rep.Title, rep.Description = m.Title.V, m.Description.V
		return nil
	}
	switch rep.Type {
	case MsgTypeText:
		if !r.Content.Set || r.Content.V == "" {
			return nil, invalid("text reply needs a non-empty Content")
		}
		rep.Content = r.Content.V
	case MsgTypeImage:
		err = media("Image", r.Image)
	case MsgTypeVoice:
		err = media("Voice", r.Voice)
	case MsgTypeVideo:
		err = media("Video", r.Video)
	case MsgTypeMusic:
		if r.Music == nil || !r.Music.ThumbMediaID.Set || r.Music.ThumbMediaID.V == "" {
			return nil, invalid("music reply needs Music/ThumbMediaId")
		}
		m := r.Music
		rep.Title, rep.Description, rep.MusicURL, rep.HQMusicURL, rep.ThumbMediaID =
			m.Title.V, m.Description.V, m.MusicURL.V, m.HQMusicURL.V, m.ThumbMediaID.V
	case MsgTypeNews:
		if r.Articles == nil || len(r.Articles.Items) == 0 {
			return nil, invalid("news reply needs Articles/item")
		}
		n := len(r.Articles.Items)
		count, cerr := strconv.Atoi(strings.TrimSpace(r.ArticleCount.V))
		if !r.ArticleCount.Set || cerr != nil || count != n {
			return nil, invalid("ArticleCount is %q, want %d (the number of items)", r.ArticleCount.V, n)
		}
		// Replying to a message (not an event) allows one article only; to
		// an event, up to 8.
		max := 8
		if in.MsgType != MsgTypeEvent {
			max = 1
		}
		if n > max {
			return nil, invalid("news reply has %d articles, at most %d allowed in answer to a %s", n, max, in.MsgType)
		}
		for i, it := range r.Articles.Items {
			if !it.Title.Set && !it.Description.Set && !it.PicURL.Set && !it.URL.Set {
				return nil, invalid("Articles/item[%d] is empty", i)
			}
			rep.Articles = append(rep.Articles, Article{Title: it.Title.V, Description: it.Description.V, PicURL: it.PicURL.V, URL: it.URL.V})
		}
	case MsgTypeTransferCustomerService:
		if r.TransInfo != nil {
			rep.KfAccount = r.TransInfo.KfAccount.V
		}
	case "":
		return nil, invalid("MsgType missing")
	default:
		return nil, invalid("unknown MsgType %q", rep.Type)
	}
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// userSees describes what the WeChat client shows for a valid reply ("" for
// none).
func userSees(r *Reply) string {
	if r == nil {
		return ""
	}
	switch r.Type {
	case MsgTypeText:
		return r.Content
	case MsgTypeImage:
		return "[图片]"
	case MsgTypeVoice:
		return "[语音]"
	case MsgTypeVideo:
		return strings.TrimSpace("[视频] " + r.Title)
	case MsgTypeMusic:
		return strings.TrimSpace("[音乐] " + r.Title)
	case MsgTypeNews:
		titles := make([]string, len(r.Articles))
		for i, a := range r.Articles {
			titles[i] = a.Title
		}
		return "[图文] " + strings.Join(titles, " | ")
	}
	return "" // transfer_customer_service: the message goes to an agent
}
