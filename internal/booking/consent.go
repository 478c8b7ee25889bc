package booking

import (
	"context"
	"fmt"
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
	// Person: the holder confirms that the person, listed as a child
	// under 14 on a guardian's consent and 14 now, has read and agreed to
	// the notice themselves (ConsentByPerson).
	Person bool
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
	// ConsentByPerson: the person's own, after a guardian's (a child
	// listed before 14, now 14): relayed by the account holder online,
	// or given at the desk or on the phone.
	ConsentByPerson ConsentBy = "person"
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
	// ConsentReferral: a referring doctor or carer collected it for the
	// resident they book for (StaffID names the referrer).
	ConsentReferral ConsentChannel = "referral"
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
// to the current notice. The referral channel (session 25) is asked the
// same: the referring doctor or carer relays the resident's consent, given
// to them (ConsentReferral; StaffID names the referrer, or the clerk who
// books a referral slot).
func (s *Service) staffConsent(req StaffBookRequest, doc identity.ID, newPerson bool) (*Consent, error) {
	channel, ok := staffConsentChannels[req.Channel]
	if !ok {
		return nil, nil
	}
	return s.takenConsent(req.Consent, channel, doc, newPerson)
}

// takenConsent is the rule of a consent staff took (staffConsent, the
// desk's binding): required of a person not on file yet (newPerson), a
// child's as their guardian's; of a person on file recorded when given to
// the current notice, never refused. It returns the consent to record,
// nil for none.
func (s *Service) takenConsent(c ConsentRequest, channel ConsentChannel, doc identity.ID, newPerson bool) (*Consent, error) {
	if err := checkConsent(c); err != nil {
		if !newPerson {
			return nil, nil
		}
		if c.Version == "" {
			return nil, FieldErrorf(ErrConsentRequired, "privacy_consent", "a person not on file yet is booked only with their consent to the privacy notice, version %s: read it to the caller, have the walk-in sign it, or, referring a resident, have them agree to it; give privacy_consent", PrivacyNoticeVersion)
		}
		return nil, err
	}
	now := s.cfg.Now()
	by, err := s.consentFor(c, doc, now)
	if err != nil {
		if newPerson {
			return nil, err
		}
		return nil, nil
	}
	return &Consent{ID: newID(), NoticeVersion: c.Version, By: by, Channel: channel, At: now}, nil
}

// deskBindingConsent is the consent the holder gives at the desk's binding
// of their account (session 25): the person whose login it is stands at
// the window with the card, so the clerk asks them to read and sign the
// notice, as a walk-in is asked, and ticks. It is the account's consent
// (the holder's, for the account and the persons it lists, as at sign-up):
// recorded in the binding's transaction (SelfBinding.Consent), it ends the
// login's ask (Token.ConsentNeeded) and, being the person's own, a
// 14-year-old's ask on every account listing them. Never required: the
// person is on file (the account lists them), the account's processing
// stands on its sign-up's consent or is asked at its login, and a form
// must not stand between a holder and the binding that takes their
// account back from a squatter or a family member.
func (s *Service) deskBindingConsent(actor Actor, c ConsentRequest, doc identity.ID, accountID string) (*Consent, error) {
	rec, err := s.takenConsent(c, ConsentDesk, doc, false)
	if rec != nil {
		rec.AccountID, rec.StaffID = accountID, actor.AccountID
	}
	return rec, err
}

// staffConsentChannels is how a staff booking's channel takes a consent:
// the operator reads the notice out, the clerk has it signed, the referrer
// has the resident agree to it.
var staffConsentChannels = map[Channel]ConsentChannel{
	ChannelPhone: ConsentPhone, ChannelOnsite: ConsentDesk, ChannelReferral: ConsentReferral,
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

// ownConsent asks, of a person the account listed as a child under 14 on a
// guardian's consent, for the person's own consent once they are 14
// (个人信息保护法 art. 31: from 14 the person consents, not the guardian):
// from the 14th birthday (p.ConsentDue, China's calendar) the account's
// booking, lottery entry or waitlist place of the person needs c, the
// holder's confirmation that the person read and agreed to the notice
// (ErrPersonConsent without; the notice's version as every consent). It is
// recorded (ConsentByPerson, online) before the attempt: a consent given
// stands whether or not a slot is had. The cached patient may be stale
// (the person's own consent recorded on another instance, or at the
// desk): a due one is read again first, so only the few persons due pay a
// SQL read. Staff paths never ask (a person on file is never refused care
// for a form).
func (s *Service) ownConsent(ctx context.Context, actor Actor, p Patient, c ConsentRequest) error {
	now := s.cfg.Now()
	if !consentDue(p, now) {
		return nil
	}
	fresh, err := s.store.Patient(ctx, p.ID)
	if err != nil {
		return err
	}
	s.patients.put(fresh)
	if !consentDue(fresh, now) {
		return nil
	}
	return s.recordOwnConsent(ctx, actor, fresh, c)
}

// OwnConsentAsked reports whether the person, listed as a child on a
// guardian's consent, is 14 on now's day and their own consent is asked
// for (the family page's prompt, the booking form's tick).
func (p Patient) OwnConsentAsked(now time.Time) bool { return consentDue(p, now) }

// consentDue reports whether p's own consent is asked for on now's day.
func consentDue(p Patient, now time.Time) bool {
	return p.ConsentDue != "" && now.In(StandInLocation()).Format(time.DateOnly) >= p.ConsentDue
}

// recordOwnConsent checks and records the holder's confirmation of the
// person's own consent.
func (s *Service) recordOwnConsent(ctx context.Context, actor Actor, p Patient, c ConsentRequest) error {
	if !c.Person {
		return FieldErrorf(ErrPersonConsent, "person_consent", "%s turned 14 on %s: from 14 a person consents for themselves, "+
			"so confirm that they have read and agreed to the privacy notice, version %s (person_consent), as the guardian's consent "+
			"covered them only until then", p.MaskedName, p.ConsentDue, PrivacyNoticeVersion)
	}
	if err := checkConsent(c); err != nil {
		return err
	}
	rec := Consent{ID: newID(), AccountID: actor.AccountID, PatientID: p.ID, IdentityID: p.IdentityID, NoticeVersion: c.Version,
		By: ConsentByPerson, Channel: ConsentOnline, At: s.cfg.Now()}
	if err := s.store.RecordConsent(ctx, rec); err != nil {
		return err
	}
	p.ConsentDue = ""
	s.patients.put(p)
	return nil
}

// ConfirmOwnConsent is the family page's answer to its prompt (POST
// /v1/patients/{id}/privacy-consent): the holder confirms that the
// person, listed as a child and 14 now, read and agreed to the notice.
// For a person whose own consent is not due nothing is recorded: the
// answer is the patient as it stands.
func (s *Service) ConfirmOwnConsent(ctx context.Context, actor Actor, patientID string, c ConsentRequest) (Patient, error) {
	if actor.Role != RolePatient {
		return Patient{}, Errorf(ErrForbidden, "only patient accounts keep a list of patients")
	}
	p, err := s.patientOf(ctx, actor, patientID)
	if err != nil {
		return Patient{}, err
	}
	fresh, err := s.store.Patient(ctx, p.ID)
	if err != nil {
		return Patient{}, err
	}
	if !consentDue(fresh, s.cfg.Now()) {
		s.patients.put(fresh)
		return fresh, nil
	}
	if err := s.recordOwnConsent(ctx, actor, fresh, c); err != nil {
		return Patient{}, err
	}
	fresh.ConsentDue = ""
	return fresh, nil
}

// UnreadListing is a listing made before 0084, with no 14th-birthday day
// on its row, marked by migration 0087 for FillConsentDue: when it was
// listed, and its person's document, the number sealed.
type UnreadListing struct {
	PatientID    string
	ListedAt     time.Time
	IDType       string
	NumberSealed []byte
}

// FillConsentDue gives the listings made before 0084 their 14th-birthday
// day (Patient.ConsentDue), as AddPatient gives a child's listing now: the
// resident ID's birth date plus 14 years (identity.ID.AgeReached), where
// the person was under 14 on the day they were listed (China's calendar);
// none for a person listed at 14 or older, or whose document carries no
// birth date. The rows are those migration 0087 marked; serve runs it at
// its start, before it answers, so no number is opened on the release
// hour's path (each marked row's once, here). A person whose own consent
// was recorded since their birthday is not asked (SetConsentDue). A
// listing this instance cached is read again. It returns how many rows it
// read; a row whose number does not open stops it (the rest stay marked:
// the next start tries again).
func (s *Service) FillConsentDue(ctx context.Context) (int, error) {
	n := 0
	for {
		batch, err := s.store.UnreadListings(ctx, 500)
		if err != nil || len(batch) == 0 {
			return n, err
		}
		for _, l := range batch {
			number, err := s.keys.Open("id_number", l.NumberSealed)
			if err != nil {
				return n, fmt.Errorf("open the document of listing %s: %w", l.PatientID, err)
			}
			day, start := childConsentDue(identity.ID{Type: identity.Type(l.IDType), Number: number}, l.ListedAt)
			if err := s.store.SetConsentDue(ctx, l.PatientID, day, start); err != nil {
				return n, err
			}
			n++
			if _, cached := s.patients.get(l.PatientID); cached {
				fresh, err := s.store.Patient(ctx, l.PatientID)
				if err != nil {
					return n, err
				}
				s.patients.put(fresh)
			}
		}
	}
}

// childConsentDue is the day a person listed on listedAt is asked for
// their own consent (ConsentDue), and that day's start in China: their
// 14th birthday, if they were under 14 when listed; "" otherwise.
func childConsentDue(doc identity.ID, listedAt time.Time) (string, time.Time) {
	under, ok := doc.UnderAge(identity.ChildAge, listedAt)
	if !ok || !under {
		return "", time.Time{}
	}
	day, _ := doc.AgeReached(identity.ChildAge)
	start, err := time.ParseInLocation(time.DateOnly, day, StandInLocation())
	if err != nil {
		return "", time.Time{}
	}
	return day, start
}
