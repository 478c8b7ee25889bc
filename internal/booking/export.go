package booking

import (
	"cmp"
	"context"
	"slices"
	"time"

	"fairslot/internal/identity"
)

// AccountExport is a copy of what the service holds on a patient account
// and the people it books for (个人信息保护法, art. 45: a person may ask
// for a copy of their personal information), as the patient's own views
// show each item: ID numbers, names and phones masked, as everywhere a
// remote channel reaches (docs/security.md, "A copy of your data"). The
// desk shows the record in clear, to the person with their card.
type AccountExport struct {
	ExportedAt time.Time
	Account    Account // phone masked; the hashes, seal and password hash are never exported
	Patients   []Patient
	// Standings is each person's no-show record, with the bookings it
	// counted among Bookings (status no_show, or cancelled late).
	Standings     []Standing
	Bookings      []Booking
	Waitlist      []WaitlistEntry
	Entries       []Entry
	MadeByOthers  MadeByOthers // what other accounts made for the account's verified self
	Cases         []Case       // reports and complaints the account filed
	Notifications []Notification
	// Consents are the account's consents to the privacy notice.
	Consents []Consent
	// Events are the account's own acts as the service recorded them
	// (logins, additions, bookings, refusals: ExportEvents, newest
	// first), with the IP address and device id its requests came from —
	// blank where staff or another person's account acted on what it made.
	Events []Event
	// Reviews are the scalper flags that name the account or its persons.
	Reviews []Review
	// FormerNames are the former names (曾用名) of the account's verified
	// self, as the desk recorded them, masked as the copy shows the
	// person's own name; none for an account with no verified self.
	FormerNames []PastName
}

// PastName is a former name of the person of PatientID (the account's
// verified self) as the copy of the account's data shows it: masked, with
// the day the desk recorded it.
type PastName struct {
	PatientID  string
	MaskedName string
	RecordedAt time.Time
}

// ExportEvents is how many of the account's newest events its copy lists.
const ExportEvents = 500

// Review is a scalper flag as the copy of an account's data tells it
// (review21 M6): its status and dates, whether it names the account itself
// or only persons on its list (which), and the kinds of evidence — never
// the other accounts or persons in it, its score or its notes.
type Review struct {
	Status    string
	CreatedAt time.Time
	DecidedAt time.Time
	// NamesAccount: the account itself is in the flag's group; PatientIDs
	// are the account's members the flag names.
	NamesAccount bool
	PatientIDs   []string
	Kinds        []string
}

// Export is the actor's copy of their data: every list the patient's own
// views give, read in one call. Each list is as long as its own view's
// (bookings: the latest 500; notifications: the latest 100).
func (s *Service) Export(ctx context.Context, actor Actor) (AccountExport, error) {
	if actor.Role != RolePatient {
		return AccountExport{}, Errorf(ErrForbidden, "only patient accounts export their data here; staff records are the hospital's")
	}
	out := AccountExport{ExportedAt: s.cfg.Now()}
	acct, err := s.store.AccountByID(ctx, actor.AccountID)
	if err != nil {
		return AccountExport{}, err
	}
	out.Account = Account{ID: acct.ID, Role: acct.Role, PhoneMasked: acct.PhoneMasked, CreatedAt: acct.CreatedAt, Blocked: acct.Blocked}
	steps := []func() error{
		func() (err error) { out.Patients, err = s.Patients(ctx, actor); return err },
		func() (err error) { out.Standings, err = s.Standings(ctx, actor, ""); return err },
		func() (err error) { out.Bookings, err = s.Bookings(ctx, actor); return err },
		func() (err error) { out.Waitlist, err = s.Waitlist(ctx, actor); return err },
		func() (err error) { out.Entries, err = s.Entries(ctx, actor); return err },
		func() (err error) { out.MadeByOthers, err = s.MadeByOthers(ctx, actor); return err },
		func() (err error) { out.Cases, err = s.MyCases(ctx, actor, ""); return err },
		func() (err error) { out.Notifications, _, err = s.MyNotifications(ctx, actor); return err },
		func() (err error) { out.Consents, err = s.store.Consents(ctx, actor.AccountID); return err },
		func() (err error) { out.Events, err = s.ownEvents(ctx, actor.AccountID); return err },
		func() (err error) { out.Reviews, err = s.reviewsOf(ctx, actor.AccountID, out.Patients); return err },
		func() (err error) { out.FormerNames, err = s.pastNames(ctx, out.Patients); return err },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return AccountExport{}, err
		}
	}
	return out, nil
}

// pastNames are the former names of the account's verified self (of
// members, from the copy's list), masked as its own name is. A sealed name
// that does not open is left out, logged (never the name).
func (s *Service) pastNames(ctx context.Context, members []Patient) ([]PastName, error) {
	i := slices.IndexFunc(members, func(p Patient) bool { return p.IsSelf && p.SelfVerified })
	if i < 0 {
		return nil, nil
	}
	self := members[i]
	names, err := s.store.FormerNames(ctx, self.IdentityID)
	if err != nil {
		return nil, err
	}
	out := make([]PastName, 0, len(names))
	for _, n := range names {
		name, err := s.keys.Open("name", n.Sealed)
		if err != nil {
			s.log.Warn("open a former name for the copy of an account's data; left out", "err", err)
			continue
		}
		out = append(out, PastName{PatientID: self.ID, MaskedName: identity.MaskName(name), RecordedAt: n.RecordedAt})
	}
	return out, nil
}

// ownEvents are the account's events for its copy: the request's IP
// address and device id are the account's own only where the account
// acted; a clerk's or operator's act on what it made (staff_id) and
// another person's verified self ending it (by_account_id) carry someone
// else's, which the copy leaves out. The phone reference (a keyed hash) is
// left out too: the account's number is in the file, masked.
func (s *Service) ownEvents(ctx context.Context, accountID string) ([]Event, error) {
	evs, err := s.store.EventsOfAccount(ctx, accountID, ExportEvents)
	if err != nil {
		return nil, err
	}
	for i := range evs {
		e := &evs[i]
		if e.StaffID != "" || e.ByAccountID != "" {
			e.IP, e.DeviceID = "", ""
		}
		e.Phone, e.StaffID, e.ByAccountID, e.PresentedIdentityID = "", "", "", ""
	}
	return evs, nil
}

// reviewsOf tells the flags that name the account or its members.
func (s *Service) reviewsOf(ctx context.Context, accountID string, members []Patient) ([]Review, error) {
	byIdentity := map[string][]string{}
	var ids []string
	for _, p := range members {
		if _, ok := byIdentity[p.IdentityID]; !ok {
			ids = append(ids, p.IdentityID)
		}
		byIdentity[p.IdentityID] = append(byIdentity[p.IdentityID], p.ID)
	}
	flags, err := s.store.FlagsConcerning(ctx, accountID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Review, 0, len(flags))
	for _, f := range flags {
		r := Review{Status: f.Status, CreatedAt: f.CreatedAt, DecidedAt: f.DecidedAt, NamesAccount: slices.Contains(f.AccountIDs, accountID)}
		for _, id := range f.PatientIDs {
			r.PatientIDs = append(r.PatientIDs, byIdentity[id]...)
		}
		for _, reason := range f.Reasons {
			kind := cmp.Or(reason.Kind, reason.Signal)
			if kind != "" && !slices.Contains(r.Kinds, kind) {
				r.Kinds = append(r.Kinds, kind)
			}
		}
		out = append(out, r)
	}
	return out, nil
}
