package tradebill

import (
	"os"
	"testing"
)

// FuzzParse: no input makes Parse panic, and a bill it accepts has rows of
// its header's width.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"downloadbill_v2_doc.csv", "downloadbill_cloud_doc.csv"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("a,b\n`1,`2\nc\n`3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse(data)
		if err != nil {
			return
		}
		for _, r := range b.Rows {
			if len(r.Raw) > len(b.Header) {
				t.Fatalf("row with %d fields, header %d", len(r.Raw), len(b.Header))
			}
		}
	})
}

// FuzzParseAmount: an accepted amount formats back to itself in fen.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"0", "0.01", "-0.01000", "12.3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseAmount(s)
		if err != nil {
			return
		}
		if m, err := ParseAmount(FormatAmount(n)); err != nil || m != n {
			t.Fatalf("ParseAmount(%q) = %d; round trip %d, %v", s, n, m, err)
		}
	})
}
