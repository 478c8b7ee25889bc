package web

import (
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// The desk's appeals (申诉) of a person a platform review barred, on the
// accounts page: the person at the window with their card files one
// (booking.Service.DeskAppeal), and later asks for its answer there
// (DeskAppealAnswer) — how a person without an account learns it. The
// page names no flag, evidence or account: only what the person is told.

// appealAnswerView is a person's latest appeal as the clerk reads it out.
type appealAnswerView struct {
	Status, Words, Filed, Due, Answered, Answer string
}

// fileDeskAppeal files the appeal of the person whose card the clerk holds.
func (c *Console) fileDeskAppeal(r *request) error {
	req, err := identityForm(r)
	if err == nil {
		_, err = c.svc.DeskAppeal(r.ctx, r.actor, req, r.form("text"))
	}
	if err == nil {
		c.redirect(r, "/desk/accounts?ok=appeal_filed#appeal-section")
		return nil
	}
	return c.accountsFailed(r, "appeal-form", err)
}

// askDeskAppeal reads out the latest appeal of the person whose card the
// clerk holds, in the answer to the POST (no card in any address).
func (c *Console) askDeskAppeal(r *request) error {
	req, err := identityForm(r)
	var a booking.AppealAtDesk
	if err == nil {
		a, err = c.svc.DeskAppealAnswer(r.ctx, r.actor, req)
	}
	if err != nil {
		return c.accountsFailed(r, "appeal-ask-form", err)
	}
	loc := c.deskZone(r)
	day := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format(time.DateOnly)
	}
	d := accountsPageData(r, "")
	d.Appeal = &appealAnswerView{Status: a.Status, Words: a.Words, Answer: a.Answer, Filed: day(a.FiledAt), Due: day(a.DueAt), Answered: day(a.AnsweredAt)}
	return c.render(r, fasthttp.StatusOK, "desk/accounts", page{Title: "账号服务 Accounts", Nav: "accounts", Form: "appeal-ask-form", Data: d})
}
