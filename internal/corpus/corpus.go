// Package corpus locates the WeChat protocol conformance corpus for tests:
// testdata/corpus at the module root, carried in the repository (its
// README.md gives the formats, SOURCES.md the provenance of every item). It
// is test support only: nothing in the library or the binary imports it.
package corpus

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the absolute path of the corpus directory: it walks up from
// the working directory to the module root (the directory holding go.mod)
// and returns testdata/corpus there. It fails the test when the corpus
// cannot be found: tests that consume the corpus must never pass silently
// without it.
func Dir(t testing.TB) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("corpus: %v", err)
	}
	c := filepath.Join(root, "testdata", "corpus")
	if _, err := os.Stat(filepath.Join(c, "README.md")); err != nil {
		t.Fatalf("corpus: not found at %s (it must be testdata/corpus at the module root): %v", c, err)
	}
	return c
}

// moduleRoot returns the nearest directory at or above the working
// directory that holds go.mod.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", &os.PathError{Op: "find", Path: filepath.Join(wd, "go.mod"), Err: os.ErrNotExist}
		}
	}
}

// Path joins elem onto Dir.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	return filepath.Join(append([]string{Dir(t)}, elem...)...)
}

// ReadFile reads a corpus file, failing the test when it is missing or empty.
func ReadFile(t testing.TB, elem ...string) []byte {
	t.Helper()
	p := Path(t, elem...)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("corpus: %v", err)
	}
	if len(b) == 0 {
		t.Fatalf("corpus: %s is empty", p)
	}
	return b
}

// DecodeJSON reads a corpus JSON file into v, failing the test on error.
func DecodeJSON(t testing.TB, v any, elem ...string) {
	t.Helper()
	if err := json.Unmarshal(ReadFile(t, elem...), v); err != nil {
		t.Fatalf("corpus: %s: %v", filepath.Join(elem...), err)
	}
}

// Glob returns the corpus files matching pattern (relative to Dir), failing
// the test when there are none.
func Glob(t testing.TB, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(Dir(t), pattern))
	if err != nil {
		t.Fatalf("corpus: %v", err)
	}
	if len(m) == 0 {
		t.Fatalf("corpus: no files match %s", pattern)
	}
	return m
}
