package payv3

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rawSign signs msg with k by crypto/rsa directly.
func rawSign(t *testing.T, k *rsa.PrivateKey, msg string) string {
	t.Helper()
	h := sha256.Sum256([]byte(msg))
	sig, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func TestVerifierKeys(t *testing.T) {
	t.Parallel()
	v := NewVerifier()
	for _, id := range []string{"", "PUB_KEY_ID_", "KEY_1", "PUB_KEY_ID_1\n"} {
		if err := v.AddPublicKey(id, &keys().pub.PublicKey); err == nil {
			t.Errorf("AddPublicKey(%q) = nil error", id)
		}
	}
	if err := v.AddPublicKey(testPubKeyID, &keys().pub.PublicKey); err != nil {
		t.Fatal(err)
	}
	// Serial 0x0A0B has a leading zero nibble: 0A0B, A0B and a0b meet.
	cert, _ := selfSigned(t, keys().cert, 0x0A0B, testNow.Add(-time.Hour), testNow.Add(time.Hour))
	s, err := v.AddCertificate(cert)
	if err != nil || s != "0A0B" {
		t.Fatalf("AddCertificate = %q, %v; want 0A0B", s, err)
	}
	old, _ := selfSigned(t, keys().cert2, 0x77, testNow.Add(-48*time.Hour), testNow.Add(-24*time.Hour))
	if _, err := v.AddCertificate(old); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"0A0B", "77", testPubKeyID}, v.Serials()); diff != "" {
		t.Errorf("Serials (-want +got):\n%s", diff)
	}
	msg := "1740801600\nnonce\n{}\n"
	for _, serial := range []string{"0A0B", "A0B", "a0b", "000a0b"} {
		if err := v.Verify(t.Context(), serial, []byte(msg), rawSign(t, keys().cert, msg)); err != nil {
			t.Errorf("Verify(serial %s) = %v", serial, err)
		}
	}
	if err := v.Verify(t.Context(), testPubKeyID, []byte(msg), rawSign(t, keys().pub, msg)); err != nil {
		t.Errorf("Verify(public key) = %v", err)
	}
	if err := v.Verify(t.Context(), testPubKeyID, []byte(msg), rawSign(t, keys().cert, msg)); !errors.Is(err, ErrSignature) || errors.Is(err, ErrUnknownSerial) {
		t.Errorf("Verify(a certificate's signature under the public key's id) = %v, want ErrSignature only", err)
	}
	if err := v.Verify(t.Context(), "", []byte(msg), "x"); !errors.Is(err, ErrSignature) {
		t.Errorf("Verify(no serial) = %v", err)
	}
	if got := v.RemoveExpired(testNow); !cmp.Equal(got, []string{"77"}) {
		t.Errorf("RemoveExpired = %v, want [77]", got)
	}
	if got := v.Certificates(); len(got) != 1 || got["0A0B"] != cert {
		t.Errorf("Certificates = %v, want 0A0B only", got)
	}
	if _, ok := v.PublicKey("77"); ok {
		t.Errorf("expired certificate still trusted")
	}
}

// TestVerifierRefreshSingleFlight: many verifications of one unknown serial
// at once make one refresh, and all see its result.
func TestVerifierRefreshSingleFlight(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	v := NewVerifier()
	ref := &countingRefresher{add: func(v *Verifier) {
		<-release
		v.AddPublicKey(testPubKeyID, &keys().pub.PublicKey)
	}}
	v.SetRefresher(ref, -1)
	msg := "1\nn\nb\n"
	sig := rawSign(t, keys().pub, msg)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() { errs <- v.Verify(t.Context(), testPubKeyID, []byte(msg), sig) })
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Verify = %v", err)
		}
	}
	if ref.n.Load() != 1 {
		t.Errorf("%d refreshes, want 1", ref.n.Load())
	}
}

// TestVerifierPeriodicRefresh: the first verification refreshes, then one
// per interval; a failing refresher leaves the held keys serving; Refresh
// is not limited; a cancelled context stops the wait for a refresh.
func TestVerifierPeriodicRefresh(t *testing.T) {
	t.Parallel()
	clock := &testClock{t: testNow}
	v := NewVerifier(VerifierClock(clock.Now))
	if err := v.AddPublicKey(testPubKeyID, &keys().pub.PublicKey); err != nil {
		t.Fatal(err)
	}
	ref := &countingRefresher{}
	v.SetRefresher(ref, time.Hour)
	msg := "1\nn\nb\n"
	sig := rawSign(t, keys().pub, msg)
	verify := func() {
		t.Helper()
		if err := v.Verify(t.Context(), testPubKeyID, []byte(msg), sig); err != nil {
			t.Fatalf("Verify = %v", err)
		}
	}
	steps := []struct {
		advance time.Duration
		fail    bool
		want    int32
	}{
		{0, false, 1},                // first verification
		{30 * time.Minute, false, 1}, // within the interval
		{30 * time.Minute, true, 2},  // due; fails, the key still serves
		{59 * time.Minute, false, 2}, // a failed attempt waits an interval too
		{time.Minute, false, 3},
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		ref.err = nil
		if s.fail {
			ref.err = errors.New("HTTP 502")
		}
		verify()
		if got := ref.n.Load(); got != s.want {
			t.Errorf("step %d: %d refreshes, want %d", i, got, s.want)
		}
	}
	if err := v.Refresh(t.Context()); err != nil || ref.n.Load() != 4 {
		t.Errorf("Refresh = %v with %d refreshes, want nil and 4", err, ref.n.Load())
	}

	v.refreshLock <- struct{}{} // a refresh in progress
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := v.Refresh(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Refresh(cancelled while another runs) = %v, want context.Canceled", err)
	}
	<-v.refreshLock
}

func TestParseKeys(t *testing.T) {
	t.Parallel()
	k := keys().merchant
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(k)
	pkcs1 := x509.MarshalPKCS1PrivateKey(k)
	for name, p := range map[string][]byte{
		"pkcs8": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
		"pkcs1": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: pkcs1}),
	} {
		got, err := ParsePrivateKeyPEM(p)
		if err != nil || !got.Equal(k) {
			t.Errorf("ParsePrivateKeyPEM(%s) = %v", name, err)
		}
	}
	pub, err := ParsePublicKeyPEM(pubPEM(t, &k.PublicKey))
	if err != nil || !pub.Equal(&k.PublicKey) {
		t.Errorf("ParsePublicKeyPEM = %v", err)
	}
	pub, err = ParsePublicKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.PublicKey)}))
	if err != nil || !pub.Equal(&k.PublicKey) {
		t.Errorf("ParsePublicKeyPEM(PKCS#1) = %v", err)
	}
	bad := [][]byte{nil, []byte("not pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2}})}
	for _, b := range bad {
		if _, err := ParsePrivateKeyPEM(b); err == nil {
			t.Errorf("ParsePrivateKeyPEM(%q) = nil error", b)
		}
		if _, err := ParsePublicKeyPEM(b); err == nil {
			t.Errorf("ParsePublicKeyPEM(%q) = nil error", b)
		}
		if _, err := ParseCertificatePEM(b); err == nil {
			t.Errorf("ParseCertificatePEM(%q) = nil error", b)
		}
	}
	if _, err := NewPublicKeyVerifier(testPubKeyID, []byte("x")); err == nil {
		t.Errorf("NewPublicKeyVerifier(bad PEM) = nil error")
	}
	if _, err := NewCertificateVerifier([][]byte{[]byte("x")}); err == nil {
		t.Errorf("NewCertificateVerifier(bad PEM) = nil error")
	}
}
