package detect

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"fairslot/internal/booking"
)

// Scalper reports (举报): a patient's testimony that an account, a booking or
// a phone number offered them a slot for money. A report is attached to the
// accounts it points at — the account named, the account that made the
// booking named (and, for a booking made on the phone channel, the accounts
// of the caller's phone), the accounts whose events carry the phone named
// (unless the phone is a hub: a call centre's line names nobody) — and
// counts as the kind "reported".
//
// Testimony never flags anyone on its own: a grudge, a mistake or a rival
// can file a report. So the kind does not count towards MinKinds: an
// account needs MinKinds kinds of evidence from the events, and reports
// only add weight to what the events already point at. Nor does it pull an
// account into a flagged group's flag (the half-threshold rule counts the
// events' evidence only). What counts is the number of independent
// reporters: distinct reporting accounts, and reporters linked into one
// group (a handset, a number, people in common) count once — one reporter
// reporting ten times is one reporter, a ring reporting a rival is one.
// Nor does a missing link make reporters independent: accounts made from
// one address within burstGap of each other (a chain of sign-ups, as a
// script makes them) are one voice however many they are, handset and
// number apart (review18b M3). Accounts made from one address a day apart,
// or from two addresses in the same minute, stay apart: patients in one
// hospital's lobby share its address, not a sign-up burst. An account made
// before the events' window shows no making and is judged by its links
// alone.

// kReport is the kind of a report's evidence.
const kReport = "reported"

// burstGap is the most time between two accounts made from one address
// for them to be one sign-up burst: one voice when they report.
const burstGap = int64(10 * time.Minute)

// report is a report as the input keeps it.
type report struct {
	caseID, reporter, account, booking, phone string
}

// AddReport adds a scalper report. Reports are few (patients file them by
// hand); they are kept as they come and resolved once the events are in.
func (in *Input) AddReport(r *booking.Report) {
	in.reports = append(in.reports, report{caseID: r.CaseID, reporter: r.Reporter, account: r.AccountID,
		booking: r.BookingID, phone: r.Phone})
}

// lookup finds the sym of a string of the events; 0 when no event has it.
func (d *detector) lookup(s string) sym {
	if s == "" {
		return 0
	}
	if i, ok := d.strs.search(s); ok {
		return i
	}
	return 0
}

// reportItems attaches the reports to the accounts they point at and
// scores each account's independent reporters. g groups the reporters; the
// result holds one item per reported account and the case ids behind it.
func (d *detector) reportItems(g *groups) (map[int32]*item, map[int32][]string) {
	if len(d.reports) == 0 {
		return nil, nil
	}
	// The bookings named: the account that made each, and the caller of
	// one booked on the phone channel (a scalper may phone the hotline with
	// the patient's ID and sell the slot): one pass over the events.
	type bookedBy struct {
		acct  int32
		phone sym
	}
	bookingOf := map[sym]bookedBy{}
	for _, r := range d.reports {
		if b := d.lookup(r.booking); b != 0 {
			bookingOf[b] = bookedBy{acct: -1}
		}
	}
	if len(bookingOf) > 0 {
		for i := range d.evs {
			e := &d.evs[i]
			if e.typ != tBooked || e.bk == 0 {
				continue
			}
			if by, ok := bookingOf[e.bk]; ok && by.acct < 0 && by.phone == 0 {
				if e.acct != 0 {
					by.acct = d.acctOf[e.acct]
				}
				if e.marks&cPhone != 0 {
					by.phone = e.phone
				}
				bookingOf[e.bk] = by
			}
		}
	}
	// phoneAccounts are the accounts whose events carry a phone, unless it
	// is a hub (a call centre's line names nobody).
	phoneAccounts := func(p sym) []int32 {
		if xi := d.attrOf[kindPhone][p]; xi >= 0 && p != 0 && !d.attrs[xi].hub {
			return d.attrs[xi].accounts
		}
		return nil
	}
	type testimony struct {
		reporters map[string]bool // independent reporters: a group, or an account outside the events
		cases     []string
	}
	voice := d.reporterVoices(g)
	by := map[int32]*testimony{}
	for _, r := range d.reports {
		var targets []int32
		if a := d.lookup(r.account); a != 0 && d.acctOf[a] >= 0 {
			targets = append(targets, d.acctOf[a])
		}
		if by, ok := bookingOf[d.lookup(r.booking)]; ok {
			if by.acct >= 0 {
				targets = append(targets, by.acct)
			}
			targets = append(targets, phoneAccounts(by.phone)...)
		}
		targets = append(targets, phoneAccounts(d.lookup(r.phone))...)
		if len(targets) == 0 || r.reporter == "" {
			continue
		}
		who := "account:" + r.reporter
		ra := int32(-1)
		if s := d.lookup(r.reporter); s != 0 && d.acctOf[s] >= 0 {
			ra = d.acctOf[s]
			who = voice(ra)
		}
		slices.Sort(targets)
		for _, a := range slices.Compact(targets) {
			if a == ra || (ra >= 0 && g.find(a) == g.find(ra)) {
				continue // nobody testifies against their own group
			}
			t := by[a]
			if t == nil {
				t = &testimony{reporters: map[string]bool{}}
				by[a] = t
			}
			t.reporters[who] = true
			t.cases = append(t.cases, r.caseID)
		}
	}
	items := make(map[int32]*item, len(by))
	cases := make(map[int32][]string, len(by))
	for a, t := range by {
		slices.Sort(t.cases)
		t.cases = slices.Compact(t.cases)
		cases[a] = t.cases
		n := len(t.reporters)
		var out []item
		add(&out, "reported", kReport, d.cfg.Rules.Reported, float64(n), func() (string, string) {
			return fmt.Sprintf("%d patients reported this account as a scalper (%d reports: %s); testimony adds weight only to what the events show, and never flags on its own", n, len(t.cases), shortIDs(t.cases)),
				fmt.Sprintf("%d 位患者举报该账号倒号（%d 条举报：%s）；举报只为事件中已有的证据加分，单凭举报不会触发提示", n, len(t.cases), shortIDs(t.cases))
		})
		if len(out) > 0 {
			items[a] = &out[0]
		}
	}
	return items, cases
}

// reporterVoices returns who a reporting account speaks for: its group
// (linked accounts count once), merged with the groups of the accounts made
// in one sign-up burst with it (burstGap, one address).
func (d *detector) reporterVoices(g *groups) func(int32) string {
	key := func(a int32) string { return fmt.Sprintf("group:%d", g.find(a)) }
	reporters := map[int32]bool{}
	for _, r := range d.reports {
		if s := d.lookup(r.reporter); s != 0 && d.acctOf[s] >= 0 {
			reporters[d.acctOf[s]] = true
		}
	}
	type making struct {
		ip   sym
		ts   int64
		acct int32
	}
	var made []making
	for i := range d.evs {
		e := &d.evs[i]
		if e.typ == tAccountCreated && e.ip != 0 && e.acct != 0 && reporters[d.acctOf[e.acct]] {
			made = append(made, making{ip: e.ip, ts: e.ts, acct: d.acctOf[e.acct]})
		}
	}
	slices.SortFunc(made, func(a, b making) int { return cmp.Or(cmp.Compare(a.ip, b.ip), cmp.Compare(a.ts, b.ts)) })
	parent := map[string]string{}
	var find func(string) string
	find = func(k string) string {
		p, ok := parent[k]
		if !ok || p == k {
			return k
		}
		root := find(p)
		parent[k] = root
		return root
	}
	for i := 1; i < len(made); i++ {
		if prev := made[i-1]; prev.ip == made[i].ip && made[i].ts-prev.ts <= burstGap {
			if a, b := find(key(prev.acct)), find(key(made[i].acct)); a != b {
				parent[b] = a
			}
		}
	}
	return func(a int32) string { return find(key(a)) }
}

// shortIDs names at most three cases by the start of their ids.
func shortIDs(ids []string) string {
	var out []string
	for _, id := range ids[:min(3, len(ids))] {
		out = append(out, id[:min(8, len(id))])
	}
	if len(ids) > 3 {
		out = append(out, "…")
	}
	return strings.Join(out, ", ")
}
