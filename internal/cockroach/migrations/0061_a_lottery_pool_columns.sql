-- review20 H1 (fix 1b): a pool's commitment is bound to its pool.
--
-- commitment_recipe says how commitment was made from the seed: 1,
-- SHA-256(seed) (every pool committed before this migration: the rows it
-- finds, and the column's default, so an instance of the previous release
-- still running in a rolling upgrade writes a row that says truly how it
-- committed), 2, SHA-256("fairslot commit v2\n" + session id + "\n" +
-- channel + "\n" + seed), which the service now always writes itself
-- (booking.CommitV2). The draw, `fairslot lottery verify` and the public
-- record go by the row's recipe, never one and then the other.
ALTER TABLE lottery_pools ADD COLUMN IF NOT EXISTS commitment_recipe INT NOT NULL DEFAULT 1;
-- review20 M3: how many of a draw's eligible entries were of persons whose
-- identity's name no provider nor desk had verified when the draw ranked
-- them, published with the draw (the exposure to made-up family members,
-- naming nobody). NULL for pools ranked before this migration: not counted,
-- not shown (0 would be a claim).
ALTER TABLE lottery_pools ADD COLUMN IF NOT EXISTS unverified INT;
