package gateway

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"
)

// The OAuth login state: what /oauth/login hands WeChat in the state
// parameter and gets back at /oauth/callback.
//
//	state   = base64url(payload) "." base64url(mac)
//	payload = version (1 byte, 1) | flags (1 byte) | expiry (uint32, Unix s,
//	          big endian) | nonce (12 random bytes) | return path (UTF-8)
//	mac     = HMAC-SHA256(oauth.secret, "wxkit-oauth-state\x00" appid "\x00"
//	          base64url(payload)), first 16 bytes
//
// flags: bit 0 scope snsapi_userinfo; bit 1 the return path is kept with the
// nonce in the state store instead of the payload. WeChat limits state to
// 128 bytes, so a return path that does not fit (about 60 bytes) is stored
// server-side. The MAC binds the state to one app, so that a state issued
// for one app cannot complete a login at another. The nonce is stored at
// login and consumed (deleted) on the callback, so a state works once.
const (
	stateVersion      = 1
	stateFlagUserInfo = 1 << 0
	stateFlagStored   = 1 << 1
	stateHeaderLen    = 1 + 1 + 4 + stateNonceLen
	stateNonceLen     = 12
	stateMACLen       = 16
	// maxStateLen is WeChat's limit on the state parameter.
	maxStateLen = 128
)

// Errors of state verification. They are logged, never shown in detail.
var (
	errStateMalformed = errors.New("malformed state")
	errStateSignature = errors.New("state signature mismatch")
	errStateExpired   = errors.New("state expired")
)

// loginState is the content of a state.
type loginState struct {
	UserInfo bool
	Stored   bool // the return path is in the state store
	Expires  time.Time
	Nonce    [stateNonceLen]byte
	Return   string // "" when Stored
}

// nonceString is the nonce as stored in the state store.
func (s *loginState) nonceString() string {
	return base64.RawURLEncoding.EncodeToString(s.Nonce[:])
}

// stateSigner signs and verifies states with one key.
type stateSigner struct {
	key []byte
}

// newLoginState returns a state with a fresh random nonce. The return path
// goes into the payload when the signed state fits in maxStateLen bytes;
// otherwise Stored is set and the caller keeps the path with the nonce.
func (s *stateSigner) newLoginState(appID, ret string, userInfo bool, expires time.Time) (loginState, string, error) {
	st := loginState{UserInfo: userInfo, Expires: expires, Return: ret}
	if _, err := rand.Read(st.Nonce[:]); err != nil {
		return loginState{}, "", err
	}
	enc := s.sign(appID, &st)
	if len(enc) > maxStateLen {
		st.Stored, st.Return = true, ""
		enc = s.sign(appID, &st)
	}
	return st, enc, nil
}

// sign encodes and signs st for appID.
func (s *stateSigner) sign(appID string, st *loginState) string {
	p := make([]byte, stateHeaderLen, stateHeaderLen+len(st.Return))
	p[0] = stateVersion
	if st.UserInfo {
		p[1] |= stateFlagUserInfo
	}
	if st.Stored {
		p[1] |= stateFlagStored
	}
	binary.BigEndian.PutUint32(p[2:6], uint32(st.Expires.Unix()))
	copy(p[6:], st.Nonce[:])
	if !st.Stored {
		p = append(p, st.Return...)
	}
	payload := base64.RawURLEncoding.EncodeToString(p)
	return payload + "." + base64.RawURLEncoding.EncodeToString(s.mac(appID, payload))
}

func (s *stateSigner) mac(appID, payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("wxkit-oauth-state\x00"))
	m.Write([]byte(appID))
	m.Write([]byte{0})
	m.Write([]byte(payload))
	return m.Sum(nil)[:stateMACLen]
}

// verify checks the MAC of state for appID (in constant time), decodes it
// and checks its expiry against now. It does not consume the nonce.
func (s *stateSigner) verify(appID, state string, now time.Time) (loginState, error) {
	if len(state) > 2*maxStateLen {
		return loginState{}, errStateMalformed
	}
	payload, sig, ok := strings.Cut(state, ".")
	if !ok {
		return loginState{}, errStateMalformed
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(got) != stateMACLen {
		return loginState{}, errStateMalformed
	}
	if !hmac.Equal(got, s.mac(appID, payload)) {
		return loginState{}, errStateSignature
	}
	p, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || len(p) < stateHeaderLen || p[0] != stateVersion {
		return loginState{}, errStateMalformed
	}
	st := loginState{
		UserInfo: p[1]&stateFlagUserInfo != 0,
		Stored:   p[1]&stateFlagStored != 0,
		Expires:  time.Unix(int64(binary.BigEndian.Uint32(p[2:6])), 0),
		Return:   string(p[stateHeaderLen:]),
	}
	copy(st.Nonce[:], p[6:stateHeaderLen])
	if !now.Before(st.Expires) {
		return loginState{}, errStateExpired
	}
	return st, nil
}
