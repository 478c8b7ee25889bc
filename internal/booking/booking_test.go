package booking

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Pure unit tests of the domain: no Redis, no SQL. The Service is tested
// over the real adapters in service_test.go.

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

func TestPeriodKeys(t *testing.T) {
	tests := []struct {
		date, week, month string
	}{
		{"2026-12-31", "2026-W53", "2026-12"}, // Thursday of a 53-week year
		{"2027-01-01", "2026-W53", "2027-01"}, // Friday: still the previous ISO year
		{"2027-01-03", "2026-W53", "2027-01"}, // Sunday closes that week
		{"2027-01-04", "2027-W01", "2027-01"}, // Monday opens week 1
		{"2024-12-30", "2025-W01", "2024-12"}, // Monday of week 1 in the old year
		{"2026-06-15", "2026-W25", "2026-06"},
		{"2026-02-29", "", ""}, // not a calendar date
		{"2026-1-5", "", ""},
		{"tomorrow", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			week, month := PeriodKeys(tt.date)
			if week != tt.week || month != tt.month {
				t.Errorf("PeriodKeys(%q) = %q, %q; want %q, %q", tt.date, week, month, tt.week, tt.month)
			}
		})
	}
}

func quota(c Channel, n int, releaseAt time.Time) ChannelQuota {
	return ChannelQuota{Channel: c, Quota: n, ReleaseAt: releaseAt}
}

func TestBuildSession(t *testing.T) {
	start := time.Date(2026, 11, 2, 8, 0, 0, 0, shanghai)
	end := start.Add(4 * time.Hour)
	rel1, rel2 := start.AddDate(0, 0, -7), start.AddDate(0, 0, -3)
	tests := []struct {
		name     string
		quotas   []ChannelQuota
		start    time.Time
		end      time.Time
		channels []Channel // wanted channel of each slot, in slot order
	}{
		{
			name:     "quota order online phone onsite",
			quotas:   []ChannelQuota{quota(ChannelOnline, 3, rel1), quota(ChannelPhone, 2, rel2), quota(ChannelOnsite, 1, rel1)},
			start:    start,
			end:      end,
			channels: []Channel{ChannelOnline, ChannelOnline, ChannelOnline, ChannelPhone, ChannelPhone, ChannelOnsite},
		},
		{
			name:     "blocks follow the quotas, not the channel order",
			quotas:   []ChannelQuota{quota(ChannelReferral, 2, rel1), quota(ChannelOnline, 1, rel1), quota(ChannelPhone, 1, rel2)},
			start:    start,
			end:      end,
			channels: []Channel{ChannelReferral, ChannelReferral, ChannelOnline, ChannelPhone},
		},
		{
			name:     "a zero quota lays out no slots",
			quotas:   []ChannelQuota{quota(ChannelOnline, 2, rel1), quota(ChannelPhone, 0, rel2), quota(ChannelOnsite, 2, rel1)},
			start:    start,
			end:      end,
			channels: []Channel{ChannelOnline, ChannelOnline, ChannelOnsite, ChannelOnsite},
		},
		{
			name:     "time that does not divide evenly",
			quotas:   []ChannelQuota{quota(ChannelOnline, 7, rel1)},
			start:    start,
			end:      end,
			channels: slices.Repeat([]Channel{ChannelOnline}, 7),
		},
		{
			name:     "one slot takes the whole session",
			quotas:   []ChannelQuota{quota(ChannelPhone, 1, rel2)},
			start:    start,
			end:      start.Add(time.Minute),
			channels: []Channel{ChannelPhone},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := BuildSession(SessionSpec{
				HospitalID: "h", DepartmentID: "d", DoctorID: "doc", VisitDate: "2026-11-02",
				Period: "morning", StartsAt: tt.start, EndsAt: tt.end, Quotas: tt.quotas,
			})
			if err != nil {
				t.Fatalf("BuildSession: %v", err)
			}
			if !isUUID(s.ID) {
				t.Errorf("ID = %q, want a fresh UUID", s.ID)
			}
			if s.Mode != FirstCome {
				t.Errorf("Mode = %q, want the default %q", s.Mode, FirstCome)
			}
			if got, want := len(s.Slots), len(tt.channels); got != want {
				t.Fatalf("got %d slots, want %d", got, want)
			}
			// An equal share in whole seconds: SQL keeps microseconds, and a
			// slot must read back exactly as it was laid out.
			step := (tt.end.Sub(tt.start) / time.Duration(len(tt.channels))).Truncate(time.Second)
			for i, sl := range s.Slots {
				if got, want := sl.No, i+1; got != want {
					t.Errorf("slot %d: No = %d, want %d", i, got, want)
				}
				if got, want := sl.Channel, tt.channels[i]; got != want {
					t.Errorf("slot %d: Channel = %s, want %s", sl.No, got, want)
				}
				if got, want := sl.EndsAt.Sub(sl.StartsAt), step; got != want {
					t.Errorf("slot %d: lasts %s, want %s", sl.No, got, want)
				}
				if sl.StartsAt.Nanosecond() != 0 || sl.EndsAt.Nanosecond() != 0 {
					t.Errorf("slot %d: %s to %s, want whole seconds", sl.No, sl.StartsAt, sl.EndsAt)
				}
				if i == 0 && !sl.StartsAt.Equal(tt.start) {
					t.Errorf("slot 1 starts at %s, want the session start %s", sl.StartsAt, tt.start)
				}
				if i > 0 && !sl.StartsAt.Equal(s.Slots[i-1].EndsAt) {
					t.Errorf("slot %d starts at %s, want the end of slot %d, %s", sl.No, sl.StartsAt, i, s.Slots[i-1].EndsAt)
				}
				if got, ok := s.Slot(sl.No); !ok || got != sl {
					t.Errorf("Slot(%d) = %+v, %v; want %+v", sl.No, got, ok, sl)
				}
			}
			last := s.Slots[len(s.Slots)-1].EndsAt
			if gap := tt.end.Sub(last); gap < 0 || gap >= time.Duration(len(tt.channels))*time.Second {
				t.Errorf("last slot ends at %s, %s before the session end; want less than a second per slot", last, gap)
			}
			if _, ok := s.Slot(len(s.Slots) + 1); ok {
				t.Errorf("Slot(%d) found past the last slot", len(s.Slots)+1)
			}
			if _, ok := s.Slot(0); ok {
				t.Error("Slot(0) found; slots are numbered from 1")
			}
			for _, q := range tt.quotas {
				got, ok := s.Channel(q.Channel)
				q.Mode = FirstCome // every pool has its mode; the session's when not its own
				if !ok || got != q {
					t.Errorf("Channel(%s) = %+v, %v; want %+v", q.Channel, got, ok, q)
				}
			}
		})
	}

	t.Run("keeps a given id and mode", func(t *testing.T) {
		s, err := BuildSession(SessionSpec{ID: "fixed", VisitDate: "2026-11-02", StartsAt: start, EndsAt: end,
			Mode: Lottery, Quotas: []ChannelQuota{quota(ChannelOnline, 2, rel1)}})
		if err != nil {
			t.Fatalf("BuildSession: %v", err)
		}
		if s.ID != "fixed" || s.Mode != Lottery {
			t.Errorf("ID, Mode = %q, %q; want %q, %q", s.ID, s.Mode, "fixed", Lottery)
		}
	})
}

func TestBuildSessionErrors(t *testing.T) {
	start := time.Date(2026, 11, 2, 8, 0, 0, 0, shanghai)
	end := start.Add(4 * time.Hour)
	rel := start.AddDate(0, 0, -7)
	tests := []struct {
		name   string
		spec   SessionSpec
		want   *Error
		detail string // in the message
	}{
		{
			name: "duplicate channel",
			spec: SessionSpec{VisitDate: "2026-11-02", StartsAt: start, EndsAt: end,
				Quotas: []ChannelQuota{quota(ChannelOnline, 2, rel), quota(ChannelPhone, 1, rel), quota(ChannelOnline, 1, rel)}},
			want: ErrInvalidField, detail: "each channel once",
		},
		{
			name: "negative quota",
			spec: SessionSpec{VisitDate: "2026-11-02", StartsAt: start, EndsAt: end,
				Quotas: []ChannelQuota{quota(ChannelOnline, 2, rel), quota(ChannelPhone, -1, rel)}},
			want: ErrInvalidField,
		},
		{
			name: "no quotas",
			spec: SessionSpec{VisitDate: "2026-11-02", StartsAt: start, EndsAt: end},
			want: ErrInvalidField, detail: "needs slots",
		},
		{
			name: "only zero quotas",
			spec: SessionSpec{VisitDate: "2026-11-02", StartsAt: start, EndsAt: end,
				Quotas: []ChannelQuota{quota(ChannelOnline, 0, rel), quota(ChannelPhone, 0, rel)}},
			want: ErrInvalidField,
		},
		{
			name: "end before start",
			spec: SessionSpec{VisitDate: "2026-11-02", StartsAt: end, EndsAt: start,
				Quotas: []ChannelQuota{quota(ChannelOnline, 2, rel)}},
			want: ErrInvalidField, detail: "end after its start",
		},
		{
			name: "end equals start",
			spec: SessionSpec{VisitDate: "2026-11-02", StartsAt: start, EndsAt: start,
				Quotas: []ChannelQuota{quota(ChannelOnline, 2, rel)}},
			want: ErrInvalidField,
		},
		{
			name: "bad date",
			spec: SessionSpec{VisitDate: "2026-11-31", StartsAt: start, EndsAt: end,
				Quotas: []ChannelQuota{quota(ChannelOnline, 2, rel)}},
			want: ErrInvalidDate,
		},
		{
			name: "date in another format",
			spec: SessionSpec{VisitDate: "02/11/2026", StartsAt: start, EndsAt: end,
				Quotas: []ChannelQuota{quota(ChannelOnline, 2, rel)}},
			want: ErrInvalidDate,
		},
		{
			// Two quotas of the largest int and 14 add up, wrapped, to 12:
			// laid out one by one they would fill the memory.
			name: "quotas that wrap around",
			spec: SessionSpec{VisitDate: "2026-11-02", StartsAt: start, EndsAt: end,
				Quotas: []ChannelQuota{quota(ChannelOnline, math.MaxInt, rel), quota(ChannelPhone, math.MaxInt, rel), quota(ChannelOnsite, 14, rel)}},
			want: ErrInvalidField, detail: "more slots than fit",
		},
		{
			name: "one more slot than minutes",
			spec: SessionSpec{VisitDate: "2026-11-02", StartsAt: start, EndsAt: end,
				Quotas: []ChannelQuota{quota(ChannelOnline, 200, rel), quota(ChannelPhone, 41, rel)}},
			want: ErrInvalidField, detail: "more slots than fit",
		},
		{
			name: "unknown channel",
			spec: SessionSpec{VisitDate: "2026-11-02", StartsAt: start, EndsAt: end,
				Quotas: []ChannelQuota{quota(ChannelOnline, 2, rel), quota("web", 1, rel)}},
			want: ErrInvalidChannel, detail: `"web"`,
		},
		{
			name: "unknown release mode",
			spec: SessionSpec{VisitDate: "2026-11-02", StartsAt: start, EndsAt: end, Mode: "auction",
				Quotas: []ChannelQuota{quota(ChannelOnline, 2, rel)}},
			want: ErrInvalidField, detail: `"auction"`,
		},
		{
			name: "lottery drawing before its window opens",
			spec: SessionSpec{VisitDate: "2026-11-02", StartsAt: start, EndsAt: end, Mode: Lottery,
				Quotas: []ChannelQuota{{Channel: ChannelOnline, Quota: 2, ReleaseAt: rel, OpensAt: rel, DrawAt: rel}}},
			want: ErrInvalidField, detail: "after its window opens",
		},
		{
			name: "lottery drawing after the session starts",
			spec: SessionSpec{VisitDate: "2026-11-02", StartsAt: start, EndsAt: end, Mode: Lottery,
				Quotas: []ChannelQuota{{Channel: ChannelOnline, Quota: 2, ReleaseAt: start.Add(-5 * time.Minute)}}},
			want: ErrInvalidField, detail: "before the session starts",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := BuildSession(tt.spec)
			if !errors.Is(err, tt.want) {
				t.Fatalf("BuildSession = %d slots, %v; want %v", len(s.Slots), err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("error %q does not say %q", err, tt.detail)
			}
		})
	}
}

func TestBuildSessionLotteryWindows(t *testing.T) {
	start := time.Date(2026, 11, 2, 8, 0, 0, 0, shanghai)
	rel := start.AddDate(0, 0, -7)
	early := rel.Add(-3 * time.Hour)
	s, err := BuildSession(SessionSpec{VisitDate: "2026-11-02", StartsAt: start, EndsAt: start.Add(4 * time.Hour),
		Quotas: []ChannelQuota{
			{Channel: ChannelOnline, Quota: 2, ReleaseAt: rel, Mode: Lottery},
			{Channel: ChannelPhone, Quota: 1, ReleaseAt: rel, Mode: Lottery, OpensAt: early, DrawAt: rel.Add(time.Hour)},
			{Channel: ChannelOnsite, Quota: 1, ReleaseAt: rel},
		}})
	if err != nil {
		t.Fatalf("BuildSession: %v", err)
	}
	tests := []struct {
		ch          Channel
		mode        ReleaseMode
		opens, draw time.Time
	}{
		{ChannelOnline, Lottery, rel, rel.Add(DefaultDrawAfter)}, // the default window
		{ChannelPhone, Lottery, early, rel.Add(time.Hour)},       // a pre-registration, hours before
		{ChannelOnsite, FirstCome, time.Time{}, time.Time{}},
	}
	for _, tt := range tests {
		q, _ := s.Channel(tt.ch)
		if q.Mode != tt.mode || !q.OpensAt.Equal(tt.opens) || !q.DrawAt.Equal(tt.draw) {
			t.Errorf("%s pool: %s [%s, %s); want %s [%s, %s)", tt.ch, q.Mode, q.OpensAt, q.DrawAt, tt.mode, tt.opens, tt.draw)
		}
		if got, want := q.TakesEntries(tt.draw.Add(-time.Second)), tt.mode == Lottery; got != want {
			t.Errorf("%s pool takes entries a second before its draw = %v, want %v", tt.ch, got, want)
		}
		if q.TakesEntries(tt.draw) {
			t.Errorf("%s pool takes entries at its draw time", tt.ch)
		}
	}
	if s.Mode != Lottery {
		t.Errorf("session mode = %s, want lottery (some pool is one)", s.Mode)
	}
}

// testSchedule is two hospitals; the sessions of "Alpha" are listed out of
// visiting order and their channels out of channel order.
func testSchedule() (Schedule, map[string]Session) {
	day1 := time.Date(2026, 11, 2, 0, 0, 0, 0, shanghai)
	day2 := day1.AddDate(0, 0, 1)
	mk := func(id, hosp, dept, date string, start time.Time, chans ...Channel) Session {
		var qs []ChannelQuota
		for _, c := range chans {
			qs = append(qs, quota(c, 1, day1.AddDate(0, 0, -7)))
		}
		s, err := BuildSession(SessionSpec{ID: id, HospitalID: hosp, DepartmentID: dept, DoctorID: "doc-" + id,
			VisitDate: date, Period: "morning", StartsAt: start, EndsAt: start.Add(3 * time.Hour), Quotas: qs})
		if err != nil {
			panic(err)
		}
		return s
	}
	sessions := []Session{
		mk("s5", "hA", "dSurg", "2026-11-03", day2.Add(8*time.Hour), ChannelOnline),
		mk("s4", "hA", "dCard", "2026-11-02", day1.Add(14*time.Hour), ChannelPhone, ChannelOnline),
		mk("s3", "hA", "dSurg", "2026-11-02", day1.Add(8*time.Hour), ChannelReferral, ChannelOnsite, ChannelOnline, ChannelPhone),
		mk("s2", "hA", "dCard", "2026-11-02", day1.Add(8*time.Hour), ChannelOnsite, ChannelOnline),
		mk("s9", "hB", "dEye", "2026-11-02", day1.Add(8*time.Hour), ChannelOnline),
	}
	byID := map[string]Session{}
	for _, s := range sessions {
		byID[s.ID] = s
	}
	return Schedule{
		Hospitals: []Hospital{
			{ID: "hB", Name: "Beta", TimeZone: "Asia/Shanghai", Policy: DefaultPolicy},
			{ID: "hA", Name: "Alpha", TimeZone: "Asia/Shanghai", Policy: Policy{PerDay: 1, PerWeek: 2, PerMonth: 3}},
			{ID: "hX", Name: "Gamma", TimeZone: "Not/AZone"},
		},
		Departments: []Department{
			{ID: "dSurg", HospitalID: "hA", Name: "Surgery"},
			{ID: "dCard", HospitalID: "hA", Name: "Cardiology"},
			{ID: "dEye", HospitalID: "hB", Name: "Ophthalmology"},
		},
		Doctors: []Doctor{
			{ID: "doc-s2", HospitalID: "hA", DepartmentID: "dCard", Name: "Li", Title: "chief"},
		},
		Sessions: sessions,
	}, byID
}

func sessionIDs(list []*Session) []string {
	ids := make([]string, len(list))
	for i, s := range list {
		ids[i] = s.ID
	}
	return ids
}

func TestCatalogSessions(t *testing.T) {
	sch, _ := testSchedule()
	c := NewCatalog(sch)
	tests := []struct {
		name, hosp, date, dept string
		want                   []string
	}{
		{"every session in visiting order", "hA", "", "", []string{"s2", "s3", "s4", "s5"}},
		{"one date", "hA", "2026-11-02", "", []string{"s2", "s3", "s4"}},
		{"one department", "hA", "", "dSurg", []string{"s3", "s5"}},
		{"date and department", "hA", "2026-11-02", "dCard", []string{"s2", "s4"}},
		{"date without sessions", "hA", "2026-11-04", "", nil},
		{"department of another hospital", "hA", "", "dEye", nil},
		{"other hospital", "hB", "2026-11-02", "", []string{"s9"}},
		{"unknown hospital", "hZ", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sessionIDs(c.Sessions(tt.hosp, tt.date, tt.dept)); !slices.Equal(got, tt.want) {
				t.Errorf("Sessions(%q, %q, %q) = %v, want %v", tt.hosp, tt.date, tt.dept, got, tt.want)
			}
		})
	}
	if got, want := sessionIDs(c.HospitalSessions("hA")), []string{"s2", "s3", "s4", "s5"}; !slices.Equal(got, want) {
		t.Errorf("HospitalSessions(hA) = %v, want %v", got, want)
	}
}

func TestCatalogChannelsInChannelOrder(t *testing.T) {
	sch, byID := testSchedule()
	c := NewCatalog(sch)
	for id := range byID {
		t.Run(id, func(t *testing.T) {
			s, ok := c.Session(id)
			if !ok {
				t.Fatalf("Session(%s) not found", id)
			}
			var got []Channel
			for _, q := range s.Channels {
				got = append(got, q.Channel)
			}
			sorted := slices.SortedFunc(slices.Values(got), func(a, b Channel) int {
				return slices.Index(Channels[:], a) - slices.Index(Channels[:], b)
			})
			if !slices.Equal(got, sorted) {
				t.Errorf("channels %v, want the order online, phone, onsite, referral: %v", got, sorted)
			}
			if got, want := len(s.Channels), len(byID[id].Channels); got != want {
				t.Errorf("%d channels, want %d", got, want)
			}
		})
	}
	s3, _ := c.Session("s3")
	var got []Channel
	for _, q := range s3.Channels {
		got = append(got, q.Channel)
	}
	if want := Channels[:]; !slices.Equal(got, want) {
		t.Errorf("s3 channels = %v, want %v", got, want)
	}
}

func TestCatalogLookups(t *testing.T) {
	sch, _ := testSchedule()
	c := NewCatalog(sch)

	var names []string
	for _, h := range c.Hospitals() {
		names = append(names, h.Name)
	}
	if want := []string{"Alpha", "Beta", "Gamma"}; !slices.Equal(names, want) {
		t.Errorf("Hospitals() = %v, want %v", names, want)
	}
	h, ok := c.Hospital("hA")
	if !ok || h.Name != "Alpha" || h.Policy.PerDay != 1 || h.Policy.PerWeek != 2 || h.Policy.PerMonth != 3 {
		t.Errorf("Hospital(hA) = %+v, %v; want Alpha with its policy", h, ok)
	}
	if h != nil && h.Location().String() != "Asia/Shanghai" {
		t.Errorf("Hospital(hA).Location() = %s, want Asia/Shanghai", h.Location())
	}
	if hx, ok := c.Hospital("hX"); !ok {
		t.Error("Hospital(hX) not found")
	} else if _, off := time.Date(2026, 11, 2, 0, 0, 0, 0, hx.Location()).Zone(); off != 8*3600 {
		t.Errorf("a hospital with an unknown zone is at UTC%+d s, want China Standard Time (+28800)", off)
	}
	if _, ok := c.Hospital("nope"); ok {
		t.Error("Hospital(nope) found")
	}

	var depts []string
	for _, d := range c.Departments("hA") {
		depts = append(depts, d.Name)
	}
	if want := []string{"Cardiology", "Surgery"}; !slices.Equal(depts, want) {
		t.Errorf("Departments(hA) = %v, want %v", depts, want)
	}
	if got := c.Departments("nope"); len(got) != 0 {
		t.Errorf("Departments(nope) = %v, want none", got)
	}
	if d, ok := c.Department("dEye"); !ok || d.HospitalID != "hB" || d.Name != "Ophthalmology" {
		t.Errorf("Department(dEye) = %+v, %v", d, ok)
	}
	if _, ok := c.Department("nope"); ok {
		t.Error("Department(nope) found")
	}
	if d, ok := c.Doctor("doc-s2"); !ok || d.Name != "Li" || d.DepartmentID != "dCard" {
		t.Errorf("Doctor(doc-s2) = %+v, %v", d, ok)
	}
	if _, ok := c.Doctor("nope"); ok {
		t.Error("Doctor(nope) found")
	}
	if _, ok := c.Session("nope"); ok {
		t.Error("Session(nope) found")
	}
	for _, id := range []string{"s3", "s5"} {
		s, _ := c.Session(id)
		week, month := c.periods(id)
		if wantW, wantM := PeriodKeys(s.VisitDate); week != wantW || month != wantM {
			t.Errorf("periods(%s) = %s, %s; want %s, %s", id, week, month, wantW, wantM)
		}
	}
}

func TestIsUUID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"123e4567-e89b-42d3-a456-426614174000", true},
		{"123E4567-E89B-42D3-A456-426614174000", true},
		{"00000000-0000-0000-0000-000000000000", true},
		{"123e4567e89b42d3a456426614174000", false},
		{"123e4567-e89b-42d3-a456-42661417400", false},
		{"123e4567-e89b-42d3-a456-4266141740000", false},
		{"123e4567-e89b-42d3-a456_426614174000", false},
		{"123e456-7e89b-42d3-a456-426614174000", false},
		{"g23e4567-e89b-42d3-a456-426614174000", false},
		{"{23e4567-e89b-42d3-a456-42661417400}", false},
		{"123e4567-e89b-42d3-a456-42661417400 ", false},
		{"", false},
		{"'; DROP TABLE bookings; --", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got := isUUID(tt.id); got != tt.want {
				t.Errorf("isUUID(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestFormatUUID(t *testing.T) {
	var zeros, ones, mixed [16]byte
	for i := range ones {
		ones[i] = 0xff
		mixed[i] = byte(i * 17)
	}
	tests := []struct {
		name    string
		in      [16]byte
		version byte
		want    string
	}{
		{"zeros v4", zeros, 4, "00000000-0000-4000-8000-000000000000"},
		{"ones v4", ones, 4, "ffffffff-ffff-4fff-bfff-ffffffffffff"},
		{"zeros v8", zeros, 8, "00000000-0000-8000-8000-000000000000"},
		{"ones v8", ones, 8, "ffffffff-ffff-8fff-bfff-ffffffffffff"},
		{"mixed v4", mixed, 4, "00112233-4455-4677-8899-aabbccddeeff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := formatUUID(tt.in, tt.version)
			if got != tt.want {
				t.Errorf("formatUUID = %s, want %s", got, tt.want)
			}
			if !isUUID(got) {
				t.Errorf("isUUID(%s) = false", got)
			}
		})
	}
}

// uuidVersion returns the version nibble and whether the variant is RFC 9562.
func uuidVersion(id string) (byte, bool) {
	return id[14], strings.ContainsRune("89ab", rune(id[19]))
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if !isUUID(id) {
			t.Fatalf("NewID() = %q, not a UUID", id)
		}
		if v, rfc := uuidVersion(id); v != '4' || !rfc {
			t.Fatalf("NewID() = %s: version %c, RFC variant %v; want 4, true", id, v, rfc)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %s", id)
		}
		seen[id] = true
	}
}

func TestNameID(t *testing.T) {
	a := NameID("hospital", "Peking Union")
	if b := NameID("hospital", "Peking Union"); a != b {
		t.Errorf("NameID is not stable: %s then %s", a, b)
	}
	if v, rfc := uuidVersion(a); !isUUID(a) || v != '8' || !rfc {
		t.Errorf("NameID = %s, want a version 8 RFC 9562 UUID", a)
	}
	others := [][]string{
		{"hospital", "Peking Union "},
		{"Peking Union", "hospital"},
		{"hospitalPeking Union"},
		{"hospital", "Peking", "Union"},
		{"department", "Peking Union"},
		{},
	}
	seen := map[string][]string{a: {"hospital", "Peking Union"}}
	for _, parts := range others {
		id := NameID(parts...)
		if prev, ok := seen[id]; ok {
			t.Errorf("NameID(%q) = NameID(%q) = %s", parts, prev, id)
		}
		seen[id] = parts
	}
}

func TestErrorIs(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		match *Error
		want  bool
	}{
		{"sentinel itself", ErrSoldOut, ErrSoldOut, true},
		{"Errorf with the sentinel's code", Errorf(ErrNotReleased, "opens at %s", "08:00"), ErrNotReleased, true},
		{"Errorf against another sentinel", Errorf(ErrNotReleased, "opens at 08:00"), ErrSoldOut, false},
		{"wrapped with %w", fmt.Errorf("reserve slot %d: %w", 3, ErrAlreadyBooked), ErrAlreadyBooked, true},
		{"wrapped Errorf", fmt.Errorf("insert: %w", Errorf(ErrQuotaDay, "two a day")), ErrQuotaDay, true},
		{"two %w, the first", fmt.Errorf("reserve: %w: %w", ErrUnavailable, io.ErrUnexpectedEOF), ErrUnavailable, true},
		{"joined", errors.Join(io.EOF, ErrSessionClosed), ErrSessionClosed, true},
		{"same kind, other code", ErrQuotaWeek, ErrQuotaMonth, false},
		{"a plain error", io.EOF, ErrUnavailable, false},
		{"same code built by hand", &Error{Kind: KindConflict, Code: "sold_out", Message: "x"}, ErrSoldOut, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, tt.match); got != tt.want {
				t.Errorf("errors.Is(%v, %v) = %v, want %v", tt.err, tt.match, got, tt.want)
			}
		})
	}
	outcome := fmt.Errorf("commit: %w: %w", ErrOutcomeUnknown, io.EOF)
	if errors.Is(outcome, ErrUnavailable) || errors.Is(outcome, ErrSoldOut) {
		t.Error("ErrOutcomeUnknown matches a domain sentinel")
	}
	if !errors.Is(outcome, ErrOutcomeUnknown) {
		t.Error("a wrapped ErrOutcomeUnknown is not recognised")
	}
}

func TestErrorfAndAsError(t *testing.T) {
	e := Errorf(ErrNotReleased, "this channel opens at %s", "2026-11-02T08:00:00+08:00")
	if e.Kind != KindRule || e.Code != "not_released" {
		t.Errorf("Errorf kept kind %d, code %q; want %d, %q", e.Kind, e.Code, KindRule, "not_released")
	}
	if got, want := e.Error(), "not_released: this channel opens at 2026-11-02T08:00:00+08:00"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if ErrNotReleased.Message == e.Message {
		t.Error("Errorf changed the sentinel's message")
	}
	got, ok := AsError(fmt.Errorf("book: %w", e))
	if !ok || got != e {
		t.Errorf("AsError(wrapped) = %v, %v; want %v", got, ok, e)
	}
	if got, ok := AsError(io.EOF); ok {
		t.Errorf("AsError(io.EOF) = %v, true", got)
	}
}

func TestPatientCacheBounded(t *testing.T) {
	for _, limit := range []int{2, 3, 4, 7, 10, 101} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			c := newPatientCache(limit)
			for i := range 5 * limit {
				p := Patient{ID: fmt.Sprintf("p%d", i), AccountID: fmt.Sprintf("a%d", i)}
				c.put(p)
				if got, ok := c.get(p.ID); !ok || got != p {
					t.Fatalf("get(%s) right after put = %+v, %v; want %+v", p.ID, got, ok, p)
				}
				if n := c.len(); n > limit {
					t.Fatalf("after %d puts the cache holds %d entries, more than %d", i+1, n, limit)
				}
			}
			// The most recent limit/2 entries are always still there.
			for i := 5*limit - limit/2; i < 5*limit; i++ {
				if _, ok := c.get(fmt.Sprintf("p%d", i)); !ok {
					t.Errorf("recent entry p%d was evicted", i)
				}
			}
			if _, ok := c.get("never"); ok {
				t.Error("get(never) found")
			}
		})
	}
	t.Run("put replaces", func(t *testing.T) {
		c := newPatientCache(10)
		c.put(Patient{ID: "p", MaskedName: "old"})
		c.put(Patient{ID: "p", MaskedName: "new"})
		if got, _ := c.get("p"); got.MaskedName != "new" {
			t.Errorf("get(p).MaskedName = %q, want %q", got.MaskedName, "new")
		}
	})
	t.Run("concurrent use", func(t *testing.T) {
		const limit = 64
		c := newPatientCache(limit)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 500 {
					id := fmt.Sprintf("g%d-%d", g, i)
					c.put(Patient{ID: id})
					c.get(id)
					c.get(fmt.Sprintf("g%d-%d", (g+1)%8, i))
				}
			})
		}
		wg.Wait()
		if n := c.len(); n > limit {
			t.Errorf("cache holds %d entries, more than %d", n, limit)
		}
	})
}

func TestStatusActive(t *testing.T) {
	tests := []struct {
		s    Status
		want bool
	}{
		{StatusConfirmed, true},
		{StatusCheckedIn, true},
		{StatusCancelled, false},
		{StatusNoShow, false},
		{"", false},
		{"CONFIRMED", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.s), func(t *testing.T) {
			if got := tt.s.Active(); got != tt.want {
				t.Errorf("Status(%q).Active() = %v, want %v", tt.s, got, tt.want)
			}
		})
	}
}

func TestParseChannel(t *testing.T) {
	for _, c := range Channels {
		t.Run(string(c), func(t *testing.T) {
			got, err := ParseChannel(string(c))
			if err != nil || got != c {
				t.Errorf("ParseChannel(%q) = %q, %v; want %q", c, got, err, c)
			}
		})
	}
	for _, s := range []string{"", "Online", "web", "online ", "phone,online"} {
		t.Run("bad "+s, func(t *testing.T) {
			got, err := ParseChannel(s)
			if !errors.Is(err, ErrInvalidChannel) || got != "" {
				t.Errorf("ParseChannel(%q) = %q, %v; want %v", s, got, err, ErrInvalidChannel)
			}
		})
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range []Role{RolePatient, RoleOperator, RoleClerk, RoleAdmin} {
		t.Run(string(r), func(t *testing.T) {
			got, err := ParseRole(string(r))
			if err != nil || got != r {
				t.Errorf("ParseRole(%q) = %q, %v; want %q", r, got, err, r)
			}
		})
	}
	for _, s := range []string{"", "Admin", "root", "cli", "clerk "} {
		t.Run("bad "+s, func(t *testing.T) {
			if got, err := ParseRole(s); err == nil || got != "" {
				t.Errorf("ParseRole(%q) = %q, %v; want an error", s, got, err)
			}
		})
	}
}

func TestActorIsStaff(t *testing.T) {
	tests := []struct {
		role Role
		want bool
	}{
		{RolePatient, false}, {RoleOperator, true}, {RoleClerk, true}, {RoleAdmin, true}, {"", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.role), func(t *testing.T) {
			if got := (Actor{Role: tt.role}).IsStaff(); got != tt.want {
				t.Errorf("Actor{Role: %q}.IsStaff() = %v, want %v", tt.role, got, tt.want)
			}
		})
	}
}

func TestHoldOf(t *testing.T) {
	b := Booking{ID: "b", HospitalID: "h", SessionID: "s", SlotNo: 7, Channel: ChannelPhone, IdentityKey: "ik", PatientID: "p"}
	want := Hold{HospitalID: "h", SessionID: "s", BookingID: "b", SlotNo: 7, Channel: ChannelPhone, IdentityKey: "ik"}
	if got := HoldOf(b); got != want {
		t.Errorf("HoldOf = %+v, want %+v", got, want)
	}
}

func TestIdentityKey(t *testing.T) {
	hash := []byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	if got, want := IdentityKey(hash), "deadbeef0102030405060708"; got != want {
		t.Errorf("IdentityKey = %q, want %q (the first 12 bytes in hex)", got, want)
	}
	if got, want := IdentityKey(hash[:3]), "deadbe"; got != want {
		t.Errorf("IdentityKey(short) = %q, want %q", got, want)
	}
	if got, want := (Identity{IDHash: hash}).Key(), IdentityKey(hash); got != want {
		t.Errorf("Identity.Key() = %q, want %q", got, want)
	}
}
