// Package envflag reads FAIRSLOT_* environment variables as the defaults of
// flags, so every flag of fairslot and of its tools (loadtest/loadseed) has
// an environment twin: --http-addr is FAIRSLOT_HTTP_ADDR. Flags win.
package envflag

import (
	"strconv"
	"time"
)

// Env looks variables up (os.Getenv, or a test's map); its methods take the
// name without the FAIRSLOT_ prefix and fall back to def when the variable
// is unset or does not parse.
type Env func(string) string

// Prefix is what every variable's name starts with.
const Prefix = "FAIRSLOT_"

// Str reads a string.
func (e Env) Str(name, def string) string {
	if v := e(Prefix + name); v != "" {
		return v
	}
	return def
}

// Int reads an integer.
func (e Env) Int(name string, def int) int {
	if v, err := strconv.Atoi(e(Prefix + name)); err == nil {
		return v
	}
	return def
}

// Float reads a number.
func (e Env) Float(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(e(Prefix+name), 64); err == nil {
		return v
	}
	return def
}

// Dur reads a duration (30s, 5m).
func (e Env) Dur(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(e(Prefix + name)); err == nil {
		return v
	}
	return def
}

// Bool reads a boolean; unset or unparsable is false.
func (e Env) Bool(name string) bool {
	v, _ := strconv.ParseBool(e(Prefix + name))
	return v
}
