package booking

import (
	"context"
	"errors"
	"time"
)

// Who lists the person (docs/security.md, "Leaving another account's
// list"). Any account may add an ID number as a family member (就诊人); the
// person comes first: once their identity is verified — online, the
// account holding them as its verified self (the desk bound it); at the
// desk, the person with their ID card — they see which other accounts list
// them as a family member and take themselves off any of those lists.
// Of a listing account the person learns what MadeByOthers tells of a
// maker: its login number, masked; plus what that account calls them and
// since when. The listing account is told that a person it listed removed
// themselves (a notification naming the member as it already held them:
// the masked name and relationship, never anything of the person's own
// account). What the account made for the person before stays its history
// (its bookings, past visits, events, audit); the removal is the holder's
// own removal (RemovePatient) in every other way: refused while the
// account still has a booking, an entry or a waitlist place of the person
// pending (ErrPatientPending — the person may cancel, withdraw or leave
// them first under "made for you by other accounts"), and the account may
// add the person again later as any other.

// Listing is another account's listing of the person as a family member.
type Listing struct {
	// ID is the listing (the other account's patient row): opaque.
	ID string
	// AccountID stays in the domain (the audit); PhoneMasked is all the
	// person learns of the account.
	AccountID    string
	PhoneMasked  string
	Relationship Relationship // what the account calls the person
	Since        time.Time
	// MaskedName is the name the account listed the person under, masked
	// (the notification to the account names the member by it).
	MaskedName string
}

// NotificationListingRemoved is the notice to an account that a person it
// listed removed themselves from its list.
const NotificationListingRemoved = "listing_removed_by_person"

// ListingRemovedAction is the audit action of a person's removal of
// themselves from another account's list (online by their verified self,
// at the desk by the clerk who read their card); ListingsReadAction the
// desk's reading of the accounts that list a person.
const (
	ListingRemovedAction = "listing_removed_by_person"
	ListingsReadAction   = "person_listings_read"
)

// ListedBy lists the other accounts that list the person the actor holds
// as its verified self as a family member; nothing for an account
// without one (an unverified self gains no view, as in MadeByOthers).
func (s *Service) ListedBy(ctx context.Context, actor Actor) ([]Listing, error) {
	if actor.Role != RolePatient {
		return nil, Errorf(ErrForbidden, "only patient accounts have a person of their own")
	}
	self, ok, err := s.verifiedSelf(ctx, actor)
	if err != nil || !ok {
		return nil, err
	}
	return s.store.ListingsOf(ctx, self.IdentityID, actor.AccountID)
}

// LeaveListing takes the actor's verified self off another account's list
// (listingID, from ListedBy). A listing that is not of the person, or
// gone, is ErrPatientNotFound; an account without a verified self is
// ErrForbidden (the desk binds one, with the card).
func (s *Service) LeaveListing(ctx context.Context, actor Actor, listingID string) (Listing, error) {
	if actor.Role != RolePatient {
		return Listing{}, Errorf(ErrForbidden, "only patient accounts have a person of their own")
	}
	self, ok, err := s.verifiedSelf(ctx, actor)
	if err != nil {
		return Listing{}, err
	}
	if !ok {
		return Listing{}, Errorf(ErrForbidden, "only a verified self leaves another account's list: have the registration desk "+
			"bind this account to you with your ID card first, or ask the desk to remove you")
	}
	return s.leaveListing(ctx, actor, self.IdentityID, actor.AccountID, listingID,
		"the person, this account's verified self, removed themselves from the list of account ")
}

// DeskListedBy is the desk's ListedBy for the person whose ID card the
// clerk holds: every account listing them as a family member. The card's
// name must be the person's verified name where one is verified
// (ErrVerifiedNameDiffers otherwise); a person nobody registered is
// ErrPatientNotFound. Audited (ListingsReadAction).
func (s *Service) DeskListedBy(ctx context.Context, actor Actor, card IdentityRequest) ([]Listing, error) {
	id, err := s.cardHolder(ctx, actor, card)
	if err != nil {
		return nil, err
	}
	ls, err := s.store.ListingsOf(ctx, id.Person(), "")
	if err != nil {
		return nil, err
	}
	a := AuditEntry{ID: newID(), TS: s.cfg.Now(), ActorID: actor.AccountID, ActorRole: actor.Role, Action: ListingsReadAction,
		Target: "identity:" + id.Person(), Reason: "the person showed their ID card at the desk to see which accounts list them",
		HospitalID: actor.HospitalID}
	if err := s.store.RecordAudit(ctx, a); err != nil {
		return nil, err
	}
	return ls, nil
}

// DeskLeaveListing is the desk's LeaveListing for the person whose ID card
// the clerk holds.
func (s *Service) DeskLeaveListing(ctx context.Context, actor Actor, card IdentityRequest, listingID string) (Listing, error) {
	id, err := s.cardHolder(ctx, actor, card)
	if err != nil {
		return Listing{}, err
	}
	return s.leaveListing(ctx, actor, id.Person(), "", listingID,
		"the person, their ID card read at the desk, removed themselves from the list of account ")
}

// cardHolder is the person whose card a clerk holds.
func (s *Service) cardHolder(ctx context.Context, actor Actor, card IdentityRequest) (Identity, error) {
	if actor.Role != RoleClerk {
		return Identity{}, Errorf(ErrForbidden, "only registration clerks act for a person, with their ID card in hand")
	}
	who, err := s.resolve(card)
	if err != nil {
		return Identity{}, err
	}
	known, err := s.store.IdentityByHash(ctx, who.IDHash)
	if errors.Is(err, ErrNotFound) {
		return Identity{}, Errorf(ErrPatientNotFound, "no account lists anyone with this ID number")
	}
	if err != nil {
		return Identity{}, err
	}
	if known.NameVerified && string(known.NameHash) != string(who.NameHash) {
		return Identity{}, verifiedNameDiffers(known)
	}
	return known, nil
}

// leaveListing removes the listing listingID of the person (personID)
// from its account, unless that is except (the person's own account):
// audited as actor's, the account told.
func (s *Service) leaveListing(ctx context.Context, actor Actor, personID, except, listingID, why string) (Listing, error) {
	if !isUUID(listingID) {
		return Listing{}, ErrPatientNotFound
	}
	ls, err := s.store.ListingsOf(ctx, personID, except)
	if err != nil {
		return Listing{}, err
	}
	var l Listing
	for _, x := range ls {
		if x.ID == listingID {
			l = x
		}
	}
	if l.ID == "" {
		return Listing{}, Errorf(ErrPatientNotFound, "no account lists you under that listing (removed already, or not yours)")
	}
	now := s.cfg.Now()
	a := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: ListingRemovedAction,
		Target: "patient:" + l.ID, Reason: why + l.AccountID + "; its bookings of the person made before stay its history",
		HospitalID: actor.HospitalID}
	rel := l.Relationship.Label()
	n := Notification{ID: newID(), Kind: NotificationListingRemoved, AccountID: l.AccountID, CreatedAt: now,
		Body: "您账号就诊人列表中的「" + rel + " · " + l.MaskedName + "」已由本人（经实名核验）将自己移出列表，此后不能再为其预约；此前的预约记录仍保留在您的账号中。如需再次添加，请先征得本人同意。 " +
			"The member " + rel + " · " + l.MaskedName + " of your list removed themselves from it, their identity verified: " +
			"you can no longer book for them. Your past bookings for them stay in your account. Ask them before adding them again."}
	if err := s.store.RemoveListing(ctx, l.AccountID, l.ID, now, a, n); err != nil {
		return Listing{}, err
	}
	s.forgetRemoved(l.ID)
	return l, nil
}
