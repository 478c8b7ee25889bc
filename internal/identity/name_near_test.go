package identity

import "testing"

// TestNearName: a misheard character of a name is near, with the near
// misses on either side — a wrong family name, two characters wrong, a
// character more or less, and the same name (nothing to correct).
func TestNearName(t *testing.T) {
	for _, tc := range []struct {
		name, got string
		want      bool
	}{
		{"李梅", "李玫", true},     // 同音字 in a two-character name
		{"张晓明", "张小明", true},   // one of three
		{"欧阳娜娜", "欧阳娜那", true}, // the last of four
		{"John Smith", "John Smyth", true},
		{"John Smith", "JOHN SMITH", true}, // case only
		{"李梅", "李梅", false},                // the same: nothing to correct
		{"李梅", "张梅", false},                // the family name
		{"张晓明", "张小名", false},              // two characters
		{"李梅", "李梅梅", false},               // a character more
		{"李梅梅", "李梅", false},               // a character less
		{"李梅", "王芳", false},                // another name altogether
		{"John Smith", "Joan Smyth", false},
		{"John Smith", "Kohn Smith", false}, // the initial
	} {
		t.Run(tc.name+"/"+tc.got, func(t *testing.T) {
			if got := NearName(tc.name, tc.got); got != tc.want {
				t.Errorf("NearName(%q, %q) = %v, want %v", tc.name, tc.got, got, tc.want)
			}
		})
	}
}
