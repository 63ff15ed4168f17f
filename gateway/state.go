package gateway

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
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
//	payload = version (1 byte, 2) | flags (1 byte) | expiry (uint32, Unix s,
//	          big endian) | nonce (12 bytes) | return path (UTF-8)
//	nonce   = SHA-256("wxkit-login-binding\x00" secret), first 12 bytes
//	mac     = HMAC-SHA256(oauth.secret, "wxkit-oauth-state\x00" appid "\x00"
//	          base64url(payload)), first 16 bytes
//
// flags: bit 0 scope snsapi_userinfo; bit 1 the return path is kept with the
// nonce in the state store instead of the payload. WeChat limits state to
// 128 bytes, so a return path that does not fit (about 60 bytes) is stored
// server-side. The MAC binds the state to one app, so that a state issued
// for one app cannot complete a login at another. The nonce is stored at
// login and consumed (deleted) on the callback, so a state works once.
//
// The nonce binds the state to the browser that started the login: secret
// is 16 random bytes drawn for each login and given to that browser only,
// in the login cookie (session.go), and the callback refuses a state whose
// nonce is not the hash of the cookie it comes with. Whoever holds the
// state (it travels in URLs) learns nothing of the secret. Version 1 states
// (random nonces, no binding) are refused: a login started before the
// upgrade must be started again.
const (
	stateVersion      = 2
	stateFlagUserInfo = 1 << 0
	stateFlagStored   = 1 << 1
	stateHeaderLen    = 1 + 1 + 4 + stateNonceLen
	stateNonceLen     = 12
	stateSecretLen    = 16
	stateMACLen       = 16
	// maxStateLen is WeChat's limit on the state parameter.
	maxStateLen = 128
)

// Errors of state verification. They are logged, never shown in detail.
var (
	errStateMalformed = errors.New("malformed state")
	errStateSignature = errors.New("state signature mismatch")
	errStateExpired   = errors.New("state expired")
	errStateVersion   = errors.New("state of another format version (issued before an upgrade?)")
)

// loginState is the content of a state.
type loginState struct {
	UserInfo bool
	Stored   bool // the return path is in the state store
	Expires  time.Time
	Nonce    [stateNonceLen]byte
	Return   string // "" when Stored
	// Secret is the browser's secret, whose hash is Nonce: known to
	// newLoginState only (verify leaves it zero).
	Secret [stateSecretLen]byte
}

// nonceString is the nonce as stored in the state store.
func (s *loginState) nonceString() string {
	return base64.RawURLEncoding.EncodeToString(s.Nonce[:])
}

// stateSigner signs and verifies states with one key.
type stateSigner struct {
	key []byte
}

// bindingNonce returns the nonce that commits to a browser secret.
func bindingNonce(secret []byte) [stateNonceLen]byte {
	h := sha256.New()
	h.Write([]byte("wxkit-login-binding\x00"))
	h.Write(secret)
	var n [stateNonceLen]byte
	copy(n[:], h.Sum(nil))
	return n
}

// boundTo reports, in constant time, whether secret (as carried by the
// login cookie: base64url) is the browser secret of s.
func (s *loginState) boundTo(secret string) bool {
	b, err := base64.RawURLEncoding.DecodeString(secret)
	if err != nil || len(b) != stateSecretLen {
		return false
	}
	n := bindingNonce(b)
	return subtle.ConstantTimeCompare(n[:], s.Nonce[:]) == 1
}

// newLoginState returns a state with a fresh random browser secret and its
// nonce. The return path goes into the payload when the signed state fits
// in maxStateLen bytes; otherwise Stored is set and the caller keeps the
// path with the nonce.
func (s *stateSigner) newLoginState(appID, ret string, userInfo bool, expires time.Time) (loginState, string, error) {
	st := loginState{UserInfo: userInfo, Expires: expires, Return: ret}
	if _, err := rand.Read(st.Secret[:]); err != nil {
		return loginState{}, "", err
	}
	st.Nonce = bindingNonce(st.Secret[:])
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
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil || len(got) != stateMACLen {
		return loginState{}, errStateMalformed
	}
	if !hmac.Equal(got, s.mac(appID, payload)) {
		return loginState{}, errStateSignature
	}
	p, err := base64.RawURLEncoding.Strict().DecodeString(payload)
	if err != nil || len(p) < stateHeaderLen {
		return loginState{}, errStateMalformed
	}
	if p[0] != stateVersion {
		return loginState{}, errStateVersion
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
