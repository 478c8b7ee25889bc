package web

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// The desk's 患者已故 (review24 M2, session 25; booking.RecordDeath): the
// clerk enters the card, the evidence seen and who came; a confirmation
// step says what will be withdrawn (booking.DeathPreview) before the act;
// the answer's counts are shown. Between the two steps the card waits in a
// cookie sealed to the clerk's session (as the current patient does), never
// in the page.

const deathCookie = "fairslot_desk_death"

// deathsData is the page's: the card form, and the pending act with its
// counts once previewed, or the act's answer.
type deathsData struct {
	Card     idCard
	Evidence string
	Options  []evidenceOption
	Pending  *deathView
	Done     *booking.DeathResult
}

// deathView is the confirmation step: what will be withdrawn.
type deathView struct {
	Evidence, Reason string
	Counts           booking.DeathResult
}

// evidenceOption is one radio button of the evidence.
type evidenceOption struct{ Value, ZH, EN string }

// deathEvidence is the evidence a clerk may have seen, in the form's order.
var deathEvidence = []evidenceOption{
	{booking.DeathEvidenceCertificate, "死亡医学证明", "Medical certificate of death"},
	{booking.DeathEvidenceHousehold, "户口注销证明", "Household register cancellation"},
	{booking.DeathEvidenceCard, "身份证及家属说明", "The ID card, and the family's word"},
}

func evidenceLabel(v string) string {
	for _, e := range deathEvidence {
		if e.Value == v {
			return e.ZH + " " + e.EN
		}
	}
	return v
}

func (c *Console) deathsPage(r *request) error {
	c.unsetSealed(r, deskConsole, deathCookie)
	d := deathsData{Card: typedCard(r, "death-form", "resident_id", false), Options: deathEvidence}
	d.Card.Focus = true
	return c.render(r, fasthttp.StatusOK, "desk/deaths", page{Title: "患者已故 Deceased", Nav: "deaths", Data: d})
}

// previewDeath checks the card and shows what the act would withdraw.
func (c *Console) previewDeath(r *request) error {
	req, err := identityForm(r)
	evidence, reason := r.form("evidence"), strings.TrimSpace(r.form("reason"))
	if err == nil && evidence == "" {
		err = onFields(booking.Errorf(booking.ErrInvalidField, "say what was seen: choose the evidence"), "evidence")
	}
	if err == nil && len([]rune(reason)) < 4 {
		err = onFields(booking.Errorf(booking.ErrInvalidField, "say who came, and what was seen"), "reason")
	}
	var counts booking.DeathResult
	if err == nil {
		counts, err = c.svc.DeathPreview(r.ctx, r.actor, req)
	}
	if err != nil {
		if errors.Is(err, booking.ErrPatientNotFound) || errors.Is(err, booking.ErrVerifiedNameDiffers) {
			err = onFields(err, "id_number", "name")
		}
		d := deathsData{Card: typedCard(r, "death-form", "resident_id", true), Evidence: evidence, Options: deathEvidence}
		return c.formFailed(r, "desk/deaths", page{Title: "患者已故 Deceased", Nav: "deaths", Form: "death-form", Data: d}, err)
	}
	c.seal(r, deskConsole, deathCookie, "death", strings.Join(append([]string{req.IDType, req.IDNumber, req.Name, evidence, reason}, cardFields(req.Card)...), "\x00"))
	d := deathsData{Card: typedCard(r, "death-form", "resident_id", false), Evidence: evidence, Options: deathEvidence,
		Pending: &deathView{Evidence: evidenceLabel(evidence), Reason: reason, Counts: counts}}
	return c.render(r, fasthttp.StatusOK, "desk/deaths", page{Title: "患者已故 Deceased", Nav: "deaths", Form: "death-confirm", Data: d})
}

// recordDeath is the act, confirmed: the card and words of the preview.
func (c *Console) recordDeath(r *request) error {
	plain, ok := c.unseal(r, deathCookie, "death")
	f := strings.Split(plain, "\x00")
	if !ok || len(f) != 5+len(cardFields(booking.CardRead{})) {
		d := deathsData{Card: typedCard(r, "death-form", "resident_id", false), Options: deathEvidence}
		return c.formFailed(r, "desk/deaths", page{Title: "患者已故 Deceased", Nav: "deaths", Form: "death-form", Data: d},
			booking.Errorf(booking.ErrInvalidField, "the confirmation expired: enter the card again"))
	}
	res, err := c.svc.RecordDeath(r.ctx, r.actor, booking.DeathRequest{
		IdentityRequest: booking.IdentityRequest{IDType: f[0], IDNumber: f[1], Name: f[2], Card: cardOfFields(f[5:])}, Evidence: f[3], Reason: f[4]})
	d := deathsData{Card: typedCard(r, "death-form", "resident_id", false), Options: deathEvidence}
	if err != nil {
		return c.formFailed(r, "desk/deaths", page{Title: "患者已故 Deceased", Nav: "deaths", Form: "death-form", Data: d}, err)
	}
	c.unsetSealed(r, deskConsole, deathCookie)
	d.Done = &res
	flash := fmt.Sprintf("已登记患者已故：撤销预约 %d 个、摇号报名 %d 个、候补 %d 个；已通知为其预约的账号。 "+
		"The death is recorded: %d bookings, %d draw entries and %d waitlist places withdrawn; the accounts that made them are told.",
		res.Bookings, res.Entries, res.Places, res.Bookings, res.Entries, res.Places)
	return c.render(r, fasthttp.StatusOK, "desk/deaths", page{Title: "患者已故 Deceased", Nav: "deaths", Flash: flash, Data: d})
}

// liftDeath is an administrator's lift of a death recorded in error, from
// its row in the audit log (booking.LiftDeath).
func (c *Console) liftDeath(r *request) error {
	res, err := c.svc.LiftDeath(r.ctx, r.actor, booking.LiftDeathRequest{IdentityID: r.param, Reason: strings.TrimSpace(r.form("reason"))})
	if err != nil {
		return c.formFailed(r, "admin/audit", page{Title: "审计日志 Audit log", Nav: "audit", Data: auditData{}}, err)
	}
	c.redirect(r, "/admin/audit?"+url.Values{"ok": {"death_lifted"}, "told": {strconv.Itoa(res.Told)}}.Encode())
	return nil
}

// cardFields and cardOfFields carry how the card was read (review25 H1)
// from the confirmation step to the act, sealed with the card itself: the
// act states what the clerk's reader or reason said at the step.
func cardFields(c booking.CardRead) []string {
	at := ""
	if !c.ReadAt.IsZero() {
		at = c.ReadAt.Format(time.RFC3339)
	}
	return []string{string(c.Source), c.ReaderID, at, c.MAC, c.TypedReason}
}

func cardOfFields(f []string) booking.CardRead {
	c := booking.CardRead{Source: booking.CardSource(f[0]), ReaderID: f[1], MAC: f[3], TypedReason: f[4]}
	if f[2] != "" {
		c.ReadAt, _ = time.Parse(time.RFC3339, f[2]) // written by cardFields; a bad one fails the signature
	}
	return c
}
