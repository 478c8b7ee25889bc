package detect

import (
	"fmt"
	"slices"
)

// Hand-offs inside one operation. A slot that one account cancels and
// another account on the same handset or phone number books within the
// minute, for a person put on the taker only for it, went from one
// operator's account to a buyer's ID through a second account of the same
// operator: the accomplice that delivers it. A family on one tablet passes
// a slot among its own people, who were on its accounts already; a buyer
// who books a seller's slot does it from a handset of their own. The
// taker's side of a hand-off between strangers stays unscored (a buyer, a
// victim, a stranger who looked at the right second: "Hand-offs and their
// direction"); the giver's side is handoff_given, as for any hand-off.

// linkedHandoffs scores the takers of hand-offs from accounts they share a
// handset or number with (not a hub, not a shared terminal), for people
// put on them for the slot (handoff_linked). One pass over the hand-offs;
// each pair of accounts looks up the giver's handsets and numbers (binary
// search in each one's sorted accounts) once.
func (d *detector) linkedHandoffs() {
	type take struct {
		h   handoff
		via int32 // the handset or number they share
	}
	taken := map[int32][]take{}
	shared := map[[2]int32]int32{} // (giver, receiver) → sharedAttr, asked once a pair
	for _, h := range d.handoffs {
		if h.giver == h.receiver || !d.forBuyer(d.accounts[h.receiver], h) {
			continue
		}
		k := [2]int32{h.giver, h.receiver}
		via, ok := shared[k]
		if !ok {
			via = d.sharedAttr(d.accounts[h.giver], h.receiver)
			shared[k] = via
		}
		if via >= 0 {
			taken[h.receiver] = append(taken[h.receiver], take{h, via})
		}
	}
	r := d.cfg.Rules
	wEN, wZH := span(d.cfg.HandoffWindow.D())
	fEN, fZH := span(d.cfg.FreshWithin.D())
	for _, a := range sortedKeys(taken) {
		ts := taken[a]
		hs := make([]handoff, len(ts))
		for i, t := range ts {
			hs[i] = t.h
		}
		acc, first := d.accounts[a], ts[0]
		name, giver := d.str(acc.id), d.str(d.accounts[first.h.giver].id)
		x := d.attrs[first.via]
		kindZH := map[string]string{"device": "设备", "phone": "手机号"}[x.kind]
		slots := "slots"
		if len(ts) == 1 {
			slots = "slot"
		}
		add(&acc.items, "handoff_linked", kTransfer, r.HandoffLinked, float64(len(ts)), func() (string, string) {
			return fmt.Sprintf("account %s took %d %s within %s of its cancellation by an account it shares a handset or number with (account %s, %s %s), each for a patient put on it only for the slot — after the other account booked it, or within %s before (%s); a family on one tablet passes a slot among the people it already has, a seller's second account delivers it to a buyer's ID",
					name, len(ts), slots, wEN, giver, x.kind, d.str(x.id), fEN, d.handoffExamples(hs)),
				fmt.Sprintf("账号 %s 有 %d 个号是与其共用手机或号码的账号（账号 %s，%s %s）取消后 %s内约走的，每次都约给为这个号才添加的就诊人——在对方抢到该号之后、或约号前 %s内才添加（%s）；一家人共用平板时只会在已有的家人之间改约，号贩子的第二个账号则把号转给买号人的身份证",
					name, len(ts), giver, kindZH, d.str(x.id), wZH, fZH, d.handoffExamplesZH(hs))
		})
	}
}

// sharedAttr is a handset or number of the giver that the receiver used
// too and that links accounts (not a hub, not a shared terminal); -1 when
// there is none.
func (d *detector) sharedAttr(giver *account, receiver int32) int32 {
	for _, xi := range giver.attrs {
		x := d.attrs[xi]
		if x.hub || x.terminal {
			continue
		}
		if _, ok := slices.BinarySearch(x.accounts, receiver); ok {
			return xi
		}
	}
	return -1
}

// swapValue weighs one account's swaps of its own patients — a booking
// cancelled and the same slot booked within the minute for another of its
// people. A swap to a person put on the account after the slot was booked
// (the name did not exist there when the slot was won: a buyer's ID)
// counts in full, once a person; a correction to a member the family
// already had counts as hand-offs given do, scarce sessions in full and
// others by half. It returns the value and the swaps for such people.
func (d *detector) swapValue(a *account, hs []handoff) (float64, int) {
	var v float64
	n := 0
	seen := map[sym]bool{}
	for _, h := range hs {
		if t, ok := d.firstAdded(a, h.rPerson); ok && t >= h.booked && t <= h.at && !seen[h.rPerson] {
			seen[h.rPerson] = true
			v++
			n++
			continue
		}
		v += h.weight()
	}
	return v, n
}
