package main

// `fairslot seed`: the demo hospitals, their staff and a lottery session.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"fairslot/internal/booking"
)

// The demo staff that `fairslot seed` creates; README prints them. hospital
// indexes demoHospitals; -1 is platform-wide (reviews scalper flags, keeps
// every hospital). The second hospital's own administrator and clerk show
// staff scoping: they see and change only their hospital.
var demoStaff = []struct {
	role     booking.Role
	phone    string
	password string
	hospital int
	name     string // the work name the audit log shows
}{
	{booking.RoleAdmin, "13900000001", "admin-demo-pass", -1, "平台管理员 周"},
	{booking.RoleClerk, "13900000002", "clerk-demo-pass", 0, "挂号员 李"},
	{booking.RoleOperator, "13900000003", "operator-demo-pass", 0, "话务员 张"},
	{booking.RoleAdmin, "13900000011", "admin2-demo-pass", 1, "管理员 陈"},
	{booking.RoleClerk, "13900000012", "clerk2-demo-pass", 1, "挂号员 王"},
}

// demoHospital is a hospital of the demo data: its departments, each with
// two doctors (a chief and an associate chief physician, both 专家 fee).
// key derives the ids (the first keeps the ids it always had).
type demoHospital struct {
	key, name string
	depts     []struct{ name, doc1, doc2 string }
}

var demoHospitals = []demoHospital{
	{key: "demo", name: "示范医院 Demo Hospital", depts: []struct{ name, doc1, doc2 string }{
		{"口腔科 Stomatology", "王建国 Wang Jianguo", "李敏 Li Min"},
		{"心血管内科 Cardiology", "张伟 Zhang Wei", "刘洋 Liu Yang"},
		{"儿科 Pediatrics", "陈静 Chen Jing", "杨帆 Yang Fan"},
	}},
	{key: "demo-binjiang", name: "滨江医院 Binjiang Hospital", depts: []struct{ name, doc1, doc2 string }{
		{"眼科 Ophthalmology", "赵敏 Zhao Min", "孙强 Sun Qiang"},
		{"皮肤科 Dermatology", "周婷 Zhou Ting", "吴磊 Wu Lei"},
	}},
}

// errNoDemo is `fairslot seed` without --demo: the demo's platform-wide
// administrator has a public password, so a production host never gets it
// by a command typed from habit (review21b H2).
var errNoDemo = errors.New("seed loads demo data — made-up hospitals and a platform-wide admin whose password README prints: never in production. " +
	"For a demo, run `fairslot seed --demo`; for a real hospital, `fairslot hospital add` (docs/operations.md, \"First start in production\")")

// seed is `fairslot seed --demo`: the demo data, never production's.
func seed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var releaseIn, drawIn time.Duration
	var days, slots int
	var demo bool
	return tool{
		name: "seed",
		flags: func(fs *flag.FlagSet, e env) {
			// No FAIRSLOT_SEED_DEMO twin: a variable left in an environment
			// file would let a production host seed without anyone typing it.
			fs.BoolVar(&demo, "demo", false, "required: yes, load demo data — two made-up hospitals and staff whose passwords README prints (never in production: see `fairslot hospital add`)")
			fs.DurationVar(&releaseIn, "release-in", e.Dur("SEED_RELEASE_IN", 0), "new sessions release this long from now (0: open at once)")
			fs.IntVar(&days, "days", e.Int("SEED_DAYS", 7), "days of sessions from today")
			fs.IntVar(&slots, "slots", e.Int("SEED_SLOTS", 24), "slots per session")
			fs.DurationVar(&drawIn, "draw-in", e.Dur("SEED_DRAW_IN", 5*time.Minute), "the lottery demo session takes entries from now and is drawn this long after (0: no lottery demo)")
		},
		check: func() error {
			if !demo {
				return errNoDemo
			}
			if days < 1 || slots < 4 {
				return errors.New("--days must be at least 1 and --slots at least 4")
			}
			if drawIn < 0 || drawIn > 12*time.Hour {
				return errors.New("--draw-in must be from 0 to 12h")
			}
			return nil
		},
		work: func(ctx context.Context, d *deps) error {
			sch, err := demoSchedule(time.Now(), time.Now().Add(releaseIn), days, slots)
			if err != nil {
				return err
			}
			if err := d.store.SaveSchedule(ctx, sch); err != nil {
				return fmt.Errorf("seed schedule: %w", err)
			}
			for _, h := range sch.Hospitals {
				depts, docs, sessions := 0, 0, 0
				for _, d := range sch.Departments {
					depts += btoi(d.HospitalID == h.ID)
				}
				for _, d := range sch.Doctors {
					docs += btoi(d.HospitalID == h.ID)
				}
				for _, x := range sch.Sessions {
					sessions += btoi(x.HospitalID == h.ID)
				}
				fmt.Fprintf(stdout, "seeded %s: %d departments, %d doctors, %d sessions over %d days (existing ones kept)\n",
					h.Name, depts, docs, sessions, days)
			}
			if drawIn > 0 {
				s, fresh, err := lotteryDemo(ctx, d, sch, time.Now(), drawIn)
				if err != nil {
					return fmt.Errorf("seed the lottery demo: %w", err)
				}
				q, _ := s.Channel(booking.ChannelOnline)
				verb := "added"
				if !fresh {
					verb = "kept"
				}
				fmt.Fprintf(stdout, "lottery demo (%s): session %s on %s evening takes entries until %s, then its draw runs\n",
					verb, s.ID, s.VisitDate, q.DrawAt.Format("15:04:05 MST"))
			}
			if _, err := d.svc.Refresh(ctx); err != nil {
				return err
			}
			for _, s := range demoStaff {
				hospital, where := "", "every hospital"
				if s.hospital >= 0 {
					hospital, where = sch.Hospitals[s.hospital].ID, sch.Hospitals[s.hospital].Name
				}
				_, err := d.svc.CreateStaff(ctx, booking.StaffRequest{Phone: s.phone, Password: s.password, Role: s.role, HospitalID: hospital, Name: s.name})
				if err != nil && !errors.Is(err, booking.ErrPhoneTaken) {
					return fmt.Errorf("seed staff: %w", err)
				}
				fmt.Fprintf(stdout, "  %-8s phone %s  password %-18s %s\n", s.role, s.phone, s.password, where)
			}
			fmt.Fprintln(stdout, "demo data: never in production (these passwords are public)")
			return nil
		},
	}.run(ctx, args, getenv, stderr)
}

// demoSchedule is the demo hospitals (demoHospitals), each department
// with two doctors, and a morning and an afternoon session per doctor per
// day.
func demoSchedule(now, releaseAt time.Time, days, slots int) (booking.Schedule, error) {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return booking.Schedule{}, err
	}
	var sch booking.Schedule
	titles := []string{"主任医师 Chief Physician", "副主任医师 Associate Chief Physician"}
	periods := []struct {
		name       string
		start, end [2]int
	}{{"morning", [2]int{8, 0}, [2]int{12, 0}}, {"afternoon", [2]int{13, 30}, [2]int{17, 0}}}
	phone, onsite, referral := slots/6, slots/6, slots/12
	online := slots - phone - onsite - referral
	today := now.In(loc)
	for _, dh := range demoHospitals {
		h := booking.Hospital{ID: booking.NameID(dh.key, "hospital"), Name: dh.name, TimeZone: "Asia/Shanghai", Policy: booking.DefaultPolicy}
		sch.Hospitals = append(sch.Hospitals, h)
		for _, dp := range dh.depts {
			dept := booking.Department{ID: booking.NameID(dh.key, dp.name), HospitalID: h.ID, Name: dp.name}
			sch.Departments = append(sch.Departments, dept)
			for i, name := range []string{dp.doc1, dp.doc2} {
				doc := booking.Doctor{ID: booking.NameID(dh.key, dp.name, name), HospitalID: h.ID, DepartmentID: dept.ID, Name: name,
					Title: titles[i], FeeLevel: booking.FeeExpert}
				sch.Doctors = append(sch.Doctors, doc)
				for day := range days {
					date := time.Date(today.Year(), today.Month(), today.Day()+day, 0, 0, 0, 0, loc)
					for _, p := range periods {
						start := date.Add(time.Duration(p.start[0])*time.Hour + time.Duration(p.start[1])*time.Minute)
						end := date.Add(time.Duration(p.end[0])*time.Hour + time.Duration(p.end[1])*time.Minute)
						if !end.After(now) {
							continue // already over
						}
						s, err := booking.BuildSession(booking.SessionSpec{
							ID: booking.NameID(dh.key, doc.ID, date.Format(time.DateOnly), p.name), HospitalID: h.ID,
							DepartmentID: dept.ID, DoctorID: doc.ID, VisitDate: date.Format(time.DateOnly), Period: p.name,
							StartsAt: start, EndsAt: end, Mode: booking.FirstCome,
							Quotas: []booking.ChannelQuota{
								{Channel: booking.ChannelOnline, Quota: online, ReleaseAt: releaseAt},
								{Channel: booking.ChannelPhone, Quota: phone, ReleaseAt: releaseAt},
								{Channel: booking.ChannelOnsite, Quota: onsite, ReleaseAt: releaseAt},
								{Channel: booking.ChannelReferral, Quota: referral, ReleaseAt: releaseAt},
							},
						})
						if err != nil {
							return booking.Schedule{}, err
						}
						sch.Sessions = append(sch.Sessions, s)
					}
				}
			}
		}
	}
	return sch, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// lotteryDemo makes sure the demo hospital has a session whose online and
// phone pools are lotteries taking entries now and drawn drawIn later, so a newcomer can
// enter and watch a draw: an expert's evening clinic, on the first day from
// tomorrow that has none yet. A demo session still taking entries is kept.
// It reports whether it added one.
//
// It does not take a new lottery's release notice (booking's lotteryNotice:
// 24 hours by default) nor its 10-minute minimum window: the demo is a
// lottery a newcomer enters now and sees drawn minutes later
// (FAIRSLOT_SEED_DRAW_IN, 5 minutes), in the demo hospital only (the fixed
// ids of demoSchedule) with made-up people; the rule guards real patients
// against a tip-off, and `fairslot seed` is an operator's command writing
// SQL, not a way to publish into a real hospital (docs/fairness.md).
func lotteryDemo(ctx context.Context, d *deps, demo booking.Schedule, now time.Time, drawIn time.Duration) (booking.Session, bool, error) {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return booking.Session{}, false, err
	}
	h, dept := demo.Hospitals[0], demo.Departments[0]
	doc := booking.Doctor{ID: booking.NameID("demo", "lottery expert"), HospitalID: h.ID, DepartmentID: dept.ID,
		Name: "周杰 Zhou Jie", Title: "主任医师 Chief Physician · 摇号 lottery release"}
	today := now.In(loc)
	sch, err := d.store.LoadSchedule(ctx, today.Format(time.DateOnly))
	if err != nil {
		return booking.Session{}, false, err
	}
	used := map[string]bool{}
	for _, s := range sch.Sessions {
		if s.DoctorID != doc.ID {
			continue
		}
		used[s.VisitDate] = true
		if q, ok := s.Channel(booking.ChannelOnline); ok && q.IsLottery() && now.Add(time.Minute).Before(q.DrawAt) {
			return s, false, nil
		}
	}
	for day := 1; day <= 60; day++ {
		date := time.Date(today.Year(), today.Month(), today.Day()+day, 0, 0, 0, 0, loc)
		if used[date.Format(time.DateOnly)] {
			continue
		}
		opens := now.Truncate(time.Second)
		s, err := booking.BuildSession(booking.SessionSpec{
			ID: booking.NameID("demo", "lottery", date.Format(time.DateOnly)), HospitalID: h.ID, DepartmentID: dept.ID,
			DoctorID: doc.ID, VisitDate: date.Format(time.DateOnly), Period: "evening",
			StartsAt: date.Add(18 * time.Hour), EndsAt: date.Add(21 * time.Hour),
			Quotas: []booking.ChannelQuota{
				{Channel: booking.ChannelOnline, Quota: 6, ReleaseAt: opens, Mode: booking.Lottery, OpensAt: opens, DrawAt: opens.Add(drawIn), PublishedAt: now},
				// The phone pool opens with the window as a lottery too,
				// its own draw among the callers an operator enters: a
				// first-come phone pool released with the window sold its
				// slots to the fastest callers while the online entrants
				// waited for the draw (review20 L1; docs/fairness.md).
				{Channel: booking.ChannelPhone, Quota: 2, ReleaseAt: opens, Mode: booking.Lottery, OpensAt: opens, DrawAt: opens.Add(drawIn), PublishedAt: now},
				// The desk's pool opens on the visit day, when the desk
				// does (07:00), not with the window: a first-come pool
				// open beside the draw is a way round it for whoever a
				// clerk serves (review20 L1; docs/fairness.md).
				{Channel: booking.ChannelOnsite, Quota: 2, ReleaseAt: date.Add(7 * time.Hour), PublishedAt: now},
			},
		})
		if err != nil {
			return booking.Session{}, false, err
		}
		err = d.store.SaveSchedule(ctx, booking.Schedule{Hospitals: []booking.Hospital{h}, Departments: []booking.Department{dept},
			Doctors: []booking.Doctor{doc}, Sessions: []booking.Session{s}})
		return s, true, err
	}
	return booking.Session{}, false, errors.New("the lottery demo doctor has a session on each of the next 60 days")
}
