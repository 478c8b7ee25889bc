package detect

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Kinds of evidence. A signal belongs to one kind; a score adds the
// strongest signal of each kind, each kind at most KindCap, so that one kind
// alone never reaches the threshold (docs/detection.md, "The rule").
const (
	kAutomation = "automation" // what a person at a keyboard cannot do
	kScale      = "scale"      // more people or bookings than a family has
	kTargeting  = "targeting"  // the scarcest sessions, again and again
	kNonUse     = "non_use"    // slots taken and not used
	kTransfer   = "transfer"   // slots passed on to other people
	kEvasion    = "evasion"    // a new phone every day
	kInsider    = "insider"    // a clerk favouring the same people
	kClaims     = "claims"     // ID numbers that are other people's, refused when it tried them
	kDisowned   = "disowned"   // people who ended, from their own account, what it made for them
)

// item is one fired signal with its numbers, in English and Chinese.
type item struct {
	signal string
	kind   string
	value  float64
	score  float64
	alone  bool // a combination in itself: may reach the threshold on its own
	en, zh string
}

// add appends the item when rule makes value score.
// add appends the item when rule makes value score; text writes its
// sentences, in English and Chinese, only then.
func add(to *[]item, signal, kind string, r Rule, value float64, text func() (en, zh string)) {
	if s := r.score(value); s > 0 {
		en, zh := text()
		*to = append(*to, item{signal: signal, kind: kind, value: value, score: s, en: en, zh: zh})
	}
}

// maxDistinct is the most distinct keys within any span of w (xs sorted by
// time).
func maxDistinct(xs []stamp, w int64) int {
	if len(xs) == 0 {
		return 0
	}
	count := make(map[sym]int, 8)
	best, lo := 0, 0
	for hi := range xs {
		count[xs[hi].key]++
		for xs[hi].ts-xs[lo].ts > w {
			if count[xs[lo].key]--; count[xs[lo].key] == 0 {
				delete(count, xs[lo].key)
			}
			lo++
		}
		best = max(best, len(count))
	}
	return best
}

// strangersCame is the most of an account's bookings that people not on
// the account came to the desk for within any span of w, each person
// counted once: one confused stranger turned away at three bookings is one
// (vs sorted by time; a visit naming nobody is a person of its own).
func strangersCame(vs []strangerVisit, w int64) int {
	bks, whos := map[sym]int{}, map[sym]int{}
	who := func(v strangerVisit) sym {
		if v.who != 0 {
			return v.who
		}
		return -1 - v.bk
	}
	drop := func(m map[sym]int, k sym) {
		if m[k]--; m[k] == 0 {
			delete(m, k)
		}
	}
	best, lo := 0, 0
	for hi := range vs {
		bks[vs[hi].bk]++
		whos[who(vs[hi])]++
		for vs[hi].ts-vs[lo].ts > w {
			drop(bks, vs[lo].bk)
			drop(whos, who(vs[lo]))
			lo++
		}
		best = max(best, min(len(bks), len(whos)))
	}
	return best
}

// maxWithin is the most timestamps within any span of w (ts sorted).
func maxWithin(ts []int64, w int64) int {
	best, lo := 0, 0
	for hi := range ts {
		for ts[hi]-ts[lo] > w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// span names a duration the way the reasons read ("30 days", "1 h").
func span(w time.Duration) (en, zh string) {
	switch {
	case w >= 24*time.Hour && w%(24*time.Hour) == 0:
		n := w / (24 * time.Hour)
		if n == 1 {
			return "1 day", "1 天"
		}
		return fmt.Sprintf("%d days", n), fmt.Sprintf("%d 天", n)
	case w >= time.Hour && w%time.Hour == 0:
		return fmt.Sprintf("%d h", w/time.Hour), fmt.Sprintf("%d 小时", w/time.Hour)
	case w >= time.Minute && w%time.Minute == 0:
		return fmt.Sprintf("%d min", w/time.Minute), fmt.Sprintf("%d 分钟", w/time.Minute)
	case w >= time.Second && w%time.Second == 0:
		return fmt.Sprintf("%d s", w/time.Second), fmt.Sprintf("%d 秒", w/time.Second)
	}
	return fmt.Sprintf("%d ms", w.Milliseconds()), fmt.Sprintf("%d 毫秒", w.Milliseconds())
}

// surprise is −log10 of the chance that n bookings, each wasted with
// probability p, waste k or more: 2 means once in a hundred. It is 0 when k
// is no more than expected.
func surprise(k, n int, p float64) float64 {
	if n <= 0 || float64(k) <= p*float64(n) {
		return 0
	}
	lp, lq := math.Log(p), math.Log(1-p)
	ln := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	var tail float64
	for i := k; i <= n; i++ {
		tail += math.Exp(ln(n) - ln(i) - ln(n-i) + float64(i)*lp + float64(n-i)*lq)
	}
	if tail <= 0 {
		return 300
	}
	// Rounded, so that 0.1² reads as 2 and not as 1.9999…
	return math.Round(-math.Log10(min(1, tail))*1e9) / 1e9
}

// odds writes a surprise as "100", "1,000"…
func odds(s float64) string {
	n := math.Pow(10, math.Floor(s))
	switch {
	case n >= 1e6:
		return "a million"
	case n >= 1000:
		return fmt.Sprintf("%.0f,000", n/1000)
	}
	return fmt.Sprintf("%.0f", n)
}

// oddsZH is odds for the Chinese sentences: digits, never English words.
func oddsZH(s float64) string {
	if math.Floor(s) >= 6 {
		return "1,000,000"
	}
	return odds(s)
}

func pct(a, b int) int {
	if b == 0 {
		return 0
	}
	return int(math.Round(100 * float64(a) / float64(b)))
}

// accountSignals computes the signals of each account on its own.
func (d *detector) accountSignals() {
	cfg, r := d.cfg, d.cfg.Rules
	w := ns(cfg.Window)
	wEN, wZH := span(cfg.Window.D())
	phantom, phantomRaces := d.phantoms()
	for ai, a := range d.accounts {
		name := d.str(a.id)
		to := &a.items

		// scale
		n := maxDistinct(a.persons, w)
		add(to, "persons_per_account", kScale, r.PersonsPerAccount, float64(n), func() (string, string) {
			return fmt.Sprintf("account %s named %d different patients within %s; a family has at most 5 (the per-account limit)", name, n, wEN),
				fmt.Sprintf("账号 %s 在 %s内出现 %d 位不同的就诊人；一个家庭最多 5 位（每个账号的上限）", name, wZH, n)
		})

		var all, raced, fast, scarceWon, unused []int64
		var scarcePersons []stamp
		var nScarceRaced, nResolved, nUsed, nMissed, nWasted, nScarceResolved, nScarceWasted int
		persons := map[sym][2]int{}  // person → (resolved, used)
		doctors := map[sym][]stamp{} // doctor → its scarce sessions booked
		for _, bi := range a.bookings {
			b := &d.bookings[bi]
			all = append(all, b.ts)
			scarce := d.scarce(b)
			if b.react >= 0 {
				raced = append(raced, b.ts)
				if b.react < ns(cfg.FastReaction) {
					fast = append(fast, b.ts)
				}
				if scarce {
					nScarceRaced++
				}
			}
			if scarce && !b.waitlist {
				scarceWon = append(scarceWon, b.ts)
				if b.doct != 0 {
					doctors[b.doct] = append(doctors[b.doct], stamp{b.ts, d.sessions[b.sess].id})
				}
			}
			// Settled are the bookings whose session is over: a
			// cancellation is known at once and a visit only afterwards,
			// so counting the cancellations of sessions still to come
			// would make any recent canceller look wasteful. A stream
			// with no check-in at all settles nothing by itself: there,
			// a booking nobody cancelled or missed counts as used.
			used := b.used()
			if d.checkIns == 0 {
				used = used || b.outcome == oOpen
			} else if b.sess < 0 || !d.sessions[b.sess].over {
				continue
			}
			if b.outcome == oHospital || b.outcome == oByPerson {
				continue
			}
			nResolved++
			p := persons[b.person]
			p[0]++
			if used {
				nUsed++
				p[1]++
			}
			persons[b.person] = p
			if b.missed() {
				nMissed++
			}
			if b.wasted() {
				nWasted++
				unused = append(unused, b.ts)
			}
			if scarce {
				nScarceResolved++
				if b.wasted() {
					nScarceWasted++
				}
			}
		}
		scarcePersons = d.scarceTries(a, scarcePersons)
		if n := maxDistinct(scarcePersons, w); n > 0 {
			add(to, "scarce_persons", kScale, r.ScarcePersons, float64(n), func() (string, string) {
				return fmt.Sprintf("account %s booked or tried to book the scarcest sessions for %d different patients within %s; a family rarely has more than two or three people who need the famous experts", name, n, wEN),
					fmt.Sprintf("账号 %s 在 %s内为 %d 位不同的就诊人预约或抢约最紧俏的号源；一个家庭需要看名专家的通常不超过两三人", name, wZH, n)
			})
		}
		// Buyers' IDs: a person put on the account shortly before their
		// first booking and booked once or twice, again and again. A
		// family's members stay; a new family books one or two of them
		// soon after joining.
		if len(a.added) > 0 {
			first, count := map[sym]int64{}, map[sym]int{}
			for _, bi := range a.bookings {
				b := &d.bookings[bi]
				if _, ok := first[b.person]; !ok {
					first[b.person] = b.ts
				}
				count[b.person]++
			}
			seen := map[sym]bool{}
			var fresh []int64
			for _, x := range a.added {
				if seen[x.key] {
					continue
				}
				seen[x.key] = true
				if f, ok := first[x.key]; ok && f >= x.ts && f-x.ts <= ns(cfg.FreshWithin) && count[x.key] <= 2 {
					fresh = append(fresh, f)
				}
			}
			slices.Sort(fresh)
			if n := maxWithin(fresh, w); n > 0 {
				fEN, fZH := span(cfg.FreshWithin.D())
				add(to, "fresh_persons", kScale, r.FreshPersons, float64(n), func() (string, string) {
					return fmt.Sprintf("account %s: %d patients were added within %s before their first booking and booked no more than twice, within %s; buyers' IDs come and go, a family's members stay", name, n, fEN, wEN),
						fmt.Sprintf("账号 %s 在 %s内有 %d 位就诊人是在首次预约前 %s内才添加、且只约过一两次；买号人的身份证来了又走，家庭成员是固定的", name, wZH, n, fZH)
				})
			}
		}
		if n := maxWithin(scarceWon, w); n > 0 {
			add(to, "scarce_won", kScale, r.ScarceWon, float64(n), func() (string, string) {
				return fmt.Sprintf("account %s won %d slots of the scarcest sessions within %s; a family's patients need a famous expert once a week at most",
						name, n, wEN),
					fmt.Sprintf("账号 %s 在 %s内抢到 %d 个最紧俏的号；一个家庭的患者看名专家最多每周一次", name, wZH, n)
			})
		}
		if n := d.heldAtOnce(a); n > 1 {
			add(to, "held_at_once", kScale, r.HeldAtOnce, float64(n), func() (string, string) {
				return fmt.Sprintf("account %s held %d bookings at the same time; a family holds a few, one or two for each person who needs a doctor", name, n),
					fmt.Sprintf("账号 %s 同时持有 %d 个有效预约；一个家庭同时持有的预约不多，每位需要看病的人一两个", name, n)
			})
		}
		// Slots taken and not used, counted: the harm a hoarder does to
		// other patients, whether it cancels them in bulk before the
		// deadline or lets them lapse. A family of five in its worst month
		// (a trip, an illness) gives back one or two a person, ten at most.
		// How unusual the share wasted is stays the other question
		// (wasted, non_use), asked apart: a busy family that gives back
		// many of many is not surprising there.
		if n := maxWithin(unused, w); n > 0 {
			add(to, "unused_slots", kScale, r.UnusedSlots, float64(n), func() (string, string) {
				return fmt.Sprintf("account %s took %d slots within %s that nobody used (cancelled, missed or lapsed); a family of five in its worst month (a trip, an illness) gives back one or two a person, ten at most", name, n, wEN),
					fmt.Sprintf("账号 %s 在 %s内占了 %d 个号却没有使用（取消、爽约或过期）；五口之家即使在最不顺的一个月（出行、生病）也只退掉每人一两个号，最多十个", name, wZH, n)
			})
		}
		if n := maxWithin(all, w); n > 0 {
			add(to, "booking_volume", kScale, r.Volume, float64(n), func() (string, string) {
				return fmt.Sprintf("account %s made %d bookings within %s", name, n, wEN),
					fmt.Sprintf("账号 %s 在 %s内预约 %d 次", name, wZH, n)
			})
		}

		// targeting: the scarcest sessions it raced for at release, won or
		// refused — a seller who loses the race tries again the next day.
		var racedScarce, racedAny []stamp
		racedAll, racedScarceN, attempted := map[int32]bool{}, map[int32]bool{}, map[int32]bool{}
		for _, x := range a.attempts {
			si := int32(-1)
			if x.key != 0 {
				si = d.sessOf[x.key]
			}
			if si < 0 {
				continue
			}
			attempted[si] = true
			s := d.sessions[si]
			if s.rel == 0 || x.ts < s.rel-ns(cfg.RaceBefore) || x.ts > s.rel+ns(cfg.RaceAfter) || racedAll[si] {
				continue
			}
			racedAll[si] = true
			racedAny = append(racedAny, stamp{x.ts, s.id})
			if s.scarce {
				racedScarceN[si] = true
				racedScarce = append(racedScarce, stamp{x.ts, s.id})
			}
		}
		if n := maxDistinct(racedAny, w); n > 0 && float64(len(racedAll)) >= cfg.RacingMinShare*float64(len(attempted)) {
			add(to, "release_racing", kTargeting, r.Racing, float64(n), func() (string, string) {
				return fmt.Sprintf("account %s raced at the release minute for %d sessions within %s, %d%% of the sessions it tried; a family races now and then for a famous expert, a seller at every release",
						name, n, wEN, pct(len(racedAll), len(attempted))),
					fmt.Sprintf("账号 %s 在 %s内于放号时刻抢约了 %d 个出诊，占其尝试预约的出诊的 %d%%；家庭偶尔为名专家抢号，号贩子每次放号都抢",
						name, wZH, n, pct(len(racedAll), len(attempted)))
			})
		}
		if n := maxDistinct(racedScarce, w); n > 0 && float64(len(racedScarceN)) >= cfg.ScarceMinShare*float64(len(racedAll)) {
			add(to, "scarce_concentration", kTargeting, r.Scarce, float64(n), func() (string, string) {
				return fmt.Sprintf("account %s raced for %d of the scarcest sessions at release within %s (%d%% of the %d sessions it raced for) and won %d; a patient needs a famous expert now and then, a seller every day",
						name, n, wEN, pct(len(racedScarceN), len(racedAll)), len(racedAll), nScarceRaced),
					fmt.Sprintf("账号 %s 在 %s内放号时抢约了 %d 个最紧俏的出诊（占其抢约的 %d 个出诊的 %d%%），抢到 %d 个；患者偶尔需要看名专家，号贩子天天都要",
						name, wZH, n, len(racedAll), pct(len(racedScarceN), len(racedAll)), nScarceRaced)
			})
		}
		bestDoc, bestN := sym(0), 0
		for _, doc := range sortedKeys(doctors) {
			if n := maxDistinct(doctors[doc], w); n > bestN {
				bestDoc, bestN = doc, n
			}
		}
		if bestN > 0 {
			add(to, "same_expert", kTargeting, r.SameExpert, float64(bestN), func() (string, string) {
				return fmt.Sprintf("account %s booked %d sessions of the same sought-after doctor %s within %s; a patient in a course of treatment sees their doctor weekly at most", name, bestN, d.str(bestDoc), wEN),
					fmt.Sprintf("账号 %s 在 %s内预约了同一位紧俏医生 %s 的 %d 个出诊；复诊患者最多每周看一次", name, wZH, d.str(bestDoc), bestN)
			})
		}

		if ts := phantom[int32(ai)]; len(ts) > 0 {
			n := maxWithin(ts, w)
			add(to, "phantom_patients", kTargeting, r.PhantomPatients, float64(n), func() (string, string) {
				return fmt.Sprintf("account %s raced at release for the scarcest sessions for %d patients within %s who never came, not once, on any account, and let what they were booked go unused; a patient who fought for a famous expert comes, a name put on the list for the race does not", name, n, wEN),
					fmt.Sprintf("账号 %s 在 %s内于放号时为 %d 位就诊人抢约最紧俏的号源，这些就诊人从未到院就诊（任何账号都没有），约到的号也都没有使用；抢到名专家号的患者会来，为抢号而挂名的身份不会", name, wZH, n)
			})
		}

		// The same names counted by race rather than by person: a thin
		// fake-ID account carries two or three names and races for one or
		// two of them at each release. Two names at least: one patient
		// who kept racing for an expert and never came is one person's
		// bad month. never_seen asks the other question — was anything it
		// took ever used, by anyone it names.
		if xs := phantomRaces[int32(ai)]; len(xs) > 0 {
			n := maxDistinct(xs, w)
			spEN, spZH := span(cfg.PhantomSpan.D())
			add(to, "phantom_races", kTargeting, r.PhantomRaces, float64(n), func() (string, string) {
				return fmt.Sprintf("account %s raced at release for %d of the scarcest sessions within %s for %d patients who never came, not once, on any account, over %s or more; a patient who fights for a famous expert again and again comes when they win",
						name, n, wEN, len(phantom[int32(ai)]), spEN),
					fmt.Sprintf("账号 %s 在 %s内于放号时为 %d 位从未到院（任何账号都没有）的就诊人抢约了 %d 个最紧俏的出诊，前后达 %s以上；反复抢名专家号的患者，抢到了就会来",
						name, wZH, len(phantom[int32(ai)]), n, spZH)
			})
		}

		// automation
		if len(fast) > 0 {
			add(to, "fast_reaction", kAutomation, r.FastReaction, float64(len(fast)), func() (string, string) {
				return fmt.Sprintf("account %s: %d bookings within %s of release; no person reads the page and books that fast", name, len(fast), ms(cfg.FastReaction.D())),
					fmt.Sprintf("账号 %s 有 %d 次预约在放号后 %s内完成；人看清页面再点击做不到这么快", name, len(fast), msZH(cfg.FastReaction.D()))
			})
		}
		if n := maxWithin(raced, ns(cfg.BurstWindow)); n > 1 {
			en, zh := span(cfg.BurstWindow.D())
			add(to, "burst", kAutomation, r.Burst, float64(n), func() (string, string) {
				return fmt.Sprintf("account %s made %d bookings within %s; a person books one thing at a time", name, n, en),
					fmt.Sprintf("账号 %s 在 %s内完成 %d 次预约；人一次只能约一个号", name, zh, n)
			})
		}
		d.attemptSignals(a, name)
		add(to, "rate_limited", kAutomation, r.RateLimited, float64(a.limited), func() (string, string) {
			return fmt.Sprintf("account %s was rate-limited %d times", name, a.limited),
				fmt.Sprintf("账号 %s 被限流 %d 次", name, a.limited)
		})

		// non-use
		// Non-use is measured as surprise: how unlikely so many wasted slots
		// are for a family wasting a generous share of theirs (a quarter of
		// the scarcest, a fifth of all; published no-show rates are 3–8%).
		// A few unlucky weeks are not surprising; a seller's record is.
		if sp := surprise(nScarceWasted, nScarceResolved, cfg.ScarceWasteRate); sp > 0 {
			add(to, "unused_scarce", kNonUse, r.UnusedScarce, sp, func() (string, string) {
				return fmt.Sprintf("account %s let %d of its %d scarcest slots go unused (cancelled or not come); a family wasting %.0f%% would do that less than once in %s; a patient who fought for a famous expert goes",
						name, nScarceWasted, nScarceResolved, 100*cfg.ScarceWasteRate, odds(sp)),
					fmt.Sprintf("账号 %s 抢到的 %d 个最紧俏的号中有 %d 个未使用（取消或爽约）；即使一个家庭浪费 %.0f%% 的号，出现这种情况的机会也不到 %s 分之一；抢到名专家号的患者一般都会去",
						name, nScarceResolved, nScarceWasted, 100*cfg.ScarceWasteRate, oddsZH(sp))
			})
		}
		if sp := surprise(nWasted, nResolved, cfg.WasteRate); sp > 0 {
			add(to, "wasted", kNonUse, r.Wasted, sp, func() (string, string) {
				return fmt.Sprintf("account %s cancelled or missed %d of its %d settled bookings (%d%%); a family wasting %.0f%% would do that less than once in %s",
						name, nWasted, nResolved, pct(nWasted, nResolved), 100*cfg.WasteRate, odds(sp)),
					fmt.Sprintf("账号 %s 的 %d 个已结束预约中取消或爽约 %d 个（%d%%）；即使一个家庭浪费 %.0f%% 的号，出现这种情况的机会也不到 %s 分之一",
						name, nResolved, nWasted, pct(nWasted, nResolved), 100*cfg.WasteRate, oddsZH(sp))
			})
		}
		if sp := surprise(nMissed, nResolved, cfg.NoShowRate); sp > 0 {
			add(to, "no_shows", kNonUse, r.NoShows, sp, func() (string, string) {
				return fmt.Sprintf("account %s: %d no-shows or late cancellations in %d settled bookings (%d%%); a family missing %.0f%% would do that less than once in %s",
						name, nMissed, nResolved, pct(nMissed, nResolved), 100*cfg.NoShowRate, odds(sp)),
					fmt.Sprintf("账号 %s 的 %d 个已结束预约中爽约或逾期取消 %d 次（%d%%）；即使一个家庭爽约率为 %.0f%%，出现这种情况的机会也不到 %s 分之一",
						name, nResolved, nMissed, pct(nMissed, nResolved), 100*cfg.NoShowRate, oddsZH(sp))
			})
		}
		if nResolved >= 4 && float64(nUsed) < cfg.NeverCameMaxUse*float64(nResolved) {
			// A person booked again and again who never once came is a
			// name on a list, not a patient: a fake or borrowed ID.
			never := 0
			for _, p := range persons {
				if p[0] >= 2 && p[1] == 0 {
					never++
				}
			}
			add(to, "never_came", kNonUse, r.NeverCame, float64(never), func() (string, string) {
				return fmt.Sprintf("account %s: %d of its patients were booked twice or more and never came, not once; it used %d of %d settled bookings", name, never, nUsed, nResolved),
					fmt.Sprintf("账号 %s 有 %d 位就诊人被预约两次以上却一次也没有来就诊；其 %d 个已结束预约中只用了 %d 个", name, never, nResolved, nUsed)
			})
		}
		// Nobody it names ever came: every settled booking unused, for
		// two people or more, and not one of the people on the account
		// checked in anywhere, on any account or at the desk. A fake ID
		// cannot be shown at a desk; a family that gives back everything
		// for a while (a trip, an illness) still has someone who sees a
		// doctor somewhere, or it is one patient's bad month.
		if n := d.neverSeen(a, persons, nUsed, unused, w); n > 0 {
			add(to, "never_seen", kNonUse, r.NeverSeen, float64(n), func() (string, string) {
				return fmt.Sprintf("account %s: none of the %d settled bookings within %s was used, they were for %d different patients, and none of the %d patients on the account ever came, not once, on any account; a family that gives everything back for a while still has somebody who sees a doctor",
						name, n, wEN, len(persons), countPersons(a)),
					fmt.Sprintf("账号 %s 在 %s内的 %d 个已结束预约全部未使用，涉及 %d 位不同的就诊人，账号上的 %d 位就诊人在任何账号下都从未到院就诊；即使一个家庭一时退掉所有的号，总还有人会去看病",
						name, wZH, n, len(persons), countPersons(a))
			})
		}
		if n := maxWithin(a.cancels, ns(cfg.BulkWindow)); n > 1 {
			en, zh := span(cfg.BulkWindow.D())
			add(to, "bulk_cancel", kNonUse, r.BulkCancel, float64(n), func() (string, string) {
				return fmt.Sprintf("account %s cancelled %d bookings within %s", name, n, en),
					fmt.Sprintf("账号 %s 在 %s内取消 %d 个预约", name, zh, n)
			})
		}

		// evasion
		if n := maxDistinct(a.devices, w); n > 1 {
			add(to, "device_churn", kEvasion, r.DeviceChurn, float64(n), func() (string, string) {
				return fmt.Sprintf("account %s used %d different devices within %s; a family keeps its phones", name, n, wEN),
					fmt.Sprintf("账号 %s 在 %s内使用了 %d 台不同的设备；家庭不会频繁换手机", name, wZH, n)
			})
		}
	}
}

// phantoms finds, per account, the persons it raced for at the release
// of the scarcest sessions (booked or refused) who never came: no check-in
// anywhere, on any account or at the desk, while at least one booking of
// theirs settled unused. A fake or borrowed ID is a name on the list of a
// seller racing for the famous experts; a patient who fought for one comes
// when they win it. It returns, by account, the time of each such person's
// first race, in order, and the races themselves (time, session): the
// scarcest sessions raced for those names. A stream with no check-in says
// nothing about who came.
func (d *detector) phantoms() (map[int32][]int64, map[int32][]stamp) {
	if d.checkIns == 0 {
		return nil, nil
	}
	settled := map[sym]bool{}
	for i := range d.bookings {
		b := &d.bookings[i]
		if b.person != 0 && b.wasted() && b.sess >= 0 && d.sessions[b.sess].over {
			settled[b.person] = true
		}
	}
	out, races := map[int32][]int64{}, map[int32][]stamp{}
	for ai, a := range d.accounts {
		var first []int64
		var sessions []stamp
		var lo, hi int64
		seen := map[sym]bool{}
		for _, x := range a.attempts {
			if x.who == 0 || x.key == 0 || d.came[x.who] || !settled[x.who] {
				continue
			}
			si := d.sessOf[x.key]
			if si < 0 || !d.sessions[si].scarce || !d.raced(si, x.ts) {
				continue
			}
			if len(first) == 0 {
				lo = x.ts
			}
			hi = x.ts
			sessions = append(sessions, stamp{x.ts, x.key})
			if !seen[x.who] {
				seen[x.who] = true
				first = append(first, x.ts)
			}
		}
		// A trip or an illness makes a family give back what it won for a
		// week or two; names that never come, race after race for longer
		// than that, are no trip.
		if len(first) > 0 && hi-lo >= ns(d.cfg.PhantomSpan) {
			out[int32(ai)] = first
			// By race, two names at least: one patient who kept racing
			// and never came is one person's bad month (an illness, a
			// move), not a list.
			if len(first) >= 2 {
				races[int32(ai)] = sessions
			}
		}
	}
	return out, races
}

// neverSeen is the most settled bookings within w of an account none of
// whose people ever came (no check-in anywhere of any person it named) and
// none of whose settled bookings was used, when those were for two people
// or more; 0 otherwise, and in a stream with no check-in at all.
func (d *detector) neverSeen(a *account, persons map[sym][2]int, used int, unused []int64, w int64) int {
	if d.checkIns == 0 || used > 0 || len(persons) < 2 || len(unused) == 0 {
		return 0
	}
	for _, p := range a.persons {
		if d.came[p.key] {
			return 0
		}
	}
	return maxWithin(unused, w)
}

// countPersons is the number of different people the account named.
func countPersons(a *account) int {
	seen := map[sym]bool{}
	for _, p := range a.persons {
		seen[p.key] = true
	}
	return len(seen)
}

// raced says whether an attempt at t of session si was a race for it: from
// RaceBefore before its release to RaceAfter after.
func (d *detector) raced(si int32, t int64) bool {
	s := d.sessions[si]
	return s.rel != 0 && t >= s.rel-ns(d.cfg.RaceBefore) && t <= s.rel+ns(d.cfg.RaceAfter)
}

// scarceTries appends to xs the persons of a's attempts (booked or
// refused) at the scarcest sessions.
func (d *detector) scarceTries(a *account, xs []stamp) []stamp {
	for _, x := range a.attempts {
		if x.who == 0 || x.key == 0 {
			continue
		}
		if si := d.sessOf[x.key]; si >= 0 && d.sessions[si].scarce {
			xs = append(xs, stamp{x.ts, x.who})
		}
	}
	return xs
}

// heldAtOnce is the most bookings the account held at one moment: each from
// when it was made until it was used, cancelled, missed, or its session was
// over.
func (d *detector) heldAtOnce(a *account) int {
	type edge struct {
		ts    int64
		delta int
	}
	es := make([]edge, 0, 2*len(a.bookings))
	for _, bi := range a.bookings {
		b := &d.bookings[bi]
		until := b.outAt
		switch {
		case b.outcome == oLapsed:
			until = d.sessions[b.sess].lastUse
		case b.outcome == oOpen:
			until = d.end
		}
		if until < b.ts {
			until = b.ts
		}
		es = append(es, edge{b.ts, 1}, edge{until, -1})
	}
	slices.SortFunc(es, func(x, y edge) int {
		if c := cmpInt64(x.ts, y.ts); c != 0 {
			return c
		}
		return x.delta - y.delta // an end before a start at the same moment
	})
	held, best := 0, 0
	for _, e := range es {
		held += e.delta
		best = max(best, held)
	}
	return best
}

// attemptSignals reads an account's attempts — refused ones (rejected,
// rate_limited) and bookings — for what a machine does: a regular cadence,
// a storm of retries at one session, hours of polling.
func (d *detector) attemptSignals(a *account, name string) {
	cfg, r := d.cfg, d.cfg.Rules
	if len(a.attempts) == 0 {
		return
	}
	// Regular cadence: runs of attempts close together whose gaps hardly
	// vary.
	runs, bestCV, bestMean, bestLen := 0, 0.0, 0.0, 0
	start := 0
	gapMax := ns(cfg.CadenceGap)
	check := func(lo, hi int) { // attempts [lo, hi)
		if hi-lo < cfg.CadenceRun {
			return
		}
		var sum, sq float64
		k := float64(hi - lo - 1)
		for i := lo + 1; i < hi; i++ {
			g := float64(a.attempts[i].ts - a.attempts[i-1].ts)
			sum += g
			sq += g * g
		}
		mean := sum / k
		if mean <= 0 {
			return
		}
		cv := math.Sqrt(max(0, sq/k-mean*mean)) / mean
		if cv <= cfg.CadenceCV {
			runs++
			if hi-lo > bestLen {
				bestCV, bestMean, bestLen = cv, mean, hi-lo
			}
		}
	}
	for i := 1; i <= len(a.attempts); i++ {
		if i == len(a.attempts) || a.attempts[i].ts-a.attempts[i-1].ts > gapMax {
			check(start, i)
			start = i
		}
	}
	if runs > 0 {
		add(&a.items, "cadence", kAutomation, r.Cadence, float64(runs), func() (string, string) {
			return fmt.Sprintf("account %s: %d runs of attempts at a machine's regular pace, the longest %d attempts every %s varying by %.0f%%; a person's clicks vary by 20%% and more",
					name, runs, bestLen, ms(time.Duration(bestMean)), 100*bestCV),
				fmt.Sprintf("账号 %s 有 %d 段节奏规整如机器的连续尝试，最长一段 %d 次、每 %s一次、波动仅 %.0f%%；人手点击的间隔波动在 20%% 以上",
					name, runs, bestLen, msZH(time.Duration(bestMean)), 100*bestCV)
		})
	}
	// Retries at one session for one person (a family trying for two
	// members tries twice as often).
	bySession := map[[2]sym][]int64{}
	for _, x := range a.attempts {
		if x.key != 0 {
			k := [2]sym{x.key, x.who}
			bySession[k] = append(bySession[k], x.ts)
		}
	}
	keys := make([][2]sym, 0, len(bySession))
	for k := range bySession {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]sym) int {
		if a[0] != b[0] {
			return int(a[0] - b[0])
		}
		return int(a[1] - b[1])
	})
	best, bestSess := 0, sym(0)
	for _, k := range keys {
		if n := maxWithin(bySession[k], ns(cfg.RetryWindow)); n > best {
			best, bestSess = n, k[0]
		}
	}
	if best > 1 {
		en, zh := span(cfg.RetryWindow.D())
		add(&a.items, "retry_storm", kAutomation, r.RetryStorm, float64(best), func() (string, string) {
			return fmt.Sprintf("account %s tried session %s %d times within %s; a person gives up or joins the waitlist after a few tries", name, d.str(bestSess), best, en),
				fmt.Sprintf("账号 %s 在 %s内对出诊 %s 尝试预约 %d 次；人试几次就会放弃或登记候补", name, zh, d.str(bestSess), best)
		})
	}
	if n := maxWithin(a.refused, ns(cfg.PollWindow)); n > 1 {
		en, zh := span(cfg.PollWindow.D())
		add(&a.items, "polling", kAutomation, r.Polling, float64(n), func() (string, string) {
			return fmt.Sprintf("account %s was refused %d times within %s, polling for a slot to come back (守号)", name, n, en),
				fmt.Sprintf("账号 %s 在 %s内被拒绝 %d 次，在守候退号（守号）", name, zh, n)
		})
	}
}

func ms(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func msZH(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d 毫秒", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f 秒", d.Seconds())
}

// attrSignals counts persons and accounts per device and phone. A hub (more
// than HubAccounts accounts) and a shared terminal say nothing: a hospital's
// machine serves thousands, a community kiosk dozens of old people who come.
func (d *detector) attrSignals() {
	cfg, r := d.cfg, d.cfg.Rules
	w := ns(cfg.Window)
	wEN, wZH := span(cfg.Window.D())
	for _, x := range d.attrs {
		if x.hub {
			continue
		}
		if x.kind == "device" && len(x.accounts) >= cfg.TerminalAccounts {
			x.terminal = d.terminal(x)
			if x.terminal {
				continue
			}
		}
		name := d.str(x.id)
		kindZH := map[string]string{"device": "设备", "phone": "手机号"}[x.kind]
		rule, accRule := r.PersonsPerDevice, r.AccountsPerDevice
		if x.kind == "phone" {
			rule, accRule = r.PersonsPerPhone, r.AccountsPerPhone
		}
		if x.kind == "phone" && len(x.accounts) <= 1 && len(x.persons) == 0 {
			continue
		}
		slices.SortStableFunc(x.persons, func(a, b stamp) int { return cmpInt64(a.ts, b.ts) })
		if n := maxDistinct(x.persons, w); n > 0 {
			add(&x.items, "persons_per_"+x.kind, kScale, rule, float64(n), func() (string, string) {
				return fmt.Sprintf("%s %s: %d different patients within %s across %d accounts; three accounts of one family hold 15 at most", x.kind, name, n, wEN, len(x.accounts)),
					fmt.Sprintf("%s %s 在 %s内出现 %d 位不同的就诊人，涉及 %d 个账号；一家人的三个账号最多 15 位", kindZH, name, wZH, n, len(x.accounts))
			})
		}
		if n := len(x.accounts); n > 1 {
			add(&x.items, "accounts_per_"+x.kind, kScale, accRule, float64(n), func() (string, string) {
				return fmt.Sprintf("%s %s: used by %d accounts; a family shares a phone among three at most", x.kind, name, n),
					fmt.Sprintf("%s %s 被 %d 个账号使用；一家人最多三个账号共用", kindZH, name, n)
			})
		}
		if x.kind == "device" && len(x.accounts) > 1 {
			var sp []stamp
			for _, bi := range x.bookings {
				if b := &d.bookings[bi]; d.scarce(b) {
					sp = append(sp, stamp{b.ts, b.person})
				}
			}
			if n := maxDistinct(sp, w); n > 0 {
				add(&x.items, "scarce_persons", kScale, r.ScarcePersons, float64(n), func() (string, string) {
					return fmt.Sprintf("device %s booked %d different patients into the scarcest sessions within %s across %d accounts", name, n, wEN, len(x.accounts)),
						fmt.Sprintf("设备 %s 在 %s内为 %d 位不同的就诊人预约了最紧俏的号源，涉及 %d 个账号", name, wZH, n, len(x.accounts))
				})
			}
		}
	}
}

// terminal tells a shared terminal (a community kiosk, a family doctor's
// office PC) from a farm's handset by what is booked on it: a terminal's
// many accounts book what ordinary patients book, at human moments (not
// racing at the release minute), and they come. A farm's accounts race for
// the scarcest sessions, or never come.
func (d *detector) terminal(x *attr) bool {
	var n, scarce, raced, resolved, used int
	for _, bi := range x.bookings {
		b := &d.bookings[bi]
		n++
		if d.scarce(b) {
			scarce++
		}
		if b.react >= 0 && b.react <= ns(d.cfg.RaceAfter) {
			raced++
		}
		if b.used() || b.wasted() {
			resolved++
			if b.used() {
				used++
			}
		}
	}
	if n == 0 || float64(scarce) > 0.4*float64(n) || float64(raced) > 0.25*float64(n) || (resolved > 0 && float64(used) < 0.6*float64(resolved)) {
		return false
	}
	// Unrelated people: hardly anyone is on two of its accounts.
	shared := 0
	d.sharedPersons(x.accounts, func(sym, int) { shared++ })
	return shared <= 1
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
