package wxcrypto

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// corpusDir returns ../shared/corpus relative to the module root (the
// directory holding go.mod). It fails the test when the corpus is missing.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
	c := filepath.Join(dir, "..", "shared", "corpus")
	if _, err := os.Stat(c); err != nil {
		t.Fatalf("corpus missing: %v", err)
	}
	return c
}

// vectorBase holds the fields common to every corpus vector.
type vectorBase struct {
	ID            string   `json:"id"`
	Source        string   `json:"source"`
	Status        string   `json:"status"`
	DerivedFields []string `json:"derived_fields"`
	Valid         *bool    `json:"valid"`
}

// name is the subtest name: the id, and the status, with derived vectors
// marked as regression values.
func (v vectorBase) name() string {
	switch v.Status {
	case "derived":
		return v.ID + "[derived-regression]"
	case "":
		return v.ID + "[no-status]"
	}
	return v.ID + "[" + v.Status + "]"
}

// isValid reports whether the vector is positive (valid missing or true).
func (v vectorBase) isValid() bool { return v.Valid == nil || *v.Valid }

// loadVectors reads {"vectors": [...]} from the corpus file rel. It fails the
// test if the file is missing, does not parse, or holds no vectors.
func loadVectors[T any](t testing.TB, rel string) []T {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir(t), rel))
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
