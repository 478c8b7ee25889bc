package detect

import (
	"fmt"
	"slices"
)

// An operator's calls (review23 H1, H2, H3). A phone booking, draw entry or
// waitlist place is made by staff for a caller who has no account, so no
// account's limits or signals see the persons: the operator's own events
// do, each naming the operator (staff_id) and the caller's number (its
// keyed hash). A genuine operator takes one call every 2–3 minutes, from
// a different number each time, for one household; the review's insider
// booked 48 invented people from one number in 2½ minutes, put 30 into a
// 2-slot draw in 69 s, and handed a placeholder's slot to a buyer by
// cancelling it once the buyer had a waitlist place. Each is a kind of
// evidence of its own and none flags alone: they are scored by the rule
// like an account's (two kinds), apart from insider's favours.

// staffCall is one booking, draw entry or waitlist place an operator made
// on a call.
type staffCall struct {
	ts            int64
	person, phone sym
}

// staffCalls scores each operator's calls: caller_persons (scale),
// staff_pace (automation), staff_never_came (non_use) and staff_handoff
// (transfer), then says which staff members reach the rule with the
// insider item. One pass over the events, then one over each operator's
// calls, per number in time order: linear.
func (d *detector) staffCalls() {
	cfg, r := d.cfg, d.cfg.Rules
	calls := map[int32][]staffCall{} // staff index → its calls, in time order
	type cancelled struct {
		ts     int64
		person sym
	}
	lastCancel := map[[2]sym]cancelled{} // (staff, session) → its latest cancellation of a phone booking
	handoffs := map[int32][]sym{}        // staff index → the persons who took what it cancelled
	booked := map[int32]map[sym]int32{}  // staff index → person → session of a phone booking
	for i := range d.evs {
		e := &d.evs[i]
		if e.staff == 0 || e.person == 0 {
			continue
		}
		si := d.staffOf[e.staff]
		if si < 0 {
			continue // filed by the index with every staff event it keeps
		}
		switch e.typ {
		case tCancelled:
			if e.marks&cPhone != 0 && e.sess != 0 && e.marks&(rByStaff|rLeftWaitlist|rByPerson) == 0 {
				lastCancel[[2]sym{e.staff, e.sess}] = cancelled{e.ts, e.person}
			}
			continue
		case tBooked:
			// The first booking by the same operator for someone else in
			// the session it cancelled a phone booking of: the slot went
			// from one caller to another through the operator's hands
			// (directly, or to a waitlist place the operator made).
			k := [2]sym{e.staff, e.sess}
			if c, ok := lastCancel[k]; ok && e.ts-c.ts <= ns(cfg.InsiderFollow) && c.person != e.person {
				handoffs[si] = append(handoffs[si], e.person)
				delete(lastCancel, k)
			}
			if e.marks&cPhone != 0 && e.sess != 0 {
				if booked[si] == nil {
					booked[si] = map[sym]int32{}
				}
				booked[si][e.person] = d.sessOf[e.sess]
			}
			if e.marks&rWaitlist != 0 {
				continue // handed over by the waitlist or a draw: not a call
			}
		case tEntered, tWaitlisted:
		default:
			continue
		}
		if e.marks&cPhone != 0 && e.phone != 0 {
			calls[si] = append(calls[si], staffCall{e.ts, e.person, e.phone})
		}
	}
	wEN, wZH := span(cfg.Window.D())
	pEN, pZH := span(cfg.StaffPaceWindow.D())
	for si, s := range d.staff {
		cs := calls[int32(si)]
		suspects := map[sym]bool{}
		// caller_persons: the most different persons on calls from one
		// number within Window.
		byPhone := map[sym][]staffCall{}
		for _, c := range cs {
			byPhone[c.phone] = append(byPhone[c.phone], c)
		}
		most, numbers := 0, 0
		for _, ph := range sortedKeys(byPhone) {
			n, ps := distinctWithin(byPhone[ph], ns(cfg.Window))
			if n > most {
				most = n
			}
			if r.CallerPersons.score(float64(n)) > 0 {
				numbers++
				for _, p := range ps {
					suspects[p] = true
				}
			}
		}
		add(&s.more, "caller_persons", kScale, r.CallerPersons, float64(most), func() (string, string) {
			return fmt.Sprintf("staff %s booked, entered or waitlisted %d different persons on calls from one caller number within %s (%d numbers with %d or more); a number is one household, and an account lists at most 5",
					d.str(s.id), most, wEN, numbers, int(r.CallerPersons.Min)),
				fmt.Sprintf("工作人员 %s 在 %s内为同一来电号码的 %d 个不同的人预约、报名摇号或登记候补（%d 个号码达到 %d 人以上）；一个号码是一户人家，一个账户最多 5 名就诊人",
					d.str(s.id), wZH, most, numbers, int(r.CallerPersons.Min))
		})
		// staff_pace: the most different persons within StaffPaceWindow.
		pace, ps := distinctWithin(cs, ns(cfg.StaffPaceWindow))
		if addOK(&s.more, "staff_pace", kAutomation, r.StaffPace, float64(pace), func() (string, string) {
			return fmt.Sprintf("staff %s booked, entered or waitlisted %d different persons by phone within %s; a call takes 2–3 minutes and is one household (5 persons at most)",
					d.str(s.id), pace, pEN),
				fmt.Sprintf("工作人员 %s 在 %s内通过电话为 %d 个不同的人预约、报名摇号或登记候补；接一通电话需 2–3 分钟，一通电话是一户人家（最多 5 人）",
					d.str(s.id), pZH, pace)
		}) {
			for _, p := range ps {
				suspects[p] = true
			}
		}
		// staff_never_came: persons of its settled phone bookings who
		// never came anywhere, when they are most of them.
		if d.checkIns > 0 {
			var settled, never []sym
			for _, p := range sortedKeys(booked[int32(si)]) {
				if sess := booked[int32(si)][p]; sess < 0 || !d.sessions[sess].over {
					continue
				}
				settled = append(settled, p)
				if !d.came[p] {
					never = append(never, p)
				}
			}
			if 2*len(never) >= len(settled) && addOK(&s.more, "staff_never_came", kNonUse, r.StaffNeverCame, float64(len(never)), func() (string, string) {
				return fmt.Sprintf("%d of the %d persons staff %s booked by phone for sessions now over never came to the hospital, at any session; a caller rings for a visit they mean to make",
						len(never), len(settled), d.str(s.id)),
					fmt.Sprintf("工作人员 %s 通过电话预约、出诊已结束的 %d 人中有 %d 人从未到院就诊；来电者预约的是自己要去的门诊",
						d.str(s.id), len(settled), len(never))
			}) {
				for _, p := range never {
					suspects[p] = true
				}
			}
		}
		// staff_handoff: phone bookings it cancelled whose sessions its own
		// booking or waitlist place for another person took.
		hs := handoffs[int32(si)]
		if addOK(&s.more, "staff_handoff", kTransfer, r.StaffHandoff, float64(len(hs)), func() (string, string) {
			fEN, fZH := span(cfg.InsiderFollow.D())
			return fmt.Sprintf("staff %s cancelled a phone booking and, within %s, the same staff member's booking or waitlist place for another person took the session, %d times; an operator cancels for the caller on the line, and a returned slot goes to whoever waits",
					d.str(s.id), fEN, len(hs)),
				fmt.Sprintf("工作人员 %s 取消电话预约后 %s内，由其本人为另一人办理的预约或候补得到了该出诊的号，共 %d 次；话务员只为来电者本人取消，退号应分给所有候补者",
					d.str(s.id), fZH, len(hs))
		}) {
			for _, p := range hs {
				suspects[p] = true
			}
		}
		its := make([]*item, 0, len(s.more)+1)
		if s.item != nil {
			its = append(its, s.item)
		}
		for i := range s.more {
			its = append(its, &s.more[i])
		}
		sc := d.evaluate(its)
		s.flagged = s.item != nil || (len(s.more) > 0 && sc.flagged(cfg))
		if s.flagged {
			s.suspects = sortedKeys(suspects)
		}
	}
}

// distinctWithin is the most different persons among calls (in time
// order) within any span of w, and those persons.
func distinctWithin(cs []staffCall, w int64) (int, []sym) {
	count := map[sym]int{}
	best, bestLo, bestHi, lo := 0, 0, 0, 0
	for hi, c := range cs {
		count[c.person]++
		for c.ts-cs[lo].ts > w {
			if count[cs[lo].person]--; count[cs[lo].person] == 0 {
				delete(count, cs[lo].person)
			}
			lo++
		}
		if len(count) > best {
			best, bestLo, bestHi = len(count), lo, hi
		}
	}
	var ps []sym
	for _, c := range cs[bestLo:min(bestHi+1, len(cs))] {
		ps = append(ps, c.person)
	}
	slices.Sort(ps)
	return best, slices.Compact(ps)
}

// addOK is add, saying whether the item was added.
func addOK(to *[]item, signal, kind string, r Rule, value float64, text func() (en, zh string)) bool {
	n := len(*to)
	add(to, signal, kind, r, value, text)
	return len(*to) > n
}
