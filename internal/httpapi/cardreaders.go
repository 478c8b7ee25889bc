package httpapi

import (
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

// A hospital's desk card readers (review25 H1, booking/cardread.go): the
// administrator registers one (its key shown once, for the reader's
// driver), lists them and retires one.

type cardReaderIn struct {
	Name string `json:"name"`
}

func (in cardReaderIn) check() error { return Required("name", in.Name) }

type retireReaderIn struct {
	Reason string `json:"reason"`
}

func (in retireReaderIn) check() error { return Required("reason", in.Reason) }

func cardReaderView(r booking.CardReader, loc *time.Location) map[string]any {
	out := map[string]any{"reader_id": r.ID, "name": r.Name, "created_at": r.CreatedAt.In(loc).Format(time.RFC3339), "retired": !r.RetiredAt.IsZero()}
	if !r.RetiredAt.IsZero() {
		out["retired_at"] = r.RetiredAt.In(loc).Format(time.RFC3339)
	}
	return out
}

// registerCardReader is POST /v1/admin/card-readers: 201 with the reader
// and its key (hex), shown this once.
func (s *Server) registerCardReader(r *request) error {
	var in cardReaderIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	reg, err := s.svc.RegisterCardReader(r.context(), r.actor, in.Name)
	if err != nil {
		return err
	}
	out := cardReaderView(reg.CardReader, readerZone(s.svc.Catalog(), r.actor.HospitalID))
	out["key"] = reg.Key
	WriteJSON(r.rc, fasthttp.StatusCreated, out)
	return nil
}

// listCardReaders is GET /v1/admin/card-readers: the hospital's readers,
// without keys.
func (s *Server) listCardReaders(r *request) error {
	rs, err := s.svc.CardReaders(r.context(), r.actor)
	if err != nil {
		return err
	}
	loc := readerZone(s.svc.Catalog(), r.actor.HospitalID)
	out := make([]map[string]any, 0, len(rs))
	for _, x := range rs {
		out = append(out, cardReaderView(x, loc))
	}
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]any{"readers": out})
	return nil
}

// retireCardReader is POST /v1/admin/card-readers/{id}/retire.
func (s *Server) retireCardReader(r *request) error {
	var in retireReaderIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	if err := s.svc.RetireCardReader(r.context(), r.actor, r.param, in.Reason); err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]any{"reader_id": r.param, "retired": true})
	return nil
}
