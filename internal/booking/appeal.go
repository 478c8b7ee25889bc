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

// A person's appeal (review21 H1 c). A confirmation bars persons as well as
// blocking accounts, and a barred person may have no blocked account to
// sign in to (the administrator ticked them, also_bar; or their own
// account is not the group's). So a person appeals for themselves: from
// any account that lists them, for a family member (AppealForPerson), or
// at a registration desk with their card (DeskAppeal). It is a case of kind
// appeal naming the person (Case.IdentityID) and the flag whose block of
// them is in force, in the platform administrators' queue with the same
// deadline; one waits for its answer per person at a time. Upheld (an
// answer with lift_block), it ends that person's block by that flag only,
// in SQL and Redis at once; the flag stays confirmed for its group.
//
// Upholding any appeal against a flag's confirmation is a second
// administrator's: not the one who confirmed it (ErrSecondAdminRequired,
// review21 M3). An upheld appeal of an account that leaves none of the
// flag's accounts blocked overturns the flag: status overturned, every
// block of it lifted, audited flag_overturned. What the confirmation
// cancelled is not restored: each slot went back through its waitlist to
// another patient at once, so it is no longer there to give; the answer
// tells the patient so, and to book again (design.md, "An upheld appeal").

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
	Until  time.Time // zero: until lifted
	Reason string    // in Chinese and English, about this account only
	// Evidence are the kinds of evidence the blocking flag relied on, in
	// a patient's words (review21 M2).
	Evidence    []Evidence
	AppealToken string // for POST /v1/appeals, good for appealTokenTTL
	AppealDue   int    // working days an answer takes
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
	if flagID, err := s.store.BlockingFlag(ctx, a.ID); err == nil {
		if f, err := s.store.Flag(ctx, flagID); err == nil {
			info.Evidence = EvidenceKinds(f.Reasons)
		}
	}
	if len(info.Evidence) > 0 {
		info.Reason += " 审核依据的证据类别见下，可以在申诉中说明。 The kinds of evidence the review relied on are listed; you may explain them in your appeal."
	}
	return &BlockedError{Info: info}
}

// Evidence is a kind of evidence a decision relied on, in a patient's
// words (Chinese, then English): never a number, a time, another account or
// person, or a device.
type Evidence struct {
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// evidenceWords are the detector's kinds of evidence (FlagReason.Kind) in
// a patient's words.
var evidenceWords = map[string]string{
	"automation": "预约速度快于人工操作（例如几秒内多次预约） Bookings faster than a person can make them (several within seconds)",
	"scale":      "预约的人数或次数多于一个家庭通常需要的 More people or bookings than a family usually needs",
	"targeting":  "反复预约最紧俏的专家号 The scarcest specialist slots, again and again",
	"non_use":    "预约后没有就诊 Slots booked and not used",
	"transfer":   "号源转给了其他人（取消后立即由他人预约） Slots passed on to other people (cancelled and at once booked by another)",
	"evasion":    "频繁更换手机号或设备 A new phone number or device again and again",
	"insider":    "窗口人员反复为同一些人办理 A desk clerk favouring the same people",
	"claims":     "尝试添加属于他人的证件号码 ID numbers that belong to other people were tried",
	"disowned":   "有就诊人本人取消了以其名义办理的预约 People ended, from their own account, what was booked in their name",
	"reported":   "有患者举报了与该账号有关的倒号行为 A patient reported resale linked to this account",
	"link":       "多个账号共用同一网络或设备 Several accounts sharing one network or device",
}

// EvidenceKinds lists the kinds of evidence of a flag's reasons, each once,
// in the order of the reasons (review21 M2: a blocked account learns what
// it may answer in its appeal, not the evidence itself).
func EvidenceKinds(reasons []FlagReason) []Evidence {
	var out []Evidence
	seen := map[string]bool{}
	for _, r := range reasons {
		text, ok := evidenceWords[r.Kind]
		if !ok || seen[r.Kind] {
			continue
		}
		seen[r.Kind] = true
		out = append(out, Evidence{Kind: r.Kind, Text: text})
	}
	return out
}

// reviewBarMessage is patient_barred's message for a person a confirmed
// flag bars: a review's decision (not missed appointments), until when,
// and how to contest it; never the flag, its evidence or another account.
func reviewBarMessage(until time.Time) string {
	day := until.In(chinaStandardTime).Format(time.DateOnly)
	return "该就诊人经平台审核暂停预约，至 " + day + "（不是因为爽约）。如有异议，可以在列有该就诊人的账号中提出申诉，或本人持身份证到挂号窗口提出申诉。" +
		" After a platform review this person may not book until " + day + " (not for missed appointments)." +
		" To contest it, appeal from an account that lists them, or in person with their ID card at a registration desk."
}

// noShowBarMessage is patient_barred's message for a person barred for
// missed appointments: how many were missed in the window the hospital
// counts, until when, and that the bar ends by itself (there is nothing
// to appeal); the day in the hospital's calendar.
func noShowBarMessage(missed int, until time.Time, loc *time.Location) string {
	day := until.In(loc).Format(time.DateOnly)
	return fmt.Sprintf("该就诊人因爽约（%d 次预约未就诊）暂停预约，至 %s，到期自动恢复。", missed, day) +
		fmt.Sprintf(" This person missed %d appointments (no-shows) and may not book until %s; the bar ends by itself.", missed, day)
}

// explainBar words a patient_barred refusal of a person, the same on every
// channel (online, the waitlists, the phone, the desk): a confirmed flag's
// bar as reviewBarMessage (review21 H1 d), a no-show bar as
// noShowBarMessage (session 23). It reads SQL on a barred refusal only;
// a read that fails keeps the refusal as it was. hospitalID is where the
// person was refused (its no-show window counts the missed appointments).
func (s *Service) explainBar(ctx context.Context, hospitalID, identityID string, err error) error {
	if identityID == "" || !errors.Is(err, ErrPatientBarred) {
		return err
	}
	rctx, cancel := Detach(ctx, s.cfg.CommitTimeout)
	defer cancel()
	now := s.cfg.Now()
	_, until, rerr := s.store.ReviewBlock(rctx, identityID, now)
	if rerr == nil {
		return Errorf(ErrPatientBarred, "%s", reviewBarMessage(until))
	}
	if !errors.Is(rerr, ErrFlagNotFound) {
		s.log.Warn("read a person's review block", "err", rerr)
		return err
	}
	rules := s.noShowRules(hospitalID, now)
	recs, rerr := s.store.NoShowRecords(rctx, []string{identityID}, now.Add(-rules.Window), now)
	if rerr != nil {
		s.log.Warn("read a person's no-shows", "err", rerr)
		return err
	}
	if r := recs[identityID]; r.BarredUntil.After(now) {
		loc := chinaStandardTime
		if h, ok := s.catalog.Load().Hospital(hospitalID); ok {
			loc = h.Location()
		}
		return Errorf(ErrPatientBarred, "%s", noShowBarMessage(r.NoShows, r.BarredUntil, loc))
	}
	return err
}

// AppealForPerson files an appeal for a person a confirmed flag bars, from
// an account that lists them (its own patient patientID).
func (s *Service) AppealForPerson(ctx context.Context, actor Actor, patientID, text string) (Case, error) {
	if actor.Role != RolePatient {
		return Case{}, Errorf(ErrForbidden, "a person's appeal is filed from an account that lists them, or at a registration desk")
	}
	p, err := s.patientOf(ctx, actor, patientID)
	if err != nil {
		return Case{}, err
	}
	return s.fileForPerson(ctx, actor.AccountID, p.IdentityID, text)
}

// fileForPerson files the appeal of a person (identityID) for the account
// or desk clerk filer: the person must be barred by a confirmed flag now
// (ErrNotBarredByReview), with no appeal of theirs waiting (ErrAppealPending).
func (s *Service) fileForPerson(ctx context.Context, filer, identityID, text string) (Case, error) {
	text = strings.TrimSpace(text)
	if utf8.RuneCountInString(text) < 2 {
		return Case{}, Errorf(ErrInvalidField, "say why the bar is wrong (text)")
	}
	if err := checkCaseText("text", text, caseTextMax); err != nil {
		return Case{}, err
	}
	text, masked := maskNumbers(text)
	now := s.cfg.Now()
	flagID, _, err := s.store.ReviewBlock(ctx, identityID, now)
	if errors.Is(err, ErrFlagNotFound) {
		return Case{}, ErrNotBarredByReview
	}
	if err != nil {
		return Case{}, err
	}
	pending, err := s.store.PersonAppealPending(ctx, identityID)
	if err != nil {
		return Case{}, err
	}
	if pending {
		return Case{}, Errorf(ErrAppealPending, "an appeal for this person already waits for an answer")
	}
	c := Case{ID: newID(), Kind: CaseAppeal, AccountID: filer, IdentityID: identityID, HospitalID: PlatformHospital, Text: text,
		Status: CaseOpen, NumbersMasked: masked, FlagID: flagID, CreatedAt: now, DueAt: AddWorkingDays(now, caseDueDays, chinaStandardTime)}
	if err := s.store.InsertCase(ctx, c); err != nil {
		return Case{}, err
	}
	s.log.Info("person's appeal filed", "case_id", c.ID)
	return c, nil
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

// liftBlock upholds an appeal: it ends the appealing person's block by the
// flag (a person's appeal) or the account's block and its people's (an
// account's; the flag overturned when none of its accounts stays blocked),
// audited, and clears the bars in Redis so the person books again at once.
// An appeal against a flag is upheld by another administrator than the one
// who confirmed it. It returns what the patient is told.
func (s *Service) liftBlock(ctx context.Context, actor Actor, c Case, now time.Time) (string, error) {
	if c.FlagID != "" {
		f, err := s.store.Flag(ctx, c.FlagID)
		if err != nil && !errors.Is(err, ErrFlagNotFound) {
			return "", err
		}
		if err == nil {
			if err := secondAdmin(f.DecidedBy, actor); err != nil {
				return "", err
			}
		}
	}
	var keys []string
	var told string
	if c.IdentityID != "" {
		a := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "bar_lifted",
			Target: "identity:" + c.IdentityID, Reason: fmt.Sprintf("appeal %s upheld (flag %s)", c.ID, c.FlagID)}
		key, err := s.store.LiftPersonBlock(ctx, c.FlagID, c.IdentityID, c.ID, now, a)
		if err != nil {
			return "", err
		}
		keys = []string{key}
		told = " 已解除该就诊人的预约限制，可以重新预约。 The bar is lifted: the person may book again."
	} else {
		a := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "block_lifted",
			Target: "account:" + c.AccountID, Reason: fmt.Sprintf("appeal %s upheld", c.ID)}
		o := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "flag_overturned",
			Target: "flag:" + c.FlagID, Reason: fmt.Sprintf("appeal %s upheld: no account of the flag stays blocked", c.ID)}
		var err error
		if keys, _, err = s.store.LiftBlock(ctx, c.AccountID, c.FlagID, actor.AccountID, now, a, o); err != nil {
			return "", err
		}
		told = " 已解除账号停用，可以重新登录。审核时被取消的预约不能恢复：号源已通过候补给了其他患者，请重新预约。" +
			" The block is lifted: you may sign in again. Bookings cancelled at the review cannot be restored:" +
			" their slots went to other patients through the waitlist; please book again."
	}
	bg, done := Detach(ctx, time.Minute)
	defer done()
	if err := s.loadBlocked(bg); err != nil {
		s.log.Warn("reload blocked accounts", "err", err)
	}
	hospitals := s.hospitalIDs(s.catalog.Load())
	for _, k := range keys {
		// A bar's key ends now; reconcileBars writes back whatever other
		// bar of the person is in force (no-shows, another flag).
		if err := s.adm.Bar(bg, hospitals, k, now); err != nil {
			s.log.Warn("clear a lifted bar in redis", "err", err)
		}
	}
	if err := s.reconcileBars(bg); err != nil {
		s.log.Warn("reload bars after a lifted block", "err", err)
	}
	return told, nil
}

// personOfCard is the person a card at the desk names: its name must be
// the one on record for the number (identity_mismatch); ErrNotFound for a
// number nobody registered.
func (s *Service) personOfCard(ctx context.Context, req IdentityRequest) (Identity, error) {
	card, err := s.resolve(req)
	if err != nil {
		return Identity{}, err
	}
	known, err := s.store.IdentityByHash(ctx, card.IDHash)
	if err != nil {
		return Identity{}, err
	}
	if !hmac.Equal(known.NameHash, card.NameHash) {
		return Identity{}, Errorf(ErrIdentityMismatch, "the name is not the one on record for this ID number")
	}
	return known, nil
}

// DeskAppeal files a person's appeal at a registration desk, the clerk
// holding their card: its name must be the one on record for the number
// (identity_mismatch). The appeal is the person's own account's when they
// have one (the answer reaches them there); otherwise it is filed in the
// clerk's name, and the answer comes to the desk that took it. Audited:
// the desk read a person's data.
func (s *Service) DeskAppeal(ctx context.Context, actor Actor, req IdentityRequest, text string) (Case, error) {
	if actor.Role != RoleClerk {
		return Case{}, Errorf(ErrForbidden, "a registration desk clerk files a person's appeal with their card")
	}
	known, err := s.personOfCard(ctx, req)
	if errors.Is(err, ErrNotFound) {
		return Case{}, ErrNotBarredByReview // nobody known is barred
	}
	if err != nil {
		return Case{}, err
	}
	filer := actor.AccountID
	if own, err := s.store.AccountOfSelf(ctx, known.ID); err == nil {
		filer = own
	} else if !errors.Is(err, ErrNotFound) {
		return Case{}, err
	}
	c, err := s.fileForPerson(ctx, filer, known.ID, text)
	if err != nil {
		return Case{}, err
	}
	a := AuditEntry{ID: deskAppealAuditID(c.ID), TS: c.CreatedAt, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "appeal_filed_at_desk",
		Target: "case:" + c.ID, HospitalID: actor.HospitalID, Reason: "a person's appeal, with their card"}
	if err := s.store.RecordAudit(ctx, a); err != nil {
		s.log.Warn("audit a desk appeal", "case_id", c.ID, "err", err)
	}
	return c, nil
}
