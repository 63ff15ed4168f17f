package wxcrypto

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"io"
	"slices"
	"strings"
)

// SortedSHA1 returns the lower-case hex SHA-1 of values sorted byte-wise and
// joined with sep. It is the rule behind the URL signature, msg_signature,
// card signatures and WeChatSigner.
func SortedSHA1(sep string, values ...string) string {
	vs := slices.Clone(values)
	slices.Sort(vs)
	sum := sha1.Sum([]byte(strings.Join(vs, sep)))
	return hex.EncodeToString(sum[:])
}

// Signature returns the "signature" query parameter WeChat sends with every
// push and the URL handshake: sha1(sort(token, timestamp, nonce)), hex.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
func Signature(token, timestamp, nonce string) string {
	var buf [3]string
	buf[0], buf[1], buf[2] = token, timestamp, nonce
	sort3(&buf)
	return hexSHA1(buf[0], buf[1], buf[2])
}

// MsgSignature returns the safe-mode "msg_signature": sha1 over the sorted
// token, timestamp, nonce and the base64 Encrypt value, hex.
//
// WeChat docs: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
func MsgSignature(token, timestamp, nonce, encrypt string) string {
	vs := [4]string{token, timestamp, nonce, encrypt}
	slices.Sort(vs[:])
	return hexSHA1(vs[0], vs[1], vs[2], vs[3])
}

// AppendMsgSignature appends MsgSignature(token, timestamp, nonce, encrypt)
// (40 lower-case hex digits) to dst and returns the extended slice; it
// allocates only when dst lacks room.
func AppendMsgSignature(dst []byte, token, timestamp, nonce, encrypt string) []byte {
	vs := [4]string{token, timestamp, nonce, encrypt}
	slices.Sort(vs[:])
	sum := sumSHA1(vs[:])
	return hex.AppendEncode(dst, sum[:])
}

// CheckSignature reports whether signature equals Signature(token,
// timestamp, nonce), in constant time. It returns ErrInvalidSignature when
// it does not.
func CheckSignature(signature, token, timestamp, nonce string) error {
	var buf [3]string
	buf[0], buf[1], buf[2] = token, timestamp, nonce
	sort3(&buf)
	return checkDigest(signature, sumSHA1(buf[:]))
}

// CheckMsgSignature reports whether msgSignature equals MsgSignature(token,
// timestamp, nonce, encrypt), in constant time, returning
// ErrInvalidSignature when it does not.
func CheckMsgSignature(msgSignature, token, timestamp, nonce, encrypt string) error {
	vs := [4]string{token, timestamp, nonce, encrypt}
	slices.Sort(vs[:])
	return checkDigest(msgSignature, sumSHA1(vs[:]))
}

// checkDigest compares a hex signature (either case) with sum in constant
// time, without allocating.
func checkDigest(got string, sum [sha1.Size]byte) error {
	var want [2 * sha1.Size]byte
	hex.Encode(want[:], sum[:])
	if len(got) != len(want) {
		return ErrInvalidSignature
	}
	var v byte
	for i := range want {
		c := got[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		v |= c ^ want[i]
	}
	if v != 0 {
		return ErrInvalidSignature
	}
	return nil
}

// Equal compares two strings in constant time (for their common length).
// Use it for every comparison of a value derived from a secret.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func equalHex(got, want string) error {
	if len(got) != len(want) || !Equal(strings.ToLower(got), want) {
		return ErrInvalidSignature
	}
	return nil
}

func sort3(v *[3]string) {
	if v[1] < v[0] {
		v[0], v[1] = v[1], v[0]
	}
	if v[2] < v[1] {
		v[1], v[2] = v[2], v[1]
		if v[1] < v[0] {
			v[0], v[1] = v[1], v[0]
		}
	}
}

func hexSHA1(parts ...string) string {
	sum := sumSHA1(parts)
	var out [2 * sha1.Size]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}

// sumSHA1 hashes the concatenation of parts; short inputs are joined on the
// stack so that nothing is allocated.
func sumSHA1(parts []string) [sha1.Size]byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n <= 2048 {
		var buf [2048]byte
		b := buf[:0]
		for _, p := range parts {
			b = append(b, p...)
		}
		return sha1.Sum(b)
	}
	h := sha1.New()
	for _, p := range parts {
		io.WriteString(h, p)
	}
	var sum [sha1.Size]byte
	h.Sum(sum[:0])
	return sum
}
