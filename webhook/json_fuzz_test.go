package webhook_test

import (
	"bytes"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wxkit/wxkit/internal/corpus"
	"github.com/wxkit/wxkit/message"
	"github.com/wxkit/wxkit/webhook"
	"github.com/wxkit/wxkit/webhook/webhooktest"
)

// jsonSeeds returns JSON pushes to start fuzzing from: the documented
// pushes, the Mini Program pairs and every corpus message as JSON.
func jsonSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	doc := loadMPPushes(f)
	for _, p := range doc.Pushes {
		seeds = append(seeds, []byte(p.Body))
		if p.Plaintext != "" {
			seeds = append(seeds, []byte(p.Plaintext))
		}
	}
	for _, p := range mpPairs {
		seeds = append(seeds, []byte(p.json))
	}
	for _, path := range corpus.Glob(f, "messages/*.json") {
		seeds = append(seeds, corpusJSON(f, strings.TrimSuffix(filepath.Base(path), ".json")))
	}
	return seeds
}

// FuzzParseJSON: ParseJSON never panics, fails only with the errors of
// message.Parse, and whatever it accepts is well-formed XML that parses
// again to the same Message, the same way every time (the replay check
// digests it).
func FuzzParseJSON(f *testing.F) {
	for _, s := range jsonSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte(`{"List":[[[[{"a":null}]]]],"Event":"subscribe_msg_popup_event"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := webhook.ParseJSON(data)
		if err != nil {
			if !errors.Is(err, message.ErrMalformed) && !errors.Is(err, message.ErrTooLarge) {
				t.Fatalf("ParseJSON error %v is neither ErrMalformed nor ErrTooLarge", err)
			}
			return
		}
		if err := message.CheckDocument(m.Raw); err != nil {
			t.Fatalf("ParseJSON made a document that CheckDocument refuses: %v\n%s", err, m.Raw)
		}
		again, err := message.Parse(bytes.Clone(m.Raw))
		if err != nil {
			t.Fatalf("the document of an accepted push does not parse: %v\n%s", err, m.Raw)
		}
		if diff := cmp.Diff(m, again, cmpMessage...); diff != "" {
			t.Fatalf("reparsing differs (-first +again):\n%s", diff)
		}
		m2, err := webhook.ParseJSON(data)
		if err != nil || !bytes.Equal(m.Raw, m2.Raw) {
			t.Fatalf("ParseJSON is not deterministic: %v", err)
		}
	})
}

// FuzzServerJSONPush sends arbitrary bodies, correctly signed (plaintext)
// or encrypted (safe mode), to a JSON-format Server: it answers 200
// "success", 400 or 413, never 5xx, never anything else, and never panics.
func FuzzServerJSONPush(f *testing.F) {
	for _, s := range jsonSeeds(f) {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, body []byte, encrypted bool) {
		h := &capture{reply: &message.Text{Content: "x"}}
		srv := &webhook.Server{Token: testToken, Format: webhook.FormatJSON, Handler: h, Logger: discardLogger()}
		var r *http.Request
		if encrypted {
			srv.EncodingAESKey, srv.AppID = testAESKey, testAppID
			r = webhooktest.NewEncryptedJSONRequest(testToken, testAESKey, testAppID, body, webhook.ModeSafe, nil)
		} else {
			r = webhooktest.NewSignedJSONRequest(testToken, body, nil)
		}
		w := serve(srv, r)
		switch w.Code {
		case http.StatusOK:
			if w.Body.String() != "success" {
				t.Fatalf("200 with body %q, want success", w.Body)
			}
			if len(h.got(t)) != 1 {
				t.Fatalf("200 but the handler ran %d times", len(h.got(t)))
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if len(h.got(t)) != 0 {
				t.Fatalf("%d but the handler ran", w.Code)
			}
		default:
			t.Fatalf("status %d %q", w.Code, strings.TrimSpace(w.Body.String()))
		}
	})
}
