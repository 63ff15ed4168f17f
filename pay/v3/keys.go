package payv3

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// PublicKeyIDPrefix starts the id of every WeChat Pay public key
// (PUB_KEY_ID_0114232134912410000000000000): the Wechatpay-Serial of replies
// and notifies signed in public-key mode.
//
// WeChat docs: https://pay.weixin.qq.com/doc/v3/merchant/4012153196
const PublicKeyIDPrefix = "PUB_KEY_ID_"

// ParsePrivateKeyPEM parses the merchant's API private key
// (apiclient_key.pem): a PKCS#8 "PRIVATE KEY" or a PKCS#1 "RSA PRIVATE KEY"
// block holding an RSA key.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/privatekey-and-certificate.html
func ParsePrivateKeyPEM(b []byte) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("payv3: private key: no PEM block")
	}
	switch blk.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("payv3: private key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("payv3: private key: %T, want an RSA key", k)
		}
		return rk, nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("payv3: private key: %w", err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("payv3: private key: PEM block %q, want PRIVATE KEY or RSA PRIVATE KEY", blk.Type)
}

// ParsePublicKeyPEM parses a WeChat Pay public key (pub_key.pem, downloaded
// from the merchant platform): a PKIX "PUBLIC KEY" or a PKCS#1 "RSA PUBLIC
// KEY" block holding an RSA key.
//
// WeChat docs: https://pay.weixin.qq.com/doc/v3/merchant/4012153196
func ParsePublicKeyPEM(b []byte) (*rsa.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("payv3: public key: no PEM block")
	}
	switch blk.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("payv3: public key: %w", err)
		}
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("payv3: public key: %T, want an RSA key", k)
		}
		return rk, nil
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("payv3: public key: %w", err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("payv3: public key: PEM block %q, want PUBLIC KEY", blk.Type)
}

// ParseCertificatePEM parses one PEM "CERTIFICATE" (a platform certificate,
// or the merchant's apiclient_cert.pem) whose key is RSA.
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/wechatpay-certificates.html
func ParseCertificatePEM(b []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("payv3: certificate: no PEM CERTIFICATE block")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("payv3: certificate: %w", err)
	}
	if _, ok := c.PublicKey.(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("payv3: certificate %s: %T key, want RSA", CertificateSerial(c), c.PublicKey)
	}
	return c, nil
}

// CertificateSerial returns a certificate's serial number as WeChat Pay
// writes it (Wechatpay-Serial, serial_no): upper-case hex,
// "D7CE59D1F522D701".
//
// WeChat docs: https://pay.weixin.qq.com/docs/merchant/development/interface-rules/wechatpay-certificates.html
func CertificateSerial(c *x509.Certificate) string {
	return strings.ToUpper(hex.EncodeToString(c.SerialNumber.Bytes()))
}

// normSerial is the map key of a serial: a public key id as it is, a
// certificate serial in upper case without leading zeros (so that "0A1B"
// and "a1b" meet).
func normSerial(s string) string {
	if strings.HasPrefix(s, PublicKeyIDPrefix) {
		return s
	}
	return strings.TrimLeft(strings.ToUpper(s), "0")
}
