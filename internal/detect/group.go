package detect

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Groups: accounts (and staff) joined by evidence strong enough to mean one
// operator — a handset or a phone number of a few accounts, two or more
// people on both accounts, hand-offs repeated between the same two accounts,
// a clerk and the accounts of the people they favour. Not an IP (a NAT, a
// hospital's Wi-Fi), not a single shared person (a grandmother on her
// children's accounts), not a hand-off taken once (the person whose
// cancelled slot somebody took is not the taker's accomplice). Links are
// added strongest first and never make a group of more than MaxGroup
// accounts, so a chain of households cannot grow into a hundred-account
// flag.

// Link strengths: stronger links are added first.
const (
	linkHandoffPair = 4
	linkInsider     = 4
	linkPersons     = 3
	linkDevice      = 2
	linkPhone       = 2
)

type edge struct {
	a, b     int32 // nodes: accounts, then staff after the accounts
	strength int
}

type groups struct {
	parent []int32
	size   []int32 // accounts in the group
}

func (g *groups) find(i int32) int32 {
	for g.parent[i] != i {
		g.parent[i] = g.parent[g.parent[i]]
		i = g.parent[i]
	}
	return i
}

// link builds the groups from the edges, strongest first.
func (d *detector) link() (*groups, []edge) {
	nA := int32(len(d.accounts))
	n := int(nA) + len(d.staff)
	g := &groups{parent: make([]int32, n), size: make([]int32, n)}
	for i := range g.parent {
		g.parent[i] = int32(i)
		if int32(i) < nA {
			g.size[i] = 1
		}
	}
	var edges []edge
	for _, k := range d.pairs {
		edges = append(edges, edge{k[0], k[1], linkHandoffPair})
	}
	// Two or more people on both accounts.
	shared := map[[2]int32]int{}
	for _, p := range sortedKeys(d.personAccounts) {
		l := d.personAccounts[p]
		if len(l) < 2 || len(l) > d.cfg.HubAccounts {
			continue
		}
		for i := range l {
			for j := i + 1; j < len(l); j++ {
				// A person who disowned what one of the two made for
				// them ties nobody to it: the squatter and the person's
				// own family are not one operator.
				if !d.disowned[[2]int32{p, l[i]}] && !d.disowned[[2]int32{p, l[j]}] {
					shared[[2]int32{l[i], l[j]}]++
				}
			}
		}
	}
	for _, k := range sortedPairs(shared) {
		if shared[k] >= 2 {
			edges = append(edges, edge{k[0], k[1], linkPersons})
		}
	}
	for _, x := range d.attrs {
		if x.hub || x.terminal || len(x.accounts) < 2 {
			continue
		}
		s := linkDevice
		if x.kind == "phone" {
			s = linkPhone
		}
		for _, a := range x.accounts[1:] {
			edges = append(edges, edge{x.accounts[0], a, s})
		}
	}
	for si, s := range d.staff {
		for _, f := range s.favours {
			for _, a := range d.personAccounts[f.person] {
				edges = append(edges, edge{nA + int32(si), a, linkInsider})
			}
		}
	}
	slices.SortStableFunc(edges, func(x, y edge) int { return y.strength - x.strength })
	for _, e := range edges {
		ra, rb := g.find(e.a), g.find(e.b)
		if ra == rb || int(g.size[ra]+g.size[rb]) > d.cfg.MaxGroup {
			continue
		}
		if ra > rb {
			ra, rb = rb, ra
		}
		g.parent[rb] = ra
		g.size[ra] += g.size[rb]
	}
	return g, edges
}

// scored is one account's (or staff member's) evidence and score.
type scored struct {
	items []*item
	score float64
	kinds int
	alone bool
	// testimony is what reports add to score: they count towards the
	// threshold, never towards the kinds, nor alone.
	testimony float64
}

// flagged says whether the evidence reaches the rule: the threshold with at
// least MinKinds kinds of evidence, or a signal that is a combination in
// itself reaching the threshold alone.
func (s *scored) flagged(cfg Config) bool {
	return s.alone || (s.score >= cfg.Threshold && s.kinds >= cfg.MinKinds)
}

// evaluate scores a set of items: the strongest item of each kind, capped at
// KindCap, summed over the kinds.
func (d *detector) evaluate(items []*item) scored {
	best := map[string]*item{}
	for _, it := range items {
		if b := best[it.kind]; b == nil || it.score > b.score {
			best[it.kind] = it
		}
	}
	s := scored{items: items}
	for _, k := range sortedKeys(best) {
		it := best[k]
		pts := min(d.cfg.KindCap, it.score)
		if it.alone && it.score >= d.cfg.Threshold {
			pts = it.score
			s.alone = true
		}
		s.score += pts
		switch {
		case k == kReport:
			s.testimony += pts
		case pts >= d.cfg.KindMin:
			s.kinds++
		}
	}
	return s
}

// sortedKeys lists a map's keys in order (sym order is string order).
func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	ks := make([]K, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// sharedPersons calls each for every person on more than one of the
// accounts, with the number of them, in the order the accounts name them.
func (d *detector) sharedPersons(accts []int32, each func(p sym, n int)) {
	in := make(map[int32]bool, len(accts))
	for _, a := range accts {
		in[a] = true
	}
	seen := map[sym]bool{}
	for _, a := range accts {
		for _, p := range d.accounts[a].persons {
			if seen[p.key] {
				continue
			}
			seen[p.key] = true
			n := 0
			for _, b := range d.personAccounts[p.key] {
				if in[b] {
					n++
				}
			}
			if n > 1 {
				each(p.key, n)
			}
		}
	}
}

// groupItems are the signals of a group as a whole: the people it shares
// between its accounts, and the people it books into the scarcest sessions.
func (d *detector) groupItems(members []int32) []item {
	out := d.scarceForMany(members) // an account alone is its own group here
	if len(members) < 2 {
		return out
	}
	cfg, r := d.cfg, d.cfg.Rules
	extra, nShared := 0, 0
	var top []string
	d.sharedPersons(members, func(p sym, n int) {
		extra += n - 1
		nShared++
		if len(top) < 3 {
			top = append(top, fmt.Sprintf("%s on %d accounts", d.str(p), n))
		}
	})
	var sp, all []stamp
	for _, a := range members {
		all = append(all, d.accounts[a].persons...)
		sp = d.scarceTries(d.accounts[a], sp)
	}
	// A family's accounts share its children: two each on three accounts
	// make 4. The bar rises with the group.
	shRule := r.SharedPersons
	shRule.Min = max(shRule.Min, 2*float64(len(members)-1)+1)
	add(&out, "shared_persons", kScale, shRule, float64(extra), func() (string, string) {
		return fmt.Sprintf("%d patients are on several of the group's accounts, %d extra accounts in all (%s); two parents sharing two children make 2, three accounts sharing them 4", nShared, extra, strings.Join(top, ", ")),
			fmt.Sprintf("%d 位就诊人同时挂在该组多个账号上，共多出 %d 个账号（%s）；父母两个账号共享两个孩子只多出 2 个，三个账号共享则多出 4 个", nShared, extra, strings.Join(top, "，"))
	})
	wEN, wZH := span(cfg.Window.D())
	slices.SortStableFunc(all, func(a, b stamp) int { return cmpInt64(a.ts, b.ts) })
	if n := maxDistinct(all, ns(cfg.Window)); n > 0 {
		add(&out, "persons_per_group", kScale, r.PersonsPerGroup, float64(n), func() (string, string) {
			return fmt.Sprintf("the group's %d accounts, linked by shared handsets, numbers or people, named %d different patients within %s; three accounts of one family hold 15 at most", len(members), n, wEN),
				fmt.Sprintf("该组 %d 个账号（共用手机、号码或就诊人）在 %s内出现 %d 位不同的就诊人；一家人的三个账号最多 15 位", len(members), wZH, n)
		})
	}
	slices.SortStableFunc(sp, func(a, b stamp) int { return cmpInt64(a.ts, b.ts) })
	if n := maxDistinct(sp, ns(cfg.Window)); n > 0 {
		// Each account of a family has two or three people who need the
		// famous experts at most: the bar rises with the group.
		rule := r.ScarcePersons
		rule.Min = max(rule.Min, 3*float64(len(members)))
		add(&out, "scarce_persons", kScale, rule, float64(n), func() (string, string) {
			return fmt.Sprintf("the group's %d accounts booked or tried to book the scarcest sessions for %d different patients within %s", len(members), n, wEN),
				fmt.Sprintf("该组 %d 个账号在 %s内为 %d 位不同的就诊人预约或抢约最紧俏的号源", len(members), wZH, n)
		})
	}
	return out
}

// flags scores every account with the evidence that applies to it — its
// own, its devices' and phones', its group's — and makes a flag of each group
// with an account (or a clerk) that reaches the rule.
func (d *detector) flags() []Flag {
	cfg := d.cfg
	g, _ := d.link()
	nA := int32(len(d.accounts))
	members := map[int32][]int32{} // group root → its accounts
	for a := range nA {
		r := g.find(a)
		members[r] = append(members[r], a)
	}
	groupItems := map[int32][]item{}
	for _, r := range sortedKeys(members) {
		groupItems[r] = d.groupItems(members[r])
	}
	reported, reportCases := d.reportItems(g)
	scores := make([]scored, nA)
	for a := range nA {
		acc := d.accounts[a]
		var its []*item
		for i := range acc.items {
			its = append(its, &acc.items[i])
		}
		for _, xi := range acc.attrs {
			x := d.attrs[xi]
			if x.hub || x.terminal {
				continue
			}
			for i := range x.items {
				its = append(its, &x.items[i])
			}
		}
		gi := groupItems[g.find(a)]
		for i := range gi {
			its = append(its, &gi[i])
		}
		if it := reported[a]; it != nil {
			its = append(its, it)
		}
		scores[a] = d.evaluate(its)
	}
	// The flag of a group names the accounts that reach the rule, and the
	// other accounts of the group (linked by a handset, a number, people or
	// hand-offs in common) with half the threshold of evidence from the
	// events: a farm's quieter accounts are in its flag, a grandmother's
	// other family is not, and a report against her does not put her there.
	flaggedGroup := map[int32]bool{}
	for a := range nA {
		if scores[a].flagged(cfg) {
			flaggedGroup[g.find(a)] = true
		}
	}
	in := make([]bool, nA)
	for a := range nA {
		in[a] = scores[a].flagged(cfg) || (flaggedGroup[g.find(a)] && scores[a].score-scores[a].testimony >= cfg.Threshold/2)
	}
	type cand struct {
		accounts []int32
		staff    []int32
	}
	cands := map[int32]*cand{}
	for a := range nA {
		if !in[a] {
			continue
		}
		r := g.find(a)
		if cands[r] == nil {
			cands[r] = &cand{}
		}
		cands[r].accounts = append(cands[r].accounts, a)
	}
	for si, s := range d.staff {
		if !s.flagged {
			continue
		}
		r := g.find(nA + int32(si))
		if cands[r] == nil {
			cands[r] = &cand{}
		}
		cands[r].staff = append(cands[r].staff, int32(si))
		// The accounts of the people a flagged clerk favours are in its
		// flag: the clerk and they are one operation.
		for _, a := range members[r] {
			if !in[a] {
				in[a] = true
				cands[r].accounts = append(cands[r].accounts, a)
			}
		}
		slices.Sort(cands[r].accounts)
	}
	var out []*cand
	for _, r := range sortedKeys(cands) {
		out = append(out, cands[r])
	}
	// Merge flags behind one IP of their own (see mergeByIP), with the
	// accounts of machine speed behind it (behindOwnLine); a merge of
	// those alone is no flag.
	nFlagged := len(out)
	for _, a := range d.behindOwnLine(scores, in) {
		out = append(out, &cand{accounts: []int32{a}})
	}
	merged, via := d.mergeByIP(len(out), func(i int) []int32 { return out[i].accounts }, func(i int) bool { return i >= nFlagged })
	var flags []Flag
	for _, idx := range merged {
		if idx[0] >= nFlagged {
			continue
		}
		var accts, staff []int32
		for _, i := range idx {
			accts = append(accts, out[i].accounts...)
			staff = append(staff, out[i].staff...)
		}
		var its []*item
		seen := map[*item]bool{}
		for _, a := range accts {
			for _, it := range scores[a].items {
				if !seen[it] {
					seen[it] = true
					its = append(its, it)
				}
			}
		}
		for _, s := range staff {
			st := d.staff[s]
			if st.item != nil {
				its = append(its, st.item)
			}
			for i := range st.more {
				its = append(its, &st.more[i])
			}
		}
		its = append(its, via[idx[0]]...)
		f := d.flag(accts, staff, its)
		for _, a := range accts {
			f.CaseIDs = append(f.CaseIDs, reportCases[a]...)
		}
		slices.Sort(f.CaseIDs)
		f.CaseIDs = slices.Compact(f.CaseIDs)
		flags = append(flags, f)
	}
	slices.SortFunc(flags, func(a, b Flag) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.FlagID, b.FlagID))
	})
	return flags
}

// mergeByIP joins flags that share an IP when the flagged accounts are at
// least IPLinkShare of the IP's accounts: a ring of bots behind its own
// proxy is one flag, while a hospital's Wi-Fi, where a few flagged accounts
// hide among thousands, merges nothing. It returns the candidates grouped
// (each group's candidates in order) and the shared_ip items of each merged
// group, keyed by its first candidate.
//
// Candidates for which behind says true are accounts of machine speed not
// flagged (behindOwnLine): the shared_ip item names how many joined.
func (d *detector) mergeByIP(n int, accountsOf func(int) []int32, behind func(int) bool) ([][]int, map[int][]*item) {
	owner := map[int32]int{}
	for i := range n {
		for _, a := range accountsOf(i) {
			owner[a] = i
		}
	}
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			i = parent[i]
		}
		return i
	}
	size := make([]int, n)
	for i := range n {
		size[i] = len(accountsOf(i))
	}
	via := map[int][]*item{}
	for _, ip := range sortedKeys(d.ipAccounts) {
		l := d.ipAccounts[ip]
		if len(l) < 2 || len(l) > d.cfg.MaxGroup {
			continue
		}
		var hit []int
		flagged := 0
		for _, a := range l {
			if _, ok := owner[a]; ok {
				flagged++
			}
		}
		for _, a := range d.ipOwners[ip] {
			if i, ok := owner[a]; ok {
				hit = append(hit, i)
			}
		}
		if len(hit) < 2 || float64(flagged) < d.cfg.IPLinkShare*float64(len(l)) {
			continue
		}
		merged, joined := false, 0
		for _, i := range hit[1:] {
			ri, r0 := find(i), find(hit[0])
			if ri == r0 || size[ri]+size[r0] > d.cfg.MaxGroup {
				continue
			}
			lo, hi := min(ri, r0), max(ri, r0)
			parent[hi] = lo
			size[lo] += size[hi]
			merged = true
		}
		for _, i := range hit {
			if behind(i) && find(i) == find(hit[0]) {
				joined++
			}
		}
		if merged {
			r := find(hit[0])
			it := &item{signal: "shared_ip", kind: "link",
				en: fmt.Sprintf("ip %s: the own line of %d of the flagged accounts (%d accounts use it in all)", d.str(ip), len(hit), len(l)),
				zh: fmt.Sprintf("IP %s：是 %d 个已标记账号的常用线路（共有 %d 个账号用过）", d.str(ip), len(hit), len(l))}
			if joined > 0 {
				it.en += fmt.Sprintf("; %d of them with machine speed of its own and nothing else is in the flag for the line: one line, one machine", joined)
				it.zh += fmt.Sprintf("；其中 %d 个账号本身只有机器般的操作速度，因与已标记账号同一线路而一并提示：同一线路，同一台机器", joined)
			}
			via[r] = append(via[r], it)
		}
	}
	byRoot := map[int][]int{}
	var roots []int
	for i := range n {
		r := find(i)
		if byRoot[r] == nil {
			roots = append(roots, r)
		}
		byRoot[r] = append(byRoot[r], i)
	}
	out := make([][]int, 0, len(roots))
	viaFirst := map[int][]*item{}
	for _, r := range roots {
		out = append(out, byRoot[r])
		viaFirst[byRoot[r][0]] = via[r]
	}
	return out, viaFirst
}

// flag makes the flag of some accounts and staff from their evidence.
func (d *detector) flag(accts, staff []int32, its []*item) Flag {
	ids := make([]string, 0, len(accts)+len(staff))
	persons := map[string]bool{}
	var last int64
	for _, a := range accts {
		acc := d.accounts[a]
		ids = append(ids, d.str(acc.id))
		for _, p := range acc.persons {
			persons[d.str(p.key)] = true
		}
		last = max(last, acc.last)
	}
	for _, s := range staff {
		st := d.staff[s]
		ids = append(ids, d.str(st.id))
		for _, f := range st.favours {
			persons[d.str(f.person)] = true
		}
		for _, p := range st.suspects {
			persons[d.str(p)] = true
		}
		last = max(last, st.last)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	ps := sortedKeys(persons)
	ev := d.evaluate(filterScored(its))
	f := Flag{
		FlagID:     flagID(ids, ps),
		Score:      math.Round(ev.score*100) / 100,
		Status:     StatusOpen,
		AccountIDs: ids,
		PatientIDs: ps,
		CreatedAt:  time.Unix(0, last).UTC(),
		Threshold:  d.cfg.Threshold,
	}
	f.Reasons = d.reasons(its)
	f.Explanation, f.ExplanationZH = d.explain(ev)
	return f
}

func filterScored(its []*item) []*item {
	var out []*item
	for _, it := range its {
		if it.score > 0 {
			out = append(out, it)
		}
	}
	return out
}

// reasons lists the evidence, strongest kind first, at most MaxReasons per
// signal, each with the points it adds to the score: the strongest item of
// its kind adds its score (up to KindCap); the others add nothing more.
func (d *detector) reasons(its []*item) []Reason {
	best := map[string]*item{}
	for _, it := range its {
		if b := best[it.kind]; it.score > 0 && (b == nil || it.score > b.score) {
			best[it.kind] = it
		}
	}
	points := func(it *item) float64 {
		if best[it.kind] != it {
			return 0
		}
		if it.alone && it.score >= d.cfg.Threshold {
			return math.Round(it.score*100) / 100
		}
		return math.Round(min(d.cfg.KindCap, it.score)*100) / 100
	}
	kindBest := func(it *item) float64 {
		if b := best[it.kind]; b != nil {
			return points(b)
		}
		return 0
	}
	sorted := slices.Clone(its)
	slices.SortStableFunc(sorted, func(a, b *item) int {
		return cmp.Or(
			cmp.Compare(kindBest(b), kindBest(a)),
			cmp.Compare(a.kind, b.kind),
			cmp.Compare(points(b), points(a)),
			cmp.Compare(a.signal, b.signal),
			cmp.Compare(b.score, a.score),
			cmp.Compare(a.en, b.en),
		)
	})
	var out []Reason
	count := map[string]int{}
	for _, it := range sorted {
		count[it.signal]++
		switch n := count[it.signal]; {
		case d.cfg.MaxReasons <= 0 || n <= d.cfg.MaxReasons:
			out = append(out, Reason{Signal: it.signal, Kind: it.kind, Detail: it.en, DetailZH: it.zh, Points: points(it)})
		case n == d.cfg.MaxReasons+1:
			out = append(out, Reason{Signal: it.signal, Kind: it.kind}) // filled below
		}
	}
	for i, r := range out {
		if r.Detail == "" {
			n := count[r.Signal] - d.cfg.MaxReasons
			out[i].Detail, out[i].DetailZH = fmt.Sprintf("and %d more like these", n), fmt.Sprintf("另有 %d 条同类证据", n)
		}
	}
	return out
}
