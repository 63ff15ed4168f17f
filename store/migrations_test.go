package store

import (
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestReadMigrations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []Migration
		wantErr bool
	}{
		{
			name: "sorted by version",
			files: fstest.MapFS{
				"m/0002_outbox.sql": {Data: []byte("B")},
				"m/0001_init.sql":   {Data: []byte("A")},
				"m/README.md":       {Data: []byte("ignored")},
			},
			want: []Migration{{1, "init", "A"}, {2, "outbox", "B"}},
		},
		{name: "gap", files: fstest.MapFS{"m/0001_a.sql": {}, "m/0003_c.sql": {}}, wantErr: true},
		{name: "duplicate", files: fstest.MapFS{"m/0001_a.sql": {}, "m/1_b.sql": {}}, wantErr: true},
		{name: "bad name", files: fstest.MapFS{"m/init.sql": {}}, wantErr: true},
		{name: "version zero", files: fstest.MapFS{"m/0000_a.sql": {}}, wantErr: true},
		{name: "missing dir", files: fstest.MapFS{}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReadMigrations(tt.files, "m")
			if (err != nil) != tt.wantErr {
				t.Fatalf("ReadMigrations() error = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" && !tt.wantErr {
				t.Errorf("ReadMigrations() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
