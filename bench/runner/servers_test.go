package main

import "testing"

// Servers started together must not share a port: Linux may give one
// port to two binds in a row (1 in 200 here), and the second server then
// fails to start.
func TestFreeAddrGivesEachPortOnce(t *testing.T) {
	given := map[string]bool{}
	for i := range 300 {
		addr, err := freeAddr(given)
		if err != nil {
			t.Fatal(err)
		}
		if len(given) != i+1 {
			t.Fatalf("call %d gave %s, given before: %d addresses", i+1, addr, len(given)-1)
		}
	}
}
