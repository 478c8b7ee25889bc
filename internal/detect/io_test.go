package detect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"fairslot/internal/booking"
)

func TestReadEvents(t *testing.T) {
	in := `{"ts":"2026-11-02T08:00:00.412+08:00","type":"booked","account_id":"a1","patient_id":"p9","session_id":"s3","release_at":"2026-11-02T08:00:00+08:00","something_new":1}

{"ts":"2026-11-02T08:00:01+08:00","type":"login","account_id":"a1"}
`
	evs, err := ReadEvents(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("got %d events, want 2", len(evs))
	}
	if got, want := evs[0].TS.Sub(evs[0].ReleaseAt), 412*time.Millisecond; got != want {
		t.Errorf("reaction = %s, want %s", got, want)
	}
	if _, err := ReadEvents(strings.NewReader("{\"ts\":\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("err = %v, want one naming line 1", err)
	}
}

// TestReadReports: reports read as `fairslot events --reports` writes them;
// a line that is not a report, or a report without its case or reporter,
// is an error naming the line.
func TestReadReports(t *testing.T) {
	want := []booking.Report{{CaseID: "c1", TS: t0, Reporter: "r1", AccountID: "a1"}, {CaseID: "c2", TS: t0, Reporter: "r2", Phone: "hash:abc"}}
	var buf bytes.Buffer
	if err := WriteReports(&buf, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadReports(strings.NewReader(buf.String() + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].CaseID != "c1" || got[1].Phone != "hash:abc" || !got[0].TS.Equal(t0) {
		t.Errorf("read %+v, want %+v", got, want)
	}
	for _, bad := range []string{"{\"case_id\":\n", `{"case_id":"c1"}`, `{"reporter":"r1"}`} {
		if _, err := ReadReports(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%q: err = %v, want one naming line 1", bad, err)
		}
	}
}

// TestReadInput: the quick reader of flat lines and encoding/json read the
// same events: what ReadInput keeps of a file equals what Add keeps of the
// events ReadEvents returns, whatever the line looks like.
func TestReadInput(t *testing.T) {
	lines := []string{
		`{"ts":"2026-11-02T08:00:00.412+08:00","type":"booked","account_id":"a1","patient_id":"p9","identity_id":"i9","booking_id":"b1","session_id":"s3","hospital_id":"h","department_id":"d","doctor_id":"doc","channel":"online","ip":"203.0.113.5","device_id":"dv","phone":"hash:1","release_at":"2026-11-02T08:00:00+08:00"}`,
		`{ "ts" : "2026-11-02T00:00:01Z" , "type":"rejected", "account_id":"a1", "reason":"sold_out" }`,
		`{"ts":"2026-11-02T08:00:02+08:00","type":"cancelled","account_id":"a\u0031","reason":"late"}`, // an escape: the slow path
		`{"ts":"2026-11-02T08:00:03+08:00","type":"rate_limited","account_id":"a1","count":3}`,         // a number: the slow path
		`{"ts":"2026-11-02T08:00:04+08:00","type":"something_else","staff_id":"c1"}`,
		`{"ts":"2026-11-03T09:10:00+08:00","type":"rejected","account_id":"a1","booking_id":"b1","staff_id":"c1","reason":"identity_mismatch","presented_identity_id":"i7","presented_on_account":false}`,
		`{"ts":"2026-11-03T09:11:00+08:00","type":"rejected","presented_on_account": true ,"account_id":"a1","booking_id":"b1","staff_id":"c1","presented_identity_id":"i9","reason":"identity_mismatch"}`,
		`{"ts":"2026-11-03T09:12:00+08:00","type":"cancelled","account_id":"a1","booking_id":"b1","session_id":"s3","reason":"late_cancelled_by_person","by_account_id":"a2","device_id":"dv2"}`,
		`{"ts":"2026-11-03T09:13:00+08:00","type":"rejected","account_id":"a2","session_id":"s3","reason":"already_booked","made_by_other_account":true}`,
		`{"ts":"2026-11-03T09:14:00+08:00","type":"rejected","made_by_other_account": false,"account_id":"a2","session_id":"s3","reason":"already_booked"}`,
		`{"ts":"2026-11-03T09:15:00+08:00","type":"rejected","account_id":"a3","identity_id":"i9","reason":"identity_taken"}`,
		`{"ts":"2026-11-03T09:16:00+08:00","type":"rejected","account_id":"a3","reason":"identity_claims_limited"}`,
	}
	text := strings.Join(lines, "\n") + "\n\n"
	got, err := ReadInput(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	evs, err := ReadEvents(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := NewInput()
	for i := range evs {
		want.Add(&evs[i])
	}
	if got.Len() != len(lines) {
		t.Fatalf("read %d events, want %d", got.Len(), len(lines))
	}
	ge, gs, gd := got.finish()
	we, ws, wd := want.finish()
	if !reflect.DeepEqual(gs, ws) || !reflect.DeepEqual(ge, we) || !reflect.DeepEqual(gd, wd) {
		t.Errorf("the quick reader differs from encoding/json:\n got %v\n%+v\nwant %v\n%+v", gs, ge, ws, we)
	}
	if _, err := ReadInput(strings.NewReader(lines[0] + "\n{\"ts\": oops}\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("err = %v, want one naming line 2", err)
	}
}

// TestWriteRead: events written and read back give the same flags as the
// events in memory (what the service runs on), through either reader.
func TestWriteRead(t *testing.T) {
	evs := append(insider(true), pair(true)...)
	var buf bytes.Buffer
	if err := WriteEvents(&buf, evs); err != nil {
		t.Fatal(err)
	}
	in, err := ReadInput(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	read, err := ReadEvents(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	want := Detect(evs, DefaultConfig())
	if len(want) != 2 {
		t.Fatalf("got %d flags in memory, want 2", len(want))
	}
	for name, got := range map[string][]Flag{"ReadInput": in.Detect(DefaultConfig()), "ReadEvents": Detect(read, DefaultConfig())} {
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: flags differ from the ones in memory:\n got %+v\nwant %+v", name, got, want)
		}
	}
}

// TestParseTime: the quick reader of timestamps agrees with time.Parse,
// and hands what it is unsure of back to it.
func TestParseTime(t *testing.T) {
	for _, s := range []string{
		"2026-11-02T08:00:00.412+08:00", "2027-03-01T07:00:02.118Z", "2026-11-02T08:00:00+08:00", "2024-02-29T23:59:59.999999999-05:30",
		"1969-12-31T23:59:59Z", "2000-01-01T00:00:00.5Z", "2026-11-02 08:00:00Z", "2026-02-30T08:00:00Z", "2026-11-02T08:00:00",
		"2026-11-02T24:00:00Z", "2026-11-02T08:00:00.Z", "2026-11-02T08:00:00+0800",
	} {
		want, err := time.Parse(time.RFC3339Nano, s)
		got, ok := parseTime([]byte(s))
		if ok != (err == nil) || (ok && got != want.UnixNano()) {
			t.Errorf("parseTime(%q) = %d, %v; time.Parse says %d, %v", s, got, ok, want.UnixNano(), err)
		}
	}
}

// TestReadInputParts: a file large enough to be read in parts gives the
// same events as one read a line at a time, and an error names its line in
// the whole file.
func TestReadInputParts(t *testing.T) {
	var buf bytes.Buffer
	evs := append(insider(true), pair(true)...)
	for buf.Len() < parallelFrom+1<<20 {
		if err := WriteEvents(&buf, evs); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ReadInput(f)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReadInput(bytes.NewReader(buf.Bytes())) // not a file: one part
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != want.Len() || got.Len() != strings.Count(buf.String(), "\n") {
		t.Fatalf("read %d events in parts and %d in one, want %d", got.Len(), want.Len(), strings.Count(buf.String(), "\n"))
	}
	ge, gs, gd := got.finish()
	we, ws, wd := want.finish()
	if !reflect.DeepEqual(gs, ws) || !reflect.DeepEqual(ge, we) || !reflect.DeepEqual(gd, wd) {
		t.Error("the parts read other events than one pass")
	}

	lines := strings.Count(buf.String(), "\n")
	bad := append(buf.Bytes()[:len(buf.Bytes()):len(buf.Bytes())], []byte("{\"ts\": broken}\n")...)
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	f2, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	if _, err := ReadInput(f2); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("line %d:", lines+1)) {
		t.Errorf("err = %v, want one naming line %d", err, lines+1)
	}
}

// TestEventRecordSize: an event stays a 64-byte record (docs/detection.md,
// "Performance"): a field more must fit in its padding.
func TestEventRecordSize(t *testing.T) {
	if n := unsafe.Sizeof(ev{}); n != 64 {
		t.Errorf("an event record is %d bytes, want 64", n)
	}
}

// TestWriteFlagsAsTheEncoder: flags written a flag at a time are the bytes
// json.Encoder with SetIndent("", "  ") writes of the whole array (the
// format `fairslot detect` has always written), none, one or several, with
// characters the encoder escapes.
func TestWriteFlagsAsTheEncoder(t *testing.T) {
	flags := Detect(append(insider(true), pair(true)...), DefaultConfig())
	if len(flags) != 2 {
		t.Fatalf("got %d flags, want 2", len(flags))
	}
	odd := flags[0]
	odd.Reasons = append([]Reason{{Signal: "x", Detail: "<a & b> \u2028 \"q\"", Points: 0.1}}, odd.Reasons...)
	odd.CaseIDs = []string{"c1"}
	for _, fs := range [][]Flag{nil, {}, flags[:1], flags, {odd, flags[1]}} {
		var want, got bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if fs == nil {
			_ = enc.Encode([]Flag{})
		} else {
			_ = enc.Encode(fs)
		}
		if err := WriteFlags(&got, fs); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%d flags: wrote\n%s\nwant\n%s", len(fs), got.String(), want.String())
		}
	}
}
