package identity

import "testing"

// TestNameKey is review24 M1's names: one name in another script, case or
// order is one key; another name never is.
func TestNameKey(t *testing.T) {
	same := []struct{ a, b string }{
		{"陳大文", "陈大文"},
		{"John Smith", "SMITH JOHN"},
		{"ANNA LEE", "Anna Lee"},
		{"Mary-Ann  O'Neil", "O'NEIL MARY-ANN"},
		{"歐陽靜", "欧阳静"},
		{"阿依古丽·买买提", "阿依古丽·买买提"},
	}
	for _, tt := range same {
		a, err := NormalizeName(tt.a)
		if err != nil {
			t.Fatalf("NormalizeName(%q): %v", tt.a, err)
		}
		b, err := NormalizeName(tt.b)
		if err != nil {
			t.Fatalf("NormalizeName(%q): %v", tt.b, err)
		}
		if NameKey(a) != NameKey(b) {
			t.Errorf("NameKey(%q) = %q, NameKey(%q) = %q; want one key", a, NameKey(a), b, NameKey(b))
		}
	}
	differ := []struct{ a, b string }{
		{"王芳", "王方"},   // another name
		{"大文陈", "陈大文"}, // Chinese order is the name
		{"后明", "後明"},   // one-to-many pair, left out
		{"云飞", "雲飛"},   // 云 is a traditional surname too
		{"John Smith", "Jon Smith"},
		{"陈大文", "CHAN TAI MAN"}, // a romanisation is another document's name
		{"José Li", "Jose Li"},  // accents stay
	}
	for _, tt := range differ {
		if NameKey(tt.a) == NameKey(tt.b) {
			t.Errorf("NameKey(%q) = NameKey(%q) = %q; want two keys", tt.a, tt.b, NameKey(tt.a))
		}
	}
	if got := NameKey("王芳"); got != "王芳" {
		t.Errorf("NameKey(王芳) = %q: a simplified name is its own key (its hash unchanged)", got)
	}
}
