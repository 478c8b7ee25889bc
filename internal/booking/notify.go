package booking

import (
	"context"
	"fmt"
	"time"
)

// The notification outbox. What a patient must be told (a stopped clinic,
// the answer to a report or complaint) is a row of notifications written in
// the transaction of the change it tells of, so nothing is told that did
// not happen and nothing that happened goes untold. The "notify" job
// (Jobs) hands each undelivered one to the Sender and marks it delivered
// when the sender took it; a sender's failure leaves it for the next run.
// Delivery is at least once: an instance that dies between a send and its
// mark sends again.
//
// The patient's console lists every notification of the account whatever
// the channel (消息, with an unread mark). This machine sends no SMS: the
// only sender is ConsoleSender, for which the console is the channel.

// Sender delivers one notification through a channel (SMS, app push). It
// must not log the body or the recipient: they are personal.
type Sender interface {
	Send(ctx context.Context, n Notification) error
	// Name names the channel in metrics and docs ("console", "sms").
	Name() string
}

// ConsoleSender is the default channel: the patient's console, which
// lists the notification already, so sending is taking note that it is
// there; one naming only a person (a phone or desk booking of someone no
// account lists) is on the hospital's list of the session's notifications,
// for the call centre or the desk to tell. It keeps and logs nothing.
type ConsoleSender struct{}

// Send accepts n: the console shows it.
func (ConsoleSender) Send(context.Context, Notification) error { return nil }

// Name is "console".
func (ConsoleSender) Name() string { return "console" }

// deliverBatch bounds one run of the notify job.
const deliverBatch = 200

// DeliverNotifications hands the undelivered notifications, oldest first,
// to the sender, and marks those it took delivered. It returns how many
// were delivered; a sender's error stops the run (the rest wait for the
// next) and is returned with the count so far.
func (s *Service) DeliverNotifications(ctx context.Context) (int, error) {
	ns, err := s.store.UndeliveredNotifications(ctx, deliverBatch)
	if err != nil {
		return 0, err
	}
	var done []string
	var sendErr error
	for _, n := range ns {
		if err := s.cfg.Sender.Send(ctx, n); err != nil {
			sendErr = fmt.Errorf("deliver notification %s through %s: %w", n.ID, s.cfg.Sender.Name(), err)
			break
		}
		done = append(done, n.ID)
	}
	if len(done) > 0 {
		if err := s.store.MarkDelivered(ctx, done, s.cfg.Now()); err != nil {
			return 0, err
		}
	}
	return len(done), sendErr
}

// NotificationStore keeps the outbox's delivery state.
type NotificationStore interface {
	// LastEventNotification is when the newest event already told
	// happened (zero: none).
	LastEventNotification(ctx context.Context) (time.Time, error)
	// EventsToNotify reads the events the notify job tells of (booked,
	// cancelled, no_show, lottery_entered, waitlisted) from since on, by
	// time and id, at most limit; of those at since itself, only the ones
	// whose id comes after afterID (empty: all), so a page goes on where
	// the one before it ended.
	EventsToNotify(ctx context.Context, since time.Time, afterID string, limit int) ([]Event, error)
	// AddEventNotifications stores notifications derived from events,
	// skipping those whose event is told already in their kind; it returns
	// how many it stored.
	AddEventNotifications(ctx context.Context, ns []Notification) (int, error)
	// VerifiedSelfAccounts maps each of identityIDs that an account holds
	// as its verified self (Patient.Verified) to that account.
	VerifiedSelfAccounts(ctx context.Context, identityIDs []string) (map[string]string, error)
	// MaskedPhones maps each of accountIDs to its phone, masked.
	MaskedPhones(ctx context.Context, accountIDs []string) (map[string]string, error)
	// UndeliveredNotifications lists notifications not yet delivered,
	// oldest first, at most limit.
	UndeliveredNotifications(ctx context.Context, limit int) ([]Notification, error)
	// MarkDelivered stamps notifications delivered at a time.
	MarkDelivered(ctx context.Context, ids []string, at time.Time) error
}
