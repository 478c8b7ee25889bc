package detect

import (
	"fmt"
	"slices"
)

// beforeOpening counts an account's attempts at a session before its
// release, within RetryWindow, for whichever of its people: the most at one
// session (before_opening, automation). Until a session opens, nobody can
// book anybody, and every click is the same refusal (not_released); a
// person who sees the countdown clicks once or twice and waits for it. A
// script fires at the closed door so as to be first through it. The bar is
// retry_storm's — what a person does at a door that stays shut — counted
// for the account and not for each of its people, because a closed session
// is closed for all of them alike. A stream that names no release time says
// nothing.
func (d *detector) beforeOpening() {
	r, w := d.cfg.Rules.BeforeOpening, ns(d.cfg.RetryWindow)
	if r.Weight <= 0 {
		return
	}
	for _, a := range d.accounts {
		var early map[sym][]int64
		for _, x := range a.attempts {
			if x.key == 0 {
				continue
			}
			si := d.sessOf[x.key]
			if si < 0 || d.sessions[si].relGuessed || d.sessions[si].rel == 0 || x.ts >= d.sessions[si].rel {
				continue
			}
			if early == nil {
				early = map[sym][]int64{}
			}
			early[x.key] = append(early[x.key], x.ts)
		}
		if len(early) == 0 {
			continue
		}
		best, bestSess := 0, sym(0)
		for _, s := range slices.Sorted(func(yield func(sym) bool) {
			for k := range early {
				if !yield(k) {
					return
				}
			}
		}) {
			if n := maxWithin(early[s], w); n > best {
				best, bestSess = n, s
			}
		}
		en, zh := span(d.cfg.RetryWindow.D())
		name := d.str(a.id)
		add(&a.items, "before_opening", kAutomation, r, float64(best), func() (string, string) {
			return fmt.Sprintf("account %s tried session %s %d times within %s before it opened; a person who sees the countdown clicks once or twice and waits", name, d.str(bestSess), best, en),
				fmt.Sprintf("账号 %s 在出诊 %s 放号前的 %s内尝试预约 %d 次；人看到倒计时点一两下就会等待", name, d.str(bestSess), zh, best)
		})
	}
}
