-- turn: would a returned slot of the session pass this identity by when its
-- turn on the waitlist came (place.lua's refusal: a bar, a booking or entry
-- in the session, a quota)? A waitlist join asks it first, so that a join
-- the hand-out would skip is refused as a booking would be. It only reads.
--
-- KEYS: 1 identity holds  2 bar
-- ARGV: 1..9 session (session_args)
-- Reply: {} when the slot would reach it; else {code[, barred until ms]}.

local why, extra = refusal(KEYS[1], KEYS[2], now_ms(), session_args(1))
if why == nil then
  return {}
end
if why == 'patient_barred' then
  return {why, extra}
end
return {why}
