package detect

import (
	"fmt"
	"slices"
	"strings"
)

// unseenPassedOn is the transfer side of a thin fake-ID account: the slots
// of an account none of whose people ever came that ended with somebody
// else. A fake ID cannot be shown at a desk, so a seller holding a slot
// under one has two ways to sell it: cancel it at the agreed second while
// the buyer books it (a hand-off), or sell it as it stands and let the
// buyer be turned away at the desk (a stranger came). A family that never
// came at all — on a trip, ill, moved away — gives its slots back: it has
// nobody to give them to at the second. (A friend it gave one booking to
// would be turned away at the desk too: that family is flagged only if it
// also gave back three bookings for two people, nobody ever seen — see
// docs/detection.md, "Limits".)
//
// It counts, for an account none of whose people ever came (no check-in
// anywhere, of any person it named) and none of whose bookings was used:
// the strangers turned away at the desk for its bookings (each person and
// each booking once, as strangers_came counts them) plus its hand-offs as
// handoff_given weighs them (a slot of the scarcest sessions in full,
// another by half: a slot nobody is short of is rebooked within seconds by
// chance), leaving out the slots a return watcher took and a cancellation
// that was one of several within BulkWindow — a family giving back a trip's
// bookings in one sitting, one of which somebody happened to book within
// the minute. One scarce slot passed on, or one stranger, fires it: the
// rule still wants a second kind of evidence (never_seen's nothing used for
// two people, or races for names never seen), so a never-seen family whose
// one cancelled slot somebody took at once is not flagged by it alone.
func (d *detector) unseenPassedOn() {
	if d.checkIns == 0 {
		return
	}
	cfg, r := d.cfg, d.cfg.Rules
	passed := map[int32]float64{} // giver → its hand-offs, weighed
	nPassed := map[int32]int{}
	for _, h := range d.handoffs {
		// A return watcher's take says nothing against who cancelled.
		if h.giver == h.receiver || d.watcher(h.receiver) {
			continue
		}
		if d.inBulk(d.accounts[h.giver].cancels, h.at) {
			continue
		}
		passed[h.giver] += h.weight()
		nPassed[h.giver]++
	}
	w := ns(cfg.Window)
	wEN, wZH := span(cfg.Window.D())
	hEN, hZH := span(cfg.HandoffWindow.D())
	type cand struct {
		ai   int32
		v    float64
		n    int
		none bool // none of its people ever came, anywhere
	}
	var cands []cand
	want := map[sym][]int32{} // a person of a candidate who came → the accounts whose bookings they came for
	for ai, a := range d.accounts {
		v, n := passed[int32(ai)], strangersCame(a.strangers, w)
		if (v == 0 && n == 0) || d.anyUsed(a) {
			continue
		}
		none := true
		for _, p := range a.persons {
			if d.came[p.key] {
				none = false
				want[p.key] = nil
			}
		}
		cands = append(cands, cand{int32(ai), v, n, none})
	}
	d.cameThrough(want)
	for _, c := range cands {
		a := d.accounts[c.ai]
		if !c.none && !d.onlyElsewhere(a, c.ai, want, minElsewhere(a)) {
			continue
		}
		v, n := c.v, c.n
		name, nh := d.str(a.id), nPassed[c.ai]
		add(&a.items, "unseen_passed_on", kTransfer, r.UnseenPassedOn, v+float64(n), func() (string, string) {
			var en, zh []string
			if nh > 0 {
				en = append(en, fmt.Sprintf("%d of its slots were taken by another account within %s of its cancellation (%g counted: a slot of the scarcest sessions in full, another by half)", nh, hEN, v))
				zh = append(zh, fmt.Sprintf("有 %d 个号在它取消后 %s内被另一账号约走（计 %g 个：最紧俏的号计 1 个，其他计半个）", nh, hZH, v))
			}
			if n > 0 {
				en = append(en, fmt.Sprintf("%d people not on it came to the desk with its bookings within %s and were turned away", n, wEN))
				zh = append(zh, fmt.Sprintf("有 %d 位不在该账号名单上的人在 %s内拿着它的号到窗口就诊被拒", n, wZH))
			}
			if !c.none {
				return fmt.Sprintf("account %s: nothing it booked was ever used, and those of its %d patients who came came only with bookings of accounts it shares no handset or number with — somebody else's patients — yet %s; a name that is not the account's own cannot be used through it, so its slots are sold by passing them on, while a family nobody came through has nobody to pass them to and gives them back",
						name, countPersons(a), strings.Join(en, ", and ")),
					fmt.Sprintf("账号 %s 约的号从未有人使用，它的 %d 位就诊人中来过的，都是拿着与它不共用手机或号码的其他账号约的号来的——是别人的就诊人——但%s；不是自家的人用不了它约的号，只能靠倒号或原号转卖把号卖出，没有人通过它来看病的家庭没有人可转，只会把号退掉",
						name, countPersons(a), strings.Join(zh, "，另"))
			}
			return fmt.Sprintf("account %s: none of the %d patients on it ever came, not once, on any account, and nothing it booked was used — yet %s; a fake ID cannot be shown at a desk, so its slots are sold by passing them on, while a family that never came has nobody to pass them to and gives them back",
					name, countPersons(a), strings.Join(en, ", and ")),
				fmt.Sprintf("账号 %s 上的 %d 位就诊人在任何账号下都从未到院就诊，约到的号也一个没用——但%s；假身份无法在窗口出示，只能靠倒号或原号转卖把号卖出，从未来过的家庭没有人可转，只会把号退掉",
					name, countPersons(a), strings.Join(zh, "，另"))
		})
	}
}

// anyUsed says whether any booking of the account was used.
func (d *detector) anyUsed(a *account) bool {
	for _, bi := range a.bookings {
		if d.bookings[bi].used() {
			return true
		}
	}
	return false
}

// cameThrough fills want, keyed by the persons asked about, with the
// accounts whose used bookings were theirs: one pass over the bookings.
func (d *detector) cameThrough(want map[sym][]int32) {
	if len(want) == 0 {
		return
	}
	for i := range d.bookings {
		b := &d.bookings[i]
		if !b.used() {
			continue
		}
		if l, ok := want[b.person]; ok && !slices.Contains(l, b.acct) {
			want[b.person] = append(l, b.acct)
		}
	}
}

// minElsewhere is how many of an account's people must have come, each
// only through somebody else's accounts, for unseen_passed_on to ask of
// it: two — one is a grandmother on her children's accounts — unless
// others_patients has already found three or more of its people to be
// patients of accounts it shares nothing with (the detect20 round): then
// the people who never came are somebody else's too, and one who came
// only elsewhere is enough to say nobody comes through it.
func minElsewhere(a *account) int {
	for _, it := range a.items {
		if it.signal == "others_patients" && it.score > 0 {
			return 1
		}
	}
	return 2
}

// onlyElsewhere says whether every person of a (account ai) who ever came
// came only for bookings of accounts a shares no handset or number with —
// somebody else's patients, never its own or its household's — and that
// at least `least` of them came. A person who came by a way the bookings
// do not show (a desk's or a phone operator's booking) came as far as it
// knows through a: false.
func (d *detector) onlyElsewhere(a *account, ai int32, via map[sym][]int32, least int) bool {
	seen := map[sym]bool{}
	for _, p := range a.persons {
		if !d.came[p.key] || seen[p.key] {
			continue
		}
		seen[p.key] = true
		l := via[p.key]
		if len(l) == 0 {
			return false
		}
		for _, o := range l {
			if o == ai || d.sharedAttr(a, o) >= 0 {
				return false
			}
		}
	}
	return len(seen) >= least
}

// inBulk says whether the cancellation at t was one of several the account
// made within BulkWindow of it (cancels: the account's, sorted by time, t
// among them).
func (d *detector) inBulk(cancels []int64, t int64) bool {
	bw := ns(d.cfg.BulkWindow)
	i, _ := slices.BinarySearch(cancels, t-bw)
	n := 0 // the cancellation at t is among them
	for ; i < len(cancels) && cancels[i] <= t+bw; i++ {
		n++
	}
	return n > 1
}
