package auth

import (
	"errors"
	"strings"
	"testing"
)

// testIterations keeps tests fast; production uses DefaultIterations.
const testIterations = MinIterations

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		name     string
		pw       string
		wantErr  bool
		wantText bool // refused as not valid text
	}{
		{name: "8 ascii", pw: "abcdefgh"},
		{name: "72 ascii", pw: strings.Repeat("a", 72)},
		{name: "8 chinese runes", pw: "我的密码很安全吧"},
		{name: "72 chinese runes", pw: strings.Repeat("密", 72)},
		{name: "passphrase with spaces", pw: "correct horse battery staple"},
		{name: "empty", pw: "", wantErr: true},
		{name: "7 ascii", pw: "abcdefg", wantErr: true},
		{name: "73 ascii", pw: strings.Repeat("a", 73), wantErr: true},
		{name: "7 chinese runes (21 bytes)", pw: "我的密码很安全", wantErr: true},
		{name: "invalid UTF-8", pw: "correct \xff\xfe horse", wantText: true},
		{name: "cut multibyte character", pw: "correct horse\xe5\xbc", wantText: true},
		{name: "U+FFFD, what a decoder makes of bad bytes", pw: "correct \ufffd horse", wantText: true},
		{name: "NUL", pw: "correct\x00horse", wantText: true},
		{name: "tab", pw: "correct\thorse", wantText: true},
		{name: "C1 control", pw: "correct\u0085horse", wantText: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPassword(tt.pw)
			if tt.wantText {
				if !errors.Is(err, ErrPasswordText) {
					t.Errorf("CheckPassword(%q) = %v, want %v", tt.pw, err, ErrPasswordText)
				}
				return
			}
			if tt.wantErr {
				if !errors.Is(err, ErrWeakPassword) {
					t.Errorf("CheckPassword(%q) = %v, want %v", tt.pw, err, ErrWeakPassword)
				}
				return
			}
			if err != nil {
				t.Errorf("CheckPassword(%q) = %v, want nil", tt.pw, err)
			}
		})
	}
}

func TestHashPasswordRejects(t *testing.T) {
	tests := []struct {
		name       string
		pw         string
		iterations int
		wantWeak   bool
	}{
		{name: "weak password", pw: "short", iterations: testIterations, wantWeak: true},
		{name: "too few iterations", pw: "long enough", iterations: MinIterations - 1},
		{name: "zero iterations", pw: "long enough", iterations: 0},
		{name: "negative iterations", pw: "long enough", iterations: -1},
		{name: "too many iterations", pw: "long enough", iterations: MaxIterations + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := HashPassword(tt.pw, tt.iterations)
			if err == nil {
				t.Fatalf("HashPassword(%q, %d) = %q, want error", tt.pw, tt.iterations, got)
			}
			if gotWeak := errors.Is(err, ErrWeakPassword); gotWeak != tt.wantWeak {
				t.Errorf("HashPassword error = %v, is ErrWeakPassword: %v, want %v", err, gotWeak, tt.wantWeak)
			}
		})
	}
}

func TestHashVerifyPassword(t *testing.T) {
	const pw = "correct horse battery staple"
	encoded, err := HashPassword(pw, testIterations)
	if err != nil {
		t.Fatalf("HashPassword error = %v, want nil", err)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" || parts[1] != "1000" || len(parts[2]) != 22 || len(parts[3]) != 43 {
		t.Fatalf("HashPassword = %q, want pbkdf2-sha256$1000$<22 chars>$<43 chars>", encoded)
	}
	again, err := HashPassword(pw, testIterations)
	if err != nil {
		t.Fatalf("HashPassword error = %v, want nil", err)
	}
	if again == encoded {
		t.Errorf("two hashes of the same password are equal, want different salts")
	}
	chinese, err := HashPassword("我的密码很安全吧", testIterations)
	if err != nil {
		t.Fatalf("HashPassword error = %v, want nil", err)
	}
	join := func(p ...string) string { return strings.Join(p, "$") }

	tests := []struct {
		name    string
		encoded string
		pw      string
		want    bool
	}{
		{name: "right password", encoded: encoded, pw: pw, want: true},
		{name: "right password other salt", encoded: again, pw: pw, want: true},
		{name: "chinese password", encoded: chinese, pw: "我的密码很安全吧", want: true},
		{name: "wrong password", encoded: encoded, pw: "correct horse battery stapl", want: false},
		{name: "wrong case", encoded: encoded, pw: strings.ToUpper(pw), want: false},
		{name: "empty password", encoded: encoded, pw: "", want: false},
		{name: "other iteration count", encoded: join(parts[0], "1001", parts[2], parts[3]), pw: pw, want: false},
		{name: "empty encoding", encoded: "", pw: pw, want: false},
		{name: "wrong scheme", encoded: join("pbkdf2-sha1", parts[1], parts[2], parts[3]), pw: pw, want: false},
		{name: "bcrypt hash", encoded: "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", pw: pw, want: false},
		{name: "missing field", encoded: join(parts[0], parts[1], parts[2]), pw: pw, want: false},
		{name: "extra field", encoded: encoded + "$", pw: pw, want: false},
		{name: "iterations not a number", encoded: join(parts[0], "many", parts[2], parts[3]), pw: pw, want: false},
		{name: "iterations signed", encoded: join(parts[0], "+1000", parts[2], parts[3]), pw: pw, want: false},
		{name: "iterations leading zero", encoded: join(parts[0], "01000", parts[2], parts[3]), pw: pw, want: false},
		{name: "iterations below minimum", encoded: join(parts[0], "999", parts[2], parts[3]), pw: pw, want: false},
		{name: "iterations absurd", encoded: join(parts[0], "999999999999", parts[2], parts[3]), pw: pw, want: false},
		{name: "salt bad base64", encoded: join(parts[0], parts[1], "!!!!", parts[3]), pw: pw, want: false},
		{name: "salt padded", encoded: join(parts[0], parts[1], parts[2]+"==", parts[3]), pw: pw, want: false},
		{name: "salt too short", encoded: join(parts[0], parts[1], parts[2][:20], parts[3]), pw: pw, want: false},
		{name: "salt with newline", encoded: join(parts[0], parts[1], parts[2][:10]+"\n"+parts[2][10:], parts[3]), pw: pw, want: false},
		{name: "key truncated", encoded: join(parts[0], parts[1], parts[2], parts[3][:40]), pw: pw, want: false},
		{name: "key empty", encoded: join(parts[0], parts[1], parts[2], ""), pw: pw, want: false},
		{name: "key swapped with salt", encoded: join(parts[0], parts[1], parts[3], parts[2]), pw: pw, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifyPassword(tt.encoded, tt.pw); got != tt.want {
				t.Errorf("VerifyPassword(%q, %q) = %v, want %v", tt.encoded, tt.pw, got, tt.want)
			}
		})
	}
}

// FuzzVerifyPassword: a stored hash of any shape is read without a panic,
// and only a hash made from the password accepts it.
func FuzzVerifyPassword(f *testing.F) {
	good, err := HashPassword("correct horse", MinIterations)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{good, "", "pbkdf2-sha256$1000$$", "pbkdf2-sha256$99999999$AAAA$AAAA", "bcrypt$x", good + "\n"} {
		f.Add(seed, "correct horse")
	}
	f.Fuzz(func(t *testing.T, encoded, pw string) {
		if len(encoded) > 200 {
			return // the iteration count is bounded; long inputs add nothing
		}
		ok := VerifyPassword(encoded, pw)
		if ok && encoded != good {
			// Another spelling of a valid hash may exist only if it decodes
			// to the same salt and key: then it must accept the same
			// password.
			if !VerifyPassword(good, pw) {
				t.Errorf("VerifyPassword(%q, %q) = true for a hash not made from it", encoded, pw)
			}
		}
		if ok && CheckPassword(pw) != nil {
			t.Errorf("VerifyPassword accepted %q, which no account may have", pw)
		}
	})
}
