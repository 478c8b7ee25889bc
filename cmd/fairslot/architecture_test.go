package main

import (
	"fmt"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// TestAdaptersNeverImportEachOther keeps the architecture docs/design.md
// draws: the domain imports no adapter, and the adapters import the domain
// and the leaf packages, never each other; only cmd/fairslot knows them all.
func TestAdaptersNeverImportEachOther(t *testing.T) {
	adapters := []string{"admission", "cockroach", "httpapi", "web", "lockout", "realname"}
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

// TestDocLinksLand keeps the docs' links to sections true: every
// [text](file.md#anchor) and [text](#anchor) in README.md and docs/*.md
// names a heading of that file, by GitHub's rule for anchors (lower case,
// punctuation dropped, spaces to hyphens; a repeated heading gets -1, -2).
// Sections that a load run rewrites come and go, and a link to one of
// them would otherwise break without a sound.
func TestDocLinksLand(t *testing.T) {
	const root = "../.."
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join(root, "README.md"))
	heading := regexp.MustCompile("(?m)^#{1,6} (.*)$")
	link := regexp.MustCompile(`\]\(([^()\s#]*)#([^()\s]+)\)`)
	anchors := map[string]map[string]bool{}
	texts := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts[f] = string(b)
		seen, set := map[string]int{}, map[string]bool{}
		for _, m := range heading.FindAllStringSubmatch(string(b), -1) {
			a := anchorOf(m[1])
			if n, ok := seen[a]; ok {
				seen[a] = n + 1
				set[fmt.Sprintf("%s-%d", a, n+1)] = true
				continue
			}
			seen[a] = 0
			set[a] = true
		}
		anchors[f] = set
	}
	for f, text := range texts {
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			target := f
			if m[1] != "" {
				target = filepath.Join(filepath.Dir(f), m[1])
			}
			set, ok := anchors[target]
			if !ok {
				continue // a link into a file this test does not read
			}
			if !set[m[2]] {
				rel, _ := filepath.Rel(root, f)
				t.Errorf("%s links to %s#%s: no such section", rel, m[1], m[2])
			}
		}
	}
}

// anchorOf is GitHub's anchor for a heading's text.
func anchorOf(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}
