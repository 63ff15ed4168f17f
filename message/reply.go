package message

import (
	"fmt"
	"strconv"
	"strings"
)

// AppendReply appends the passive reply r, addressed from fromUser (the
// account, gh_…) to toUser (the follower's OpenID), to dst and returns the
// extended slice. createTime is Unix seconds. Strings are written as CDATA
// (a "]]>" inside a value is split across sections). Element order follows
// WeChat's documentation.
//
// It returns an error wrapping ErrInvalidReply for a nil r, a News with no
// articles or more than MaxArticles, or an unknown Reply implementation; dst
// is then returned unchanged.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
func AppendReply(dst []byte, toUser, fromUser string, createTime int64, r Reply) ([]byte, error) {
	if r == nil {
		return dst, fmt.Errorf("%w: nil reply", ErrInvalidReply)
	}
	if n, ok := r.(*News); ok {
		if n == nil || len(n.Articles) == 0 || len(n.Articles) > MaxArticles {
			return dst, fmt.Errorf("%w: news needs 1 to %d articles", ErrInvalidReply, MaxArticles)
		}
	}
	orig := len(dst)
	dst = append(dst, "<xml><ToUserName><![CDATA["...)
	dst = appendCDATABody(dst, toUser)
	dst = append(dst, "]]></ToUserName><FromUserName><![CDATA["...)
	dst = appendCDATABody(dst, fromUser)
	dst = append(dst, "]]></FromUserName><CreateTime>"...)
	dst = strconv.AppendInt(dst, createTime, 10)
	dst = append(dst, "</CreateTime><MsgType><![CDATA["...)
	dst = append(dst, r.ReplyType()...)
	dst = append(dst, "]]></MsgType>"...)
	switch r := r.(type) {
	case *Text:
		if r == nil {
			return dst[:orig], fmt.Errorf("%w: nil *Text", ErrInvalidReply)
		}
		dst = append(dst, "<Content><![CDATA["...)
		dst = appendCDATABody(dst, r.Content)
		dst = append(dst, "]]></Content>"...)
	case *Image:
		if r == nil {
			return dst[:orig], fmt.Errorf("%w: nil *Image", ErrInvalidReply)
		}
		dst = append(dst, "<Image>"...)
		dst = appendCDATAElem(dst, "MediaId", r.MediaID)
		dst = append(dst, "</Image>"...)
	case *Voice:
		if r == nil {
			return dst[:orig], fmt.Errorf("%w: nil *Voice", ErrInvalidReply)
		}
		dst = append(dst, "<Voice>"...)
		dst = appendCDATAElem(dst, "MediaId", r.MediaID)
		dst = append(dst, "</Voice>"...)
	case *Video:
		if r == nil {
			return dst[:orig], fmt.Errorf("%w: nil *Video", ErrInvalidReply)
		}
		dst = append(dst, "<Video>"...)
		dst = appendCDATAElem(dst, "MediaId", r.MediaID)
		dst = appendCDATAElem(dst, "Title", r.Title)
		dst = appendCDATAElem(dst, "Description", r.Description)
		dst = append(dst, "</Video>"...)
	case *Music:
		if r == nil {
			return dst[:orig], fmt.Errorf("%w: nil *Music", ErrInvalidReply)
		}
		dst = append(dst, "<Music>"...)
		dst = appendCDATAElem(dst, "Title", r.Title)
		dst = appendCDATAElem(dst, "Description", r.Description)
		dst = appendCDATAElem(dst, "ThumbMediaId", r.ThumbMediaID)
		dst = appendCDATAElem(dst, "MusicUrl", r.MusicURL)
		dst = appendCDATAElem(dst, "HQMusicUrl", r.HQMusicURL)
		dst = append(dst, "</Music>"...)
	case *News:
		dst = append(dst, "<ArticleCount>"...)
		dst = strconv.AppendInt(dst, int64(len(r.Articles)), 10)
		dst = append(dst, "</ArticleCount><Articles>"...)
		for _, a := range r.Articles {
			dst = append(dst, "<item>"...)
			dst = appendCDATAElem(dst, "Title", a.Title)
			dst = appendCDATAElem(dst, "Description", a.Description)
			dst = appendCDATAElem(dst, "PicUrl", a.PicURL)
			dst = appendCDATAElem(dst, "Url", a.URL)
			dst = append(dst, "</item>"...)
		}
		dst = append(dst, "</Articles>"...)
	case *TransferCustomerService:
		if r != nil && r.KfAccount != "" {
			dst = append(dst, "<TransInfo>"...)
			dst = appendCDATAElem(dst, "KfAccount", r.KfAccount)
			dst = append(dst, "</TransInfo>"...)
		}
	default:
		return dst[:orig], fmt.Errorf("%w: unknown reply type %T", ErrInvalidReply, r)
	}
	return append(dst, "</xml>"...), nil
}

// appendCDATABody appends v for use inside an open CDATA section, splitting
// any "]]>".
func appendCDATABody(dst []byte, v string) []byte {
	for {
		k := strings.Index(v, "]]>")
		if k < 0 {
			return append(dst, v...)
		}
		dst = append(dst, v[:k+2]...)
		dst = append(dst, "]]><![CDATA["...)
		v = v[k+2:]
	}
}

// ParseReply parses a passive reply document as AppendReply renders it (and
// as WeChat documents it). Unknown elements are ignored. It returns an error
// wrapping ErrMalformed for malformed XML (another encoding than UTF-8 and
// characters XML 1.0 forbids included: see CheckDocument) or an unknown or
// missing MsgType, and ErrTooLarge for input longer than MaxSize.
func ParseReply(b []byte) (*ReplyMessage, error) {
	if len(b) > MaxSize {
		return nil, ErrTooLarge
	}
	if err := CheckDocument(b); err != nil {
		return nil, err
	}
	s := string(b)
	rootName, i, empty, err := root(s)
	if err != nil {
		return nil, err
	}
	if empty {
		return nil, malformed("empty reply")
	}
	rm := &ReplyMessage{}
	var (
		content, kf, mediaID string
		v                    Video
		mu                   Music
		arts                 []Article
	)
	for {
		n, next, done, err := nextChild(s, i, 1, rootName)
		if err != nil {
			return nil, err
		}
		i = next
		if done {
			break
		}
		switch n.name {
		case "ToUserName":
			rm.ToUserName = n.text
		case "FromUserName":
			rm.FromUserName = n.text
		case "CreateTime":
			t, err := strconv.ParseInt(trimSpace(n.text), 10, 64)
			if err != nil {
				return nil, malformed("bad CreateTime %.32q", n.text)
			}
			rm.CreateTime = t
		case "MsgType":
			rm.MsgType = MsgType(n.text)
		case "Content":
			content = n.text
		case "Image", "Voice":
			err = children(n, 2, func(c node) error {
				if c.name == "MediaId" {
					mediaID = c.text
				}
				return nil
			})
		case "Video":
			err = children(n, 2, func(c node) error {
				switch c.name {
				case "MediaId":
					v.MediaID = c.text
				case "Title":
					v.Title = c.text
				case "Description":
					v.Description = c.text
				}
				return nil
			})
		case "Music":
			err = children(n, 2, func(c node) error {
				switch c.name {
				case "Title":
					mu.Title = c.text
				case "Description":
					mu.Description = c.text
				case "MusicUrl":
					mu.MusicURL = c.text
				case "HQMusicUrl":
					mu.HQMusicURL = c.text
				case "ThumbMediaId":
					mu.ThumbMediaID = c.text
				}
				return nil
			})
		case "Articles":
			err = children(n, 2, func(item node) error {
				if item.name != "item" {
					return nil
				}
				var a Article
				err := children(item, 3, func(c node) error {
					switch c.name {
					case "Title":
						a.Title = c.text
					case "Description":
						a.Description = c.text
					case "PicUrl":
						a.PicURL = c.text
					case "Url":
						a.URL = c.text
					}
					return nil
				})
				arts = append(arts, a)
				return err
			})
		case "TransInfo":
			err = children(n, 2, func(c node) error {
				if c.name == "KfAccount" {
					kf = c.text
				}
				return nil
			})
		}
		if err != nil {
			return nil, err
		}
	}
	if err := trailer(s, i); err != nil {
		return nil, err
	}
	switch rm.MsgType {
	case MsgTypeText:
		rm.Reply = &Text{Content: content}
	case MsgTypeImage:
		rm.Reply = &Image{MediaID: mediaID}
	case MsgTypeVoice:
		rm.Reply = &Voice{MediaID: mediaID}
	case MsgTypeVideo:
		rm.Reply = &v
	case MsgTypeMusic:
		rm.Reply = &mu
	case MsgTypeNews:
		rm.Reply = &News{Articles: arts}
	case MsgTypeTransferCustomerService:
		rm.Reply = &TransferCustomerService{KfAccount: kf}
	case "":
		return nil, malformed("reply without MsgType")
	default:
		return nil, malformed("unknown reply MsgType %.32q", rm.MsgType)
	}
	return rm, nil
}
