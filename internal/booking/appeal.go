package booking

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Appeals (申诉) of a blocked account (issue 13).
//
// An account is blocked when an administrator confirms a scalper flag that
// names it. Its holder cannot sign in, so the way to an appeal starts at
// the sign-in: a sign-in with the right password to a blocked account is
// answered 403 account_blocked with the reason in words (a confirmed review
// of scalping, and until when), never another person's data, and a
// short-lived, single-use appeal token. A wrong password is answered as for
// any account (invalid_credentials), so nobody learns that an account is
// blocked without its password.
//
// The token carries the account and its expiry under the service's keyed
// hash (no state); it is spent by the appeal itself, whose case id is named
// from the token's nonce, so the same token files one appeal. The appeal is
// a case of kind appeal in the administrators' queue of reports and
// complaints, with a complaint's deadline (5 working days), for the
// platform-wide administrators who decide flags (its hospital is
// PlatformHospital). An answer may lift the block: the account's block and
// its people's blocks end now, audited, and the patient is notified (the
// answer's notification, delivered by the sender: they could not read it
// in the console while blocked).

// CaseAppeal is an appeal of a blocked account.
const CaseAppeal = "appeal"

// PlatformHospital is the hospital of a case for the platform-wide
// administrators (appeals): no hospital's administrator covers it.
const PlatformHospital = "00000000-0000-0000-0000-000000000000"

// appealTokenTTL is how long a blocked sign-in's appeal token is good for.
const appealTokenTTL = 30 * time.Minute

// ErrAppealPending: the account has an appeal waiting for its answer.
var (
	ErrAppealPending      = newErr(KindConflict, "appeal_pending", "this account already has an appeal waiting for an answer")
	ErrInvalidAppealToken = newErr(KindUnauthenticated, "invalid_appeal_token", "the appeal token is not valid or has expired: sign in again to get a new one")
)

// BlockInfo says why an account is blocked, in words its holder
// understands, and how to appeal.
type BlockInfo struct {
	Until       time.Time // zero: until lifted
	Reason      string    // in Chinese and English, about this account only
	AppealToken string    // for POST /v1/appeals, good for appealTokenTTL
	AppealDue   int       // working days an answer takes
}

// BlockedError is ErrAccountBlocked with what the holder may know: only a
// sign-in with the right password gets it.
type BlockedError struct {
	Info BlockInfo
}

func (e *BlockedError) Error() string { return ErrAccountBlocked.Error() }
func (e *BlockedError) Unwrap() error { return ErrAccountBlocked }

// blockedLogin is the answer to a right password of a blocked account.
func (s *Service) blockedLogin(ctx context.Context, a Account) error {
	until, err := s.store.BlockedUntil(ctx, a.ID)
	if err != nil {
		return err
	}
	info := BlockInfo{Until: until, AppealDue: caseDueDays, AppealToken: s.appealToken(a.ID, s.cfg.Now().Add(appealTokenTTL))}
	end := "，解除前不能预约"
	endEN := " until it is lifted"
	if !until.IsZero() {
		day := until.In(chinaStandardTime).Format(time.DateOnly)
		end, endEN = "，停用至 "+day, " until "+day
	}
	info.Reason = "经平台审核，认定该账号存在倒卖号源（号贩子）行为，账号已停用" + end + "。如有异议，可以提出申诉。" +
		" After a review, this account was found to resell appointment slots (scalping): it is suspended" + endEN +
		". If you disagree, you may appeal."
	return &BlockedError{Info: info}
}

// appealToken signs account and expiry with a nonce: account.expiry.nonce
// and the keyed hash, base64url.
func (s *Service) appealToken(accountID string, exp time.Time) string {
	payload := accountID + "." + strconv.FormatInt(exp.Unix(), 10) + "." + newID()
	mac := s.keys.Hash("appeal token", payload)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(mac)
}

// checkAppealToken returns the account and nonce of a valid, unexpired
// token.
func (s *Service) checkAppealToken(tok string) (accountID, nonce string, err error) {
	enc := base64.RawURLEncoding
	p64, m64, ok := strings.Cut(tok, ".")
	payload, perr := enc.DecodeString(p64)
	mac, merr := enc.DecodeString(m64)
	if !ok || perr != nil || merr != nil || !hmac.Equal(mac, s.keys.Hash("appeal token", string(payload))) {
		return "", "", ErrInvalidAppealToken
	}
	parts := strings.Split(string(payload), ".")
	if len(parts) != 3 {
		return "", "", ErrInvalidAppealToken
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || !s.cfg.Now().Before(time.Unix(exp, 0)) {
		return "", "", ErrInvalidAppealToken
	}
	return parts[0], parts[2], nil
}

// FileAppeal files a blocked account's appeal with the token its sign-in
// got. The token is spent: the case id is named from it. One appeal of an
// account waits at a time (ErrAppealPending). An account no longer blocked
// has nothing to appeal: its token is refused as expired.
func (s *Service) FileAppeal(ctx context.Context, token, text string) (Case, error) {
	accountID, nonce, err := s.checkAppealToken(token)
	if err != nil {
		return Case{}, err
	}
	text = strings.TrimSpace(text)
	if utf8.RuneCountInString(text) < 2 {
		return Case{}, Errorf(ErrInvalidField, "say why the block is wrong (text)")
	}
	if err := checkCaseText("text", text, caseTextMax); err != nil {
		return Case{}, err
	}
	text, masked := maskNumbers(text)
	a, err := s.store.AccountByID(ctx, accountID)
	if err != nil || !a.Blocked {
		return Case{}, ErrInvalidAppealToken
	}
	mine, err := s.store.CasesOfAccount(ctx, accountID)
	if err != nil {
		return Case{}, err
	}
	id := NameID("appeal", nonce)
	for _, c := range mine {
		if c.ID == id {
			return Case{}, ErrInvalidAppealToken // this token filed its appeal already
		}
		if c.Kind == CaseAppeal && c.Status == CaseOpen {
			return Case{}, ErrAppealPending
		}
	}
	now := s.cfg.Now()
	c := Case{ID: id, Kind: CaseAppeal, AccountID: accountID, HospitalID: PlatformHospital, Text: text, Status: CaseOpen, NumbersMasked: masked,
		CreatedAt: now, DueAt: AddWorkingDays(now, caseDueDays, chinaStandardTime)}
	if flag, err := s.store.BlockingFlag(ctx, accountID); err == nil {
		c.FlagID = flag
	} else if !errors.Is(err, ErrFlagNotFound) {
		return Case{}, err
	}
	if err := s.store.InsertCase(ctx, c); err != nil {
		if errors.Is(err, ErrIdempotencyReuse) {
			return Case{}, ErrInvalidAppealToken
		}
		return Case{}, err
	}
	s.log.Info("appeal filed", "case_id", c.ID)
	return c, nil
}

// liftBlock ends an appealing account's block and its people's (the
// answer to an appeal that lifts it), audited, and reloads the blocked
// accounts and bars so bookings are taken again.
func (s *Service) liftBlock(ctx context.Context, actor Actor, c Case, now time.Time) error {
	a := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "block_lifted",
		Target: "account:" + c.AccountID, Reason: fmt.Sprintf("appeal %s upheld", c.ID)}
	if err := s.store.LiftBlock(ctx, c.AccountID, now, a); err != nil {
		return err
	}
	bg, done := Detach(ctx, time.Minute)
	defer done()
	if err := s.loadBlocked(bg); err != nil {
		s.log.Warn("reload blocked accounts", "err", err)
	}
	if err := s.reconcileBars(bg); err != nil {
		s.log.Warn("reload bars after a lifted block", "err", err)
	}
	return nil
}
