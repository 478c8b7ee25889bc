package detect

import (
	"cmp"
	"fmt"
	"slices"
)

// Other people's patients, booked and never used. A squatter puts real
// people on its account — patients of the experts it sells, with accounts
// of their own — and books for them what it means to sell: the slot is
// passed on to a buyer, cancelled unsold or left to lapse, and the person
// it names goes on with their own account, on their own handset. A family
// books for its own people, who use what it books; a relative with an
// account of their own is on the family's handset or number (set up by a
// son or daughter) or, when not, one or two parents at most (the kin
// booker of docs/detection.md's genuine people).
//
// othersPatients counts, for an account none of whose bookings was ever
// used, the people whose settled bookings on it went unused by its doing
// (cancelled by it, missed or lapsed) and who are also on an account it
// shares no handset or number with (not a hub, not a shared terminal: any
// account on those is unrelated). A person who disowned what it made —
// ended it from their own account, or was kept out by it — is counted
// here only while ended_by_person does not fire (fewer than its bar of
// people disowned it): then their word is one kind's evidence, and not
// two's. Three who disowned it are ended_by_person's and not counted again.
// Kind non_use: slots taken and not used, for people who are demonstrably
// somebody else's patients. Three people, because a son or daughter may
// book for both parents and then give the bookings back.
func (d *detector) othersPatients() {
	if d.checkIns == 0 {
		return
	}
	r, w := d.cfg.Rules.OthersPatients, ns(d.cfg.Window)
	wEN, wZH := span(d.cfg.Window.D())
	shares := map[[2]int32]bool{} // (account, other) → they share a handset or number
	for ai, a := range d.accounts {
		var xs []stamp
		used := false
		for _, bi := range a.bookings {
			b := &d.bookings[bi]
			if b.used() {
				used = true
				break
			}
			if b.person == 0 || b.sess < 0 || !d.sessions[b.sess].over || !b.wasted() || d.disowned[[2]int32{b.person, int32(ai)}] {
				continue
			}
			xs = append(xs, stamp{b.ts, b.person})
		}
		if used {
			continue
		}
		// The people who disowned it are on accounts of their own (the
		// one they ended it or were refused from): somebody else's
		// patients as surely as those who never noticed. Too few to be
		// ended_by_person's evidence, they count here instead — each
		// person's word once, in one kind (the detect20 round).
		if n := distinctPersons(a.endedBy); n > 0 && float64(n) < d.cfg.Rules.EndedByPerson.Min {
			xs = append(xs, a.endedBy...)
			slices.SortFunc(xs, func(x, y stamp) int { return cmp.Compare(x.ts, y.ts) })
		}
		if distinctPersons(xs) < int(r.Min) {
			continue
		}
		var others []stamp
		for _, x := range xs {
			for _, o := range d.personAccounts[x.key] {
				if o == int32(ai) {
					continue
				}
				k := [2]int32{int32(ai), o}
				s, ok := shares[k]
				if !ok {
					s = d.sharedAttr(a, o) >= 0
					shares[k] = s
				}
				if !s {
					others = append(others, x)
					break
				}
			}
		}
		if len(others) == 0 {
			continue
		}
		n, name := maxDistinct(others, w), d.str(a.id)
		add(&a.items, "others_patients", kNonUse, r, float64(n), func() (string, string) {
			return fmt.Sprintf("account %s: nothing it booked was ever used, and %d of the people it booked within %s, whose slots it gave back, missed or let lapse — or who undid it themselves, too few to count on their own — are on other accounts it shares no handset or number with — somebody else's patients; a family's people use what it books, and a relative with an account of their own is on the family's phone, or one of two parents",
					name, n, wEN),
				fmt.Sprintf("账号 %s 约的号从未有人使用，它在 %s内预约的就诊人中有 %d 位（号被它退掉、爽约或过期，或由本人自己取消、自己预约时被它挡住——人数不足以单独计算）同时挂在与它不共用手机或号码的其他账号上——是别人的就诊人；家人会用家里约的号，有自己账号的亲属一般在家里的手机上，或最多是两位父母",
					name, wZH, n)
		})
	}
}
