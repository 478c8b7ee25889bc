package main

import (
	"go/build"
	"slices"
	"strings"
	"testing"
)

// TestAdaptersNeverImportEachOther keeps the architecture docs/design.md
// draws: the domain imports no adapter, and the adapters import the domain
// and the leaf packages, never each other; only cmd/fairslot knows them all.
func TestAdaptersNeverImportEachOther(t *testing.T) {
	adapters := []string{"admission", "cockroach", "httpapi", "web", "lockout"}
	for _, pkg := range append([]string{"booking"}, adapters...) {
		p, err := build.Default.ImportDir("../../internal/"+pkg, 0)
		if err != nil {
			t.Fatalf("read package %s: %v", pkg, err)
		}
		for _, imp := range p.Imports {
			other, ok := strings.CutPrefix(imp, "fairslot/internal/")
			if ok && other != pkg && slices.Contains(adapters, other) {
				t.Errorf("internal/%s imports the adapter internal/%s", pkg, other)
			}
		}
	}
}
