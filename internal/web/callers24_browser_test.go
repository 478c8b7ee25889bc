package web

import (
	"fmt"
	"testing"
	"time"
)

// newLandline is a Beijing landline no other test rings from, written as
// people say it (area code, hyphen, the local number in two groups).
func newLandline() string {
	phoneSeq.mu.Lock()
	defer phoneSeq.mu.Unlock()
	phoneSeq.n++
	n := (time.Now().UnixNano()/1000 + int64(phoneSeq.n)) % 1e7
	return fmt.Sprintf("010-6%03d %04d", n/1e4, n%1e4)
}

// TestPhoneLandlineCallerInBrowser (review23 M1): an elderly caller rings
// from her home landline, with an extension. The console used to refuse it
// (invalid_phone, "enter the mobile number"); now it takes it, shows it
// masked and tagged a landline, tells the operator that a landline gets no
// text message and that notices reach her through the call-back list, and
// books her; the audit names the line masked.
func TestPhoneLandlineCallerInBrowser(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t, s.base, 4*time.Minute)
	axe := axeSource(t)
	b.signIn("phone", s.newOperator("operator password 1"), "operator password 1")
	line := newLandline()
	digits := "010" + line[4:8] + line[9:]
	b.setCallerID(line+" 转 801", residentID(4401), "王秀英")
	masked := digits[:3] + "****" + digits[7:]
	b.contains("#caller .phone", masked)
	b.contains("#caller", "固话 Landline")
	b.contains("#landline-note", "固话无法接收短信")
	b.contains("#landline-note", "回电")
	b.hidden(digits, line, "王秀英")
	b.axeClean(axe, "a landline caller")
	b.clickText("#dates a", s.tomorrow[5:], "date="+s.tomorrow)
	b.click("#s-"+s.open.ID+" form.book button", "ok=booked")
	b.contains(".booking.hl .status", "已预约 Confirmed")
	b.shot("phone-landline-caller")
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'phone_booking' AND reason LIKE $1`, "%caller "+masked+" #%"); n != 1 {
		t.Errorf("%d phone_booking audit rows name the landline %s with its tag, want 1", n, masked)
	}
	if n := s.count(`SELECT count(*) FROM caller_phones WHERE phone_masked = $1`, masked); n != 1 {
		t.Errorf("%d numbers kept to ring the landline caller back, want 1", n)
	}
	// A mobile caller is told nothing of landlines.
	b.click("#next-caller", "ok=cleared")
	b.setCallerID(newPhone(), residentID(4402), "周大爷")
	b.absent("#landline-note")
}

// TestPhonePageViewsAuditOneLookupPerCall (review23 L2): the console looked
// the caller up again on every page of the call, and each lookup wrote an
// identity_lookup row — five date chips, five rows, and a misheard name
// five "mismatches". Now a call writes one row for its lookup whatever
// the pages viewed; a second call for the same person writes its own.
func TestPhonePageViewsAuditOneLookupPerCall(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t, s.base, 4*time.Minute)
	operator := s.newOperator("operator password 1")
	b.signIn("phone", operator, "operator password 1")
	// On file: a first booking by phone makes the person's record.
	phone, id := newPhone(), residentID(4411)
	b.setCallerID(phone, id, "孙大娘")
	b.clickText("#dates a", s.tomorrow[5:], "date="+s.tomorrow)
	b.click("#s-"+s.open.ID+" form.book button", "ok=booked")
	b.click("#next-caller", "ok=cleared")
	lookups := func() int {
		return s.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_lookup' AND reason LIKE 'found;%'
			AND actor_role = 'operator' AND hospital_id = $1`, s.hospital.ID)
	}
	before := lookups()
	b.setCallerID(phone, id, "孙大娘")
	for range 2 { // with the page the caller form leads to, 5 views
		b.clickText("#dates a", s.tomorrow[5:], "date="+s.tomorrow)
		b.open("/phone")
	}
	if got := lookups() - before; got != 1 {
		t.Errorf("one call with 5 page views wrote %d identity lookups, want 1", got)
	}
	// A misheard name: one mismatch for the call, not one per page.
	mismatches := func() int {
		return s.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_lookup' AND reason LIKE '%does not match%'
			AND hospital_id = $1`, s.hospital.ID)
	}
	b.setCallerID(phone, id, "孙大妈")
	b.open("/phone")
	b.clickText("#dates a", s.tomorrow[5:], "date="+s.tomorrow)
	if got := mismatches(); got != 1 {
		t.Errorf("a call under a misheard name with 3 page views wrote %d mismatches, want 1", got)
	}
	// The next call, the same person: its own row.
	b.setCallerID(phone, id, "孙大娘")
	b.open("/phone")
	if got := lookups() - before; got != 3 {
		t.Errorf("three calls wrote %d identity lookups, want 3 (one each)", got)
	}
}
