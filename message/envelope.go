package message

// ParseEnvelope parses a safe-mode envelope: the POST body WeChat sends in
// safe (encrypted) mode, <xml><ToUserName/><Encrypt/></xml>, or a reply
// envelope with MsgSignature, TimeStamp and Nonce. Other elements (such as
// WeCom's AgentID) are ignored. It returns an error wrapping ErrMalformed for
// malformed XML, for another encoding than UTF-8 or characters XML 1.0
// forbids (ErrUnsupportedEncoding, ErrInvalidChar: see CheckDocument), and
// for a missing or empty <Encrypt> (a *MissingFieldError); ErrTooLarge for
// input longer than MaxSize. The returned strings share one copy of b.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
func ParseEnvelope(b []byte) (Envelope, error) {
	var e Envelope
	if len(b) > MaxSize {
		return e, ErrTooLarge
	}
	if err := CheckDocument(b); err != nil {
		return e, err
	}
	s := string(b)
	rootName, i, empty, err := root(s)
	if err != nil {
		return e, err
	}
	if empty {
		if err := trailer(s, i); err != nil {
			return e, err
		}
		return e, &MissingFieldError{Field: "Encrypt"}
	}
	for {
		n, next, done, err := nextChild(s, i, 1, rootName)
		if err != nil {
			return Envelope{}, err
		}
		i = next
		if done {
			break
		}
		if n.nested {
			continue
		}
		switch n.name {
		case "ToUserName":
			e.ToUserName = n.text
		case "Encrypt":
			e.Encrypt = trimSpace(n.text)
		case "MsgSignature":
			e.MsgSignature = trimSpace(n.text)
		case "TimeStamp":
			e.TimeStamp = trimSpace(n.text)
		case "Nonce":
			e.Nonce = n.text
		}
	}
	if err := trailer(s, i); err != nil {
		return Envelope{}, err
	}
	if e.Encrypt == "" {
		return Envelope{}, &MissingFieldError{Field: "Encrypt"}
	}
	return e, nil
}

// AppendEnvelope appends the safe-mode reply envelope
// <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml> to dst and returns
// the extended slice. encrypt is the base64 ciphertext of the rendered reply,
// msgSignature its hex sha1 signature (wxcrypto.MsgSignature), timestamp Unix
// seconds as text.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
func AppendEnvelope(dst []byte, encrypt, msgSignature, timestamp, nonce string) []byte {
	dst = append(dst, "<xml><Encrypt><![CDATA["...)
	dst = appendCDATABody(dst, encrypt)
	dst = append(dst, "]]></Encrypt><MsgSignature><![CDATA["...)
	dst = appendCDATABody(dst, msgSignature)
	dst = append(dst, "]]></MsgSignature><TimeStamp>"...)
	dst = appendEscaped(dst, timestamp)
	dst = append(dst, "</TimeStamp><Nonce><![CDATA["...)
	dst = appendCDATABody(dst, nonce)
	return append(dst, "]]></Nonce></xml>"...)
}
