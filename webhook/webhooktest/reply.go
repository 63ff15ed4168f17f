package webhooktest

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/wxcrypto"
)

// ErrSuccess is returned by ParseReply and DecryptReply for a "success" or
// empty answer, which carries no passive reply.
var ErrSuccess = errors.New("webhooktest: answer is success (no reply)")

// DecryptReply verifies and decrypts an encrypted reply envelope
// (<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>) as WeChat
// does: msg_signature over token, TimeStamp, Nonce and Encrypt, then
// AES-256-CBC with the AppID check. It returns the plaintext reply XML, or
// ErrSuccess, or an error wrapping wxcrypto.ErrInvalidSignature,
// wxcrypto.ErrInvalidAppID or message.ErrMalformed.
func DecryptReply(token, aesKey, appID string, body []byte) ([]byte, error) {
	if isSuccess(body) {
		return nil, ErrSuccess
	}
	env, err := message.ParseEnvelope(body)
	if err != nil {
		return nil, err
	}
	if env.MsgSignature == "" || env.TimeStamp == "" || env.Nonce == "" {
		return nil, fmt.Errorf("%w: reply envelope lacks MsgSignature, TimeStamp or Nonce", message.ErrMalformed)
	}
	if err := wxcrypto.CheckMsgSignature(env.MsgSignature, token, env.TimeStamp, env.Nonce, env.Encrypt); err != nil {
		return nil, err
	}
	c, err := wxcrypto.NewCipher(aesKey, appID)
	if err != nil {
		return nil, err
	}
	return c.Decrypt(env.Encrypt)
}

// ParseReply reads a Server's answer: "success" gives ErrSuccess; an
// encrypted envelope is verified and decrypted with DecryptReply; plaintext
// reply XML is parsed as is.
func ParseReply(token, aesKey, appID string, body []byte) (*message.ReplyMessage, error) {
	if isSuccess(body) {
		return nil, ErrSuccess
	}
	if bytes.Contains(body, []byte("<Encrypt>")) {
		plain, err := DecryptReply(token, aesKey, appID, body)
		if err != nil {
			return nil, err
		}
		body = plain
	}
	return message.ParseReply(body)
}

func isSuccess(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "success"
}
