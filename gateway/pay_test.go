package gateway

import (
	"strings"
	"testing"
	"time"
)

func TestNewOutNo(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 1, 17, 4, 5, 0, time.UTC) // 2025-03-02 01:04:05 in China
	seen := map[string]bool{}
	for range 2000 {
		for _, prefix := range []string{"", "R"} {
			no, err := newOutNo(prefix, at)
			if err != nil {
				t.Fatal(err)
			}
			if !outNoPattern.MatchString(no) || len(no) != len(prefix)+30 || !strings.HasPrefix(no, prefix+"20250302010405") {
				t.Fatalf("newOutNo(%q) = %q, want %s20250302010405 + 16 letters or digits", prefix, no, prefix)
			}
			if seen[no] {
				t.Fatalf("newOutNo repeated %q", no)
			}
			seen[no] = true
		}
	}
	// Every character of the alphabet turns up (no bias towards a part of it).
	chars := map[rune]bool{}
	for no := range seen {
		for _, c := range no[len(no)-16:] {
			chars[c] = true
		}
	}
	if len(chars) != len(outNoAlphabet) {
		t.Errorf("random part uses %d characters, want all %d", len(chars), len(outNoAlphabet))
	}
}
