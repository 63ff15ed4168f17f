package payv3

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Certificate is a platform certificate as GET /v3/certificates lists it,
// decrypted and parsed.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/platform-certificate/api-v3-get-certificates/get.html
type Certificate struct {
	SerialNo      string
	EffectiveTime time.Time
	ExpireTime    time.Time
	Certificate   *x509.Certificate
	PEM           []byte
}

// certificatesReply is the body of GET /v3/certificates.
type certificatesReply struct {
	Data []struct {
		SerialNo           string    `json:"serial_no"`
		EffectiveTime      time.Time `json:"effective_time"`
		ExpireTime         time.Time `json:"expire_time"`
		EncryptCertificate Resource  `json:"encrypt_certificate"`
	} `json:"data"`
}

// CertificateDownloader is the KeyRefresher that downloads the platform
// certificates through a Client (GET /v3/certificates); NewClient sets one
// on its Verifier unless only public keys are configured.
//
// Trust: each certificate arrives encrypted with AEAD_AES_256_GCM under the
// APIv3 key, which only the platform and the merchant hold, so a
// certificate that decrypts and authenticates was put there by the
// platform. The reply itself must also be signed, by a key the Verifier
// already trusts or, on the first download (bootstrap), by one of the
// certificates it carries, as the official SDKs do. Certificates whose
// serial does not match their serial_no, or that have expired, are
// dropped; the new ones are added beside the keys held (the old
// certificate keeps verifying during a rotation) and expired ones are
// removed.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/platform-certificate/api-v3-get-certificates/get.html
type CertificateDownloader struct {
	client *Client
}

// NewCertificateDownloader returns a downloader through c (its API host,
// signing key and APIv3 key).
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/platform-certificate/api-v3-get-certificates/get.html
func NewCertificateDownloader(c *Client) *CertificateDownloader {
	return &CertificateDownloader{client: c}
}

// RefreshKeys downloads the certificates into v (see Download).
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/platform-certificate/api-v3-get-certificates/get.html
func (d *CertificateDownloader) RefreshKeys(ctx context.Context, v *Verifier) error {
	_, err := d.client.downloadCertificates(ctx, v)
	if err != nil {
		d.client.logger.WarnContext(ctx, "payv3: platform certificate download failed", "mch_id", d.client.mchID, "err", err)
	}
	return err
}

// DownloadCertificates downloads, decrypts and verifies the platform
// certificates, adds them to the client's Verifier (removing expired ones)
// and returns them. A merchant with only a WeChat Pay public key gets
// ErrNoPlatformCertificates (the platform answers 404 RESOURCE_NOT_EXISTS).
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/apis/platform-certificate/api-v3-get-certificates/get.html
func (c *Client) DownloadCertificates(ctx context.Context) ([]*Certificate, error) {
	return c.downloadCertificates(ctx, c.verifier)
}

func (c *Client) downloadCertificates(ctx context.Context, v *Verifier) ([]*Certificate, error) {
	const path = "v3/certificates"
	req, err := c.raw.NewRequest(ctx, "GET", path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.raw.DoRaw(req, wxhttpIdempotent()...)
	if err != nil {
		if errors.Is(err, ErrResourceNotExists) {
			return nil, fmt.Errorf("%w: %w", ErrNoPlatformCertificates, err)
		}
		return nil, err
	}
	var reply certificatesReply
	if err := json.Unmarshal(resp.Body, &reply); err != nil {
		return nil, fmt.Errorf("payv3: GET %s: decode reply: %w", path, err)
	}
	now := c.now()
	var certs []*Certificate
	fresh := make(map[string]*rsa.PublicKey)
	var problems []error
	for _, d := range reply.Data {
		pt, err := DecryptResource(c.apiV3Key, &d.EncryptCertificate)
		if err != nil {
			problems = append(problems, fmt.Errorf("certificate %s: %w", d.SerialNo, err))
			continue
		}
		x, err := ParseCertificatePEM(pt)
		if err != nil {
			problems = append(problems, fmt.Errorf("certificate %s: %w", d.SerialNo, err))
			continue
		}
		s := CertificateSerial(x)
		if normSerial(s) != normSerial(d.SerialNo) {
			problems = append(problems, fmt.Errorf("certificate listed as %s has serial %s", d.SerialNo, s))
			continue
		}
		if now.After(x.NotAfter) || (!d.ExpireTime.IsZero() && now.After(d.ExpireTime)) {
			continue
		}
		certs = append(certs, &Certificate{SerialNo: s, EffectiveTime: d.EffectiveTime, ExpireTime: d.ExpireTime, Certificate: x, PEM: pt})
		fresh[normSerial(s)] = x.PublicKey.(*rsa.PublicKey)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("payv3: GET %s: no valid certificate in the reply: %w", path, errors.Join(problems...))
	}
	// The reply's signature: by a key already trusted, or (bootstrap) by a
	// certificate it carries.
	trusted := NewVerifier()
	for k, pub := range fresh {
		trusted.keys[k] = verifierKey{serial: k, key: pub}
	}
	if serial := resp.Header.Get(HeaderSerial); serial != "" {
		if e, ok := v.lookup(serial); ok {
			trusted.keys[normSerial(serial)] = e
		}
	}
	if _, err := verifySigned(ctx, trusted, resp.Header, resp.Body, now, c.tolerance); err != nil {
		return nil, fmt.Errorf("payv3: GET %s: %w", path, err)
	}
	for _, cert := range certs {
		if _, err := v.AddCertificate(cert.Certificate); err != nil {
			return nil, err
		}
	}
	if gone := v.RemoveExpired(now); len(gone) > 0 {
		c.logger.InfoContext(ctx, "payv3: expired platform certificates removed", "mch_id", c.mchID, "serials", gone)
	}
	return certs, nil
}
