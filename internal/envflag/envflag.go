// Package envflag reads FAIRSLOT_* environment variables as the defaults of
// flags, so every flag of fairslot and of its tools (loadtest/loadseed) has
// an environment twin: --http-addr is FAIRSLOT_HTTP_ADDR. Flags win.
//
// A variable that is set but does not parse is an error (Err), as the same
// value given to the flag is: it used to be replaced by the default without
// a word (review18a M2: FAIRSLOT_HOLD_FOR=45 served with 30s). Env also
// remembers every name it was asked for, so a command can say which set
// FAIRSLOT_* variables nothing reads (a misspelt name).
package envflag

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Env looks variables up (os.Getenv, or a test's map); its methods take the
// name without the FAIRSLOT_ prefix and return def when the variable is
// unset (or empty). The zero Env reads nothing.
type Env struct {
	get func(string) string
	st  *state
}

type state struct {
	mu    sync.Mutex
	asked map[string]bool
	bad   []error
}

// New is an Env over getenv.
func New(getenv func(string) string) Env {
	return Env{get: getenv, st: &state{asked: map[string]bool{}}}
}

// Prefix is what every variable's name starts with.
const Prefix = "FAIRSLOT_"

// Get reads a variable as it is ("" when unset), for the variables that
// have no flag (a password, the master key).
func (e Env) Get(name string) string {
	if e.get == nil {
		return ""
	}
	e.st.mu.Lock()
	e.st.asked[Prefix+name] = true
	e.st.mu.Unlock()
	return e.get(Prefix + name)
}

// refuse records that name's value v is not what, and returns def.
func refuse[T any](e Env, name, v, what string, def T) T {
	e.st.mu.Lock()
	e.st.bad = append(e.st.bad, fmt.Errorf("%s%s=%q is not %s", Prefix, name, v, what))
	e.st.mu.Unlock()
	return def
}

// Str reads a string.
func (e Env) Str(name, def string) string {
	if v := e.Get(name); v != "" {
		return v
	}
	return def
}

// Int reads an integer.
func (e Env) Int(name string, def int) int {
	v := e.Get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return refuse(e, name, v, "a whole number", def)
	}
	return n
}

// Float reads a number.
func (e Env) Float(name string, def float64) float64 {
	v := e.Get(name)
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return refuse(e, name, v, "a number (with a decimal point, such as 0.8)", def)
	}
	return f
}

// Dur reads a duration (30s, 5m).
func (e Env) Dur(name string, def time.Duration) time.Duration {
	v := e.Get(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return refuse(e, name, v, "a duration with its unit (such as 30s, 5m or 0s)", def)
	}
	return d
}

// Bool reads a boolean; unset is false.
func (e Env) Bool(name string) bool {
	v := e.Get(name)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return refuse(e, name, v, "true or false", false)
	}
	return b
}

// Err names each variable read so far that is set but did not parse.
func (e Env) Err() error {
	if e.st == nil {
		return nil
	}
	e.st.mu.Lock()
	defer e.st.mu.Unlock()
	return errors.Join(e.st.bad...)
}

// Asked are the names (with the prefix) of the variables read so far,
// sorted.
func (e Env) Asked() []string {
	if e.st == nil {
		return nil
	}
	e.st.mu.Lock()
	defer e.st.mu.Unlock()
	var names []string
	for n := range e.st.asked {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Nearest is the name of known nearest to name (fewest edits), for a
// "did you mean" beside a misspelt variable; "" when none is close (more
// than a third of name's letters would change).
func Nearest(name string, known []string) string {
	best, bestD := "", len(name)/3+1
	for _, k := range known {
		if d := distance(name, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
