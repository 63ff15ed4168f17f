package corpus

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fatalTB records the first Fatalf and stops the goroutine, as testing.T
// does, so that the helpers' failure paths can be observed.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls fn with a fatalTB in its own goroutine and returns the message
// of the Fatalf that stopped it, or "" when fn returned normally.
func run(t *testing.T, fn func(tb testing.TB)) string {
	t.Helper()
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f.msg
}

// TestDirIsTestdataAtModuleRoot: from this package's directory
// (internal/corpus) the corpus is two levels up, in testdata/corpus.
func TestDirIsTestdataAtModuleRoot(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Dir(t), filepath.Join(wd, "..", "..", "testdata", "corpus"); got != want {
		t.Errorf("Dir = %s, want %s", got, want)
	}
}

func TestHelpersReadTheCorpus(t *testing.T) {
	if b := ReadFile(t, "README.md"); !strings.HasPrefix(string(b), "# ") {
		t.Errorf("README.md starts with %q, want a Markdown title", b[:min(len(b), 20)])
	}
	var sig struct {
		Vectors []struct {
			ID string `json:"id"`
		} `json:"vectors"`
	}
	DecodeJSON(t, &sig, "crypto", "signature.json")
	if len(sig.Vectors) == 0 || sig.Vectors[0].ID == "" {
		t.Errorf("crypto/signature.json decoded to %+v, want vectors with ids", sig)
	}
	for _, m := range Glob(t, "messages/*.xml") {
		if filepath.Dir(m) != Path(t, "messages") || filepath.Ext(m) != ".xml" {
			t.Errorf("Glob(messages/*.xml) returned %s", m)
		}
	}
}

// TestFailuresAreFatal: a corpus that is absent, or a file that is missing,
// empty or not JSON, or a pattern that matches nothing fails the test; no
// helper lets a corpus test pass without its data.
func TestFailuresAreFatal(t *testing.T) {
	tests := []struct {
		name string
		fn   func(tb testing.TB)
		want string
	}{
		{"missing file", func(tb testing.TB) { ReadFile(tb, "no-such-file.json") }, "no-such-file.json"},
		{"no match", func(tb testing.TB) { Glob(tb, "messages/*.nothing") }, "no files match messages/*.nothing"},
		{"not JSON", func(tb testing.TB) { DecodeJSON(tb, &struct{}{}, "errcodes.tsv") }, "errcodes.tsv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if msg := run(t, tt.fn); !strings.Contains(msg, tt.want) {
				t.Errorf("failure message %q, want it to contain %q", msg, tt.want)
			}
		})
	}

	t.Run("no corpus in the module", func(t *testing.T) {
		mod := t.TempDir()
		if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module example.com/m\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		pkg := filepath.Join(mod, "pkg")
		if err := os.Mkdir(pkg, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Chdir(pkg)
		msg := run(t, func(tb testing.TB) { Dir(tb) })
		if want := filepath.Join(mod, "testdata", "corpus"); !strings.Contains(msg, "not found at "+want) {
			t.Errorf("Dir without a corpus: failure %q, want it to name %s", msg, want)
		}
	})

	t.Run("empty file", func(t *testing.T) {
		mod := t.TempDir()
		c := filepath.Join(mod, "testdata", "corpus")
		if err := os.MkdirAll(c, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module example.com/m\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		for name, body := range map[string]string{"README.md": "# corpus\n", "empty.json": ""} {
			if err := os.WriteFile(filepath.Join(c, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Chdir(mod)
		if msg := run(t, func(tb testing.TB) { ReadFile(tb, "empty.json") }); !strings.Contains(msg, "empty.json is empty") {
			t.Errorf("ReadFile of an empty file: failure %q, want it to say the file is empty", msg)
		}
	})
}
