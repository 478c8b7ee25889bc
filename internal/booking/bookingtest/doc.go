// Package bookingtest holds in-memory fakes of the booking domain's ports,
// so that the domain's rules (quotas, bars, the waitlist's order, the fast
// reject path, flags, walk-ins, check-in, 停诊, cases, accounts and family
// lists, lottery entries) are unit-tested in milliseconds, without Redis or
// PostgreSQL. The real adapters (internal/admission, internal/cockroach)
// keep their own tests against the real servers, and the end-to-end paths
// stay tested over them.
//
// A fake implements what the domain's unit tests need, with the adapter's
// semantics: Admission.Reserve checks, in reserve.lua's order, the release
// time, the lottery gate, a bar, the identity's quotas (one per day and
// department, per day, per ISO week, per month, holds of past days not
// counted) and a free slot, lowest first; Store.InsertBookings refuses what
// the SQL schema's unique indexes refuse. Every method a fake does not
// implement panics with "bookingtest: X is not implemented", so a test never
// passes on a method that silently did nothing.
//
// Simplifications, each harmless for a single-process test:
//   - Admission is always whole (States answers StateWhole). Lottery
//     entries are implemented (enter.lua's window, bar and quota checks,
//     the entry's hold and its give-back, loadentries.lua), the draw is
//     not: Reserve of a draw, ClaimDraw and the other draw methods panic,
//     and a pool's seed counts as committed when the saved session carries
//     its draw record.
//   - Admission's clock is the test's clock (Redis uses its own TIME).
//   - Admission.Return and Place take the first eligible waitlist entry in
//     one step (of the first 1,280, as the adapter's bounded steps read);
//     the adapter may answer "retry" when the waitlist moved between its
//     read and its script, which one goroutine never sees.
//   - Store has one transaction per call by construction (a mutex), and it
//     keeps no audit of its own beyond what it is given.
//   - Store.AccountByID and AccountByPhone never answer Blocked (a
//     confirmed flag's block is BlockedAccounts', which the Service reads);
//     RevokeTokens panics.
//   - Admission.Close keeps a session closed until Reopen (the mark's
//     lifetime is not modelled); Store.StopSession ends waitlist entries
//     but no lottery entries (there are none).
//   - Store.SaveFlags and DecideFlag keep the flag's evidence as given, and
//     DecideFlag bars the flag's identities and blocks its accounts until
//     blockUntil, as the adapter does; the audit entry is kept, not shown.
package bookingtest

import "fmt"

// unimplemented is the panic of a fake method nobody implemented yet.
func unimplemented(method string) string {
	return fmt.Sprintf("bookingtest: %s is not implemented; implement it with the adapter's semantics before a test relies on it", method)
}
