package detect

// behindOwnLine lists the accounts outside every flag whose own automation
// evidence — machine speed, a macro's cadence, a storm of retries — reaches
// half the threshold by itself. mergeByIP puts such an account in the flag
// of the flagged accounts whose own line it shares (an IP that carries most
// of its requests and of theirs, most of whose accounts are flagged): one
// line, one machine. A household on the line of a flagged bot shows no
// machine speed and is never listed; an account with machine speed on a
// line of its own, or on a carrier's NAT, stays unflagged, as speed alone
// does everywhere.
func (d *detector) behindOwnLine(scores []scored, in []bool) []int32 {
	var out []int32
	for a := range scores {
		if in[a] {
			continue
		}
		best := 0.0
		for _, it := range scores[a].items {
			if it.kind == kAutomation {
				best = max(best, min(d.cfg.KindCap, it.score))
			}
		}
		if best >= d.cfg.Threshold/2 {
			out = append(out, int32(a))
		}
	}
	return out
}
