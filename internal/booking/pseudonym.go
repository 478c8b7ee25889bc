package booking

import "fairslot/internal/identity"

// NetworkPseudonyms replaces each event's IP address and device id by a
// keyed pseudonym, "ip:" or "dev:" and 24 hex digits of the keyed hash (96
// bits, as an identity's key: collisions are out of reach), for what leaves
// the service: a flag's timeline, the events export an operator carries
// elsewhere (review21 M5). The same address or device gives the same
// pseudonym, and the detector only compares them, so detection over an
// export finds what detection over the table finds; nobody reading either
// learns an address or a device's name. The table keeps the clear values
// within the detection window only (Retain empties them after).
func NetworkPseudonyms(keys *identity.Keyring, events []Event) {
	memo := map[string]string{}
	of := func(purpose, v string) string {
		if v == "" {
			return ""
		}
		k := purpose + "\x00" + v
		if p, ok := memo[k]; ok {
			return p
		}
		p := purpose + ":" + IdentityKey(keys.Hash("event_"+purpose, v))
		memo[k] = p
		return p
	}
	for i := range events {
		events[i].IP, events[i].DeviceID = of("ip", events[i].IP), of("dev", events[i].DeviceID)
	}
}
