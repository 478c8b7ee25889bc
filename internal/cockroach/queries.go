package cockroach

import (
	_ "embed"
	"strings"
)

//go:embed queries.sql
var queriesSQL string

// ParseQueries splits a SQL file into its named blocks: each starts at a
// "-- name: x" line, other comment lines are dropped, and a trailing ";" is
// trimmed. queries.sql is read this way, and the SQL-only baseline's own.
func ParseQueries(src string) map[string]string {
	out := map[string]string{}
	var name string
	var body strings.Builder
	flush := func() {
		if name != "" {
			out[name] = strings.TrimSuffix(strings.TrimSpace(body.String()), ";")
		}
		body.Reset()
	}
	for _, line := range strings.Split(src, "\n") {
		if n, ok := strings.CutPrefix(line, "-- name: "); ok {
			flush()
			name = strings.TrimSpace(n)
			continue
		}
		if name != "" && !strings.HasPrefix(strings.TrimSpace(line), "--") {
			body.WriteString(line)
			body.WriteByte('\n')
		}
	}
	flush()
	return out
}

// queries is the parsed queries.sql: immutable after the package loads.
var queries = ParseQueries(queriesSQL)

// q returns a named query; a typo is a bug caught by the first test that
// runs the query, so it panics.
func q(name string) string {
	s, ok := queries[name]
	if !ok {
		panic("cockroach: no query named " + name)
	}
	return s
}
