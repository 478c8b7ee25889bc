package main

import (
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
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

// TestPackageMapIsWhole keeps docs/design.md's package map true to the
// tree: every Go package of the module has an entry of its own (its folder
// at the start of a line of the map), and every entry names a folder that
// exists.
func TestPackageMapIsWhole(t *testing.T) {
	const root = "../.."
	doc, err := os.ReadFile(filepath.Join(root, "docs", "design.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "\n## Packages\n")
	_, rest, ok2 := strings.Cut(rest, "```\n")
	block, _, ok3 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/design.md has no ## Packages section with a ``` block")
	}
	entries := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^((?:cmd|internal|loadtest|deploy)/[A-Za-z0-9_./-]+?)/?[\s,:]`).FindAllStringSubmatch(block+"\n", -1) {
		entries[m[1]] = true
	}
	for e := range entries {
		if st, err := os.Stat(filepath.Join(root, e)); err != nil || !st.IsDir() {
			t.Errorf("the package map lists %s/, which is no folder", e)
		}
	}
	for _, top := range []string{"cmd", "internal", "loadtest"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			if name := d.Name(); name == "testdata" || strings.HasPrefix(name, ".") {
				return filepath.SkipDir
			}
			p, err := build.Default.ImportDir(path, 0)
			if err != nil {
				return nil // no Go files, or only tests
			}
			rel, _ := filepath.Rel(root, path)
			if rel = filepath.ToSlash(rel); !entries[rel] {
				t.Errorf("package %s (%s) has no entry in docs/design.md's package map", rel, p.Name)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestToolingStaysOutOfTheBinary: the shipping binary (cmd/fairslot and
// what it imports from internal/) imports nothing of loadtest/, where the
// seeding, evaluation and benchmark tools live.
func TestToolingStaysOutOfTheBinary(t *testing.T) {
	dirs := []string{"."}
	err := filepath.WalkDir("../../internal", func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		p, err := build.Default.ImportDir(dir, 0)
		if err != nil {
			continue // no Go files
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, "fairslot/loadtest/") {
				t.Errorf("%s imports the tool %s", p.ImportPath, imp)
			}
		}
	}
}
