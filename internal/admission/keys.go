package admission

import "fairslot/internal/booking"

// keyspace builds the keys of one hospital. The braces make the hospital id
// the Redis Cluster hash tag, so all keys of a script share one slot.
//
//	<p>:{<h>}:s:<session>            hash   date, dept, rel:<channel> (release, unix ms)
//	<p>:{<h>}:s:<session>:free:<ch>  zset   free slot numbers of a channel pool (score = slot number)
//	<p>:{<h>}:s:<session>:held       hash   slot number → booking id
//	<p>:{<h>}:i:<identity key>       hash   booking id → "date|dept|week|month|session|slot"
//	<p>:{<h>}:bar:<identity key>     string barred until (unix ms)
//	<p>:{<h>}:b:<booking id>         string "nonce|session|slot|channel|identity key", expires after the visit
//	<p>:{<h>}:pending                zset   booking id → deadline (unix ms) of holds not yet in SQL, or being cancelled
//	<p>:{<h>}:s:<session>:wait       list   waitlist entries "entry id|identity key", first in line first
//	<p>:{<h>}:s:<session>:round      hash   end = when the waitlist's round ends (unix ms, the service's clock); slot:<n> = 1 for each returned slot held for it
//	<p>:{<h>}:s:<session>:joins      zset   joins of open rounds "key|entry id|identity key" → the round's end (unix ms); they join the wait list, by key, when it ends
//	<p>:{<h>}:delayed                zset   "session|slot|channel" → when a returned slot may be placed (unix ms)
//	<p>:{<h>}:loaded                 string "<redis run id>|<unix ms>": the state is whole (mark.lua)
//	<p>:{<h>}:reloading              string the token of the instance reloading the state from SQL
//	<p>:{<h>}:e:<entry id>           string "nonce|session|channel|identity key" of a lottery entry, until it is decided
//	<p>:{<h>}:s:<session>:entries    hash   entry id → "channel|identity key": the session's live lottery entries
//	<p>:{<h>}:epending               zset   entry id → deadline (unix ms) of entries not yet in SQL
//	<p>:{<h>}:s:<session>:closed     string the session is closed while its schedule changes (Close), until Reopen or expiry
//
// Beside them <p>:owner names the database the whole prefix's state is
// built from (owner.go).
//
// A lottery pool's session meta also has lot:<ch> = "opens ms|draw ms",
// seed:<ch> = 1 once its seed is committed and drawn:<ch> = 1 once drawn; an
// entry's quota hold is an identity-holds field (entry id) whose slot is "E".
type keyspace struct{ base string }

func (g *Gate) keys(hospitalID string) keyspace {
	return keyspace{base: g.prefix + ":{" + hospitalID + "}:"}
}

func (k keyspace) meta(sid string) string { return k.base + "s:" + sid }
func (k keyspace) free(sid string, c booking.Channel) string {
	return k.base + "s:" + sid + ":free:" + string(c)
}
func (k keyspace) held(sid string) string    { return k.base + "s:" + sid + ":held" }
func (k keyspace) identity(ik string) string { return k.base + "i:" + ik }
func (k keyspace) bar(ik string) string      { return k.base + "bar:" + ik }
func (k keyspace) record(bid string) string  { return k.base + "b:" + bid }
func (k keyspace) pending() string           { return k.base + "pending" }
func (k keyspace) wait(sid string) string    { return k.base + "s:" + sid + ":wait" }
func (k keyspace) round(sid string) string   { return k.base + "s:" + sid + ":round" }
func (k keyspace) joins(sid string) string   { return k.base + "s:" + sid + ":joins" }
func (k keyspace) delayed() string           { return k.base + "delayed" }
func (k keyspace) loaded() string            { return k.base + "loaded" }
func (k keyspace) reloading() string         { return k.base + "reloading" }
func (k keyspace) entry(id string) string    { return k.base + "e:" + id }
func (k keyspace) entries(sid string) string { return k.base + "s:" + sid + ":entries" }
func (k keyspace) entriesPending() string    { return k.base + "epending" }
func (k keyspace) closed(sid string) string  { return k.base + "s:" + sid + ":closed" }
