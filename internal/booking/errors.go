package booking

import (
	"errors"
	"fmt"
	"time"
)

// Kind is the category of an Error. The HTTP adapter maps each kind to one
// status code; the Code inside says precisely what went wrong.
type Kind uint8

// The kinds of error a caller can branch on.
const (
	KindInternal        Kind = iota // a bug or an unexpected failure: 500
	KindInvalid                     // malformed input: 400
	KindUnauthenticated             // no or bad credentials: 401
	KindForbidden                   // role or ownership forbids: 403
	KindNotFound                    // unknown resource: 404
	KindConflict                    // state conflict (sold out, already booked): 409
	KindRule                        // a policy rule refuses (quota, barred, not released): 422
	KindRateLimited                 // too many requests: 429
	KindUnavailable                 // a dependency is down: 503 (the message says what is known of the outcome)
)

// HTTPStatus is the status code of an answer carrying an error of kind k:
// the one table both HTTP adapters (the JSON API and the web consoles) use,
// so a client and a browser get the same answer for the same error.
func (k Kind) HTTPStatus() int {
	switch k {
	case KindInvalid:
		return 400
	case KindUnauthenticated:
		return 401
	case KindForbidden:
		return 403
	case KindNotFound:
		return 404
	case KindConflict:
		return 409
	case KindRule:
		return 422
	case KindRateLimited:
		return 429
	case KindUnavailable:
		return 503
	}
	return 500
}

// Error is the one error type the domain returns for conditions a client can
// act on. Code is stable snake_case that clients branch on; Message is for
// humans and never contains an identity number, a name or a phone.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	// MadeElsewhere says, to the person's verified self, that a refusal of
	// its attempt for the person (already_booked, already_entered,
	// already_waitlisted, a quota) is because of a booking, entry or
	// waitlist place another patient account made for them
	// (explainRefusal); See is where it sees and ends it. Any other
	// account gets ErrBookedElsewhere instead.
	MadeElsewhere bool
	See           string
	// MadeBy is the account that made it (one, when several did), for
	// the refusal's event (by_account_id): never in the answer, which
	// tells the person only where to see it.
	MadeBy string
	// Field is the field a refusal is about, by the name a form gives it
	// (a reason too short, a note with a control character, a quota out
	// of range by its channel, a session's end), for the form to mark;
	// empty when the error is not about one field.
	Field string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is makes errors.Is match on Code, so a sentinel matches an Error built later
// with a more specific message.
func (e *Error) Is(target error) bool {
	if t, ok := target.(*Error); ok { // a sentinel, as nearly always: no allocation
		return t.Code == e.Code
	}
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// Errorf returns an Error with the code of sentinel and a formatted message.
func Errorf(sentinel *Error, format string, args ...any) *Error {
	return &Error{Kind: sentinel.Kind, Code: sentinel.Code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf is an error about one field (free text, a number out of its
// range): Field names it, so a form can mark the field to correct.
func FieldErrorf(sentinel *Error, field, format string, args ...any) *Error {
	e := Errorf(sentinel, format, args...)
	e.Field = field
	return e
}

// AsError returns the *Error inside err, if any.
func AsError(err error) (*Error, bool) {
	if e, ok := err.(*Error); ok { // every refusal of the hot path: no allocation
		return e, true // as errors.As answers, a nil *Error included
	}
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// sentinels are the package's errors by code.
var sentinels = map[string]*Error{}

func newErr(k Kind, code, msg string) *Error {
	e := &Error{Kind: k, Code: code, Message: msg}
	sentinels[code] = e
	return e
}

// Sentinel returns the sentinel error of a public error code, for tools that
// read codes back (the load-test runner classes answers by status).
func Sentinel(code string) (*Error, bool) {
	e, ok := sentinels[code]
	return e, ok
}

// Sentinel errors. Their codes are part of the public API (../shared/API.md):
// change a message freely, never a code.
var (
	ErrInvalidJSON     = newErr(KindInvalid, "invalid_json", "the request body is not valid JSON")
	ErrInvalidField    = newErr(KindInvalid, "invalid_field", "a field is missing, unknown or of the wrong type")
	ErrInvalidIDType   = newErr(KindInvalid, "invalid_id_type", "unknown identity document type")
	ErrInvalidIDNumber = newErr(KindInvalid, "invalid_id_number", "the identity number is not valid")
	ErrInvalidName     = newErr(KindInvalid, "invalid_name", "the name is not valid")
	ErrInvalidPhone    = newErr(KindInvalid, "invalid_phone", "the phone number is not a valid mainland mobile number")
	ErrWeakPassword    = newErr(KindInvalid, "weak_password", "the password must be 8 to 72 characters")
	// ErrConsentRequired: a sign-up or an added person without the
	// patient's consent to the privacy notice (privacy_consent, review21 H3).
	ErrConsentRequired = newErr(KindRule, "privacy_consent_required", "agree to the privacy notice (/patient/privacy): give privacy_consent, the notice's version")
	// ErrNoticeOutdated: a consent to a notice that is no longer current.
	ErrNoticeOutdated = newErr(KindRule, "privacy_notice_outdated", "the privacy notice has a newer version: read it and agree to that one")
	// ErrGuardianConsent: a child under 14 added without the holder's
	// consent as the child's parent or guardian (guardian_consent).
	ErrGuardianConsent = newErr(KindRule, "guardian_consent_required", "a child under 14 is added by a parent or guardian, who consents for them: give guardian_consent")
	// ErrPersonConsent: a person a guardian consented for before 14 is
	// 14 now and consents themselves (个人信息保护法 art. 31): the account
	// holder confirms they read and agreed the notice (person_consent).
	ErrPersonConsent    = newErr(KindRule, "person_consent_required", "this person is 14 now and consents for themselves: confirm they have read and agreed to the privacy notice (person_consent)")
	ErrInvalidChannel   = newErr(KindInvalid, "invalid_channel", "unknown booking channel")
	ErrInvalidDate      = newErr(KindInvalid, "invalid_date", "dates are YYYY-MM-DD")
	ErrInvalidCursor    = newErr(KindInvalid, "invalid_cursor", "a page's cursor (after, before) is not an item of the list you can read")
	ErrBodyTooLarge     = newErr(KindInvalid, "body_too_large", "the request body is too large")
	ErrUnauthenticated  = newErr(KindUnauthenticated, "unauthenticated", "a bearer token is required")
	ErrInvalidToken     = newErr(KindUnauthenticated, "invalid_token", "the bearer token is not valid")
	ErrTokenExpired     = newErr(KindUnauthenticated, "token_expired", "the bearer token has expired; log in again")
	ErrBadCredentials   = newErr(KindUnauthenticated, "invalid_credentials", "phone or password is wrong")
	ErrForbidden        = newErr(KindForbidden, "forbidden", "your role may not do this")
	ErrInvalidResetCode = newErr(KindUnauthenticated, "invalid_reset_code", "the phone or the reset code is wrong, or the code was used or has expired; ask the registration desk for a new one")
	ErrNotAccountHolder = newErr(KindForbidden, "not_account_holder", "the card is not the account's holder (本人) under the card's name: only the holder may have the account's password reset")
	ErrResetNeedsHolder = newErr(KindRule, "reset_needs_holder", "the account names nobody as its holder (本人): the desk has no one to check the card against, and cannot reset its password")
	// A recycled number's release at the desk (release.go): the card is
	// the account's own holder's, who changes the number themselves; a
	// restore finds the card's own account with a number still.
	ErrReleaseOwnNumber = newErr(KindRule, "release_own_number", "the card is this account's own holder's: they change the number themselves (or have the password reset first); nothing is released")
	ErrNumberInUse      = newErr(KindConflict, "number_in_use", "the account that logs in with this number was used in the last 90 days: its holder still has the number, which a carrier recycles only after months without use; nothing is released")
	ErrReleasesLimited  = newErr(KindRateLimited, "releases_limited", "this clerk has released 5 numbers in the last 24 hours; another clerk, or tomorrow")
	// A desk act's card marker (cardread.go, review25 H1): a reader's read
	// whose signature, reader or hospital does not hold, or that is old.
	ErrCardReadInvalid = newErr(KindRule, "card_read_invalid", "the card read is not a registered reader's of your hospital for this document and name: read the card again, or type the number with the reason")
	ErrCardReadStale   = newErr(KindRule, "card_read_stale", "the card was read too long ago: read it again")
	// A desk login move already pending for the account (review25 H4).
	ErrLoginMovePending    = newErr(KindConflict, "login_move_pending", "a login move of this account is already waiting for its cooling-off: its holder cancels it, or it takes effect when due")
	ErrClosingTooSoon      = newErr(KindRule, "closing_too_soon", "the password or the login number changed in the last 7 days: the account is not closed online until then (whoever took a password could otherwise close the account for good); its holder closes it at a registration desk with the ID card")
	ErrAccountNotReleased  = newErr(KindRule, "account_not_released", "the card's own account still has a login number: its holder changes it with the password (or has the password reset); only a released account gets a number at the desk")
	ErrChannelForbidden    = newErr(KindForbidden, "channel_forbidden", "your role may not book on this channel")
	ErrAccountBlocked      = newErr(KindForbidden, "account_blocked", "this account is blocked")
	ErrAccountDisabled     = newErr(KindForbidden, "account_disabled", "this staff account is disabled; ask your hospital's operator")
	ErrAccountClosing      = newErr(KindConflict, "account_closing", "this account's closing is pending (its cooling-off): it makes no new booking, lottery entry or waitlist place; cancel the closing (DELETE /v1/me/close) to book again. What it made was cancelled at the request and is not restored; cancelling and viewing still work")
	ErrAccountUnderReview  = newErr(KindConflict, "account_under_review", "this account is under review (a scalper flag waits for an administrator's decision): it cannot be closed until the flag is decided")
	ErrNoChange            = newErr(KindConflict, "no_change", "the account is already so")
	ErrNotFound            = newErr(KindNotFound, "not_found", "no such resource")
	ErrHospitalNotFound    = newErr(KindNotFound, "hospital_not_found", "no such hospital")
	ErrHospitalExists      = newErr(KindConflict, "hospital_exists", "a hospital of this name exists already")
	ErrSessionNotFound     = newErr(KindNotFound, "session_not_found", "no such clinic session")
	ErrPatientNotFound     = newErr(KindNotFound, "patient_not_found", "no such patient on this account")
	ErrBookingNotFound     = newErr(KindNotFound, "booking_not_found", "no such booking")
	ErrSoldOut             = newErr(KindConflict, "sold_out", "no slot is left in this channel")
	ErrAlreadyBooked       = newErr(KindConflict, "already_booked", "this patient already holds a booking in this session")
	ErrPhoneTaken          = newErr(KindConflict, "phone_taken", "an account with this phone already exists")
	ErrPatientExists       = newErr(KindConflict, "patient_exists", "this identity is already a patient of this account")
	ErrPatientPending      = newErr(KindConflict, "patient_has_pending", "this family member still has a booking, a lottery entry or a waitlist place: cancel or withdraw it first")
	ErrPatientRemoved      = newErr(KindConflict, "patient_removed", "this family member was removed from the account; add them again to book for them")
	ErrPatientIsSelf       = newErr(KindConflict, "patient_is_self", "the account holder's own entry (本人) cannot be removed or given another relationship")
	ErrIdentityTaken       = newErr(KindConflict, "identity_taken", "this ID number is already another account's own person (本人); if it is yours, bring your ID card to a registration desk: the clerk verifies your name from it and makes this account yours")
	ErrClaimsLimited       = newErr(KindRateLimited, "identity_claims_limited", "too many refused identity claims from this account or address today; try again tomorrow, or ask the registration desk with the ID card")
	ErrRealNameLimited     = newErr(KindRateLimited, "realname_checks_limited", "too many names given for this ID number, or by this account, did not match the register today; try again tomorrow, or ask the registration desk with the ID card")
	ErrVerifiedNameDiffers = newErr(KindConflict, "verified_name_differs", "the registration desk verified another name for this ID number; check the card, and if the verified name is wrong, correct it with a reason")
	ErrSelfExists          = newErr(KindConflict, "self_exists", "this account already names another patient as its holder")
	// A desk binding of a person as an account's holder (review24 H1, H2,
	// L1; docs/security.md, "Being listed is not holding"): never over a
	// holder the desk bound, never of a family member the account lists as
	// such, never of a child under 14.
	ErrHolderBound          = newErr(KindConflict, "holder_bound", "this account's holder (本人) is another person, bound to it at a registration desk from their own ID card: the desk never makes someone else its holder; the person at the window opens an account of their own (the holder may close this one at the desk with their card)")
	ErrListedAsFamily       = newErr(KindConflict, "listed_as_family", "this account lists the person as its holder's spouse, child or parent: a family member is not the account's holder (本人); the person binds an account of their own")
	ErrMinorNotSelf         = newErr(KindRule, "minor_not_self", "a child under 14 is never an account's own person (本人): a parent or guardian adds the child as 子女 child, with guardian_consent (个人信息保护法 art. 31)")
	ErrAlreadyWaitlisted    = newErr(KindConflict, "already_waitlisted", "this patient is already on this session's waitlist")
	ErrWaitlistNotWaiting   = newErr(KindConflict, "waitlist_not_waiting", "this waitlist entry is no longer waiting")
	ErrSlotsAvailable       = newErr(KindConflict, "slots_available", "this session still has free slots: book one instead of joining the waitlist")
	ErrNotReissuable        = newErr(KindConflict, "not_reissuable", "this booking has no slot to reissue")
	ErrWaitlistNotFound     = newErr(KindNotFound, "waitlist_not_found", "no such waitlist entry")
	ErrEntryNotFound        = newErr(KindNotFound, "entry_not_found", "no such lottery entry")
	ErrAlreadyEntered       = newErr(KindConflict, "already_entered", "this patient already has an entry in this session's draw")
	ErrPersonAlreadyEntered = newErr(KindConflict, "person_already_entered", "another family member of this account under the same name, with another ID document, already has an entry in this session's draw: one person enters a draw once, whatever the document")
	ErrLinkUnverified       = newErr(KindRule, "link_unverified", "both documents' names must be verified at the desk, from the cards, before they are linked: verify each card first")
	ErrLinkNamesDiffer      = newErr(KindRule, "link_names_differ", "the two documents' verified names differ: they are not linked as one person")
	ErrLinkSameDocument     = newErr(KindInvalid, "link_same_document", "the two ID documents are the same document")
	ErrLinkedElsewhere      = newErr(KindConflict, "document_linked_elsewhere", "this ID document is already linked to another person")
	ErrLinkConflict         = newErr(KindConflict, "link_conflict", "a booking, lottery entry or waitlist place was made for one of the documents while they were being linked; link them again")
	ErrEntryClosed          = newErr(KindConflict, "entry_closed", "the draw of this pool has begun: entries can no longer be made or withdrawn")
	ErrFlagNotFound         = newErr(KindNotFound, "flag_not_found", "no such flag")
	ErrNotificationNotFound = newErr(KindNotFound, "notification_not_found", "no such notification")
	ErrCaseNotFound         = newErr(KindNotFound, "case_not_found", "no such report or complaint")
	ErrCaseClosed           = newErr(KindConflict, "case_closed", "this report or complaint is closed")
	// ErrReportPending: the reporter's report of the same target (account,
	// phone or booking) still waits for its first answer.
	ErrReportPending = newErr(KindConflict, "report_pending", "you already reported this; your report waits for the hospital's answer")
	// ErrReportsLimited: the client address filed its day's reports and
	// complaints (Config.ReportIPGuard).
	ErrReportsLimited     = newErr(KindRateLimited, "reports_limited", "too many reports and complaints from this address today; try again tomorrow, or tell the hospital's service desk")
	ErrTooManyCases       = newErr(KindRule, "too_many_open_cases", "too many of your reports and complaints wait for an answer; wait for one before filing another")
	ErrFlagDecided        = newErr(KindConflict, "flag_decided", "this flag has already been decided")
	ErrCheckinClosed      = newErr(KindRule, "checkin_closed", "check-in is open on the visit day until the session ends")
	ErrSlotTimePassed     = newErr(KindRule, "slot_time_passed", "the patient's slot time has passed: a patient who did not come is reissued at the desk (a no-show); only a registration error (reason_code registration_error) is cancelled")
	ErrBookingNotActive   = newErr(KindConflict, "booking_not_active", "the booking is not active")
	ErrInProgress         = newErr(KindConflict, "request_in_progress", "a request with this Idempotency-Key is still in progress")
	ErrIdempotencyReuse   = newErr(KindConflict, "idempotency_key_reused", "this Idempotency-Key was used for a different request")
	ErrNotReleased        = newErr(KindRule, "not_released", "this channel is not released yet")
	ErrChannelClosed      = newErr(KindRule, "channel_closed", "this session has no slots on this channel")
	ErrSessionClosed      = newErr(KindRule, "session_closed", "this session has already started or ended")
	ErrLotteryOnly        = newErr(KindRule, "lottery_release", "this session is released by lottery")
	ErrDoctorNotFound     = newErr(KindNotFound, "doctor_not_found", "no such doctor")
	ErrDepartmentNotFound = newErr(KindNotFound, "department_not_found", "no such department")
	ErrDepartmentExists   = newErr(KindConflict, "department_exists", "the hospital already has a department of this name")
	ErrDepartmentInUse    = newErr(KindConflict, "department_in_use", "the department still has doctors on the schedule: move or retire them first")
	ErrDepartmentRetired  = newErr(KindRule, "department_retired", "the department is closed: it takes no new doctor")
	ErrDoctorRetired      = newErr(KindRule, "doctor_retired", "the doctor has left the schedule: nothing new can be published for them")
	ErrDoctorHasSessions  = newErr(KindConflict, "doctor_has_sessions", "the doctor has upcoming sessions: delete or stop them before retiring the doctor")
	ErrTemplateNotFound   = newErr(KindNotFound, "template_not_found", "no such weekly template")
	ErrSessionOverlap     = newErr(KindConflict, "session_overlap", "the doctor already has a session at this time")
	ErrSessionReleased    = newErr(KindConflict, "session_released", "this session's slots are released: only slots can be added (extra slots, pool moves), or the clinic stopped")
	ErrQuotaMismatch      = newErr(KindRule, "quota_mismatch", "the channel quotas do not add up to the slot count")
	ErrReleaseAfterStart  = newErr(KindRule, "release_after_start", "a channel is released after the session starts")
	ErrRestoreClosed      = newErr(KindConflict, "restore_closed", "this stop can no longer be restored (its window passed, the clinic started, it was restored already, or it named a substitute): publish the half-day again")
	ErrBookedChanged      = newErr(KindConflict, "booked_changed", "the session has another number of active bookings than the stop confirmed: read it again before stopping it")
	ErrEditedMeanwhile    = newErr(KindConflict, "edited_meanwhile", "the session changed since the version this edit was made from: read it again and redo the edit")
	ErrVersionRequired    = newErr(KindInvalid, "version_required", "an edit names the version it was made from (version, or If-Match with the ETag of GET)")
	ErrReleaseNotice      = newErr(KindRule, "release_notice", "a published release time moves earlier only with the hospital's notice (24 hours unless its policy says)")
	ErrLotteryWindowShort = newErr(KindRule, "lottery_window_short", "a lottery's entry window lasts at least 10 minutes")
	ErrReleasePassed      = newErr(KindRule, "release_passed", "a pool's computed release time has passed: it would open at once")
	ErrOnsiteShort        = newErr(KindRule, "onsite_share_short", "the on-site pool has less than the share of the slots the hospital keeps for on-site patients")
	ErrBeyondWindow       = newErr(KindRule, "beyond_booking_window", "this session is further ahead than the hospital's booking window")
	ErrNotSameLevel       = newErr(KindRule, "substitute_not_same_level", "a substitute is a doctor of the same department, title and fee level")
	ErrSubstituteLottery  = newErr(KindRule, "substitute_lottery", "a session with a lottery pool takes no substitute: its winners were drawn for this doctor")
	ErrOfferNotFound      = newErr(KindNotFound, "offer_not_found", "no such substitute offer")
	ErrOfferClosed        = newErr(KindConflict, "offer_closed", "this substitute offer has been answered or has lapsed")
	ErrCallBackNotFound   = newErr(KindNotFound, "callback_not_found", "no such call-back on your hospital's list")
	ErrCallBackDone       = newErr(KindConflict, "callback_done", "this person has been told already: the call-back is off the list")
	// ErrCallerChanged is the phone console's: a form of one caller's page
	// sent after another caller was set on the operator's session (in
	// another tab). The API takes the caller in each request.
	ErrCallerChanged   = newErr(KindConflict, "caller_changed", "the caller changed since this page was shown (another tab set another caller): nothing was done; open the current caller's page and try again")
	ErrNumberNotOpened = newErr(KindRule, "number_not_opened", "an answer to a substitute's slot from the call-back list needs a call: open the row's number and ring the person first (within 30 minutes)")
	ErrNoCallerPhone   = newErr(KindNotFound, "caller_phone_unknown", "no number is on file for this person (a walk-in who left no contact number, or booked before numbers were kept)")
	ErrSessionInPast   = newErr(KindRule, "session_in_past", "the session starts in the past")
	ErrExtraSlotsLimit = newErr(KindRule, "extra_slots_limit", "the session has had as many extra slots as the hospital's policy allows")
	ErrSessionTooFar   = newErr(KindRule, "session_too_far", "the session is more than 366 days after today in the hospital's zone")
	ErrSessionStopped  = newErr(KindConflict, "session_stopped", "the hospital stopped this clinic (停诊): nothing can be booked in it")
	// ErrSessionMoved is a booking admitted by an instance that had not yet
	// seen the clinic's move (改期) to another day: SQL refuses the old day
	// (review22 H1), the slot is given back.
	ErrSessionMoved = newErr(KindConflict, "session_moved", "the clinic moved to another day while this was booked; nothing was booked: look at its new day and book again")
	// ErrStoppedUnchangeable is session_stopped as an administrator's
	// change or withdrawal of a stopped clinic meets it: the stopped
	// session is the record of what was cancelled, and the half-day is
	// free to publish again.
	ErrStoppedUnchangeable = &Error{Kind: KindConflict, Code: "session_stopped",
		Message: "this clinic was stopped (停诊): it stays as the record and is not changed or deleted; publish a new session for the doctor's half-day"}
	ErrPatientBarred = newErr(KindRule, "patient_barred", "this patient is barred from booking")
	// ErrNotBarredByReview: a person's appeal for a person no confirmed
	// flag bars (a bar for missed appointments ends on its date).
	ErrNotBarredByReview = newErr(KindRule, "not_barred_by_review", "no review decision bars this person: there is nothing to appeal (a bar for missed appointments ends on its date)")
	// ErrSecondAdminRequired: a decision that relieves a flagged group is
	// another administrator's (secondAdmin): an appeal against a flag's
	// confirmation is upheld by another than the one who confirmed it
	// (review21 M3), a strong flag's dismissal finished by another than the
	// one who asked for it (review25 M1).
	ErrSecondAdminRequired = newErr(KindForbidden, "second_admin_required", "a decision that relieves a flagged group is another administrator's: an appeal against a flag is upheld by another than the one who confirmed it, and a flag of strong evidence is dismissed by another than the one who first dismissed it")
	ErrQuotaDayDept        = newErr(KindRule, "quota_day_department", "one booking per patient per visit day per department")
	ErrQuotaDay            = newErr(KindRule, "quota_day", "too many bookings for this patient on this visit day")
	ErrQuotaWeek           = newErr(KindRule, "quota_week", "too many active bookings for this patient in this week")
	ErrQuotaMonth          = newErr(KindRule, "quota_month", "too many active bookings for this patient in this month")
	ErrTooManyPatients     = newErr(KindRule, "too_many_patients", "this account has the most patients allowed")
	ErrPhoneLimit          = newErr(KindRule, "phone_limit", "this phone number is already used on the most accounts allowed")
	ErrIdentityMismatch    = newErr(KindRule, "identity_mismatch", "the name does not match the identity on record")
	ErrIdentityUnverified  = newErr(KindRule, "identity_unverified", "this name and ID number do not match the register: check both against the ID card, or have the registration desk verify them with the card")
	ErrTokenRevoked        = newErr(KindUnauthenticated, "token_revoked", "this login has ended (logged out or the password changed); log in again")
	ErrInvalidText         = newErr(KindInvalid, "invalid_text", "a text field holds control characters or is not valid UTF-8")
	ErrRateLimited         = newErr(KindRateLimited, "rate_limited", "too many requests; retry later")
	ErrUnavailable         = newErr(KindUnavailable, "unavailable", "a dependency is unavailable; retry later")
)

// ErrBookedElsewhere is the one answer, to any account but the person's
// verified self, when what refuses a patient's attempt for a person is not
// shown to be that account's own (explainRefusal): the same for a booking
// in the session, a lottery entry, a waitlist place and every quota, so it
// tells nothing of which.
var ErrBookedElsewhere = newErr(KindConflict, "person_booked_elsewhere", "this person already has a booking, a lottery entry or a waitlist place that rules this attempt out; if this account did not make it, the person can see and cancel it from their own account once the registration desk has verified them")

// LimitError is a refusal to go on for a while: too many failed logins for a
// phone, too many logins being checked at once, a booking attempt while
// SQL refuses writes, or a hospital's booking state being rebuilt (a 503).
// Wait is how long to wait (the HTTP answer's
// Retry-After).
type LimitError struct {
	Wait time.Duration
	Err  *Error
}

func (e *LimitError) Error() string { return e.Err.Error() }
func (e *LimitError) Unwrap() error { return e.Err }

// The 503 answers of a write say by their code what is known of its
// outcome (API.md: a 503 means nothing was booked): `unavailable`, nothing
// was done, the client may book elsewhere or retry later; `outcome_unknown`,
// it may or may not have been done (a commit whose answer was lost and
// could not be read back), and the client reads its bookings or asks again
// with the same Idempotency-Key, which never does it twice.
var (
	errNothingBooked  = Errorf(ErrUnavailable, "a dependency is unavailable; nothing was booked, retry later")
	errOutcomeUnknown = newErr(KindUnavailable, "outcome_unknown", "the outcome is unknown; retry with the same Idempotency-Key (it is never done twice), or read your bookings to see whether it was done")
	// errStateRebuild carries its wait (Retry-After): the reload from
	// SQL takes seconds, and the heal job retries it every second.
	errStateRebuild = &LimitError{Wait: stateRebuildWait,
		Err: Errorf(ErrUnavailable, "this hospital's booking state is being rebuilt after a fault; nothing was booked, retry in a few seconds")}
)

// stateRebuildWait is the Retry-After of a 503 while a hospital's booking
// state is being reloaded.
const stateRebuildWait = 3 * time.Second

// outcomeUnknownWait is the Retry-After of a 503 outcome_unknown: a repeat
// with the same key reads what was done, or answers request_in_progress
// until the service has settled it.
const outcomeUnknownWait = time.Second

// RetryAfter is how long a client should wait before it repeats a request
// that got err, when the service knows that a repeat is sensible: the wait
// of a LimitError (a limit, a state rebuild) or an unknown outcome's. ok is
// false when it does not know (a dependency down for as long as it is).
func RetryAfter(err error) (wait time.Duration, ok bool) {
	var l *LimitError
	if errors.As(err, &l) {
		return l.Wait, true
	}
	if e, ok := Public(err); ok && e.Code == errOutcomeUnknown.Code {
		return outcomeUnknownWait, true
	}
	return 0, false
}

// Public is the error a client may see for err: the domain's *Error inside
// it, or, for a write whose commit may or may not have happened, a 503 that
// says the outcome is unknown. ok is false for anything else (a bug): the
// adapters answer it with a generic 500.
func Public(err error) (e *Error, ok bool) {
	if e, ok := AsError(err); ok {
		return e, true
	}
	if errors.Is(err, ErrOutcomeUnknown) {
		return errOutcomeUnknown, true
	}
	return nil, false
}

// nothingBooked marks a 503 of a booking attempt that certainly booked
// nothing, keeping the cause for the log.
func nothingBooked(err error) error {
	if e, ok := AsError(err); ok && e.Kind == KindUnavailable {
		return fmt.Errorf("%w: %w", errNothingBooked, err)
	}
	return err
}

// ErrOutcomeUnknown is returned by a Store when a write may or may not have
// committed (the connection broke during COMMIT). The Service resolves it by
// reading back; it is never shown to a client.
var ErrOutcomeUnknown = errors.New("commit outcome unknown")

// ErrHoldPending is returned by Admission.Release with OnlyIfExpired when
// the hold's commit may still be in flight, so it was left alone.
var ErrHoldPending = errors.New("hold still pending")

// ErrCommitsPending is wrapped, with ErrSoldOut, by Admission.Reserve's
// sold_out when holds of the session's hospital are pending (admitted, their
// commit not known to be done): some of the pool's slots may be held by
// commits that fail, and come back. The Service answers such a sold_out 503
// while it knows SQL refuses writes (writehealth.go), and as sold_out
// otherwise.
var ErrCommitsPending = errors.New("holds of the hospital are pending")

// ErrStateMissing is returned by Admission.Reserve when the hospital's state
// is not whole (Redis lost it): nothing was admitted. The Service reloads
// the state from SQL and answers 503 meanwhile.
var ErrStateMissing = errors.New("admission state missing")

// ErrWindowClosed is returned by Admission.Enter when the pool no longer
// takes entries (its draw time has come by the Redis clock): the attempt is
// then a booking attempt, answered as the pool answers first-come.
var ErrWindowClosed = errors.New("lottery window closed")

// ErrSlotTaken is returned by a Store when SQL already holds an active
// booking for the slot Redis handed out: Redis drifted from SQL. SQL wins.
var ErrSlotTaken = errors.New("slot already booked in SQL")

// ErrReadOnly is wrapped by a Store's error when the database answers but
// refuses writes: it is read-only (an operator's default_transaction_read_only
// on a full disk, a standby). The error also wraps ErrUnavailable: nothing
// was written, retry later. Ready names it, so /readyz is not ready while
// every booking would fail.
var ErrReadOnly = errors.New("the database refuses writes (read-only)")
