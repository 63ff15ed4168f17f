package wxkit

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTimestampJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want int64
	}{
		{"number", `1348831860`, 1348831860},
		{"quoted", `"1348831860"`, 1348831860},
		{"zero", `0`, 0},
		{"null", `null`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ts Timestamp
			if err := json.Unmarshal([]byte(tt.in), &ts); err != nil {
				t.Fatalf("Unmarshal(%s) = %v", tt.in, err)
			}
			if ts.Unix() != tt.want {
				t.Errorf("Unmarshal(%s).Unix() = %d, want %d", tt.in, ts.Unix(), tt.want)
			}
			out, _ := json.Marshal(ts)
			var back Timestamp
			if err := json.Unmarshal(out, &back); err != nil || back.Unix() != tt.want {
				t.Errorf("round trip of %s = %s (%v)", tt.in, out, err)
			}
		})
	}
	var bad Timestamp
	if err := json.Unmarshal([]byte(`"abc"`), &bad); err == nil {
		t.Errorf("Unmarshal(\"abc\") = nil error")
	}
	if got := (Timestamp{time.Unix(1700000000, 0)}).Unix(); got != 1700000000 {
		t.Errorf("Unix() = %d", got)
	}
}
