package detect

import (
	"fmt"
	"slices"
)

// scarceForMany is the targeting side of an account, or a group of
// accounts, that names more people than a family holds: the scarcest
// sessions it tried (booked or refused) within the window, when they are at
// least half of the sessions it ever tried. A carer's or a nursing home's
// residents see the doctors their illnesses need, most of them ordinary
// ones, booked hours after release; a farm's real IDs are put on whatever
// sells, the famous experts, and tried for again after they sold out. Many
// people is scale, most of them at the scarcest sessions is targeting: the
// two are different questions, and neither flags alone.
//
// The person bar is the scale signals' own (an account: more than the five
// the quota allows; a group: more than three accounts of one family hold),
// so a family, a household and a kiosk are never asked.
func (d *detector) scarceForMany(members []int32) []item {
	r := d.cfg.Rules
	w := ns(d.cfg.Window)
	bar := r.PersonsPerAccount.Min
	if len(members) > 1 {
		bar = r.PersonsPerGroup.Min
	}
	if bar <= 0 {
		return nil
	}
	total, named := 0, 0
	for _, a := range members {
		total += len(d.accounts[a].attempts)
		named += len(d.accounts[a].persons)
	}
	if total == 0 || float64(named) < bar {
		return nil
	}
	// Few accounts name as many people as that: count them once, in a
	// map kept for the purpose, before anything is built.
	if d.seenPersons == nil {
		d.seenPersons = map[sym]struct{}{}
	}
	clear(d.seenPersons)
	for _, a := range members {
		for _, p := range d.accounts[a].persons {
			d.seenPersons[p.key] = struct{}{}
		}
	}
	if float64(len(d.seenPersons)) < bar {
		return nil
	}
	persons := d.accounts[members[0]].persons
	if len(members) > 1 {
		persons = make([]stamp, 0, named)
		for _, a := range members {
			persons = append(persons, d.accounts[a].persons...)
		}
		slices.SortStableFunc(persons, func(a, b stamp) int { return cmpInt64(a.ts, b.ts) })
	}
	n := maxDistinct(persons, w)
	if float64(n) < bar {
		return nil
	}
	tried := make(map[sym]bool, total)
	nScarce := 0
	var scarce []stamp
	for _, a := range members {
		for _, x := range d.accounts[a].attempts {
			if x.key == 0 || tried[x.key] {
				continue
			}
			tried[x.key] = true
			if si := d.sessOf[x.key]; si >= 0 && d.sessions[si].scarce {
				nScarce++
				scarce = append(scarce, stamp{x.ts, x.key})
			}
		}
	}
	if nScarce == 0 || 2*nScarce < len(tried) {
		return nil
	}
	slices.SortStableFunc(scarce, func(a, b stamp) int { return cmpInt64(a.ts, b.ts) })
	m := maxDistinct(scarce, w)
	share := 100 * nScarce / len(tried)
	wEN, wZH := span(d.cfg.Window.D())
	var out []item
	add(&out, "scarce_for_many", kTargeting, r.ScarceForMany, float64(m), func() (string, string) {
		who, whoZH := "account "+d.str(d.accounts[members[0]].id), "账号 "+d.str(d.accounts[members[0]].id)
		if len(members) > 1 {
			who, whoZH = fmt.Sprintf("the group's %d accounts", len(members)), fmt.Sprintf("该组 %d 个账号", len(members))
		}
		return fmt.Sprintf("%s named %d different patients within %s and tried %d of the scarcest sessions within %s, %d%% of the %d sessions it ever tried; a carer's residents see the doctors their illnesses need, most of them ordinary ones, while a seller's IDs go where the slots sell", who, n, wEN, m, wEN, share, len(tried)),
			fmt.Sprintf("%s在 %s内出现 %d 位不同的就诊人，并在 %s内抢约或预约了 %d 个最紧俏的号源，占其尝试过的 %d 个号源的 %d%%；护工为老人挂的多是看病需要的普通号，号贩子的身份证则用在最好卖的号上", whoZH, wZH, n, wZH, m, len(tried), share)
	})
	return out
}
