package envflag

import (
	"testing"
	"time"
)

func TestEnv(t *testing.T) {
	vars := map[string]string{"FAIRSLOT_ADDR": "127.0.0.1:1", "FAIRSLOT_N": "7", "FAIRSLOT_X": "0.5",
		"FAIRSLOT_D": "3s", "FAIRSLOT_ON": "true", "FAIRSLOT_BAD": "many", "ADDR": "unprefixed"}
	e := Env(func(k string) string { return vars[k] })
	if got := e.Str("ADDR", "def"); got != "127.0.0.1:1" {
		t.Errorf("Str = %q, want the FAIRSLOT_ variable", got)
	}
	if got := e.Str("NONE", "def"); got != "def" {
		t.Errorf("Str of an unset variable = %q, want the default", got)
	}
	if e.Int("N", 1) != 7 || e.Int("BAD", 1) != 1 || e.Float("X", 1) != 0.5 || e.Float("BAD", 1) != 1 {
		t.Errorf("Int/Float: want the value, or the default when it does not parse")
	}
	if e.Dur("D", time.Hour) != 3*time.Second || e.Dur("BAD", time.Hour) != time.Hour {
		t.Errorf("Dur: want the value, or the default when it does not parse")
	}
	if !e.Bool("ON") || e.Bool("BAD") || e.Bool("NONE") {
		t.Errorf("Bool: want true only for a true value")
	}
}
