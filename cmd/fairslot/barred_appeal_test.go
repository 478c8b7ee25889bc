package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// motherOnTwoLists puts one mother (resident ID n, name) on the lists of
// persons of two accounts, a's and b's: the persons they share.
func (s *service) motherOnTwoLists(a, b patient, n int, name string) (onA, onB string) {
	s.t.Helper()
	mother := map[string]any{"id_type": "resident_id", "id_number": residentID(n), "name": name, "relationship": "parent"}
	var pa, pb struct {
		PatientID string `json:"patient_id"`
	}
	s.do("POST", "/v1/patients", a.token, mother).decode(s.t, &pa)
	s.do("POST", "/v1/patients", b.token, mother).decode(s.t, &pb)
	if pa.PatientID == "" || pb.PatientID == "" {
		s.t.Fatalf("the mother on both lists: %q %q", pa.PatientID, pb.PatientID)
	}
	return pa.PatientID, pb.PatientID
}

// TestBarredPersonContests is review21 H1 (c, d), M2, M3 and the also_bar
// audit through the real API. Dan's account lists Alice's mother and is
// confirmed a scalper, the administrator ticking the mother (also_bar).
// The mother's bar says it is a review's, not no-shows', and how to
// contest it; Alice appeals for her from her own account; the administrator
// who confirmed cannot uphold it, a second one does, and the mother books
// again at once. Dan's own appeal, upheld, overturns the flag: the record
// says overturned, not confirmed, and Dan is told what of his bookings
// cannot come back. Dan's blocked sign-in names the kinds of evidence in a
// patient's words, never the numbers or another account.
func TestBarredPersonContests(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 3, 3, 3)
	svc := startService(t, sch, nil)
	ctx := context.Background()
	alice, dan := svc.newPatient(4601), svc.newPatient(4602)
	admin1 := svc.staffLoginAt(booking.RoleAdmin, 4610, "")
	admin2 := svc.staffLoginAt(booking.RoleAdmin, 4611, "")
	aliceMother, _ := svc.motherOnTwoLists(alice, dan, 4603, "王秀英")
	identityOf := func(patientID string) string {
		var id string
		testenv.Must(t, svc.pool.QueryRow(ctx, `SELECT identity_id::TEXT FROM patients WHERE id = $1`, patientID).Scan(&id), "identity")
		return id
	}
	var danAccount string
	testenv.Must(t, svc.pool.QueryRow(ctx, `SELECT account_id::TEXT FROM patients WHERE id = $1`, dan.patientID).Scan(&danAccount), "account")
	motherID, danSelf := identityOf(aliceMother), identityOf(dan.patientID)
	book := func(tok, patientID string, i int) reply {
		return svc.do("POST", "/v1/bookings", tok, map[string]string{"session_id": sch.Sessions[i].ID, "patient_id": patientID, "channel": "online"})
	}
	if r := book(dan.token, dan.patientID, 0); r.status != 201 {
		t.Fatalf("Dan books = %d %s", r.status, r.body)
	}

	reasons := `[{"signal":"burst","kind":"automation","detail":"4 bookings within 2 s","detail_zh":"2 秒内 4 次预约","points":1.5},
		{"signal":"device_churn","kind":"evasion","detail":"8 devices in 30 days","detail_zh":"30 天内 8 台设备","points":1.1}]`
	_, err := svc.pool.Exec(ctx, `INSERT INTO flags (id, score, status, reasons, account_ids, patient_ids, created_at, updated_at)
		VALUES ('flg_due22', 2.6, 'open', $3::JSONB, to_jsonb(ARRAY[$1::TEXT]), to_jsonb(ARRAY[$2::TEXT, $4::TEXT]), now(), now())`,
		danAccount, motherID, reasons, danSelf)
	testenv.Must(t, err, "write the flag")
	if r := svc.do("POST", "/v1/admin/flags/flg_due22/decision", admin1,
		map[string]any{"action": "confirm", "note": "burst and device churn", "also_bar": []string{motherID}}); r.status != 200 {
		t.Fatalf("confirm = %d %s", r.status, r.body)
	}
	// 5: the persons ticked are in the confirmation's audit record.
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'flag_confirm' AND target = 'flag:flg_due22' AND reason LIKE '%' || $1 || '%'`, motherID); n != 1 {
		t.Errorf("flag_confirm audit entries naming the also_bar person: %d, want 1", n)
	}

	// H1 d: the bar says what happened and how to contest it.
	r := book(alice.token, aliceMother, 1)
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	r.decode(t, &e)
	if r.status != 422 || e.Error.Code != "patient_barred" || !strings.Contains(e.Error.Message, "申诉") ||
		!strings.Contains(e.Error.Message, "appeal") || !strings.Contains(e.Error.Message, "not for missed appointments") {
		t.Errorf("Alice books for her barred mother = %d %s, want 422 patient_barred saying a review barred her and how to appeal", r.status, r.body)
	}
	for _, secret := range []string{danAccount, "flg_due22", "burst", "设备"} {
		if strings.Contains(string(r.body), secret) {
			t.Errorf("the bar's answer names %q: %s", secret, r.body)
		}
	}

	// H1 c: Alice appeals for her mother from her own account.
	r = svc.do("POST", "/v1/person-appeals", alice.token, map[string]string{"patient_id": aliceMother, "text": "这是我母亲，我替她预约，她不是号贩子。"})
	var appeal struct {
		ID   string `json:"appeal_id"`
		Kind string `json:"kind"`
	}
	r.decode(t, &appeal)
	if r.status != 201 || appeal.ID == "" || appeal.Kind != "appeal" {
		t.Fatalf("Alice's appeal for her mother = %d %s, want 201", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/person-appeals", alice.token, map[string]string{"patient_id": aliceMother, "text": "再申诉一次"}); r.status != 409 || r.code != "appeal_pending" {
		t.Errorf("a second appeal for the person = %d %s, want 409 appeal_pending", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/person-appeals", alice.token, map[string]string{"patient_id": alice.patientID, "text": "我没有被停用"}); r.status != 422 || r.code != "not_barred_by_review" {
		t.Errorf("an appeal for a person no review barred = %d %s, want 422 not_barred_by_review", r.status, r.body)
	}
	queue := svc.appealQueue(admin1)
	if len(queue) != 1 || queue[0].ID != appeal.ID || queue[0].FlagID != "flg_due22" || queue[0].PersonID != motherID {
		t.Errorf("the platform queue = %+v, want the person's appeal with its flag and person", queue)
	}

	// M3: the administrator who confirmed does not uphold; another does.
	lift := map[string]any{"answer": "经复核，该就诊人与该账号无关。", "lift_block": true, "close": true}
	if r := svc.do("POST", "/v1/admin/cases/"+appeal.ID+"/answer", admin1, lift); r.status != 403 || r.code != "second_admin_required" {
		t.Errorf("the confirming administrator upholds = %d %s, want 403 second_admin_required", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/admin/cases/"+appeal.ID+"/answer", admin2, lift); r.status != 200 {
		t.Fatalf("a second administrator upholds = %d %s", r.status, r.body)
	}
	if r := book(alice.token, aliceMother, 1); r.status != 201 {
		t.Errorf("Alice books for her mother after the upheld appeal = %d %s, want 201", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM notifications WHERE case_id = $1 AND body LIKE '%may book again%'`, appeal.ID); n != 1 {
		t.Errorf("Alice told her mother may book again: %d notifications, want 1", n)
	}
	if n := svc.count(`SELECT count(*) FROM flags WHERE id = 'flg_due22' AND status = 'confirmed'`); n != 1 {
		t.Errorf("the flag after a person's appeal: want still confirmed for Dan's account")
	}

	// M2: Dan's blocked sign-in names the kinds of evidence.
	creds := map[string]string{"phone": dan.phone, "password": "password-" + dan.phone}
	var blocked struct {
		Blocked struct {
			Reason      string `json:"reason"`
			AppealToken string `json:"appeal_token"`
			Evidence    []struct {
				Kind, Text string
			} `json:"evidence"`
		} `json:"blocked"`
	}
	r = svc.do("POST", "/v1/auth/login", "", creds)
	r.decode(t, &blocked)
	kinds := map[string]bool{}
	for _, ev := range blocked.Blocked.Evidence {
		kinds[ev.Kind] = ev.Text != ""
	}
	if r.status != 403 || !kinds["automation"] || !kinds["evasion"] || len(kinds) != 2 || !strings.Contains(blocked.Blocked.Reason, "申诉中说明") {
		t.Errorf("Dan's blocked sign-in = %d %s, want the kinds automation and evasion in words and that he may explain them", r.status, r.body)
	}
	for _, secret := range []string{"4 bookings", "8 devices", "flg_due22", motherID, aliceMother} {
		if strings.Contains(string(r.body), secret) {
			t.Errorf("Dan's blocked sign-in names %q: %s", secret, r.body)
		}
	}

	// M3: Dan's appeal upheld overturns the flag.
	r = svc.do("POST", "/v1/appeals", "", map[string]string{"appeal_token": blocked.Blocked.AppealToken, "text": "都是我家人的预约。"})
	r.decode(t, &appeal)
	if r.status != 201 {
		t.Fatalf("Dan's appeal = %d %s", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/admin/cases/"+appeal.ID+"/answer", admin1, lift); r.status != 403 || r.code != "second_admin_required" {
		t.Errorf("the confirming administrator upholds Dan's appeal = %d %s, want 403 second_admin_required", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/admin/cases/"+appeal.ID+"/answer", admin2, lift); r.status != 200 {
		t.Fatalf("a second administrator upholds Dan's appeal = %d %s", r.status, r.body)
	}
	var flags []struct {
		ID           string `json:"flag_id"`
		Status       string `json:"status"`
		OverturnedBy string `json:"overturned_by"`
	}
	svc.do("GET", "/v1/admin/flags?status=overturned", admin1, nil).decode(t, &flags)
	if len(flags) != 1 || flags[0].ID != "flg_due22" || flags[0].OverturnedBy == "" {
		t.Errorf("overturned flags = %+v, want flg_due22 with who overturned it", flags)
	}
	if n := svc.count(`SELECT count(*) FROM flags WHERE status = 'confirmed'`); n != 0 {
		t.Errorf("%d flags still confirmed after the upheld appeal, want 0", n)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'flag_overturned' AND target = 'flag:flg_due22'`); n != 1 {
		t.Errorf("flag_overturned audit entries: %d, want 1", n)
	}
	var body string
	testenv.Must(t, svc.pool.QueryRow(ctx, `SELECT body FROM notifications WHERE case_id = $1`, appeal.ID).Scan(&body), "Dan's answer")
	if !strings.Contains(body, "不能恢复") || !strings.Contains(body, "cannot be restored") {
		t.Errorf("Dan's answer %q does not say the cancelled bookings are not restored", body)
	}
	var tok struct{ Token string }
	svc.do("POST", "/v1/auth/login", "", creds).decode(t, &tok)
	if r := book(tok.Token, dan.patientID, 2); r.status != 201 {
		t.Errorf("Dan's own person books after the flag is overturned = %d %s, want 201", r.status, r.body)
	}
}
