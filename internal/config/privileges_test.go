package config

import (
	"os"
	"path/filepath"
	"testing"
)

func TestUmaskIsOctal(t *testing.T) {
	for in, want := range map[string]int{"": -1, "0": 0, "022": 0o22, "27": 0o27, "0o027": 0o27, "0O777": 0o777} {
		if got, err := parseUmask(in); err != nil || got != want {
			t.Errorf("parseUmask(%q) = %o, %v; want %o", in, got, err, want)
		}
	}
	for _, in := range []string{"8", "1000", "-1", "u=rwx", "0x1f"} {
		if _, err := parseUmask(in); err == nil {
			t.Errorf("parseUmask(%q): no error", in)
		}
	}
}

func TestPermitsReadsOwnerGroupAndOtherBits(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(file, 1000, 2000); err != nil {
		t.Skip("needs to chown (root):", err)
	}
	for _, tc := range []struct {
		p           Privileges
		read, write bool
	}{
		{Privileges{UID: 1000, GID: 1}, true, true},                       // owner: rw-
		{Privileges{UID: 1001, GID: 2000}, true, false},                   // group: r--
		{Privileges{UID: 1001, GID: 1, Groups: []int{2000}}, true, false}, // a supplementary group
		{Privileges{UID: 1001, GID: 1}, false, false},                     // other: ---
		{Privileges{UID: 0, GID: 0}, true, true},                          // root
	} {
		if r, w := tc.p.Permits(file, 4), tc.p.Permits(file, 2); r != tc.read || w != tc.write {
			t.Errorf("%+v: read %v write %v; want %v %v", tc.p, r, w, tc.read, tc.write)
		}
	}
	if (&Privileges{UID: 0}).Permits(filepath.Join(dir, "missing"), 4) {
		t.Error("a missing file is permitted")
	}
}
