package booking

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"fairslot/internal/identity"
)

// Where the card came from (review25 H1, L1). A desk act that rests on the
// person's document — a check-in, a walk-in, a verification, a login move,
// a reset code, a death record, a number's release or restore, a desk
// closing, a link of two documents — says how the clerk read it: by a card
// reader the hospital registered (the reader's driver signs what it read
// with the reader's key, and the service checks the signature, the
// reader's hospital and the read's age), or typed by the clerk with the
// reason. Nothing else tells a number read from the card's chip from one
// typed off a note a scalper slipped across the counter, so the audit
// states which it was ("card read by reader R" or "number typed by the
// clerk, reason …"), the check-in and walk-in events carry it
// (Event.CardSource) for the detector to count, and only a read (or a
// document with no chip, typed with it in hand) verifies a name.
//
// A request without a card marker (a console or a client older than
// session 25) is typed, reason unspecified: never a read.

// CardSource is how the clerk read the document.
type CardSource string

// The card sources.
const (
	CardFromReader CardSource = "reader"
	CardTyped      CardSource = "typed"
)

// The typed reasons, stable codes. CardTypedUnspecified is a request
// without a card marker: never sent on purpose.
const (
	CardReaderBroken     = "reader_broken"
	CardNoChip           = "no_chip" // a passport, a permit, a birth certificate: nothing to read
	CardDamaged          = "card_damaged"
	CardOther            = "other" // with the clerk's words (typed_text)
	CardTypedUnspecified = "unspecified"
)

// CardReadFresh is how old a reader's read may be when the desk act
// arrives: the person is at the window while the clerk completes the form.
const CardReadFresh = 5 * time.Minute

// CardRead is the request's card marker: a reader's signed read
// (ReaderID, ReadAt, MAC: hex) or the clerk's typed reason (TypedReason,
// and TypedText with other). The zero value is a request without one.
type CardRead struct {
	Source      CardSource
	ReaderID    string
	ReadAt      time.Time
	MAC         string
	TypedReason string
	TypedText   string
}

// SignedRead is what a reader's driver signs: the document's type, number
// and name as it read them (and the request carries), and when.
type SignedRead struct {
	IDType, IDNumber, Name string
	ReadAt                 time.Time
}

// CardSigner is the readers' signature scheme (the port; the HMAC is in
// internal/cardreader): the MAC of a read under a reader's key.
type CardSigner interface {
	Sign(key []byte, r SignedRead) []byte
}

// CardReader is a card reader a hospital registered for its desk: its
// key sealed as names are (the key is shown once, at its registration).
type CardReader struct {
	ID         string
	HospitalID string
	Name       string
	KeySealed  []byte
	CreatedBy  string
	CreatedAt  time.Time
	RetiredAt  time.Time
}

// cardFact is what the desk act rests on, as the audit and the events say
// it.
type cardFact struct {
	source CardSource
	reader CardReader // a read's
	reason string     // a typed one's code
	text   string     // other's words
}

// verifies says whether the act may make the card's name the person's
// verified name: with onlyReads (Config.OnlyReadsVerify), a reader's read,
// or a document that has no chip typed with it in hand (a foreign passport
// has nothing to read; review25 L1); without, any desk read.
func (c cardFact) verifies(onlyReads bool) bool {
	return !onlyReads || c.source == CardFromReader || c.reason == CardNoChip
}

// read says whether the card was a reader's read.
func (c cardFact) read() bool { return c.source == CardFromReader }

// String is the fact as the audit states it.
func (c cardFact) String() string {
	if c.source == CardFromReader {
		return "card read by reader " + c.reader.Name + " (" + c.reader.ID + ")"
	}
	s := "number typed by the clerk, reason " + c.reason
	if c.text != "" {
		s += ": " + c.text
	}
	return s
}

// chipless are the documents with no chip a desk reader reads.
// The desk's reader (an 二代证 reader) reads the resident ID card and the
// foreign permanent resident ID card; a passport, the travel permits and a
// birth certificate it does not read.
var chipless = map[identity.Type]bool{identity.Passport: true, identity.HKMacauPermit: true, identity.TaiwanPermit: true,
	identity.BirthCertificate: true}

// cardOf checks a desk act's card marker (req.Card) for the card's
// identity: a read's reader is a registered, unretired reader of the
// clerk's hospital, its MAC is the reader's signature of this document and
// name, and the read is fresh; a typed one has a known reason (no_chip
// only for a document without a chip; other with words). No marker is
// typed, unspecified.
func (s *Service) cardOf(ctx context.Context, actor Actor, req IdentityRequest) (cardFact, error) {
	c := req.Card
	switch c.Source {
	case "":
		if c != (CardRead{}) {
			return cardFact{}, FieldErrorf(ErrInvalidField, "card.source", "say how the card was read: reader or typed")
		}
		return cardFact{source: CardTyped, reason: CardTypedUnspecified}, nil
	case CardTyped:
		if c.ReaderID != "" || c.MAC != "" || !c.ReadAt.IsZero() {
			return cardFact{}, FieldErrorf(ErrInvalidField, "card", "a typed number has no reader, read time or signature")
		}
		switch c.TypedReason {
		case CardReaderBroken, CardDamaged:
		case CardNoChip:
			if !chipless[identity.Type(req.IDType)] {
				return cardFact{}, FieldErrorf(ErrInvalidField, "card.typed_reason",
					"this document has a chip the desk's reader reads: no_chip is for a passport, a permit without one, or a birth certificate")
			}
		case CardOther:
			if strings.TrimSpace(c.TypedText) == "" {
				return cardFact{}, FieldErrorf(ErrInvalidField, "card.typed_text", "say why the number was typed (typed_text)")
			}
		default:
			return cardFact{}, FieldErrorf(ErrInvalidField, "card.typed_reason", "typed_reason is reader_broken, no_chip, card_damaged or other")
		}
		if err := auditText("card.typed_text", c.TypedText, 200); err != nil {
			return cardFact{}, err
		}
		return cardFact{source: CardTyped, reason: c.TypedReason, text: strings.TrimSpace(c.TypedText)}, nil
	case CardFromReader:
	default:
		return cardFact{}, FieldErrorf(ErrInvalidField, "card.source", "card.source is reader or typed")
	}
	if c.TypedReason != "" || c.TypedText != "" {
		return cardFact{}, FieldErrorf(ErrInvalidField, "card.typed_reason", "a reader's read has no typed reason")
	}
	if c.ReaderID == "" || c.MAC == "" || c.ReadAt.IsZero() {
		return cardFact{}, FieldErrorf(ErrInvalidField, "card", "a reader's read gives reader_id, read_at and mac")
	}
	if s.cfg.CardSigner == nil {
		return cardFact{}, Errorf(ErrCardReadInvalid, "this service checks no reader's signature: type the number with the reason")
	}
	mac, err := hex.DecodeString(c.MAC)
	if err != nil {
		return cardFact{}, Errorf(ErrCardReadInvalid, "the read's signature is not the reader's")
	}
	r, err := s.store.CardReader(ctx, c.ReaderID)
	switch {
	case errors.Is(err, ErrNotFound):
		return cardFact{}, Errorf(ErrCardReadInvalid, "no card reader is registered under this id")
	case err != nil:
		return cardFact{}, err
	case !r.RetiredAt.IsZero():
		return cardFact{}, Errorf(ErrCardReadInvalid, "this card reader was retired: its reads are no longer taken")
	case r.HospitalID != actor.HospitalID:
		return cardFact{}, Errorf(ErrCardReadInvalid, "this card reader is another hospital's")
	}
	key, err := s.keys.Open("card_reader_key", r.KeySealed)
	if err != nil {
		return cardFact{}, err
	}
	raw, err := hex.DecodeString(key)
	if err != nil {
		return cardFact{}, err
	}
	want := s.cfg.CardSigner.Sign(raw, SignedRead{IDType: req.IDType, IDNumber: req.IDNumber, Name: req.Name, ReadAt: c.ReadAt})
	if !hmac.Equal(want, mac) {
		return cardFact{}, Errorf(ErrCardReadInvalid, "the read's signature is not the reader's for this document and name")
	}
	if now := s.cfg.Now(); c.ReadAt.Before(now.Add(-CardReadFresh)) || c.ReadAt.After(now.Add(time.Minute)) {
		return cardFact{}, Errorf(ErrCardReadStale, "the card was read more than %s ago (or its time is ahead of the service's): read it again", CardReadFresh)
	}
	return cardFact{source: CardFromReader, reader: r}, nil
}

// RegisteredReader is a card reader as registered, with its key shown
// once (Key, hex).
type RegisteredReader struct {
	CardReader
	Key string
}

// RegisterCardReader registers a card reader for the administrator's
// hospital: a name the desk knows it by, a new key shown once (the
// reader's driver is configured with it), audited (card_reader_registered).
func (s *Service) RegisterCardReader(ctx context.Context, actor Actor, name string) (RegisteredReader, error) {
	if actor.Role != RoleAdmin || actor.HospitalID == "" {
		return RegisteredReader{}, Errorf(ErrForbidden, "a hospital's administrator registers its card readers")
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return RegisteredReader{}, FieldErrorf(ErrInvalidField, "name", "name the reader (e.g. 门诊一楼 3 号窗口)")
	}
	if err := auditText("name", name, 80); err != nil {
		return RegisteredReader{}, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return RegisteredReader{}, err
	}
	key := hex.EncodeToString(raw)
	now := s.cfg.Now()
	r := CardReader{ID: newID(), HospitalID: actor.HospitalID, Name: name, KeySealed: s.keys.Seal("card_reader_key", key),
		CreatedBy: actor.AccountID, CreatedAt: now}
	a := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "card_reader_registered",
		Target: "card_reader:" + r.ID, Reason: "card reader " + name + " registered; its key shown once", HospitalID: actor.HospitalID}
	if err := s.store.SaveCardReader(ctx, r, a); err != nil {
		return RegisteredReader{}, err
	}
	return RegisteredReader{CardReader: r, Key: key}, nil
}

// CardReaders lists the administrator's (or a clerk's) hospital's card
// readers, retired ones too, without their keys.
func (s *Service) CardReaders(ctx context.Context, actor Actor) ([]CardReader, error) {
	if (actor.Role != RoleAdmin && actor.Role != RoleClerk) || actor.HospitalID == "" {
		return nil, Errorf(ErrForbidden, "a hospital's administrator or clerk lists its card readers")
	}
	rs, err := s.store.CardReaders(ctx, actor.HospitalID)
	for i := range rs {
		rs[i].KeySealed = nil
	}
	return rs, err
}

// RetireCardReader retires a reader of the administrator's hospital (lost,
// replaced, its key seen): its reads are refused from then on. Audited
// (card_reader_retired). A retired one is not retired again (no_change).
func (s *Service) RetireCardReader(ctx context.Context, actor Actor, id, reason string) error {
	if actor.Role != RoleAdmin || actor.HospitalID == "" {
		return Errorf(ErrForbidden, "a hospital's administrator retires its card readers")
	}
	if strings.TrimSpace(reason) == "" {
		return FieldErrorf(ErrInvalidField, "reason", "say why the reader is retired")
	}
	if err := auditText("reason", reason, 200); err != nil {
		return err
	}
	r, err := s.store.CardReader(ctx, id)
	if errors.Is(err, ErrNotFound) || err == nil && r.HospitalID != actor.HospitalID {
		return Errorf(ErrNotFound, "no card reader of your hospital has this id")
	}
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	a := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "card_reader_retired",
		Target: "card_reader:" + r.ID, Reason: "card reader " + r.Name + " retired: " + strings.TrimSpace(reason), HospitalID: actor.HospitalID}
	return s.store.RetireCardReader(ctx, r.ID, now, a)
}
