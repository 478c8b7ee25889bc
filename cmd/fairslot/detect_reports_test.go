package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fairslot/internal/booking"
)

// TestDetectAttachesReports: patients' scalper reports filed through the
// API reach the detection job, which attaches them to the accounts they
// name — by account id, by the phone the offer came from — and shows them
// on the flag; a report against an account the events do not point at (the
// family: a grudge) flags nobody.
func TestDetectAttachesReports(t *testing.T) {
	svc, farm, family := farmTrace(t)
	file := func(p patient, body map[string]any) string {
		t.Helper()
		body["hospital_id"] = svc.hospital
		r := svc.do("POST", "/v1/reports", p.token, body)
		if r.status != 201 {
			t.Fatalf("file a report = %d %s", r.status, r.body)
		}
		var c struct {
			ID string `json:"case_id"`
		}
		r.decode(t, &c)
		return c.ID
	}
	r1, r2, r3 := svc.newPatient(101), svc.newPatient(102), svc.newPatient(103)
	var onFarm []string
	// One reporter, twice (by the account, by its phone): one voice. A
	// third report of the same account while the first waits is refused
	// (one waiting report per reporter per target).
	// farmTrace's account n has the phone 136%08d: farm[1] is account 2,
	// so both reporters point at farm[1].
	onFarm = append(onFarm, file(r1, map[string]any{"text": "此账号在群里加价卖号", "offered_by_account": farm[1]}),
		file(r1, map[string]any{"text": "这个号码也在群里卖号", "offered_by_phone": "13600000002"}))
	if r := svc.do("POST", "/v1/reports", r1.token, map[string]any{"text": "此账号在群里加价卖号", "offered_by_account": farm[1],
		"hospital_id": svc.hospital}); r.status != 409 || r.code != "report_pending" {
		t.Errorf("the same reporter of the same account again = %d %s, want 409 report_pending", r.status, r.body)
	}
	onFarm = append(onFarm, file(r2, map[string]any{"text": "这个号码找我加价卖专家号", "offered_by_phone": "13600000002"}))
	grudge := file(r3, map[string]any{"text": "我觉得这个账号是号贩子", "offered_by_account": family})
	slices.Sort(onFarm)

	admin := svc.staffLogin(booking.RoleAdmin, 7)
	if r := svc.do("POST", "/v1/admin/detect", admin, nil); r.status != 200 {
		t.Fatalf("detect = %d %s", r.status, r.body)
	}
	var flags []booking.Flag
	svc.do("GET", "/v1/admin/flags?status=open", admin, nil).decode(t, &flags)
	var farmFlag booking.Flag
	for _, f := range flags {
		if slices.Contains(f.AccountIDs, family) {
			t.Errorf("the family is flagged on a report: %+v", f)
		}
		if slices.Contains(f.CaseIDs, grudge) {
			t.Errorf("the report against the family is attached to flag %s", f.ID)
		}
		if slices.Contains(f.AccountIDs, farm[1]) {
			farmFlag = f
		}
	}
	if farmFlag.ID == "" {
		t.Fatalf("the farm is not flagged: %+v", flags)
	}
	var shown struct {
		booking.Flag
	}
	svc.do("GET", "/v1/admin/flags/"+farmFlag.ID, admin, nil).decode(t, &shown)
	// Every report on the farm. (One went missing 1 run in 4 when the
	// account's random id read as a phone number and was masked on the way
	// in: TestCaseNumbersNeverInClear holds the id whole now.)
	if !slices.Equal(shown.CaseIDs, onFarm) {
		t.Errorf("the farm's flag shows reports %v, want %v", shown.CaseIDs, onFarm)
	}
	var testimony []string
	for _, r := range shown.Reasons {
		if r.Signal == "reported" {
			testimony = append(testimony, r.Detail)
		}
	}
	// Two reporters, one of them twice — but the harness makes every
	// account from 127.0.0.1 within seconds: a sign-up burst, so the two
	// are one voice (detection.md; the near misses are
	// detect.TestReportersMadeInABurstAreOneVoice's).
	if len(testimony) == 0 || !strings.HasPrefix(testimony[0], "1 patients reported") ||
		!strings.Contains(testimony[0], fmt.Sprintf("(%d reports", len(shown.CaseIDs))) {
		t.Errorf("reasons %v: want the testimony of one voice, %d reports", testimony, len(shown.CaseIDs))
	}
	if strings.Contains(fmt.Sprint(shown), "13600000002") {
		t.Error("the offered phone is shown in clear on the flag")
	}

	// Online equals offline with the evidence: `fairslot detect` over the
	// exported events and reports finds the flags the job found, the
	// testimony and the attached case ids included.
	var online []booking.Flag
	svc.do("GET", "/v1/admin/flags?status=open", admin, nil).decode(t, &online)
	dir := t.TempDir()
	events, reports := filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "reports.jsonl")
	svc.run("events", "--out", events, "--reports", reports)
	raw, err := os.ReadFile(reports)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), "\n"); n != 4 {
		t.Errorf("exported %d reports, want the 4 filed", n)
	}
	if strings.Contains(string(raw), "13600000002") {
		t.Error("the exported reports carry the offered phone in clear")
	}
	offline := offlineFlags(t, svc, "--events", events, "--reports", reports)
	if got, want := flagKeys(offline), flagKeys(online); !slices.Equal(got, want) {
		t.Errorf("offline flags with the reports differ from online:\n online  %v\n offline %v", want, got)
	}
	// The near miss: without the reports, the testimony is missing.
	if got := flagKeys(offlineFlags(t, svc, "--events", events)); slices.Equal(got, flagKeys(online)) {
		t.Error("offline flags without the reports equal online ones: the reports made no difference to the test")
	}
}
