package detect

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// unionFind joins the graph's nodes (accounts, staff, persons, devices,
// phones, IPs) into groups.
type unionFind struct {
	index  map[string]int
	keys   []string
	parent []int
}

func newUnionFind() *unionFind { return &unionFind{index: map[string]int{}} }

func (u *unionFind) id(key string) int {
	i, ok := u.index[key]
	if !ok {
		i = len(u.keys)
		u.index[key] = i
		u.keys = append(u.keys, key)
		u.parent = append(u.parent, i)
	}
	return i
}

func (u *unionFind) find(key string) int {
	i := u.id(key)
	for u.parent[i] != i {
		u.parent[i] = u.parent[u.parent[i]]
		i = u.parent[i]
	}
	return i
}

func (u *unionFind) union(a, b string) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	// The smaller index wins, so the roots do not depend on the order of
	// the unions.
	if ra < rb {
		u.parent[rb] = ra
	} else {
		u.parent[ra] = rb
	}
}

// link joins accounts through what they share, except hubs: persons,
// devices and phones of at most HubAccounts accounts; hand-offs between two
// accounts that did it more than once, or to an account that received more
// than one (a busy canceller's slot that somebody happened to rebook at once
// links nobody); a clerk to the persons they favour. An IP used by only one
// account joins it. IPs shared by several accounts link nobody here: a
// carrier's NAT or a hospital's Wi-Fi is shared by strangers; they only
// merge flags afterwards (mergeByIP).
func (d *detector) link() {
	for _, id := range sortedKeys(d.accounts) {
		d.uf.id(accountNode(id))
	}
	for _, p := range sortedKeys(d.persons) {
		if accts := d.persons[p]; len(accts) <= d.cfg.HubAccounts {
			for _, a := range sortedKeys(accts) {
				d.uf.union(accountNode(a), personNode(p))
			}
		}
	}
	for _, k := range sortedKeys(d.attrs) {
		x := d.attrs[k]
		if x.hub(d.cfg) || (x.kind == "ip" && len(x.accounts) > 1) {
			continue
		}
		for _, a := range sortedKeys(x.accounts) {
			d.uf.union(accountNode(a), k)
		}
	}
	pairs, received := map[[2]string]int{}, map[string]int{}
	for _, h := range d.handoffs {
		if h.giver != h.receiver {
			pairs[[2]string{h.giver, h.receiver}]++
			received[h.receiver]++
		}
	}
	for _, h := range d.handoffs {
		if pairs[[2]string{h.giver, h.receiver}] > 1 || received[h.receiver] > 1 {
			d.uf.union(accountNode(h.giver), accountNode(h.receiver))
		}
	}
	for _, id := range sortedKeys(d.staff) {
		for _, p := range sortedKeys(d.staff[id].favours) {
			d.uf.union(staffNode(id), personNode(p))
		}
	}
}

// group is one connected component of the graph.
type group struct {
	accounts, staff, persons, attrs []string
}

func (d *detector) groups() map[int]*group {
	gs := map[int]*group{}
	for _, k := range d.uf.keys {
		r := d.uf.find(k)
		g := gs[r]
		if g == nil {
			g = &group{}
			gs[r] = g
		}
		kind, id, _ := strings.Cut(k, "\x00")
		switch kind {
		case "a":
			g.accounts = append(g.accounts, id)
		case "s":
			g.staff = append(g.staff, id)
		case "p":
			g.persons = append(g.persons, id)
		default:
			g.attrs = append(g.attrs, k)
		}
	}
	for _, g := range gs {
		slices.Sort(g.accounts)
		slices.Sort(g.staff)
		slices.Sort(g.persons)
		slices.Sort(g.attrs)
	}
	return gs
}

// candidate is a scored group on its way to a flag.
type candidate struct {
	accounts, staff []string
	evidence        []item
	score           float64
}

// flags scores every group, merges flagged groups that share an IP, and
// returns those over the threshold.
func (d *detector) flags() []Flag {
	itemsOf := map[int][]item{}
	for _, it := range d.items {
		r := d.uf.find(it.node)
		if x := d.attrs[it.node]; x != nil && x.kind == "ip" && len(x.accounts) > 1 {
			// An IP's evidence belongs to a group only if every account
			// behind it is in that group: its own proxy, not a NAT.
			r = -1
			for a := range x.accounts {
				if ra := d.uf.find(accountNode(a)); r == -1 || r == ra {
					r = ra
				} else {
					r = -2
					break
				}
			}
			if r < 0 {
				continue
			}
		}
		itemsOf[r] = append(itemsOf[r], it)
	}
	gs := d.groups()
	var cands []*candidate
	for _, r := range slices.Sorted(maps.Keys(gs)) {
		g := gs[r]
		if len(g.accounts) == 0 && len(g.staff) == 0 {
			continue
		}
		if c := d.candidate(g, itemsOf[r]); c != nil && c.score >= d.cfg.Threshold {
			cands = append(cands, c)
		}
	}
	var out []Flag
	for _, c := range d.mergeByIP(cands) {
		out = append(out, d.flag(c))
	}
	slices.SortFunc(out, func(a, b Flag) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.FlagID, b.FlagID))
	})
	return out
}

// candidate scores g: the strongest item of each family, summed over the
// families, counting only the accounts that belong in the flag.
func (d *detector) candidate(g *group, items []item) *candidate {
	included := d.members(g, items)
	var staff []string
	for _, it := range items {
		if it.signal == "insider" {
			_, id, _ := strings.Cut(it.node, "\x00")
			staff = append(staff, id)
		}
	}
	if len(included) == 0 && len(staff) == 0 {
		return nil
	}
	in := map[string]bool{}
	for _, a := range included {
		in[accountNode(a)] = true
	}
	c := &candidate{accounts: included, staff: staff}
	for _, it := range items {
		if !strings.HasPrefix(it.node, "a\x00") || in[it.node] {
			c.evidence = append(c.evidence, it)
		}
	}
	c.evidence = append(c.evidence, d.groupSignals(g, in)...)
	c.score = score(c.evidence)
	return c
}

func score(evidence []item) float64 {
	best := map[string]float64{}
	for _, it := range evidence {
		best[it.family] = max(best[it.family], it.score)
	}
	var s float64
	for _, f := range sortedKeys(best) {
		s += best[f]
	}
	return s
}

// mergeByIP makes one flag of flagged groups that share an IP when the
// flagged accounts are at least IPLinkShare of the IP's accounts: a ring of
// bots behind one proxy is one flag, while a hospital's Wi-Fi, where a few
// flagged accounts hide among thousands, merges nothing.
func (d *detector) mergeByIP(cands []*candidate) []*candidate {
	owner := map[string]int{} // flagged account → candidate
	for i, c := range cands {
		for _, a := range c.accounts {
			owner[a] = i
		}
	}
	parent := make([]int, len(cands))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			i = parent[i]
		}
		return i
	}
	via := map[int][]item{}
	for _, k := range sortedKeys(d.attrs) {
		x := d.attrs[k]
		if x.kind != "ip" || len(x.accounts) < 2 {
			continue
		}
		var hit []int
		flagged := 0
		for _, a := range sortedKeys(x.accounts) {
			if i, ok := owner[a]; ok {
				flagged++
				hit = append(hit, i)
			}
		}
		if flagged < 2 || float64(flagged) < d.cfg.IPLinkShare*float64(len(x.accounts)) {
			continue
		}
		merged := false
		for _, i := range hit[1:] {
			if ri, r0 := find(i), find(hit[0]); ri != r0 {
				parent[max(ri, r0)] = min(ri, r0)
				merged = true
			}
		}
		if merged {
			r := find(hit[0])
			via[r] = append(via[r], item{signal: "shared_ip", family: "shared_ip", node: k,
				detail: fmt.Sprintf("ip %s: used by %d of the flagged accounts (%d accounts in all)", x.id, flagged, len(x.accounts))})
		}
	}
	byRoot := map[int]*candidate{}
	var roots []int
	for i, c := range cands {
		r := find(i)
		m := byRoot[r]
		if m == nil {
			m = &candidate{}
			byRoot[r] = m
			roots = append(roots, r)
		}
		m.accounts = append(m.accounts, c.accounts...)
		m.staff = append(m.staff, c.staff...)
		m.evidence = append(m.evidence, c.evidence...)
	}
	out := make([]*candidate, 0, len(roots))
	for _, r := range roots {
		m := byRoot[r]
		m.evidence = append(m.evidence, via[r]...)
		m.score = score(m.evidence)
		out = append(out, m)
	}
	return out
}

func (d *detector) flag(c *candidate) Flag {
	accounts := slices.Concat(c.accounts, c.staff)
	slices.Sort(accounts)
	accounts = slices.Compact(accounts)
	persons := map[string]bool{}
	var last time.Time
	for _, a := range c.accounts {
		acc := d.accounts[a]
		for p := range acc.personSet {
			persons[p] = true
		}
		if acc.last.After(last) {
			last = acc.last
		}
	}
	for _, s := range c.staff {
		for p := range d.staff[s].favours {
			persons[p] = true
		}
		if d.staff[s].last.After(last) {
			last = d.staff[s].last
		}
	}
	ps := sortedKeys(persons)
	best := map[string]float64{}
	for _, it := range c.evidence {
		best[it.family] = max(best[it.family], it.score)
	}
	return Flag{
		FlagID:     flagID(accounts, ps),
		Score:      math.Round(c.score*100) / 100,
		Status:     StatusOpen,
		Reasons:    d.reasons(c.evidence, best),
		AccountIDs: accounts,
		PatientIDs: ps,
		CreatedAt:  last,
	}
}

// members are the group's accounts that belong in its flag: in a group of
// one, that one; otherwise an account that would be flagged on its own, or
// is tied to the others by more than one shared person: a device or phone,
// a hand-off, two or more persons, or a person a flagged clerk favours. A
// family whose grandmother's ID a farm also used stays out of the farm's
// flag.
func (d *detector) members(g *group, items []item) []string {
	if len(g.accounts) <= 1 {
		return g.accounts
	}
	in := map[string]bool{}
	for _, a := range g.accounts {
		in[a] = d.accounts[a].own >= d.cfg.Threshold
	}
	for _, k := range g.attrs {
		x := d.attrs[k]
		if x.kind != "ip" && len(x.accounts) > 1 {
			for a := range x.accounts {
				in[a] = true
			}
		}
	}
	shared := map[string]int{}
	for _, p := range g.persons {
		if accts := d.persons[p]; len(accts) > 1 {
			for a := range accts {
				shared[a]++
			}
		}
	}
	for a, n := range shared {
		if n > 1 {
			in[a] = true
		}
	}
	for _, h := range d.handoffs {
		if d.uf.find(accountNode(h.giver)) == d.uf.find(accountNode(h.receiver)) && h.giver != h.receiver {
			in[h.giver], in[h.receiver] = true, true
		}
	}
	for _, it := range items {
		if it.signal != "insider" {
			continue
		}
		_, s, _ := strings.Cut(it.node, "\x00")
		for p := range d.staff[s].favours {
			for a := range d.persons[p] {
				in[a] = true
			}
		}
	}
	var out []string
	for _, a := range g.accounts {
		if in[a] {
			out = append(out, a)
		}
	}
	return out
}

// groupSignals are the signals of the group as a whole: persons used by
// several of its accounts, and its hand-offs.
func (d *detector) groupSignals(g *group, in map[string]bool) []item {
	var out []item
	r := d.cfg.Rules
	if len(g.accounts) == 0 {
		return nil
	}
	node := accountNode(g.accounts[0])
	type shared struct {
		person string
		n      int
	}
	var sh []shared
	extra := 0 // accounts beyond the first, summed over the persons
	for _, p := range g.persons {
		n := 0
		for a := range d.persons[p] {
			if in[accountNode(a)] {
				n++
			}
		}
		if n > 1 {
			sh = append(sh, shared{p, n})
			extra += n - 1
		}
	}
	if s := r.SharedPersons.score(float64(extra)); s > 0 {
		slices.SortStableFunc(sh, func(a, b shared) int { return b.n - a.n })
		var top []string
		for _, s := range sh[:min(3, len(sh))] {
			top = append(top, fmt.Sprintf("%s on %d accounts", s.person, s.n))
		}
		out = append(out, item{signal: "shared_persons", family: "shared_persons", node: node, value: float64(extra), score: s,
			detail: fmt.Sprintf("%d patients used by several accounts, %d extra accounts in all (%s)", len(sh), extra, strings.Join(top, ", "))})
	}
	// A hand-off of a scarce session counts in full; of another, half: a
	// slot nobody is short of is rebooked within seconds by chance too.
	var hs []handoff
	var value float64
	nScarce := 0
	for _, h := range d.handoffs {
		if in[accountNode(h.giver)] || in[accountNode(h.receiver)] {
			hs = append(hs, h)
			value += 0.5
			if d.scarce[h.session] {
				value += 0.5
				nScarce++
			}
		}
	}
	if s := r.Handoff.score(value); s > 0 {
		var ex []string
		for _, h := range hs[:min(3, len(hs))] {
			who := "account " + h.receiver
			if h.receiver == h.giver {
				who = "patient " + h.receiverPerson
			}
			ex = append(ex, fmt.Sprintf("%s cancelled session %s at %s, %s booked it %s later",
				h.giver, h.session, h.at.Format(time.RFC3339), who, ms(h.gap)))
		}
		out = append(out, item{signal: "handoff", family: "handoff", node: node, value: value, score: s,
			detail: fmt.Sprintf("%d cancel-then-rebook hand-offs within %s, %d of them of scarce sessions (%s)",
				len(hs), ms(d.cfg.HandoffWindow.D()), nScarce, strings.Join(ex, "; "))})
	}
	return out
}

// reasons lists the evidence, strongest signal first, at most MaxReasons
// lines per signal.
func (d *detector) reasons(evidence []item, best map[string]float64) []Reason {
	slices.SortFunc(evidence, func(a, b item) int {
		return cmp.Or(
			cmp.Compare(best[b.family], best[a.family]),
			cmp.Compare(a.family, b.family),
			cmp.Compare(a.signal, b.signal),
			cmp.Compare(b.score, a.score),
			cmp.Compare(a.detail, b.detail),
		)
	})
	var out []Reason
	count := map[string]int{}
	for _, it := range evidence {
		count[it.signal]++
		switch n := count[it.signal]; {
		case d.cfg.MaxReasons <= 0 || n <= d.cfg.MaxReasons:
			out = append(out, Reason{Signal: it.signal, Detail: it.detail})
		case n == d.cfg.MaxReasons+1:
			out = append(out, Reason{Signal: it.signal, Detail: ""}) // filled below
		}
	}
	for i, r := range out {
		if r.Detail == "" {
			out[i].Detail = fmt.Sprintf("and %d more like these", count[r.Signal]-d.cfg.MaxReasons)
		}
	}
	return out
}
