package bookingtest

import (
	"context"
	"time"

	"fairslot/internal/booking"
)

// unimplementedStore and unimplementedAdmission give every method of the
// ports a body that panics; the fakes embed them and override what they
// implement. (Written out from booking.Store and booking.Admission; a
// method added to a port fails the build of this package until it is here.)
type (
	unimplementedStore     struct{}
	unimplementedAdmission struct{}
)

func (unimplementedStore) AccountByID(_ context.Context, _ string) (booking.Account, error) {
	panic(unimplemented("Store.AccountByID"))
}

func (unimplementedStore) AccountOfSelf(_ context.Context, _ string) (string, error) {
	panic(unimplemented("Store.AccountOfSelf"))
}

func (unimplementedStore) AccountUnderReview(_ context.Context, _ string) (bool, error) {
	panic(unimplemented("Store.AccountUnderReview"))
}

func (unimplementedStore) CloseAccount(_ context.Context, _ string, _ []byte, _ time.Time, _ booking.ClosedBy, _ booking.AuditEntry) (int, error) {
	panic(unimplemented("Store.CloseAccount"))
}

func (unimplementedStore) RequestClosing(_ context.Context, _ string, _, _ time.Time, _ booking.AuditEntry, _ booking.Notification) (int, error) {
	panic(unimplemented("Store.RequestClosing"))
}

func (unimplementedStore) CancelClosing(_ context.Context, _ string, _ booking.AuditEntry, _ booking.Notification) error {
	panic(unimplemented("Store.CancelClosing"))
}

func (unimplementedStore) PendingClosings(_ context.Context) ([]string, error) {
	panic(unimplemented("Store.PendingClosings"))
}

func (unimplementedStore) ClosingsDue(_ context.Context, _ time.Time) ([]string, error) {
	panic(unimplemented("Store.ClosingsDue"))
}

func (unimplementedStore) WaitingPlacesMadeBy(_ context.Context, _, _ string, _ int) ([]booking.WaitlistEntry, error) {
	panic(unimplemented("Store.WaitingPlacesMadeBy"))
}

func (unimplementedStore) LiveEntriesMadeBy(_ context.Context, _, _ string, _ int) ([]booking.Entry, error) {
	panic(unimplemented("Store.LiveEntriesMadeBy"))
}

func (unimplementedStore) AccountByPhone(_ context.Context, _ []byte) (booking.Account, error) {
	panic(unimplemented("Store.AccountByPhone"))
}

func (unimplementedStore) AccountHasIdentity(_ context.Context, _ string, _ string) (bool, error) {
	panic(unimplemented("Store.AccountHasIdentity"))
}

func (unimplementedStore) AccountNotifications(_ context.Context, _ string, _ int) ([]booking.Notification, error) {
	panic(unimplemented("Store.AccountNotifications"))
}

func (unimplementedStore) ActiveBars(_ context.Context, _ time.Time) ([]booking.Bar, error) {
	panic(unimplemented("Store.ActiveBars"))
}

func (unimplementedStore) ReturnedSlots(_ context.Context, _ string, _ string) (map[string][]int, error) {
	panic(unimplemented("Store.ReturnedSlots"))
}

func (unimplementedStore) ActiveBookings(_ context.Context, _ string, _ string) ([]booking.Booking, error) {
	panic(unimplemented("Store.ActiveBookings"))
}

func (unimplementedStore) BookedCounts(_ context.Context, _ []string) (map[string]booking.BookedCounts, error) {
	panic(unimplemented("Store.BookedCounts"))
}

func (unimplementedStore) AddPatient(_ context.Context, _ booking.NewPatient, _ booking.AccountLimits, _ booking.Event) (booking.Patient, error) {
	panic(unimplemented("Store.AddPatient"))
}

func (unimplementedStore) AddSlots(_ context.Context, _ string, _ booking.Channel, _, _ int, _ time.Time, _ time.Time, _ time.Time, _ booking.AuditEntry) ([]booking.Slot, error) {
	panic(unimplemented("Store.AddSlots"))
}

func (unimplementedStore) AddWaitlistBeside(_ context.Context, _ booking.WaitlistEntry, _ booking.Event) (booking.WaitlistEntry, error) {
	panic(unimplemented("Store.AddWaitlistBeside"))
}

func (unimplementedStore) AddWaitlist(_ context.Context, _ booking.WaitlistEntry, _ booking.Event) (booking.WaitlistEntry, error) {
	panic(unimplemented("Store.AddWaitlist"))
}

func (unimplementedStore) AnswerCase(_ context.Context, _ string, _ string, _ string, _ bool, _ string, _ time.Time, _ booking.Notification, _ booking.AuditEntry) (booking.Case, error) {
	panic(unimplemented("Store.AnswerCase"))
}

func (unimplementedStore) AuditSince(_ context.Context, _ time.Time, _, _ string, _ booking.AuditFilter) ([]booking.AuditEntry, error) {
	panic(unimplemented("Store.AuditSince"))
}

func (unimplementedStore) BlockedAccounts(_ context.Context, _ time.Time) (map[string]time.Time, error) {
	panic(unimplemented("Store.BlockedAccounts"))
}

func (unimplementedStore) Booking(_ context.Context, _ string) (booking.Booking, error) {
	panic(unimplemented("Store.Booking"))
}

func (unimplementedStore) BookingStatuses(_ context.Context, _ []string) (map[string]booking.Status, error) {
	panic(unimplemented("Store.BookingStatuses"))
}

func (unimplementedStore) FutureBookingsMadeBy(_ context.Context, _ string, _ time.Time) ([]booking.Booking, error) {
	panic(unimplemented("Store.FutureBookingsMadeBy"))
}

func (unimplementedStore) ClosedAccountsLeft(_ context.Context, _, _ time.Time) ([]booking.ClosedBy, error) {
	panic(unimplemented("Store.ClosedAccountsLeft"))
}

func (unimplementedStore) Bookings(_ context.Context, _ string) ([]booking.Booking, error) {
	panic(unimplemented("Store.Bookings"))
}

func (unimplementedStore) BookingsOfIdentity(_ context.Context, _ string, _ string) ([]booking.Booking, error) {
	panic(unimplemented("Store.BookingsOfIdentity"))
}

func (unimplementedStore) BookingsOfCaller(_ context.Context, _ string, _ string, _ []byte, _ string) ([]booking.Booking, error) {
	panic(unimplemented("Store.BookingsOfCaller"))
}

func (unimplementedStore) CancelBooking(_ context.Context, _ string, _ bool, _ booking.NoShowRules, _ booking.Event, _ *booking.AuditEntry) (booking.Booking, []booking.Bar, error) {
	panic(unimplemented("Store.CancelBooking"))
}

func (unimplementedStore) Case(_ context.Context, _ string) (booking.Case, error) {
	panic(unimplemented("Store.Case"))
}

func (unimplementedStore) CasesByID(_ context.Context, _ []string) ([]booking.Case, error) {
	panic(unimplemented("Store.CasesByID"))
}

func (unimplementedStore) CasesOfAccount(_ context.Context, _ string) ([]booking.Case, error) {
	panic(unimplemented("Store.CasesOfAccount"))
}

func (unimplementedStore) CasesOfFlag(_ context.Context, _ string) ([]booking.Case, error) {
	panic(unimplemented("Store.CasesOfFlag"))
}

func (unimplementedStore) CasesOfHospital(_ context.Context, _ string, _ []string) ([]booking.Case, error) {
	panic(unimplemented("Store.CasesOfHospital"))
}

func (unimplementedStore) CatalogVersion(_ context.Context) (int64, error) {
	panic(unimplemented("Store.CatalogVersion"))
}

func (unimplementedStore) CheckIn(_ context.Context, _ string, _ time.Time, _ booking.Event, _ booking.AuditEntry, _ booking.Identity) (booking.Booking, error) {
	panic(unimplemented("Store.CheckIn"))
}

func (unimplementedStore) ClaimDraw(_ context.Context, _ booking.PoolKey, _ string, _ time.Time, _ time.Time, _ time.Time) (booking.DrawClaim, bool, error) {
	panic(unimplemented("Store.ClaimDraw"))
}

func (unimplementedStore) CloseCase(_ context.Context, _ string, _ string, _ string, _ time.Time, _ booking.Notification, _ booking.AuditEntry) (booking.Case, error) {
	panic(unimplemented("Store.CloseCase"))
}

func (unimplementedStore) CloseWaitlist(_ context.Context, _ []string, _ string, _ time.Time, _ *booking.Event, _ *booking.AuditEntry) error {
	panic(unimplemented("Store.CloseWaitlist"))
}

func (unimplementedStore) CommitSeeds(_ context.Context, _ []booking.LotterySeed) error {
	panic(unimplemented("Store.CommitSeeds"))
}

func (unimplementedStore) CreateAccount(_ context.Context, _ booking.Account, _ booking.Event) error {
	panic(unimplemented("Store.CreateAccount"))
}

func (unimplementedStore) CreateSession(_ context.Context, _ booking.Session, _ booking.AuditEntry) error {
	panic(unimplemented("Store.CreateSession"))
}

func (unimplementedStore) CreateSessions(_ context.Context, _ []booking.Session, _ booking.AuditEntry) error {
	panic(unimplemented("Store.CreateSessions"))
}

func (unimplementedStore) DecideFlag(_ context.Context, _ string, _ string, _ string, _ booking.Actor, _ time.Time, _ time.Time, _ []string, _ booking.AuditEntry) ([]booking.Bar, error) {
	panic(unimplemented("Store.DecideFlag"))
}

func (unimplementedStore) DeleteSession(_ context.Context, _ string, _ int64, _ booking.AuditEntry) error {
	panic(unimplemented("Store.DeleteSession"))
}

func (unimplementedStore) DeleteTemplate(_ context.Context, _ string, _ booking.AuditEntry) error {
	panic(unimplemented("Store.DeleteTemplate"))
}

func (unimplementedStore) DuePools(_ context.Context, _ time.Time) ([]booking.PoolKey, error) {
	panic(unimplemented("Store.DuePools"))
}

func (unimplementedStore) EnsureIdentity(_ context.Context, _ booking.Identity) (booking.Identity, error) {
	panic(unimplemented("Store.EnsureIdentity"))
}

func (unimplementedStore) EntriesOfAccount(_ context.Context, _ string) ([]booking.Entry, error) {
	panic(unimplemented("Store.EntriesOfAccount"))
}

func (unimplementedStore) Entry(_ context.Context, _ string) (booking.Entry, error) {
	panic(unimplemented("Store.Entry"))
}

func (unimplementedStore) EntryStatuses(_ context.Context, _ []string) (map[string]string, error) {
	panic(unimplemented("Store.EntryStatuses"))
}

func (unimplementedStore) EventsOfGroup(_ context.Context, _ time.Time, _ []string, _ []string) ([]booking.Event, error) {
	panic(unimplemented("Store.EventsOfGroup"))
}

func (unimplementedStore) EventsSince(_ context.Context, _ time.Time) ([]booking.Event, error) {
	panic(unimplemented("Store.EventsSince"))
}

func (unimplementedStore) FinishDraw(_ context.Context, _ booking.PoolKey, _ string, _ booking.DrawResult) error {
	panic(unimplemented("Store.FinishDraw"))
}

func (unimplementedStore) Flag(_ context.Context, _ string) (booking.Flag, error) {
	panic(unimplemented("Store.Flag"))
}

func (unimplementedStore) Flags(_ context.Context, _ string) ([]booking.Flag, error) {
	panic(unimplemented("Store.Flags"))
}

func (unimplementedStore) FlagsOfAccounts(context.Context, string, []string, float64) ([]booking.Flag, error) {
	panic(unimplemented("Store.FlagsOfAccounts"))
}

func (unimplementedStore) FutureBookingsOfGroup(_ context.Context, _ time.Time, _ []string) ([]booking.Booking, error) {
	panic(unimplemented("Store.FutureBookingsOfGroup"))
}

func (unimplementedStore) PersonsElsewhere(_ context.Context, _ []string, _ []string) (map[string]booking.Elsewhere, error) {
	panic(unimplemented("Store.PersonsElsewhere"))
}

func (unimplementedStore) HeldOutEntries(_ context.Context, _ string) ([]booking.Entry, error) {
	panic(unimplemented("Store.HeldOutEntries"))
}

func (unimplementedStore) PatientsWithPhone(_ context.Context, _ []byte) ([]string, error) {
	panic(unimplemented("Store.PatientsWithPhone"))
}

func (unimplementedStore) PhoneKin(_ context.Context, _ []byte) (map[string]booking.Kin, error) {
	panic(unimplemented("Store.PhoneKin"))
}

func (unimplementedStore) IdentitiesByPhone(_ context.Context, _ []byte, _ string, _ int) ([]booking.Identity, error) {
	panic(unimplemented("Store.IdentitiesByPhone"))
}

func (unimplementedStore) IdentityByHash(_ context.Context, _ []byte) (booking.Identity, error) {
	panic(unimplemented("Store.IdentityByHash"))
}

func (unimplementedStore) IdentityOf(_ context.Context, _ string) (booking.Identity, error) {
	panic(unimplemented("Store.IdentityOf"))
}

func (unimplementedStore) InsertBookings(_ context.Context, _ []booking.Booking, _ []booking.Event) ([]error, error) {
	panic(unimplemented("Store.InsertBookings"))
}

func (unimplementedStore) InsertCase(_ context.Context, _ booking.Case) error {
	panic(unimplemented("Store.InsertCase"))
}

func (unimplementedStore) InsertEntries(_ context.Context, _ []booking.Entry, _ []booking.Event) ([]error, error) {
	panic(unimplemented("Store.InsertEntries"))
}

func (unimplementedStore) LiveEntries(_ context.Context, _ string, _ string) ([]booking.Entry, error) {
	panic(unimplemented("Store.LiveEntries"))
}

func (unimplementedStore) LoadSchedule(_ context.Context, _ string) (booking.Schedule, error) {
	panic(unimplemented("Store.LoadSchedule"))
}

func (unimplementedStore) LotteryPools(_ context.Context, _ []string) ([]booking.PoolRecord, error) {
	panic(unimplemented("Store.LotteryPools"))
}

func (unimplementedStore) LastEventNotification(_ context.Context) (time.Time, error) {
	panic(unimplemented("Store.LastEventNotification"))
}

func (unimplementedStore) EventsToNotify(_ context.Context, _ time.Time, _ string, _ int) ([]booking.Event, error) {
	panic(unimplemented("Store.EventsToNotify"))
}

func (unimplementedStore) AddEventNotifications(_ context.Context, _ []booking.Notification) (int, error) {
	panic(unimplemented("Store.AddEventNotifications"))
}

func (unimplementedStore) VerifiedSelfAccounts(_ context.Context, _ []string) (map[string]string, error) {
	panic(unimplemented("Store.VerifiedSelfAccounts"))
}

func (unimplementedStore) MaskedPhones(_ context.Context, _ []string) (map[string]string, error) {
	panic(unimplemented("Store.MaskedPhones"))
}

func (unimplementedStore) MarkDelivered(_ context.Context, _ []string, _ time.Time) error {
	panic(unimplemented("Store.MarkDelivered"))
}

func (unimplementedStore) MarkNoShow(_ context.Context, _ string, _ time.Time, _ booking.NoShowRules, _ booking.Event, _ booking.AuditEntry) ([]booking.Bar, error) {
	panic(unimplemented("Store.MarkNoShow"))
}

func (unimplementedStore) MarkNoShows(_ context.Context, _ time.Time, _ func(string) booking.NoShowRules) (int, []booking.Bar, error) {
	panic(unimplemented("Store.MarkNoShows"))
}

func (unimplementedStore) MarkNotificationRead(_ context.Context, _ string, _ string, _ time.Time) error {
	panic(unimplemented("Store.MarkNotificationRead"))
}

func (unimplementedStore) MarkNotificationsRead(_ context.Context, _ string, _ time.Time) (int, error) {
	panic(unimplemented("Store.MarkNotificationsRead"))
}

func (unimplementedStore) MoveSlots(_ context.Context, _ string, _ []int, _ booking.Channel, _ booking.Channel, _ time.Time, _ booking.AuditEntry) error {
	panic(unimplemented("Store.MoveSlots"))
}

func (unimplementedStore) NoShowRecords(_ context.Context, _ []string, _ time.Time, _ time.Time) (map[string]booking.NoShowRecord, error) {
	panic(unimplemented("Store.NoShowRecords"))
}

func (unimplementedStore) OpenCases(_ context.Context, _ string) (int, error) {
	panic(unimplemented("Store.OpenCases"))
}

func (unimplementedStore) Patient(_ context.Context, _ string) (booking.Patient, error) {
	panic(unimplemented("Store.Patient"))
}

func (unimplementedStore) Patients(_ context.Context, _ string) ([]booking.Patient, error) {
	panic(unimplemented("Store.Patients"))
}

func (unimplementedStore) PatientsByID(_ context.Context, _ []string) ([]booking.Patient, error) {
	panic(unimplemented("Store.PatientsByID"))
}

func (unimplementedStore) Ping(_ context.Context) error {
	panic(unimplemented("Store.Ping"))
}

func (unimplementedStore) PoolEntries(_ context.Context, _ booking.PoolKey) ([]booking.Entry, error) {
	panic(unimplemented("Store.PoolEntries"))
}

func (unimplementedStore) PromoteWaitlist(_ context.Context, _ booking.Booking, _ booking.Event) error {
	panic(unimplemented("Store.PromoteWaitlist"))
}

func (unimplementedStore) KeyedAudit(_ context.Context, _ string) (booking.AuditEntry, error) {
	panic(unimplemented("Store.KeyedAudit"))
}

func (unimplementedStore) RecordAudit(_ context.Context, _ booking.AuditEntry) error {
	panic(unimplemented("Store.RecordAudit"))
}

func (unimplementedStore) RecordAuditOfPerson(_ context.Context, _ string, _ booking.AuditEntry) error {
	panic(unimplemented("Store.RecordAuditOfPerson"))
}

func (unimplementedStore) RecordEvent(_ context.Context, _ booking.Event) error {
	panic(unimplemented("Store.RecordEvent"))
}

func (unimplementedStore) RecordEvents(_ context.Context, _ []booking.Event) error {
	panic(unimplemented("Store.RecordEvents"))
}

func (unimplementedStore) RecordStaffAction(_ context.Context, _ booking.Event, _ booking.AuditEntry) error {
	panic(unimplemented("Store.RecordStaffAction"))
}

func (unimplementedStore) RestoreSession(_ context.Context, _ string, _ booking.Session, _ time.Time, _ booking.RestoreNotices, _ booking.AuditEntry) (booking.RestoreResult, error) {
	panic(unimplemented("Store.RestoreSession"))
}

func (unimplementedStore) RetireDepartment(_ context.Context, _ string, _ time.Time, _ booking.AuditEntry) error {
	panic(unimplemented("Store.RetireDepartment"))
}

func (unimplementedStore) RetireDoctor(_ context.Context, _ string, _ time.Time, _ booking.AuditEntry) error {
	panic(unimplemented("Store.RetireDoctor"))
}

func (unimplementedStore) Revocations(_ context.Context, _ time.Time) ([]booking.Revocation, error) {
	panic(unimplemented("Store.Revocations"))
}

func (unimplementedStore) RevokeTokens(_ context.Context, _ string, _ string, _ time.Time) (int, error) {
	panic(unimplemented("Store.RevokeTokens"))
}

func (unimplementedStore) Roster(_ context.Context, _ string, _ string) ([]booking.RosterEntry, error) {
	panic(unimplemented("Store.Roster"))
}

func (unimplementedStore) AddHospital(_ context.Context, _ booking.Hospital, _ booking.AuditEntry) error {
	panic(unimplemented("Store.AddHospital"))
}

func (unimplementedStore) SaveDepartment(_ context.Context, _ booking.Department, _ bool, _ booking.AuditEntry) error {
	panic(unimplemented("Store.SaveDepartment"))
}

func (unimplementedStore) SaveDoctor(_ context.Context, _ booking.Doctor, _ bool, _ booking.AuditEntry, _ []booking.Notification) error {
	panic(unimplemented("Store.SaveDoctor"))
}

func (unimplementedStore) SaveFlags(_ context.Context, _ []booking.Flag, _ time.Time, _ float64) (int, error) {
	panic(unimplemented("Store.SaveFlags"))
}

func (unimplementedStore) SaveOutcomes(_ context.Context, _ booking.PoolKey, _ string, _ []booking.Entry, _ time.Time) error {
	panic(unimplemented("Store.SaveOutcomes"))
}

func (unimplementedStore) SaveRanking(_ context.Context, _ booking.PoolKey, _ string, _ booking.Ranking, _ time.Time) error {
	panic(unimplemented("Store.SaveRanking"))
}

func (unimplementedStore) SaveSchedule(_ context.Context, _ booking.Schedule) error {
	panic(unimplemented("Store.SaveSchedule"))
}

func (unimplementedStore) SaveTemplate(_ context.Context, _ booking.StoredTemplate, _ bool, _ booking.AuditEntry) error {
	panic(unimplemented("Store.SaveTemplate"))
}

func (unimplementedStore) AnnounceSession(_ context.Context, _ booking.Session, _ booking.Notice, _ booking.AuditEntry) (booking.AnnounceResult, error) {
	panic(unimplemented("Store.AnnounceSession"))
}

func (unimplementedStore) MoveSession(_ context.Context, _ booking.Session, _ time.Time, _ booking.MoveNotices, _ booking.AuditEntry) (booking.MoveResult, error) {
	panic(unimplemented("Store.MoveSession"))
}

func (unimplementedStore) SessionNotifications(_ context.Context, _ string) ([]booking.Notification, error) {
	panic(unimplemented("Store.SessionNotifications"))
}

func (unimplementedStore) Offer(_ context.Context, _ string) (booking.SubstituteOffer, error) {
	panic(unimplemented("Store.Offer"))
}

func (unimplementedStore) OffersOfAccount(_ context.Context, _ string) ([]booking.SubstituteOffer, error) {
	panic(unimplemented("Store.OffersOfAccount"))
}

func (unimplementedStore) OffersOfBookings(_ context.Context, _ []string) ([]booking.SubstituteOffer, error) {
	panic(unimplemented("Store.OffersOfBookings"))
}

func (unimplementedStore) DueOffers(_ context.Context, _ time.Time) ([]booking.SubstituteOffer, error) {
	panic(unimplemented("Store.DueOffers"))
}

func (unimplementedStore) SettleOffer(_ context.Context, _, _ string, _ time.Time, _ string, _ booking.Status) (booking.SubstituteOffer, error) {
	panic(unimplemented("Store.SettleOffer"))
}

func (unimplementedStore) SetPolicy(_ context.Context, _ booking.PolicyChange, _ booking.AuditEntry) error {
	panic(unimplemented("Store.SetPolicy"))
}

func (unimplementedStore) SettleHeldOut(_ context.Context, _ []string, _ string, _ time.Time, _ []booking.Notification) error {
	panic(unimplemented("Store.SettleHeldOut"))
}

func (unimplementedStore) StopSession(_ context.Context, _ string, _ int64, _ time.Time, _ string, _ booking.StopNotices, _ *booking.Substitution, _ booking.AuditEntry) (booking.StopResult, error) {
	panic(unimplemented("Store.StopSession"))
}

func (unimplementedStore) Template(_ context.Context, _ string) (booking.StoredTemplate, error) {
	panic(unimplemented("Store.Template"))
}

func (unimplementedStore) Templates(_ context.Context, _ string) ([]booking.StoredTemplate, error) {
	panic(unimplemented("Store.Templates"))
}

func (unimplementedStore) UndeliveredNotifications(_ context.Context, _ int) ([]booking.Notification, error) {
	panic(unimplemented("Store.UndeliveredNotifications"))
}

func (unimplementedStore) UpdatePools(_ context.Context, _ booking.Session, _ []booking.Channel, _ time.Time, _ booking.AuditEntry) error {
	panic(unimplemented("Store.UpdatePools"))
}

func (unimplementedStore) UpdateSession(_ context.Context, _ booking.Session, _ booking.AuditEntry) error {
	panic(unimplemented("Store.UpdateSession"))
}

func (unimplementedStore) VerifyName(_ context.Context, _ booking.Identity, _ booking.SelfBinding, _ booking.NameChange, _ booking.AuditEntry) error {
	panic(unimplemented("Store.VerifyName"))
}

func (unimplementedStore) DropDisprovedSelves(_ context.Context, _ string, _ []byte, _ booking.AuditEntry) ([]string, error) {
	panic(unimplemented("Store.DropDisprovedSelves"))
}

func (unimplementedStore) SealedNames(_ context.Context, _ string, _ []string) (map[string]booking.SealedName, error) {
	panic(unimplemented("Store.SealedNames"))
}

func (unimplementedStore) CorrectBookingName(_ context.Context, _ string, _, _ []byte, _ booking.AuditEntry, _ booking.Notification) (bool, error) {
	panic(unimplemented("Store.CorrectBookingName"))
}

func (unimplementedStore) WaitingEntries(_ context.Context, _ string) ([]booking.WaitlistEntry, error) {
	panic(unimplemented("Store.WaitingEntries"))
}

func (unimplementedStore) WaitlistEntry(_ context.Context, _ string) (booking.WaitlistEntry, error) {
	panic(unimplemented("Store.WaitlistEntry"))
}

func (unimplementedStore) WaitlistOfAccount(_ context.Context, _ string) ([]booking.WaitlistEntry, error) {
	panic(unimplemented("Store.WaitlistOfAccount"))
}

func (unimplementedStore) WaitingOfPerson(_ context.Context, _, _ string) ([]booking.WaitlistEntry, error) {
	panic(unimplemented("Store.WaitingOfPerson"))
}

func (unimplementedStore) EndPlaces(_ context.Context, _, _ []string, _ time.Time) error {
	panic(unimplemented("Store.EndPlaces"))
}

func (unimplementedStore) WaitlistStatuses(_ context.Context, _ []string) (map[string]string, error) {
	panic(unimplemented("Store.WaitlistStatuses"))
}

func (unimplementedStore) WithdrawEntry(_ context.Context, _ string, _ time.Time, _ booking.Event, _ *booking.AuditEntry) (booking.Entry, error) {
	panic(unimplemented("Store.WithdrawEntry"))
}

func (unimplementedAdmission) Bar(_ context.Context, _ []string, _ string, _ time.Time) error {
	panic(unimplemented("Admission.Bar"))
}

func (unimplementedAdmission) BeginReload(_ context.Context, _ string, _ string, _ time.Duration) (bool, error) {
	panic(unimplemented("Admission.BeginReload"))
}

func (unimplementedAdmission) Close(_ context.Context, _ *booking.Session, _ time.Duration) error {
	panic(unimplemented("Admission.Close"))
}

func (unimplementedAdmission) Confirm(_ context.Context, _ string, _ ...string) error {
	panic(unimplemented("Admission.Confirm"))
}

func (unimplementedAdmission) ConfirmEntries(_ context.Context, _ string, _ []string) error {
	panic(unimplemented("Admission.ConfirmEntries"))
}

func (unimplementedAdmission) Delayed(_ context.Context, _ string, _ time.Time, _ int) ([]booking.DelayedSlot, error) {
	panic(unimplemented("Admission.Delayed"))
}

func (unimplementedAdmission) Drawn(_ context.Context, _ *booking.Session, _ booking.Channel, _ time.Time, _ time.Duration) (int, error) {
	panic(unimplemented("Admission.Drawn"))
}

func (unimplementedAdmission) EndReload(_ context.Context, _ string, _ string) (bool, error) {
	panic(unimplemented("Admission.EndReload"))
}

func (unimplementedAdmission) Enter(_ context.Context, _ booking.Reservation) (bool, error) {
	panic(unimplemented("Admission.Enter"))
}

func (unimplementedAdmission) Entries(_ context.Context, _ string, _ []string) ([]booking.EntryRef, error) {
	panic(unimplemented("Admission.Entries"))
}

func (unimplementedAdmission) Expired(_ context.Context, _ string, _ time.Time, _ int) ([]booking.Hold, error) {
	panic(unimplemented("Admission.Expired"))
}

func (unimplementedAdmission) ExpiredEntries(_ context.Context, _ string, _ time.Time, _ int) ([]booking.EntryRef, error) {
	panic(unimplemented("Admission.ExpiredEntries"))
}

func (unimplementedAdmission) Holds(_ context.Context, _ string, _ []string) ([]booking.Hold, error) {
	panic(unimplemented("Admission.Holds"))
}

func (unimplementedAdmission) JoinWaitlist(_ context.Context, _ string, _ string, _ booking.WaitlistRef, _ time.Time) (int, error) {
	panic(unimplemented("Admission.JoinWaitlist"))
}

func (unimplementedAdmission) Refusal(_ context.Context, _ string, _ string, _ string, _ booking.Placing) error {
	panic(unimplemented("Admission.Refusal"))
}

func (unimplementedAdmission) LeaveWaitlist(_ context.Context, _ string, _ string, _ booking.WaitlistRef, _ time.Time) error {
	panic(unimplemented("Admission.LeaveWaitlist"))
}

func (unimplementedAdmission) WaitRound(_ context.Context, _ string, _ string) (time.Time, error) {
	panic(unimplemented("Admission.WaitRound"))
}

func (unimplementedAdmission) Redelay(_ context.Context, _ []booking.DelayedSlot, _ func() time.Duration) (int, error) {
	panic(unimplemented("Admission.Redelay"))
}

func (unimplementedAdmission) Load(_ context.Context, _ *booking.Session, _ []booking.Booking, _ []booking.StaleHold) error {
	panic(unimplemented("Admission.Load"))
}

func (unimplementedAdmission) LoadEntries(_ context.Context, _ *booking.Session, _ []booking.Entry, _ []booking.EntryRef) error {
	panic(unimplemented("Admission.LoadEntries"))
}

func (unimplementedAdmission) MoveFree(_ context.Context, _ *booking.Session, _ booking.Channel, _ booking.Channel, _ int, _ time.Time, _ []int, _ func() time.Duration) ([]int, int, error) {
	panic(unimplemented("Admission.MoveFree"))
}

func (unimplementedAdmission) Ping(_ context.Context) error {
	panic(unimplemented("Admission.Ping"))
}

func (unimplementedAdmission) Place(_ context.Context, _ booking.DelayedSlot, _ booking.Placing, _ booking.Channel, _ booking.PlaceWhen) (booking.Placement, error) {
	panic(unimplemented("Admission.Place"))
}

func (unimplementedAdmission) Release(_ context.Context, _ booking.Hold, _ booking.Release) error {
	panic(unimplemented("Admission.Release"))
}

func (unimplementedAdmission) ReleaseEntries(_ context.Context, _ []booking.EntryRef, _ bool, _ bool) ([]string, error) {
	panic(unimplemented("Admission.ReleaseEntries"))
}

func (unimplementedAdmission) Remaining(_ context.Context, _ []*booking.Session) ([]map[booking.Channel]int, error) {
	panic(unimplemented("Admission.Remaining"))
}

func (unimplementedAdmission) HeldForWaitlist(_ context.Context, _ []*booking.Session) ([]booking.WaitlistHold, error) {
	panic(unimplemented("Admission.HeldForWaitlist"))
}

func (unimplementedAdmission) Reopen(_ context.Context, _ *booking.Session) error {
	panic(unimplemented("Admission.Reopen"))
}

func (unimplementedAdmission) Reserve(_ context.Context, _ booking.Reservation) (int, bool, error) {
	panic(unimplemented("Admission.Reserve"))
}

func (unimplementedAdmission) SoldOut(_ context.Context, _ *booking.Session, _ booking.Channel) (bool, error) {
	panic(unimplemented("Admission.SoldOut"))
}

func (unimplementedAdmission) Return(_ context.Context, _ booking.Hold, _ booking.Return) (booking.Placement, error) {
	panic(unimplemented("Admission.Return"))
}

func (unimplementedAdmission) Snapshot(_ context.Context, _ string, _ []*booking.Session, _ []string) (booking.AdmissionSnapshot, error) {
	panic(unimplemented("Admission.Snapshot"))
}

func (unimplementedAdmission) States(_ context.Context, _ []string) ([]booking.StateStatus, error) {
	panic(unimplemented("Admission.States"))
}

func (unimplementedAdmission) SyncWaitlist(_ context.Context, _ string, _ string, _ []booking.WaitlistRef, _ []booking.WaitlistRef, _ time.Time) error {
	panic(unimplemented("Admission.SyncWaitlist"))
}

func (unimplementedAdmission) Waitlist(_ context.Context, _ string, _ string) ([]booking.WaitlistRef, error) {
	panic(unimplemented("Admission.Waitlist"))
}

func (unimplementedStore) RemovePatient(_ context.Context, _ string, _ string, _ time.Time, _ booking.AuditEntry) error {
	panic(unimplemented("Store.RemovePatient"))
}

func (unimplementedStore) UpdatePatient(_ context.Context, _ string, _ string, _ booking.PatientEdit, _ booking.AccountLimits, _ []booking.AuditEntry) (booking.Patient, error) {
	panic(unimplemented("Store.UpdatePatient"))
}

func (unimplementedStore) BlockedUntil(_ context.Context, _ string) (time.Time, error) {
	panic(unimplemented("Store.BlockedUntil"))
}

func (unimplementedStore) BlockingFlag(_ context.Context, _ string) (string, error) {
	panic(unimplemented("Store.BlockingFlag"))
}

func (unimplementedStore) LiftBlock(_ context.Context, _, _, _ string, _ time.Time, _, _ booking.AuditEntry) ([]string, bool, error) {
	panic(unimplemented("Store.LiftBlock"))
}

func (unimplementedStore) LiftPersonBlock(_ context.Context, _, _, _ string, _ time.Time, _ booking.AuditEntry) (string, error) {
	panic(unimplemented("Store.LiftPersonBlock"))
}

func (unimplementedStore) ReviewBlock(_ context.Context, _ string, _ time.Time) (string, time.Time, error) {
	panic(unimplemented("Store.ReviewBlock"))
}

func (unimplementedStore) PersonAppealPending(_ context.Context, _ string) (bool, error) {
	panic(unimplemented("Store.PersonAppealPending"))
}

func (unimplementedStore) PersonAppeals(_ context.Context, _ string) ([]booking.Case, error) {
	panic(unimplemented("Store.PersonAppeals"))
}

func (unimplementedStore) OverdueFlags(_ context.Context, _ time.Time) (int, error) {
	panic(unimplemented("Store.OverdueFlags"))
}

func (unimplementedStore) ResetPassword(_ context.Context, _ string, _ string, _ time.Time, _ booking.AuditEntry) (int, error) {
	panic(unimplemented("Store.ResetPassword"))
}

func (unimplementedStore) SetDisabled(_ context.Context, _ string, _ bool, _ time.Time, _ booking.AuditEntry) (int, error) {
	panic(unimplemented("Store.SetDisabled"))
}

func (unimplementedStore) StaffAccounts(_ context.Context, _ string, _ []byte) ([]booking.StaffAccount, error) {
	panic(unimplemented("Store.StaffAccounts"))
}

func (unimplementedStore) MadeByOthers(_ context.Context, _ string, _ string, _ string, _ time.Time) (booking.MadeByOthers, error) {
	panic(unimplemented("Store.MadeByOthers"))
}

func (unimplementedStore) MadeByAccount(_ context.Context, _ string, _ string, _ string, _ time.Time) (booking.MadeByOthers, error) {
	panic(unimplemented("Store.MadeByAccount"))
}

func (unimplementedStore) CallBacks(_ context.Context, _ string, _ booking.CallBackPage) ([]booking.CallBack, error) {
	panic(unimplemented("Store.CallBacks"))
}

func (unimplementedStore) CallBack(_ context.Context, _ string) (booking.CallBack, error) {
	panic(unimplemented("Store.CallBack"))
}

func (unimplementedStore) RecordCallBack(_ context.Context, _ string, _ time.Time, _, _ string, _ bool, _ booking.AuditEntry) error {
	panic(unimplemented("Store.RecordCallBack"))
}

func (unimplementedStore) PurgeCallBacks(_ context.Context, _ booking.CallBackCutoff, _ int) (int, error) {
	panic(unimplemented("Store.PurgeCallBacks"))
}

func (unimplementedStore) PurgeCallerPhones(_ context.Context, _ booking.CallBackCutoff, _ int) (int, error) {
	panic(unimplemented("Store.PurgeCallerPhones"))
}

func (unimplementedStore) EraseRemovedMembers(_ context.Context, _ time.Time, _ int) (int, error) {
	panic(unimplemented("Store.EraseRemovedMembers"))
}

func (unimplementedStore) PurgeEvents(_ context.Context, _, _ booking.CallBackCutoff, _ int) (int, error) {
	panic(unimplemented("Store.PurgeEvents"))
}

func (unimplementedStore) EraseEventPhones(_ context.Context, _ booking.CallBackCutoff, _ int) (int, error) {
	panic(unimplemented("Store.EraseEventPhones"))
}

func (unimplementedStore) EraseReportPhones(_ context.Context, _, _ time.Time, _ int) (int, error) {
	panic(unimplemented("Store.EraseReportPhones"))
}

func (unimplementedStore) ChangeAccountPhone(_ context.Context, _ string, _ booking.AccountPhone, _ time.Time, _ booking.AuditEntry) (int, error) {
	panic(unimplemented("Store.ChangeAccountPhone"))
}

func (unimplementedStore) ReleaseAccountPhone(_ context.Context, _ string, _ []byte, _ booking.AccountPhone, _ time.Time, _ booking.AuditEntry, _ booking.Notification) (int, error) {
	panic(unimplemented("Store.ReleaseAccountPhone"))
}

func (unimplementedStore) SelfAccount(_ context.Context, _ string) (booking.Account, error) {
	panic(unimplemented("Store.SelfAccount"))
}

func (unimplementedStore) MoveLogin(_ context.Context, _ string, _ booking.AccountPhone, _ booking.StoredResetCode, _ time.Time, _ booking.AuditEntry, _ booking.Notification) (int, error) {
	panic(unimplemented("Store.MoveLogin"))
}

func (unimplementedStore) RestoreAccountPhone(_ context.Context, _ string, _ booking.AccountPhone, _ time.Time, _ booking.AuditEntry) (int, error) {
	panic(unimplemented("Store.RestoreAccountPhone"))
}

func (unimplementedStore) AccountLastUsed(_ context.Context, _ string) (time.Time, error) {
	panic(unimplemented("Store.AccountLastUsed"))
}

func (unimplementedStore) HospitalsOfPerson(_ context.Context, _ string) ([]string, error) {
	panic(unimplemented("Store.HospitalsOfPerson"))
}

func (unimplementedStore) StaffLookupsSince(_ context.Context, _ string, _ time.Time, _, _ string) (booking.StaffLookups, error) {
	panic(unimplemented("Store.StaffLookupsSince"))
}

func (unimplementedStore) SaveResetCode(_ context.Context, _ booking.StoredResetCode, _ booking.AuditEntry) error {
	panic(unimplemented("Store.SaveResetCode"))
}

func (unimplementedStore) RedeemResetCode(_ context.Context, _ string, _ []byte, _ time.Time, _ string, _ booking.AuditEntry) (int, error) {
	panic(unimplemented("Store.RedeemResetCode"))
}

func (unimplementedStore) LinkIdentity(_ context.Context, _, _ string, _ booking.AuditEntry) error {
	panic(unimplemented("Store.LinkIdentity"))
}

func (unimplementedStore) NamesakeEntered(_ context.Context, _, _, _ string) (bool, error) {
	panic(unimplemented("Store.NamesakeEntered"))
}

func (unimplementedAdmission) MovePerson(_ context.Context, _ []string, _, _ string) error {
	panic(unimplemented("Admission.MovePerson"))
}

func (unimplementedStore) FlagsConcerning(_ context.Context, _ string, _ []string) ([]booking.Flag, error) {
	panic(unimplemented("Store.FlagsConcerning"))
}

func (unimplementedStore) EventsOfAccount(_ context.Context, _ string, _ int) ([]booking.Event, error) {
	panic(unimplemented("Store.EventsOfAccount"))
}

func (unimplementedStore) SetHoliday(_ context.Context, _ booking.Holiday, _ booking.AuditEntry) error {
	panic(unimplemented("Store.SetHoliday"))
}

func (unimplementedStore) DeleteHoliday(_ context.Context, _, _ string, _ booking.AuditEntry) error {
	panic(unimplemented("Store.DeleteHoliday"))
}

// Holidays is an empty calendar: a week publishes every day of its template.
func (unimplementedStore) Holidays(_ context.Context, _, _, _ string) ([]booking.Holiday, error) {
	return nil, nil
}

func (unimplementedStore) PurgeNotifications(_ context.Context, _, _ time.Time, _ int) (int, error) {
	panic(unimplemented("Store.PurgeNotifications"))
}

func (unimplementedStore) EraseIdentities(_ context.Context, _ booking.CallBackCutoff, _ int) (int, error) {
	panic(unimplemented("Store.EraseIdentities"))
}

func (unimplementedStore) EraseCaseTexts(_ context.Context, _ time.Time, _ int) (int, error) {
	panic(unimplemented("Store.EraseCaseTexts"))
}

func (unimplementedStore) IsFormerName(_ context.Context, _ string, _ []byte) (bool, error) {
	panic(unimplemented("Store.IsFormerName"))
}

func (unimplementedStore) FormerNames(_ context.Context, _ string) ([]booking.FormerName, error) {
	panic(unimplemented("Store.FormerNames"))
}

func (unimplementedStore) MarkDeceased(_ context.Context, _ string, _ time.Time, _ booking.AuditEntry) error {
	panic(unimplemented("Store.MarkDeceased"))
}

func (unimplementedStore) DeathRecordedIn(_ context.Context, _, _ string) (bool, error) {
	panic(unimplemented("Store.DeathRecordedIn"))
}

func (unimplementedStore) LiftDeath(_ context.Context, _ string, _ booking.AuditEntry, _ booking.Notification) (int, error) {
	panic(unimplemented("Store.LiftDeath"))
}

func (unimplementedStore) ListingsOf(_ context.Context, _ string, _ string) ([]booking.Listing, error) {
	panic(unimplemented("Store.ListingsOf"))
}

func (unimplementedStore) RemoveListing(_ context.Context, _ string, _ string, _ time.Time, _ booking.AuditEntry, _ booking.Notification) error {
	panic(unimplemented("Store.RemoveListing"))
}

func (unimplementedStore) UnreadListings(_ context.Context, _ int) ([]booking.UnreadListing, error) {
	panic(unimplemented("Store.UnreadListings"))
}

func (unimplementedStore) SetConsentDue(_ context.Context, _, _ string, _ time.Time) error {
	panic(unimplemented("Store.SetConsentDue"))
}

func (unimplementedStore) BindingsToReview(_ context.Context, _ int) ([]booking.BindingToReview, error) {
	panic(unimplemented("Store.BindingsToReview"))
}

func (unimplementedStore) CompleteLoginMove(_ context.Context, _ booking.PendingLoginMove, _ booking.StoredResetCode, _ time.Time, _ booking.AuditEntry, _ booking.Notification) (int, error) {
	panic(unimplemented("Store.CompleteLoginMove"))
}

func (unimplementedStore) RequestLoginMove(_ context.Context, _ booking.PendingLoginMove, _ booking.AuditEntry, _ booking.Notification) error {
	panic(unimplemented("Store.RequestLoginMove"))
}

func (unimplementedStore) PendingLoginMove(_ context.Context, _ string) (booking.PendingLoginMove, error) {
	panic(unimplemented("Store.PendingLoginMove"))
}

func (unimplementedStore) CancelLoginMove(_ context.Context, _ string, _ booking.AuditEntry, _ booking.Notification) error {
	panic(unimplemented("Store.CancelLoginMove"))
}

func (unimplementedStore) LoginMovesDue(_ context.Context, _ time.Time) ([]booking.PendingLoginMove, error) {
	panic(unimplemented("Store.LoginMovesDue"))
}

func (unimplementedStore) SaveCardReader(_ context.Context, _ booking.CardReader, _ booking.AuditEntry) error {
	panic(unimplemented("Store.SaveCardReader"))
}

func (unimplementedStore) CardReader(_ context.Context, _ string) (booking.CardReader, error) {
	panic(unimplemented("Store.CardReader"))
}

func (unimplementedStore) CardReaders(_ context.Context, _ string) ([]booking.CardReader, error) {
	panic(unimplemented("Store.CardReaders"))
}

func (unimplementedStore) RetireCardReader(_ context.Context, _ string, _ time.Time, _ booking.AuditEntry) error {
	panic(unimplemented("Store.RetireCardReader"))
}
