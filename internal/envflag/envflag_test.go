package envflag

import (
	"strings"
	"testing"
	"time"
)

func TestEnv(t *testing.T) {
	vars := map[string]string{"FAIRSLOT_ADDR": "127.0.0.1:1", "FAIRSLOT_N": "7", "FAIRSLOT_X": "0.5",
		"FAIRSLOT_D": "3s", "FAIRSLOT_ON": "true", "ADDR": "unprefixed"}
	e := New(func(k string) string { return vars[k] })
	if got := e.Str("ADDR", "def"); got != "127.0.0.1:1" {
		t.Errorf("Str = %q, want the FAIRSLOT_ variable", got)
	}
	if got := e.Str("NONE", "def"); got != "def" {
		t.Errorf("Str of an unset variable = %q, want the default", got)
	}
	if e.Int("N", 1) != 7 || e.Int("NONE", 1) != 1 || e.Float("X", 1) != 0.5 || e.Float("NONE", 1) != 1 {
		t.Errorf("Int/Float: want the value, or the default when it is unset")
	}
	if e.Dur("D", time.Hour) != 3*time.Second || e.Dur("NONE", time.Hour) != time.Hour {
		t.Errorf("Dur: want the value, or the default when it is unset")
	}
	if !e.Bool("ON") || e.Bool("NONE") {
		t.Errorf("Bool: want true only for a true value")
	}
	if err := e.Err(); err != nil {
		t.Errorf("Err after good values = %v, want nil", err)
	}
	want := []string{"FAIRSLOT_ADDR", "FAIRSLOT_D", "FAIRSLOT_N", "FAIRSLOT_NONE", "FAIRSLOT_ON", "FAIRSLOT_X"}
	if got := e.Asked(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Asked = %v, want %v", got, want)
	}
}

// TestBadValuesAreErrors (review18a M2): a set variable that does not
// parse is an error naming it, never the default in silence.
func TestBadValuesAreErrors(t *testing.T) {
	tests := []struct {
		name, value string
		read        func(Env)
	}{
		{"HOLD_FOR", "45", func(e Env) { e.Dur("HOLD_FOR", time.Minute) }},
		{"HOLD_FOR", "banana", func(e Env) { e.Dur("HOLD_FOR", time.Minute) }},
		{"LOTTERY_HOLD_SCORE", "0,8", func(e Env) { e.Float("LOTTERY_HOLD_SCORE", 1) }},
		{"RETURN_ROUND", "off", func(e Env) { e.Dur("RETURN_ROUND", time.Minute) }},
		{"PASSWORD_ITERATIONS", "1e6", func(e Env) { e.Int("PASSWORD_ITERATIONS", 1) }},
		{"PPROF", "yes please", func(e Env) { e.Bool("PPROF") }},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			e := New(func(k string) string { return map[string]string{Prefix + tt.name: tt.value}[k] })
			tt.read(e)
			err := e.Err()
			if err == nil || !strings.Contains(err.Error(), Prefix+tt.name) {
				t.Errorf("Err = %v, want an error naming %s%s", err, Prefix, tt.name)
			}
		})
	}
}

func TestNearest(t *testing.T) {
	known := []string{"FAIRSLOT_HOLD_FOR", "FAIRSLOT_HTTP_ADDR", "FAIRSLOT_SOLD_OUT_FOR"}
	tests := []struct{ name, want string }{
		{"FAIRSLOT_HOLD_FORR", "FAIRSLOT_HOLD_FOR"},
		{"FAIRSLOT_HTTPADDR", "FAIRSLOT_HTTP_ADDR"},
		{"FAIRSLOT_SOMETHING_ELSE_ENTIRELY", ""},
	}
	for _, tt := range tests {
		if got := Nearest(tt.name, known); got != tt.want {
			t.Errorf("Nearest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
