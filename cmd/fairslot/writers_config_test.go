package main

import (
	"flag"
	"strings"
	"testing"

	"fairslot/internal/envflag"
)

// --booking-writers and --entry-writers (and their FAIRSLOT_ twins) reach
// the configuration, and counts that are not positive, or that would take
// the SQL pool's last poolSpare connections, are refused.
func TestWriterFlags(t *testing.T) {
	vars := map[string]string{"FAIRSLOT_BOOKING_WRITERS": "16"}
	var c common
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.register(fs, envflag.New(func(k string) string { return vars[k] }))
	if err := fs.Parse([]string{"--entry-writers", "6"}); err != nil {
		t.Fatal(err)
	}
	if c.bookingWriters != 16 || c.entryWriters != 6 {
		t.Errorf("writers = %d booking, %d entry; want 16 from the environment and 6 from the flag", c.bookingWriters, c.entryWriters)
	}
	const url = "postgres://fairslot_app@127.0.0.1:15432/fairslot?sslmode=disable"
	for _, w := range []struct {
		booking, entry int
		url            string
		want           string // "" when accepted, else a part of the error
	}{
		{4, 8, url, ""},
		{16, 8, url, ""},
		{17, 8, url, "leave 8 of the SQL pool's 32"},
		{0, 8, url, "1 or more"},
		{4, -1, url, "1 or more"},
		{40, 8, url + "&pool_max_conns=64", ""},
		{4, 8, url + "&pool_max_conns=16", "leave 8 of the SQL pool's 16"},
	} {
		err := checkWriters(w.booking, w.entry, w.url)
		switch {
		case w.want == "" && err != nil:
			t.Errorf("checkWriters(%d, %d, %s) = %v, want accepted", w.booking, w.entry, w.url, err)
		case w.want != "" && (err == nil || !strings.Contains(err.Error(), w.want)):
			t.Errorf("checkWriters(%d, %d, %s) = %v, want an error saying %q", w.booking, w.entry, w.url, err, w.want)
		}
	}
}

// --booking-batch (FAIRSLOT_BOOKING_BATCH) reaches the configuration, 250
// unless set, and a batch of no rows is refused.
func TestBookingBatchFlag(t *testing.T) {
	for _, c := range []struct {
		env, flag string
		want      int
		refused   bool
	}{{"", "", 250, false}, {"32", "", 32, false}, {"32", "64", 64, false}, {"", "0", 0, true}} {
		vars := map[string]string{"FAIRSLOT_BOOKING_BATCH": c.env}
		var cm common
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		cm.register(fs, envflag.New(func(k string) string { return vars[k] }))
		var args []string
		if c.flag != "" {
			args = []string{"--booking-batch", c.flag}
		}
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if cm.bookingBatch != c.want {
			t.Errorf("env %q, flag %q: booking batch %d, want %d", c.env, c.flag, cm.bookingBatch, c.want)
		}
		err := cm.validate()
		if got := err != nil && strings.Contains(err.Error(), "--booking-batch"); got != c.refused {
			t.Errorf("env %q, flag %q: validate() = %v; refused the batch: %v, want %v", c.env, c.flag, err, got, c.refused)
		}
	}
}
