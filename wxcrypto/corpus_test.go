package wxcrypto

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/wxkit/wxkit/internal/corpus"
)

// corpusDir returns the shared corpus directory; it fails the test when
// the corpus is missing.
func corpusDir(t testing.TB) string { return corpus.Dir(t) }

// vectorBase holds the fields common to every corpus vector.
type vectorBase struct {
	ID            string   `json:"id"`
	Source        string   `json:"source"`
	Status        string   `json:"status"`
	DerivedFields []string `json:"derived_fields"`
	Valid         *bool    `json:"valid"`
}

// name is the subtest name: the id and the status, with derived vectors
// marked as regression values and curator-computed fields listed (those
// fields are regression values even in a verified vector).
func (v vectorBase) name() string {
	status := v.Status
	switch status {
	case "derived":
		status = "derived-regression"
	case "":
		status = "no-status"
	}
	if len(v.DerivedFields) > 0 {
		status += ",regression:" + strings.Join(v.DerivedFields, "+")
	}
	return v.ID + "[" + status + "]"
}

// isValid reports whether the vector is positive (valid missing or true).
func (v vectorBase) isValid() bool { return v.Valid == nil || *v.Valid }

// loadVectors reads {"vectors": [...]} from the corpus file rel. It fails the
// test if the file is missing, does not parse, or holds no vectors.
func loadVectors[T any](t testing.TB, rel string) []T {
	t.Helper()
	return loadVectorsFile[T](t, filepath.Join(corpusDir(t), rel))
}

func loadVectorsFile[T any](t testing.TB, path string) []T {
	t.Helper()
	rel := filepath.Base(path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("corpus file: %v", err)
	}
	var f struct {
		Vectors []T `json:"vectors"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	if len(f.Vectors) == 0 {
		t.Fatalf("%s: no vectors", rel)
	}
	return f.Vectors
}

// str dereferences a nullable corpus string.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// fatalRecorder is a testing.TB whose Fatal stops only the goroutine that
// called it and records the failure.
type fatalRecorder struct {
	testing.TB
	failed bool
}

func (r *fatalRecorder) Helper() {}
func (r *fatalRecorder) Fatal(args ...any) {
	r.failed = true
	runtime.Goexit()
}
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.failed = true
	runtime.Goexit()
}

// TestLoadVectorsFailsLoudly checks that a missing, unreadable or empty
// vector file fails the test instead of passing with nothing checked.
func TestLoadVectorsFailsLoudly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		"empty.json":   `{"description": "x", "vectors": []}`,
		"novec.json":   `{"description": "x"}`,
		"invalid.json": `{"vectors": [`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"missing.json", "empty.json", "novec.json", "invalid.json"} {
		r := &fatalRecorder{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			loadVectorsFile[signatureVector](r, filepath.Join(dir, name))
		}()
		<-done
		if !r.failed {
			t.Errorf("loadVectorsFile(%s) did not fail", name)
		}
	}
	r := &fatalRecorder{TB: t}
	var vs []signatureVector
	done := make(chan struct{})
	go func() {
		defer close(done)
		vs = loadVectors[signatureVector](r, "crypto/signature.json")
	}()
	<-done
	if r.failed || len(vs) == 0 {
		t.Errorf("loadVectors(crypto/signature.json) = %d vectors, failed %v", len(vs), r.failed)
	}
}
