package detect

import "fmt"

// Other people's identities (docs/detection.md, "Other people's
// identities"): the numbers the service refused to put on the account, and
// the people whose own verified account ended what the account made for
// them. Two witnesses a family never meets more than once or twice: the
// registry, which knows the number is somebody else's, and the person, who
// undid what was made in their name or tried to book it themselves.

// identities scores claims_refused and ended_by_person for every account.
func (d *detector) identities() {
	r := d.cfg.Rules
	for _, a := range d.accounts {
		if len(a.claims) > 0 {
			n := distinctPersons(a.claims)
			name, limited := d.str(a.id), a.claimsLimited
			add(&a.items, "claims_refused", kClaims, r.ClaimsRefused, float64(n), func() (string, string) {
				en := fmt.Sprintf("account %s was refused %d different ID numbers it tried to put on it — each already another account's own or under another verified name", name, n)
				zh := fmt.Sprintf("账号 %s 添加就诊人时有 %d 个不同的身份证号被拒绝——已是其他账号本人，或与核实过的姓名不符", name, n)
				if limited > 0 {
					en += fmt.Sprintf(", and %d more additions were turned away past the day's limit", limited)
					zh += fmt.Sprintf("，另有 %d 次因超过当日上限被拒", limited)
				}
				return en + "; a family meets one or two (a typo, a person's older account)",
					zh + "；一家人最多遇到一两次（输错、本人的旧账号）"
			})
		}
		if len(a.endedBy) > 0 {
			n := distinctPersons(a.endedBy)
			name := d.str(a.id)
			add(&a.items, "ended_by_person", kDisowned, r.EndedByPerson, float64(n), func() (string, string) {
				return fmt.Sprintf("account %s: %d different people cancelled from their own accounts what it had booked for them, or were refused booking it themselves because it held it; a family books for people who asked it to, two parents at most", name, n),
					fmt.Sprintf("账号 %s 为 %d 位不同的人办理的预约被其本人从自己的账号取消，或本人自己预约时因该账号已占而被拒；家人只替请自己办理的人预约，最多两位父母", name, n)
			})
		}
	}
}

// distinctPersons counts the distinct persons of xs, leaving out 0 (a
// stream that does not name them).
func distinctPersons(xs []stamp) int {
	seen := make(map[sym]bool, len(xs))
	for _, x := range xs {
		if x.key != 0 {
			seen[x.key] = true
		}
	}
	return len(seen)
}
