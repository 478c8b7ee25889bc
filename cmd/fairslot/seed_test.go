package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"os"
	"strings"
	"testing"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestDemoSeedHasTwoHospitals runs `fairslot seed` as `make run` does and
// checks that the demo has two hospitals whose own staff it prints, and
// that each hospital's administrator keeps only their hospital while the
// platform administrator keeps both.
func TestDemoSeedHasTwoHospitals(t *testing.T) {
	ctx := context.Background()
	_, prefix := testenv.Redis(t)
	env := toolEnv(t, prefix)
	logs := &testenv.LogBuffer{}
	cmd := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, args, func(k string) string { return env[k] }, &out, logs); err != nil {
			t.Fatalf("%s: %v\n%s%s", args[0], err, out.String(), logs)
		}
		return out.String()
	}
	cmd("migrate")
	out := cmd("seed", "--demo", "--days", "2", "--draw-in", "0")
	for _, want := range []string{
		"seeded 示范医院 Demo Hospital: 3 departments, 6 doctors",
		"seeded 滨江医院 Binjiang Hospital: 2 departments, 4 doctors",
		"admin    phone 13900000001  password admin-demo-pass    every hospital",
		"clerk    phone 13900000002  password clerk-demo-pass    示范医院 Demo Hospital",
		"admin    phone 13900000011  password admin2-demo-pass   滨江医院 Binjiang Hospital",
		"clerk    phone 13900000012  password clerk2-demo-pass   滨江医院 Binjiang Hospital",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("seed output lacks %q:\n%s", want, out)
		}
	}
	if again := cmd("seed", "--demo", "--days", "2", "--draw-in", "0"); !strings.Contains(again, "admin2-demo-pass") {
		t.Errorf("a second seed does not print the logins again:\n%s", again)
	}

	svc := startService(t, booking.Schedule{}, env)
	first, second := booking.NameID("demo", "hospital"), booking.NameID("demo-binjiang", "hospital")
	login := func(phone, password string) string {
		var tok struct{ Token string }
		svc.do("POST", "/v1/auth/login", "", map[string]string{"phone": phone, "password": password}).decode(t, &tok)
		if tok.Token == "" {
			t.Fatalf("%s cannot log in with the printed password", phone)
		}
		return tok.Token
	}
	platform, admin2, clerk2 := login("13900000001", "admin-demo-pass"), login("13900000011", "admin2-demo-pass"), login("13900000012", "clerk2-demo-pass")
	for _, c := range []struct {
		who, token, hospital string
		want                 int
	}{
		{"the platform administrator, the first hospital", platform, first, 200},
		{"the platform administrator, the second hospital", platform, second, 200},
		{"the second hospital's administrator, theirs", admin2, second, 200},
		{"the second hospital's administrator, the first", admin2, first, 403},
		{"the second hospital's clerk", clerk2, second, 403},
	} {
		if got := svc.do("GET", "/v1/admin/hospitals/"+c.hospital+"/doctors", c.token, nil); got.status != c.want {
			t.Errorf("%s: %d %s, want %d", c.who, got.status, got.body, c.want)
		}
	}
	var staffing struct {
		Doctors []struct {
			FeeLevel string `json:"fee_level"`
		} `json:"doctors"`
	}
	svc.do("GET", "/v1/admin/hospitals/"+second+"/doctors", admin2, nil).decode(t, &staffing)
	if len(staffing.Doctors) != 4 || staffing.Doctors[0].FeeLevel != "expert" {
		t.Errorf("the second hospital's doctors = %+v, want 4 experts", staffing.Doctors)
	}
}

// toolEnv is the environment a subcommand run by a test gets: a database of
// its own (migrated by the owner, served by the service login), the test
// Redis under prefix, a fresh secret key, and cheap password hashing.
func toolEnv(t testing.TB, prefix string) map[string]string {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	ownerURL := testenv.DatabaseURL(t)
	return map[string]string{
		"FAIRSLOT_MIGRATE_DATABASE_URL": ownerURL,
		"FAIRSLOT_DATABASE_URL":         testenv.ServiceURL(t, ownerURL),
		"FAIRSLOT_REDIS_ADDR":           os.Getenv(testenv.RedisAddrEnv),
		"FAIRSLOT_REDIS_PASSWORD":       testenv.RedisPassword(),
		"FAIRSLOT_REDIS_PREFIX":         prefix,
		"FAIRSLOT_SECRET_KEY":           base64.StdEncoding.EncodeToString(key),
		"FAIRSLOT_PASSWORD_ITERATIONS":  "1000",
	}
}

// TestDemoLotteryDeskPoolOnTheVisitDay (review20 L1): the demo lottery
// session's on-site pool opens on the visit day, when the desk does, not
// with the entry window: first-come slots open beside a draw are a way
// round it for whoever a clerk serves.
func TestDemoLotteryDeskPoolOnTheVisitDay(t *testing.T) {
	ctx := context.Background()
	_, prefix := testenv.Redis(t)
	env := toolEnv(t, prefix)
	logs := &testenv.LogBuffer{}
	for _, args := range [][]string{{"migrate"}, {"seed", "--demo", "--days", "1", "--draw-in", "10m"}} {
		var out bytes.Buffer
		if err := run(ctx, args, func(k string) string { return env[k] }, &out, logs); err != nil {
			t.Fatalf("%s: %v\n%s%s", args[0], err, out.String(), logs)
		}
	}
	svc := startService(t, booking.Schedule{}, env)
	var sessions []struct {
		ID        string `json:"session_id"`
		VisitDate string `json:"date"`
		Mode      string `json:"release_mode"`
		Channels  []struct {
			Channel   string `json:"channel"`
			ReleaseAt string `json:"release_at"`
			Mode      string `json:"release_mode"`
			OpensAt   string `json:"opens_at"`
			DrawAt    string `json:"draw_at"`
		} `json:"channels"`
	}
	svc.do("GET", "/v1/hospitals/"+booking.NameID("demo", "hospital")+"/sessions", "", nil).decode(t, &sessions)
	found := ""
	for _, s := range sessions {
		if s.Mode != "lottery" {
			continue
		}
		found = s.ID
		window := map[string]string{}
		for _, c := range s.Channels {
			if c.Channel == "onsite" && c.ReleaseAt != s.VisitDate+"T07:00:00+08:00" {
				t.Errorf("the demo lottery's on-site pool releases at %s; want %s 07:00, the visit day", c.ReleaseAt, s.VisitDate)
			}
			if c.Channel == "online" || c.Channel == "phone" {
				window[c.Channel] = c.Mode + " " + c.OpensAt + "–" + c.DrawAt
			}
		}
		// The phone pool opens with the window as a lottery too: a
		// first-come phone pool released at the window's opening sold its
		// slots to the fastest callers while the online entrants waited
		// for the draw (review20 L1).
		if window["phone"] != window["online"] || !strings.HasPrefix(window["online"], "lottery ") {
			t.Errorf("the demo lottery's pools: online %q, phone %q; want the phone pool a lottery with the online pool's window", window["online"], window["phone"])
		}
	}
	if found == "" {
		t.Fatalf("no lottery session in the demo hospital's listing: %+v", sessions)
	}
	// A caller rung through the operator is entered in the draw, not booked
	// (once the phone pool's seed is committed: the job's 2 s timer).
	poll(t, "the phone pool's seed is committed", func() bool {
		var ss []struct {
			ID       string `json:"session_id"`
			Channels []struct {
				Channel        string `json:"channel"`
				SeedCommitment string `json:"seed_commitment"`
			} `json:"channels"`
		}
		svc.do("GET", "/v1/hospitals/"+booking.NameID("demo", "hospital")+"/sessions", "", nil).decode(t, &ss)
		for _, s := range ss {
			for _, c := range s.Channels {
				if s.ID == found && c.Channel == "phone" && c.SeedCommitment != "" {
					return true
				}
			}
		}
		return false
	})
	operator := svc.staffLoginAt(booking.RoleOperator, 901, booking.NameID("demo", "hospital"))
	r := svc.do("POST", "/v1/phone/bookings", operator, map[string]string{"privacy_consent": booking.PrivacyNoticeVersion, "caller_phone": "13700000091", "id_type": "resident_id",
		"id_number": residentID(91), "name": "钱九", "session_id": found})
	if r.status != 202 {
		t.Errorf("a phone booking of the demo lottery session = %d %s; want 202, an entry in the phone pool's draw", r.status, r.body)
	}
}
