package payv3

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Defaults of a Verifier.
const (
	// DefaultRefreshInterval is how old the keys may get before the next
	// verification refreshes them (certificate download), when the
	// refresher was set with interval 0.
	DefaultRefreshInterval = 12 * time.Hour
	// DefaultMinRefreshInterval is the least time between two refreshes
	// that a verification starts (an unknown serial): a stream of forged
	// serials costs one download a minute at most.
	DefaultMinRefreshInterval = time.Minute
)

// A KeyRefresher fetches the platform's current keys into a Verifier (see
// CertificateDownloader). It is called by one goroutine at a time per
// Verifier.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/platform-certificate/api-v3-get-certificates/get.html
type KeyRefresher interface {
	RefreshKeys(ctx context.Context, v *Verifier) error
}

// A Verifier holds the WeChat Pay keys that replies and notifies are
// verified with, by the Wechatpay-Serial they name: platform certificates
// by their serial number (older merchants) and WeChat Pay public keys by
// their PUB_KEY_ID_ id (every merchant since late 2024). It may hold both
// at once, as a merchant switching from certificates to a public key needs:
// the platform then signs with either.
//
// With a KeyRefresher (SetRefresher; NewClient sets a CertificateDownloader
// unless only public keys are configured), a serial it does not know makes
// it refresh once before refusing, and keys older than the refresh
// interval are refreshed by the next verification.
//
// A Verifier is safe for concurrent use.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-verification.html
type Verifier struct {
	mu   sync.RWMutex
	keys map[string]verifierKey

	now         func() time.Time
	minInterval time.Duration

	refreshLock chan struct{} // held while refreshing
	// under mu:
	refresher   KeyRefresher
	interval    time.Duration
	gen         uint64 // refreshes attempted
	lastAttempt time.Time
	lastSuccess time.Time
	lastErr     error
}

type verifierKey struct {
	serial string // as given
	key    *rsa.PublicKey
	cert   *x509.Certificate // nil for a public key
}

// A VerifierOption configures NewVerifier.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-verification.html
type VerifierOption func(*Verifier)

// VerifierClock sets the clock that refresh intervals and certificate
// expiry are measured with (default time.Now).
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-verification.html
func VerifierClock(now func() time.Time) VerifierOption {
	return func(v *Verifier) {
		if now != nil {
			v.now = now
		}
	}
}

// MinRefreshInterval sets the least time between two refreshes started by
// verifications (default DefaultMinRefreshInterval); Refresh is not
// limited.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/platform-certificate/api-v3-get-certificates/get.html
func MinRefreshInterval(d time.Duration) VerifierOption {
	return func(v *Verifier) { v.minInterval = max(d, 0) }
}

// NewVerifier returns a Verifier with no keys: add them with AddPublicKey
// and AddCertificate, or let a refresher download them.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-verification.html
func NewVerifier(opts ...VerifierOption) *Verifier {
	v := &Verifier{
		keys:        make(map[string]verifierKey),
		now:         time.Now,
		minInterval: DefaultMinRefreshInterval,
		refreshLock: make(chan struct{}, 1),
	}
	for _, o := range opts {
		if o != nil {
			o(v)
		}
	}
	return v
}

// NewPublicKeyVerifier returns a Verifier in public-key mode: it trusts the
// WeChat Pay public key publicKeyPEM (pub_key.pem, see ParsePublicKeyPEM)
// under its id publicKeyID ("PUB_KEY_ID_...", shown beside the key on the
// merchant platform).
//
// WeChat docs: https://pay.weixin.qq.com/doc/v3/merchant/4012153196
func NewPublicKeyVerifier(publicKeyID string, publicKeyPEM []byte, opts ...VerifierOption) (*Verifier, error) {
	k, err := ParsePublicKeyPEM(publicKeyPEM)
	if err != nil {
		return nil, err
	}
	v := NewVerifier(opts...)
	if err := v.AddPublicKey(publicKeyID, k); err != nil {
		return nil, err
	}
	return v, nil
}

// NewCertificateVerifier returns a Verifier that trusts the platform
// certificates certPEMs (each a PEM CERTIFICATE), by their serial numbers.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/wechatpay-certificates.html
func NewCertificateVerifier(certPEMs [][]byte, opts ...VerifierOption) (*Verifier, error) {
	v := NewVerifier(opts...)
	for _, p := range certPEMs {
		c, err := ParseCertificatePEM(p)
		if err != nil {
			return nil, err
		}
		if _, err := v.AddCertificate(c); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// AddPublicKey trusts key under id, which must start with
// PublicKeyIDPrefix. It replaces a key of the same id.
//
// WeChat docs: https://pay.weixin.qq.com/doc/v3/merchant/4012153196
func (v *Verifier) AddPublicKey(id string, key *rsa.PublicKey) error {
	if len(id) <= len(PublicKeyIDPrefix) || id[:len(PublicKeyIDPrefix)] != PublicKeyIDPrefix || !validHeaderValue(id) {
		return fmt.Errorf("payv3: public key id %q: want %s followed by the id shown on the merchant platform", id, PublicKeyIDPrefix)
	}
	if key == nil {
		return errors.New("payv3: AddPublicKey: nil key")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.keys[normSerial(id)] = verifierKey{serial: id, key: key}
	return nil
}

// AddCertificate trusts the platform certificate c under its serial number
// (CertificateSerial), which it returns. It replaces a certificate of the
// same serial. The key must be RSA.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/wechatpay-certificates.html
func (v *Verifier) AddCertificate(c *x509.Certificate) (string, error) {
	if c == nil {
		return "", errors.New("payv3: AddCertificate: nil certificate")
	}
	k, ok := c.PublicKey.(*rsa.PublicKey)
	if !ok {
		return "", fmt.Errorf("payv3: certificate %s: %T key, want RSA", CertificateSerial(c), c.PublicKey)
	}
	s := CertificateSerial(c)
	v.mu.Lock()
	defer v.mu.Unlock()
	v.keys[normSerial(s)] = verifierKey{serial: s, key: k, cert: c}
	return s, nil
}

// RemoveExpired drops the certificates whose NotAfter is before now, and
// returns their serials. Public keys do not expire.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/platform-certificate/api-v3-get-certificates/get.html
func (v *Verifier) RemoveExpired(now time.Time) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var gone []string
	for k, e := range v.keys {
		if e.cert != nil && now.After(e.cert.NotAfter) {
			delete(v.keys, k)
			gone = append(gone, e.serial)
		}
	}
	slices.Sort(gone)
	return gone
}

// Serials returns the serials of the trusted keys (certificate serials and
// public key ids), sorted.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-verification.html
func (v *Verifier) Serials() []string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]string, 0, len(v.keys))
	for _, e := range v.keys {
		out = append(out, e.serial)
	}
	slices.Sort(out)
	return out
}

// Certificates returns the trusted platform certificates by serial.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/platform-certificate/api-v3-get-certificates/get.html
func (v *Verifier) Certificates() map[string]*x509.Certificate {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make(map[string]*x509.Certificate)
	for e := range maps.Values(v.keys) {
		if e.cert != nil {
			out[e.serial] = e.cert
		}
	}
	return out
}

// PublicKey returns the key trusted under serial, without refreshing.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-verification.html
func (v *Verifier) PublicKey(serial string) (*rsa.PublicKey, bool) {
	e, ok := v.lookup(serial)
	return e.key, ok
}

func (v *Verifier) lookup(serial string) (verifierKey, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	e, ok := v.keys[normSerial(serial)]
	return e, ok
}

// SetRefresher makes r refresh the keys: on a serial that the Verifier
// does not know (at most once per MinRefreshInterval), at the first
// verification, and then at the first verification after each interval
// (0: DefaultRefreshInterval; negative: only on unknown serials). A failed
// periodic refresh leaves the keys as they were. A nil r removes the
// refresher.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/platform-certificate/api-v3-get-certificates/get.html
func (v *Verifier) SetRefresher(r KeyRefresher, interval time.Duration) {
	if interval == 0 {
		interval = DefaultRefreshInterval
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.refresher, v.interval = r, interval
}

// Refresh runs the refresher now (waiting for one already running to end
// first) and returns its error; without a refresher it does nothing.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/platform-certificate/api-v3-get-certificates/get.html
func (v *Verifier) Refresh(ctx context.Context) error {
	v.mu.RLock()
	gen := v.gen
	v.mu.RUnlock()
	return v.refresh(ctx, gen, true)
}

// refresh runs the refresher unless one ran since the caller saw gen
// (another goroutine refreshed while this one waited), or, unless forced,
// one was attempted less than minInterval ago. It returns the error of the
// refresh it ran or found.
func (v *Verifier) refresh(ctx context.Context, gen uint64, force bool) error {
	select {
	case v.refreshLock <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-v.refreshLock }()
	v.mu.Lock()
	r := v.refresher
	if r == nil {
		v.mu.Unlock()
		return nil
	}
	if v.gen != gen || (!force && !v.lastAttempt.IsZero() && v.now().Sub(v.lastAttempt) < v.minInterval) {
		err := v.lastErr
		v.mu.Unlock()
		return err
	}
	v.gen++
	v.lastAttempt = v.now()
	v.mu.Unlock()

	err := r.RefreshKeys(ctx, v)

	v.mu.Lock()
	v.lastErr = err
	if err == nil {
		v.lastSuccess = v.now()
	}
	v.mu.Unlock()
	return err
}

// Verify checks that signature (base64 SHA256withRSA, the
// Wechatpay-Signature header) signs message with the key trusted under
// serial (the Wechatpay-Serial header). An unknown serial makes it refresh
// once first, when it has a refresher. Every failure is a *VerifyError
// (errors.Is(err, ErrSignature)); an unknown serial also matches
// ErrUnknownSerial, and the refresh's error when there was one (such as
// ErrNoPlatformCertificates).
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/signature-verification.html
func (v *Verifier) Verify(ctx context.Context, serial string, message []byte, signature string) error {
	if serial == "" {
		return &VerifyError{Reason: "no Wechatpay-Serial"}
	}
	v.mu.RLock()
	gen, r := v.gen, v.refresher
	// Periodic refresh: the first verification, then one per interval
	// (counted from the last attempt, so that a failing refresher is not
	// asked at every verification).
	due := r != nil && v.interval > 0 && (v.lastAttempt.IsZero() || v.now().Sub(v.lastAttempt) >= v.interval)
	v.mu.RUnlock()
	if due {
		_ = v.refresh(ctx, gen, false) // the keys held still serve; an unknown serial reports the error below
		v.mu.RLock()
		gen = v.gen
		v.mu.RUnlock()
	}
	e, ok := v.lookup(serial)
	var rerr error
	if !ok && r != nil {
		rerr = v.refresh(ctx, gen, false)
		e, ok = v.lookup(serial)
	}
	if !ok {
		err := ErrUnknownSerial
		if rerr != nil {
			err = fmt.Errorf("%w (refreshing the keys: %w)", ErrUnknownSerial, rerr)
		}
		return &VerifyError{Serial: serial, Reason: "no trusted key has this serial", Err: err}
	}
	if err := verifySHA256RSA(e.key, message, signature); err != nil {
		return &VerifyError{Serial: serial, Reason: err.Error()}
	}
	return nil
}
