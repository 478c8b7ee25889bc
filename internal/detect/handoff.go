package detect

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// handoff is a cancellation followed within HandoffWindow by another
// account's (or the same account's, for another person) booking of the same
// session. It has a direction: the giver cancelled, the receiver took the
// slot.
type handoff struct {
	giver, receiver  int32 // accounts
	gPerson, rPerson sym
	sess             int32
	booked           int64 // when the giver had booked the slot
	at, gap          int64
	scarce           bool
}

// weight of a hand-off: one of a scarce session counts in full, another
// half (a slot nobody is short of is rebooked within seconds by chance).
func (h *handoff) weight() float64 {
	if h.scarce {
		return 1
	}
	return 0.5
}

// findHandoffs pairs each cancellation with the first booking of the same
// session by another account or person within HandoffWindow. Not hand-offs:
// bookings the waitlist handed over or by someone who waited for the
// session (the waitlist working), and cancellations of a booking made less
// than HandoffMinHeld before (a correction).
func (d *detector) findHandoffs() {
	cfg := d.cfg
	cancels := make([][]int32, len(d.sessions)) // into cancelRefs
	for i, c := range d.cancelRefs {
		b := &d.bookings[c.booking]
		if b.sess >= 0 && c.ts-b.ts >= ns(cfg.HandoffMinHeld) {
			cancels[b.sess] = append(cancels[b.sess], int32(i))
		}
	}
	books := make([][]int32, len(d.sessions))
	for i := range d.bookings {
		b := &d.bookings[i]
		if b.sess < 0 || b.waitlist || len(cancels[b.sess]) == 0 {
			continue
		}
		if d.waited[[2]int32{b.sess, b.acct}] || (b.person != 0 && d.waited[[2]int32{b.sess, -1 - b.person}]) {
			continue
		}
		books[b.sess] = append(books[b.sess], int32(i))
	}
	w := ns(cfg.HandoffWindow)
	for s, cs := range cancels {
		bs := books[s]
		used := make([]bool, len(bs))
		start := 0
		for _, ci := range cs {
			c := d.cancelRefs[ci]
			g := &d.bookings[c.booking]
			for start < len(bs) && d.bookings[bs[start]].ts < c.ts {
				start++
			}
			for j := start; j < len(bs) && d.bookings[bs[j]].ts-c.ts <= w; j++ {
				r := &d.bookings[bs[j]]
				if used[j] || (r.acct == g.acct && r.person == g.person) {
					continue
				}
				used[j] = true
				d.handoffs = append(d.handoffs, handoff{giver: g.acct, receiver: r.acct, gPerson: g.person, rPerson: r.person,
					sess: int32(s), booked: g.ts, at: c.ts, gap: r.ts - c.ts, scarce: d.sessions[s].scarce})
				break
			}
		}
	}
	slices.SortFunc(d.handoffs, func(a, b handoff) int {
		if c := cmpInt64(a.at, b.at); c != 0 {
			return c
		}
		return int(d.sessions[a.sess].id - d.sessions[b.sess].id)
	})
}

// handoffSignals reads the hand-offs with their direction. A receiver that
// took the returned slots of WatcherGivers different accounts or more is a
// return watcher (returns_taken); the hand-offs it took say nothing against
// the people who cancelled. A giver's other hand-offs are slots it passed on
// (handoff_given). The same giver and receiver again — or one account
// cancelling for one person and rebooking for another, again — is a pair
// (handoff_pair), a combination in itself.
func (d *detector) handoffSignals() {
	cfg, r := d.cfg, d.cfg.Rules
	givers := d.handoffGivers()
	wEN, wZH := span(cfg.HandoffWindow.D())
	for _, a := range sortedKeys(givers) {
		if n := len(givers[a]); n > 1 {
			acc := d.accounts[a]
			name := d.str(acc.id)
			add(&acc.items, "returns_taken", kTransfer, r.ReturnsTaken, float64(n), func() (string, string) {
				return fmt.Sprintf("account %s took the cancelled slots of %d different accounts within %s of their cancellation; returns come back at random moments, and only a machine watching the sessions is there every time", name, n, wEN),
					fmt.Sprintf("账号 %s 在他人取消后 %s内抢到了 %d 个不同账号退出的号；退号出现的时间不可预测，只有盯守的程序每次都能抢到", name, wZH, n)
			})
		}
	}
	given := map[int32][]handoff{}
	pairs := map[[2]int32][]handoff{}
	for _, h := range d.handoffs {
		if d.watcher(h.receiver) && h.receiver != h.giver {
			continue
		}
		given[h.giver] = append(given[h.giver], h)
		pairs[[2]int32{h.giver, h.receiver}] = append(pairs[[2]int32{h.giver, h.receiver}], h)
	}
	for _, a := range sortedKeys(given) {
		hs := given[a]
		var v float64
		nScarce := 0
		for _, h := range hs {
			v += h.weight()
			if h.scarce {
				nScarce++
			}
		}
		acc := d.accounts[a]
		name := d.str(acc.id)
		add(&acc.items, "handoff_given", kTransfer, r.HandoffGiven, v, func() (string, string) {
			return fmt.Sprintf("account %s cancelled %d bookings (%d of the scarcest sessions) that another account or patient booked within %s (%s)", name, len(hs), nScarce, wEN, d.handoffExamples(hs)),
				fmt.Sprintf("账号 %s 取消的 %d 个预约（其中最紧俏的 %d 个）在 %s内被另一账号或就诊人约走（%s）", name, len(hs), nScarce, wZH, d.handoffExamplesZH(hs))
		})
	}
	// People not on the account came to the desk for its bookings and were
	// turned away: a family books for its own people, and one of them
	// picked by mistake is on the account; a stranger holding the booking
	// was sold or given it. Each is a slot passed on as much as a hand-off
	// is, by the other route (sold as it stood), so the two add up: a
	// family passes a slot to a friend once, a seller again and again.
	w := ns(cfg.Window)
	wWin, wWinZH := span(cfg.Window.D())
	for ai, acc := range d.accounts {
		n := strangersCame(acc.strangers, w)
		if n == 0 {
			continue
		}
		var v float64
		for _, h := range given[int32(ai)] {
			v += h.weight()
		}
		name := d.str(acc.id)
		add(&acc.items, "strangers_came", kTransfer, r.StrangersCame, float64(n)+v, func() (string, string) {
			en := fmt.Sprintf("account %s: %d different people not on the account came to the desk for %d of its bookings within %s and were turned away (the ID card was not the booked patient's); a family books for its own people, and one of them picked by mistake is on the account — a stranger holding the booking was sold or given it", name, n, n, wWin)
			zh := fmt.Sprintf("账号 %s 在 %s内有 %d 位不在该账号就诊人名单上的人持本人证件来取该账号的 %d 个号，因证件与预约人不符被拒；家庭只为自家人挂号，选错的家人也在名单上——拿着别人号来的陌生人是买了或被转了号的", name, wWinZH, n, n)
			if v > 0 {
				en += fmt.Sprintf("; with the slots it handed off at the second (%g counted), %g slots passed on", v, float64(n)+v)
				zh += fmt.Sprintf("；加上倒号转出的号（计 %g 个），共转出 %g 个号", v, float64(n)+v)
			}
			return en, zh
		})
	}
	for _, k := range sortedPairs(pairs) {
		hs := pairs[k]
		if len(hs) < 2 {
			continue
		}
		// The same two accounts meeting at the second twice is no chance,
		// on any session. One account swapping its own patients counts
		// scarce sessions in full and others by half, like hand-offs given:
		// a family corrects a booking now and then — for a member it has;
		// a swap to a person put on after the slot was booked counts in
		// full (swapValue).
		v, forBuyers := float64(len(hs)), 0
		if k[0] == k[1] {
			v, forBuyers = d.swapValue(d.accounts[k[0]], hs)
		}
		s := r.HandoffPair.score(v)
		if s <= 0 {
			continue
		}
		g, rc := d.accounts[k[0]], d.accounts[k[1]]
		en := fmt.Sprintf("account %s cancelled and account %s booked the same slot within %s, %d times (%s)", d.str(g.id), d.str(rc.id), wEN, len(hs), d.handoffExamples(hs))
		zh := fmt.Sprintf("账号 %s 取消、账号 %s 在 %s内约走同一个号，共 %d 次（%s）", d.str(g.id), d.str(rc.id), wZH, len(hs), d.handoffExamplesZH(hs))
		if k[0] == k[1] {
			en = fmt.Sprintf("account %s cancelled a booking and booked the same slot for another patient within %s, %d times (%s)", d.str(g.id), wEN, len(hs), d.handoffExamples(hs))
			zh = fmt.Sprintf("账号 %s 取消一个预约后在 %s内为另一位就诊人约回同一个号，共 %d 次（%s）", d.str(g.id), wZH, len(hs), d.handoffExamplesZH(hs))
			if forBuyers > 0 {
				en += fmt.Sprintf("; %d of them for different patients put on the account only for the slot, after it was booked (a buyer's ID), each counted in full; a family corrects a booking for a member it already has", forBuyers)
				zh += fmt.Sprintf("；其中 %d 次约给了在抢到该号之后才添加到账号上的不同就诊人（买号人的身份证），每次全额计算；家庭改约的是本来就在账号上的家人", forBuyers)
			}
		}
		it := item{signal: "handoff_pair", kind: kTransfer, value: v, score: s, alone: true, en: en, zh: zh}
		g.items = append(g.items, it)
		if k[0] != k[1] && d.receivedForBuyers(rc, hs) {
			rc.items = append(rc.items, it)
			d.pairs = append(d.pairs, k)
		}
	}
}

// receivedForBuyers tells an accomplice from a repeat customer: an
// accomplice's account takes the slots for people put on it after the
// seller had the slot, or shortly before the hand-off (the buyers' IDs); a
// family that bought from the same seller twice takes them for its own
// members.
func (d *detector) receivedForBuyers(rc *account, hs []handoff) bool {
	fresh := 0
	for _, h := range hs {
		if d.forBuyer(rc, h) {
			fresh++
		}
	}
	return 2*fresh >= len(hs)
}

// forBuyer says whether the receiver rc took hand-off h for a person put on
// it for the slot: after the giver had booked it, or shortly before the
// hand-off — a buyer's ID, not a member the account already had.
func (d *detector) forBuyer(rc *account, h handoff) bool {
	t, ok := d.firstAdded(rc, h.rPerson)
	return ok && h.at >= t && (t >= h.booked || h.at-t <= ns(d.cfg.FreshWithin))
}

// firstAdded is when person p was first put on account a.
func (d *detector) firstAdded(a *account, p sym) (int64, bool) {
	if d.addedAt == nil {
		d.addedAt = map[*account]map[sym]int64{}
	}
	at, ok := d.addedAt[a]
	if !ok {
		at = make(map[sym]int64, len(a.added))
		for _, x := range a.added {
			if _, ok := at[x.key]; !ok {
				at[x.key] = x.ts
			}
		}
		d.addedAt[a] = at
	}
	t, ok := at[p]
	return t, ok
}

func (d *detector) handoffExamples(hs []handoff) string {
	var ex []string
	for _, h := range hs[:min(3, len(hs))] {
		ex = append(ex, fmt.Sprintf("session %s at %s, rebooked %s later", d.str(d.sessions[h.sess].id),
			time.Unix(0, h.at).UTC().Format(time.RFC3339), ms(time.Duration(h.gap))))
	}
	if len(hs) > 3 {
		ex = append(ex, fmt.Sprintf("and %d more", len(hs)-3))
	}
	return strings.Join(ex, "; ")
}

func (d *detector) handoffExamplesZH(hs []handoff) string {
	var ex []string
	for _, h := range hs[:min(3, len(hs))] {
		ex = append(ex, fmt.Sprintf("出诊 %s，%s 取消，%s 后被约走", d.str(d.sessions[h.sess].id),
			time.Unix(0, h.at).UTC().Format(time.RFC3339), msZH(time.Duration(h.gap))))
	}
	if len(hs) > 3 {
		ex = append(ex, fmt.Sprintf("另有 %d 次", len(hs)-3))
	}
	return strings.Join(ex, "；")
}

// insiders finds staff members who book, enter in a draw or reissue for
// the same persons again and again. A reissue that names the person who lost the slot (their
// no-show or cancellation of the session came first, as the service writes
// it) is not a favour to them; one that names anyone else is. Referral
// bookings do not count as favours: a referrer books for the same residents
// every week by design.
func (d *detector) insiders() {
	cfg, r := d.cfg, d.cfg.Rules
	lastReissue := map[[2]sym]int64{} // (staff, session) → its latest reissue or extra slots
	lost := map[[2]sym]bool{}         // (session, person) whose booking was cancelled or not used
	entered := map[sym]bool{}         // draw entries staff made: a won entry's booking takes its id
	for i := range d.evs {
		e := &d.evs[i]
		if e.person != 0 && e.sess != 0 && (e.typ == tNoShow || e.typ == tCancelled) {
			lost[[2]sym{e.sess, e.person}] = true
		}
		if e.staff == 0 {
			continue
		}
		s := d.staffMember(e.staff)
		switch e.typ {
		case tReissued:
			lastReissue[[2]sym{e.staff, e.sess}] = e.ts
			if e.person != 0 && !lost[[2]sym{e.sess, e.person}] {
				s.acts = append(s.acts, staffAct{e.ts, e.person, true})
			}
		case tEntered:
			// A staff member's draw entry for a person is a favour as a
			// booking is (review23 H3: an operator put 30 into a 2-slot
			// draw); the booking the draw makes of it is the same one.
			if e.person == 0 || e.marks&cReferral != 0 {
				continue
			}
			if e.bk != 0 {
				entered[e.bk] = true
			}
			s.acts = append(s.acts, staffAct{e.ts, e.person, false})
		case tBooked:
			if e.person == 0 || (e.bk != 0 && entered[e.bk]) {
				continue
			}
			// One reissue gives one slot: the first booking that follows it.
			k := [2]sym{e.staff, e.sess}
			t, ok := lastReissue[k]
			follows := ok && e.sess != 0 && e.ts-t <= ns(cfg.InsiderFollow)
			if follows {
				delete(lastReissue, k)
			}
			if e.marks&cReferral != 0 && !follows {
				continue
			}
			s.acts = append(s.acts, staffAct{e.ts, e.person, follows})
		}
	}
	w := ns(cfg.Window)
	wEN, wZH := span(cfg.Window.D())
	for _, s := range d.staff {
		byPerson := map[sym][]staffAct{}
		for _, a := range s.acts {
			byPerson[a.person] = append(byPerson[a.person], a)
		}
		for _, p := range sortedKeys(byPerson) {
			var all, re []int64
			for _, a := range byPerson[p] {
				all = append(all, a.ts)
				if a.reissue {
					re = append(re, a.ts)
				}
			}
			n, nr := maxWithin(all, w), maxWithin(re, w)
			if n >= cfg.InsiderRepeat || nr >= cfg.InsiderReissueRepeat {
				s.favours = append(s.favours, favour{p, n, nr})
			}
		}
		// A person given more returned or extra slots than a course of
		// treatment needs counts twice.
		value, many := 0, 0
		for _, f := range s.favours {
			value++
			if cfg.InsiderReissueAlone > 0 && f.viaRe >= cfg.InsiderReissueAlone {
				value++
				many++
			}
		}
		sc := r.Insider.score(float64(value))
		if sc <= 0 {
			s.favours = nil // not enough to link the clerk to anyone
			continue
		}
		fs := slices.Clone(s.favours)
		slices.SortStableFunc(fs, func(a, b favour) int { return b.n - a.n })
		var en, zh []string
		for _, f := range fs[:min(len(fs), 5)] {
			en = append(en, fmt.Sprintf("%s ×%d, %d via reissue or extra slots", d.str(f.person), f.n, f.viaRe))
			zh = append(zh, fmt.Sprintf("%s %d 次，其中 %d 次通过退号重发或加号", d.str(f.person), f.n, f.viaRe))
		}
		if len(fs) > 5 {
			en = append(en, fmt.Sprintf("and %d more", len(fs)-5))
			zh = append(zh, fmt.Sprintf("另有 %d 人", len(fs)-5))
		}
		var manyEN, manyZH string
		if many > 0 {
			manyEN = fmt.Sprintf("; %d of them got %d or more returned or extra slots from this one clerk, more than a patient in a course of treatment, seen weekly at most (4–5 a month), can need, and each counts twice",
				many, cfg.InsiderReissueAlone)
			manyZH = fmt.Sprintf("；其中 %d 人从这一位工作人员处得到 %d 个以上的退号重发或加号，超过复诊患者所需（最多每周一次，每月 4–5 次），每人按 2 人计",
				many, cfg.InsiderReissueAlone)
		}
		s.item = &item{signal: "insider", kind: kInsider, value: float64(value), score: sc, alone: true,
			en: fmt.Sprintf("staff %s booked or reissued slots for the same %d persons again and again within %s (%s)%s; a clerk serves hundreds of different people",
				d.str(s.id), len(fs), wEN, strings.Join(en, ", "), manyEN),
			zh: fmt.Sprintf("工作人员 %s 在 %s内反复为同样的 %d 人预约或重发号源（%s）%s；窗口人员每天服务的是成百上千的不同患者",
				d.str(s.id), wZH, len(fs), strings.Join(zh, "，"), manyZH)}
	}
}

func sortedPairs[V any](m map[[2]int32]V) [][2]int32 {
	ks := make([][2]int32, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b [2]int32) int {
		if a[0] != b[0] {
			return int(a[0] - b[0])
		}
		return int(a[1] - b[1])
	})
	return ks
}

// handoffGivers maps each receiver of hand-offs to its distinct givers (an
// account's own swaps left out), worked out once for every signal that
// asks.
func (d *detector) handoffGivers() map[int32]map[int32]bool {
	if d.givers != nil {
		return d.givers
	}
	d.givers = map[int32]map[int32]bool{}
	for _, h := range d.handoffs {
		if h.giver == h.receiver {
			continue
		}
		if d.givers[h.receiver] == nil {
			d.givers[h.receiver] = map[int32]bool{}
		}
		d.givers[h.receiver][h.giver] = true
	}
	return d.givers
}

// watcher says whether account a took the returned slots of WatcherGivers
// different accounts or more: a return watcher, whose takes say nothing
// against the people who cancelled.
func (d *detector) watcher(a int32) bool { return len(d.handoffGivers()[a]) >= d.cfg.WatcherGivers }
