package storetest

import (
	"sync"
	"testing"

	"github.com/wxkit/wxkit/store"
)

// TestMigrator checks a store.Migrator on a database that has never been
// migrated: handles are n >= 1 connections to that one empty database
// (standing for instances started at the same moment). All of them migrate
// at once; every call must succeed, each migration must be applied by
// exactly one of them, and afterwards Migrations reports every version
// applied, in order, and a further Migrate applies nothing.
func TestMigrator(t *testing.T, handles []store.Migrator) {
	t.Helper()
	if len(handles) == 0 {
		t.Fatal("storetest.TestMigrator: no handles")
	}
	applied := make([][]store.MigrationStatus, len(handles))
	var wg sync.WaitGroup
	for i, h := range handles {
		wg.Go(func() {
			var err error
			applied[i], err = h.Migrate(t.Context())
			if err != nil {
				t.Errorf("Migrate() on handle %d = %v, want every instance to come up", i, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	count := map[int]int{}
	for _, a := range applied {
		for _, m := range a {
			count[m.Version]++
		}
	}
	list, err := handles[0].Migrations(t.Context())
	mustNoErr(t, "Migrations", err)
	if len(list) == 0 {
		t.Fatal("Migrations() is empty, want at least one migration")
	}
	for i, m := range list {
		if m.Version != i+1 {
			t.Errorf("Migrations()[%d].Version = %d, want %d (ascending, no gaps)", i, m.Version, i+1)
		}
		if !m.Applied || m.AppliedAt.IsZero() {
			t.Errorf("migration %d (%s) not applied after Migrate: %+v", m.Version, m.Name, m)
		}
		if count[m.Version] != 1 {
			t.Errorf("migration %d (%s) was applied by %d instances, want exactly 1", m.Version, m.Name, count[m.Version])
		}
	}
	again, err := handles[len(handles)-1].Migrate(t.Context())
	if err != nil || len(again) != 0 {
		t.Errorf("Migrate() on a migrated database = %v, %v; want nothing applied", again, err)
	}
}
