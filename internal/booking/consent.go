package booking

import (
	"context"
	"time"

	"fairslot/internal/identity"
)

// PrivacyNoticeVersion names the privacy notice's text (个人信息保护说明,
// the patient console's /patient/privacy): a consent is to one version, and
// a change of the text that changes what is collected, why, or for how long
// gets a new one — an account that agreed to an older one is asked again at
// its next login (Token.ConsentNeeded).
const PrivacyNoticeVersion = "2026-12-05"

// ConsentRequest is the consent a request carries (review21 H3): the
// version of the notice agreed to, and, for a child under 14, that the
// holder gives it as the child's parent or guardian.
type ConsentRequest struct {
	Version  string
	Guardian bool
}

// ConsentBy is who gave a consent: the account's holder (for the account,
// for themselves, or as the one who adds an adult family member and
// declares the member agreed), or the holder as a child's parent or
// guardian.
type ConsentBy string

// Who gave a consent.
const (
	ConsentByHolder   ConsentBy = "holder"
	ConsentByGuardian ConsentBy = "guardian"
)

// ConsentChannel is how a consent was given.
type ConsentChannel string

// The channels a consent is given on: online (the holder ticked the box),
// phone (an operator read the notice to the caller), desk (a clerk showed
// it).
const (
	ConsentOnline ConsentChannel = "online"
	ConsentPhone  ConsentChannel = "phone"
	ConsentDesk   ConsentChannel = "desk"
)

// Consent is a recorded consent to the privacy notice: never changed, a
// new notice gets a new row.
type Consent struct {
	ID            string
	AccountID     string
	PatientID     string // empty: the account's own
	IdentityID    string // the person's, where one is named
	NoticeVersion string
	By            ConsentBy
	Channel       ConsentChannel
	StaffID       string // who read or showed the notice (phone, desk)
	At            time.Time
}

// checkConsent refuses a request without a consent to the current notice.
func checkConsent(c ConsentRequest) error {
	switch c.Version {
	case "":
		return FieldErrorf(ErrConsentRequired, "privacy_consent", "agree to the privacy notice (/patient/privacy): give privacy_consent, its version %s", PrivacyNoticeVersion)
	case PrivacyNoticeVersion:
		return nil
	}
	return FieldErrorf(ErrNoticeOutdated, "privacy_consent", "the privacy notice is now version %s: read it again (/patient/privacy) and agree to that version", PrivacyNoticeVersion)
}

// consentFor is the consent the holder gives for a person being added: a
// child's (under 14 on the day it is given, by the ID document's birth
// date) must be given as the child's parent or guardian (个人信息保护法
// art. 31).
func (s *Service) consentFor(c ConsentRequest, doc identity.ID, now time.Time) (ConsentBy, error) {
	if under, _ := doc.UnderAge(identity.ChildAge, now); under {
		if !c.Guardian {
			return "", FieldErrorf(ErrGuardianConsent, "guardian_consent", "%s", ErrGuardianConsent.Message)
		}
		return ConsentByGuardian, nil
	}
	return ConsentByHolder, nil
}

// AgreeToNotice records the actor's consent to the current privacy notice
// for its account: an account made before consents were recorded, or that
// agreed to an older notice, is asked at its next login (Token.ConsentNeeded)
// and answers here.
func (s *Service) AgreeToNotice(ctx context.Context, actor Actor, c ConsentRequest) (Consent, error) {
	if actor.Role != RolePatient {
		return Consent{}, Errorf(ErrForbidden, "only a patient account agrees to the patients' privacy notice")
	}
	if err := checkConsent(c); err != nil {
		return Consent{}, err
	}
	rec := Consent{ID: newID(), AccountID: actor.AccountID, NoticeVersion: c.Version, By: ConsentByHolder,
		Channel: ConsentOnline, At: s.cfg.Now()}
	if err := s.store.RecordConsent(ctx, rec); err != nil {
		return Consent{}, err
	}
	return rec, nil
}

// Consents lists the consents recorded for the actor's account and the
// persons it added, oldest first.
func (s *Service) Consents(ctx context.Context, actor Actor) ([]Consent, error) {
	if actor.Role != RolePatient {
		return nil, Errorf(ErrForbidden, "only patient accounts give consents")
	}
	return s.store.Consents(ctx, actor.AccountID)
}

// staffConsent checks the consent a phone or on-site booking carries
// (review21 H3, session 23) and returns the one to record once the booking
// is made, nil for none. A person not known yet (newPerson) must come with
// the current notice's consent, a child under 14 with a guardian's: the
// operator or clerk took it (read the notice out, the signed form or the
// card reader's confirmation). A known person is never refused here — they
// were booked before, and cutting them off at the release hour for a form
// would keep them from care; a consent given for them is recorded if it is
// to the current notice. The referral channel books on a referring
// doctor's word and is not asked (open).
func (s *Service) staffConsent(req StaffBookRequest, doc identity.ID, newPerson bool) (*Consent, error) {
	var channel ConsentChannel
	switch req.Channel {
	case ChannelPhone:
		channel = ConsentPhone
	case ChannelOnsite:
		channel = ConsentDesk
	default:
		return nil, nil
	}
	if err := checkConsent(req.Consent); err != nil {
		if !newPerson {
			return nil, nil
		}
		if req.Consent.Version == "" {
			return nil, FieldErrorf(ErrConsentRequired, "privacy_consent", "a person not on file yet is booked only with their consent to the privacy notice, version %s: read it to the caller, or have the walk-in sign it, and give privacy_consent", PrivacyNoticeVersion)
		}
		return nil, err
	}
	now := s.cfg.Now()
	by, err := s.consentFor(req.Consent, doc, now)
	if err != nil {
		if newPerson {
			return nil, err
		}
		return nil, nil
	}
	return &Consent{ID: newID(), NoticeVersion: req.Consent.Version, By: by, Channel: channel, At: now}, nil
}

// recordStaffConsent records a consent a staff member took for the person
// a booking or entry was made for (ids only: the person, the staff member).
// The booking stands if the write fails: it is logged (ids only) for the
// hospital to take the consent again.
func (s *Service) recordStaffConsent(ctx context.Context, actor Actor, c Consent, identityID string) {
	c.IdentityID, c.StaffID = identityID, actor.AccountID
	if err := s.store.RecordConsent(context.WithoutCancel(ctx), c); err != nil {
		s.log.Error("record a consent taken by staff; the booking stands", "identity_id", identityID, "staff_id", c.StaffID, "err", err)
	}
}
