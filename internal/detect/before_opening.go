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
	var early []attempt // reused: few accounts click before an opening
	for _, a := range d.accounts {
		early = early[:0]
		for _, x := range a.attempts {
			if x.key == 0 {
				continue
			}
			si := d.sessOf[x.key]
			if si < 0 || d.sessions[si].relGuessed || d.sessions[si].rel == 0 || x.ts >= d.sessions[si].rel {
				continue
			}
			early = append(early, x)
		}
		if len(early) == 0 {
			continue
		}
		// By session, in time order within each (attempts come in time
		// order): then a two-pointer window over each run.
		slices.SortStableFunc(early, func(x, y attempt) int { return int(x.key) - int(y.key) })
		best, bestSess := 0, sym(0)
		for i := 0; i < len(early); {
			j, lo := i, i
			for ; j < len(early) && early[j].key == early[i].key; j++ {
				for early[j].ts-early[lo].ts > w {
					lo++
				}
				if n := j - lo + 1; n > best {
					best, bestSess = n, early[i].key
				}
			}
			i = j
		}
		en, zh := span(d.cfg.RetryWindow.D())
		name := d.str(a.id)
		add(&a.items, "before_opening", kAutomation, r, float64(best), func() (string, string) {
			return fmt.Sprintf("account %s tried session %s %d times within %s before it opened; a person who sees the countdown clicks once or twice and waits", name, d.str(bestSess), best, en),
				fmt.Sprintf("账号 %s 在出诊 %s 放号前的 %s内尝试预约 %d 次；人看到倒计时点一两下就会等待", name, d.str(bestSess), zh, best)
		})
	}
}
