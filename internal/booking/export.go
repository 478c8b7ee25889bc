package booking

import (
	"context"
	"time"
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
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return AccountExport{}, err
		}
	}
	return out, nil
}
