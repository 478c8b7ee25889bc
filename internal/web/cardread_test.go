package web

import (
	"testing"

	"fairslot/internal/cardreader"
	"fairslot/internal/testenv"
)

// cardRead is a desk reader's signed read of a document, as its driver
// fills a desk form's card_reader_id, card_read_at and card_mac: a reader
// registered for the site's hospital by a new administrator of it.
func (s *site) cardRead(t *testing.T, idType, number, name string) map[string]string {
	t.Helper()
	admin := s.actor(s.newHospitalAdmin("admin password 1"), "admin password 1")
	reg, err := s.svc.RegisterCardReader(t.Context(), admin, "desk reader")
	testenv.Must(t, err, "register a card reader")
	c, err := cardreader.Read(reg.ID, reg.Key, idType, number, name, s.now())
	testenv.Must(t, err, "sign a read")
	return map[string]string{"card_reader_id": c["reader_id"].(string), "card_read_at": c["read_at"].(string), "card_mac": c["mac"].(string)}
}
