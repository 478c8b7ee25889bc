package web

import (
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

// The admin console's 绑定复核 page (session 25): the accounts' selves the
// binding rule (review24 H1, H2, L1) would refuse or question, bound or
// claimed before it (booking.Service.BindingsToReview, GET
// /v1/admin/bindings-to-review): masked, for platform administrators, who
// have the desk settle each with the holder (docs/operations.md).
// Nothing on the page changes anything.

type bindingsData struct{ Rows []bindingRow }

// bindingRow is one self to review, masked.
type bindingRow struct {
	Account, Name, IDNumber, Born, Bound string
	NoRing, FamilyToo, Minor             bool
}

func (c *Console) bindingsPage(r *request) error {
	if !r.actor.PlatformAdmin() {
		c.redirect(r, "/admin/schedule")
		return nil
	}
	bs, err := c.svc.BindingsToReview(r.ctx, r.actor)
	if err != nil {
		return err
	}
	loc := c.adminZone()
	d := bindingsData{}
	for _, b := range bs {
		row := bindingRow{Account: b.PhoneMasked, Name: b.NameMasked, IDNumber: b.IDMasked, NoRing: b.NoRing, FamilyToo: b.FamilyToo, Minor: b.Minor}
		if b.BirthYear > 0 {
			row.Born = strconv.Itoa(b.BirthYear)
		}
		if !b.BoundAt.IsZero() {
			row.Bound = b.BoundAt.In(loc).Format(time.DateOnly)
		}
		d.Rows = append(d.Rows, row)
	}
	return c.render(r, fasthttp.StatusOK, "admin/bindings", page{Title: "绑定复核 Bindings to review", Nav: "flags", Data: d})
}
