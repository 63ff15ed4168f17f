package webhook

import (
	"crypto/sha1"
	"encoding/hex"
)

// The signature helpers below compute exactly wxcrypto.Signature and
// wxcrypto.MsgSignature (sha1 over the byte-wise sorted, concatenated
// values, lower-case hex) into caller-owned buffers, because the hot path
// cannot afford the five allocations per call of the string-returning
// versions. Tests pin them to wxcrypto. Comparison is constant-time.

// signer holds the scratch space for one signature.
type signer struct {
	buf []byte
	hex [2 * sha1.Size]byte
}

// sum computes the hex signature of vs (sorted in place) into s.hex.
func (s *signer) sum(vs []string) []byte {
	// Insertion sort: 3 or 4 short strings.
	for i := 1; i < len(vs); i++ {
		for j := i; j > 0 && vs[j] < vs[j-1]; j-- {
			vs[j], vs[j-1] = vs[j-1], vs[j]
		}
	}
	b := s.buf[:0]
	for _, v := range vs {
		b = append(b, v...)
	}
	s.buf = b
	d := sha1.Sum(b)
	hex.Encode(s.hex[:], d[:])
	return s.hex[:]
}

// signature returns sha1(sort(token, timestamp, nonce)) as hex.
func (s *signer) signature(token, timestamp, nonce string) []byte {
	vs := [3]string{token, timestamp, nonce}
	return s.sum(vs[:])
}

// msgSignature returns sha1(sort(token, timestamp, nonce, encrypt)) as hex.
func (s *signer) msgSignature(token, timestamp, nonce, encrypt string) []byte {
	vs := [4]string{token, timestamp, nonce, encrypt}
	return s.sum(vs[:])
}

// equalHex reports, in time independent of the contents, whether got (hex,
// either case) equals want (lower-case hex).
func equalHex(got string, want []byte) bool {
	if len(got) != len(want) {
		return false
	}
	var v byte
	for i := 0; i < len(want); i++ {
		c := got[i]
		// Fold A-F to a-f without branching on the value.
		upper := byte((uint(c-'A') - 6) >> 8 & 1) // 1 when 'A' <= c <= 'F'
		c |= upper << 5
		v |= c ^ want[i]
	}
	return v == 0
}
