package corpus

import (
	"bytes"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestInStepWithShared checks that testdata/corpus is an exact copy of the
// upstream corpus at ../shared/corpus beside the module root, when that
// directory is there: every upstream file must be present and
// byte-identical, and testdata/corpus must hold no file that upstream does
// not. Without ../shared/corpus (a plain clone) there is nothing to compare
// with and the test is skipped.
func TestInStepWithShared(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	upstream := filepath.Join(filepath.Dir(root), "shared", "corpus")
	if _, err := os.Stat(upstream); err != nil {
		t.Skipf("no upstream corpus beside the module root (%v): nothing to compare testdata/corpus with", err)
	}
	local := Dir(t)

	want, err := listFiles(upstream)
	if err != nil {
		t.Fatal(err)
	}
	got, err := listFiles(local)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatalf("upstream corpus %s holds no files", upstream)
	}

	var missing, differ, extra []string
	for _, rel := range slices.Sorted(maps.Keys(want)) {
		if _, ok := got[rel]; !ok {
			missing = append(missing, rel)
			continue
		}
		a, err := os.ReadFile(filepath.Join(upstream, rel))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(local, rel))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			differ = append(differ, rel)
		}
	}
	for _, rel := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[rel]; !ok {
			extra = append(extra, rel)
		}
	}
	for _, r := range []struct {
		what  string
		files []string
	}{
		{"missing from testdata/corpus", missing},
		{"different in testdata/corpus", differ},
		{"in testdata/corpus but not upstream", extra},
	} {
		if len(r.files) > 0 {
			t.Errorf("%d file(s) %s:\n  %s", len(r.files), r.what, strings.Join(r.files, "\n  "))
		}
	}
	if t.Failed() {
		t.Logf("refresh the copy from %s (see CONTRIBUTING.md, \"Updating the corpus\")", upstream)
	}
}

// listFiles returns the slash-separated paths, relative to dir, of the
// regular files under dir.
func listFiles(dir string) (map[string]struct{}, error) {
	files := map[string]struct{}{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = struct{}{}
		return nil
	})
	return files, err
}
