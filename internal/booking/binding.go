package booking

import (
	"context"
	"errors"
	"time"

	"fairslot/internal/identity"
)

// Being listed on an account does not make a person its holder (review24
// H1, H2, L1; docs/security.md, "Being listed is not holding"). The desk's
// binding of a person as an account's own person (本人, its verified self:
// VerifyIdentity with an account phone) gives that person's card the
// account's reset codes, login moves and closing, and the account the
// person's view of what others made for them. So a binding needs:
//   - proof that the person whose card it is controls the account's
//     login: the clerk rings the account's login number from the desk's
//     phone and sees it ring in that person's hand (number_rung), as a
//     login move proves a new number; fairslot sends no SMS;
//   - a person the account does not list as its holder's spouse, child or
//     parent (listed_as_family): a family member is not the holder, and a
//     parent is a child's guardian, never the child's 本人;
//   - a person 14 or older (minor_not_self, 个人信息保护法 art. 31): under
//     14 a parent or guardian adds the child as 子女; from 14 a person
//     consents for themselves and may hold their own account;
//   - never over a holder the desk bound (holder_bound, Store.VerifyName,
//     in the binding's transaction); a holder never bound (claimed online)
//     is replaced only with the proof above, the audit entry says so and
//     the account is told (NotificationHolderChanged).

// NotificationHolderChanged is the account's notice that a desk binding
// made another person its holder (本人) in place of one it had claimed
// online.
const NotificationHolderChanged = "account_holder_changed"

// selfOfAge refuses a child under 14 (by the ID document's birth date) as
// an account's own person; other documents carry no birth date.
func selfOfAge(doc identity.ID, isSelf bool, now time.Time) error {
	if !isSelf {
		return nil
	}
	if under, known := doc.UnderAge(identity.ChildAge, now); under && known {
		return ErrMinorNotSelf
	}
	return nil
}

// mayBind checks the desk's binding of the card's person as account a's
// holder, before the store's transaction (which refuses a bound holder).
func (s *Service) mayBind(ctx context.Context, card person, a Account, numberRung bool) error {
	if !numberRung {
		return FieldErrorf(ErrInvalidField, "number_rung", "ring the account's login number from the desk's phone and see it ring in the hand of the person whose card this is, then say so: "+
			"being listed on an account does not make a person its holder")
	}
	if err := selfOfAge(card.doc, true, s.cfg.Now()); err != nil {
		return err
	}
	known, err := s.store.IdentityByHash(ctx, card.IDHash)
	if errors.Is(err, ErrNotFound) {
		return nil // a new person: nobody lists them
	}
	if err != nil {
		return err
	}
	members, err := s.store.Patients(ctx, a.ID)
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.Removed || m.IdentityID != known.ID {
			continue
		}
		switch m.Relationship {
		case RelSpouse, RelChild, RelParent:
			return ErrListedAsFamily
		}
	}
	return nil
}

// holderChangedNotice is the account's notice of a binding that replaces
// a holder it had claimed online; the store writes it only then.
func holderChangedNotice(a Account, card person, hospitalID string, now time.Time) Notification {
	return Notification{ID: newID(), Kind: NotificationHolderChanged, HospitalID: hospitalID, AccountID: a.ID, CreatedAt: now,
		Body: "您账号的本人（账户持有人）已在挂号窗口改为 " + card.NameMasked + "：工作人员核验了其身份证，并拨打本账号登录手机号，在其手中响铃。原登记为本人的就诊人仍在就诊人列表中，关系改为“其他”。如非您本人所为，请携带身份证到挂号窗口。 " +
			"Your account's holder (本人) was changed at the registration desk to " + card.NameMasked + ": the clerk checked their ID card and rang your login number, which rang in their hand. " +
			"The person listed as holder before stays on the list as \"other\". If this was not you, bring your ID card to a registration desk."}
}
