package httpapi

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
)

func (s *Server) table() []route {
	return []route{
		{method: "GET", template: "/healthz", prefix: "/healthz", h: s.healthz},
		{method: "GET", template: "/readyz", prefix: "/readyz", h: s.readyz},
		{method: "POST", template: "/v1/accounts", prefix: "/v1/accounts", h: s.createAccount},
		{method: "POST", template: "/v1/auth/login", prefix: "/v1/auth/login", h: s.login},
		{method: "POST", template: "/v1/auth/logout", prefix: "/v1/auth/logout", auth: true, h: s.logout},
		{method: "POST", template: "/v1/auth/password", prefix: "/v1/auth/password", auth: true, h: s.changePassword},
		{method: "POST", template: "/v1/auth/phone", prefix: "/v1/auth/phone", auth: true, h: s.changePhone},
		{method: "POST", template: "/v1/auth/password-reset", prefix: "/v1/auth/password-reset", h: s.redeemResetCode},
		{method: "POST", template: "/v1/patients", prefix: "/v1/patients", auth: true, h: s.addPatient},
		{method: "GET", template: "/v1/patients", prefix: "/v1/patients", auth: true, h: s.listPatients},
		{method: "PATCH", template: "/v1/patients/{id}", prefix: "/v1/patients/", param: true, auth: true, h: s.editPatient},
		{method: "DELETE", template: "/v1/patients/{id}", prefix: "/v1/patients/", param: true, auth: true, h: s.removePatient},
		{method: "POST", template: "/v1/patients/{id}/privacy-consent", prefix: "/v1/patients/", param: true, suffix: "/privacy-consent", auth: true, h: s.confirmOwnConsent},
		{method: "GET", template: "/v1/listed-by", prefix: "/v1/listed-by", auth: true, h: s.listedBy},
		{method: "DELETE", template: "/v1/listed-by/{id}", prefix: "/v1/listed-by/", param: true, auth: true, h: s.leaveListing},
		{method: "POST", template: "/v1/desk/listings", prefix: "/v1/desk/listings", auth: true, h: s.deskListings},
		{method: "POST", template: "/v1/desk/listings/{id}/remove", prefix: "/v1/desk/listings/", param: true, suffix: "/remove", auth: true, h: s.deskLeaveListing},
		{method: "GET", template: "/v1/hospitals", prefix: "/v1/hospitals", h: s.listHospitals},
		{method: "GET", template: "/v1/hospitals/{id}/departments", prefix: "/v1/hospitals/", param: true, suffix: "/departments", h: s.listDepartments},
		{method: "GET", template: "/v1/hospitals/{id}/sessions", prefix: "/v1/hospitals/", param: true, suffix: "/sessions", h: s.listSessions},
		{method: "POST", template: "/v1/bookings", prefix: "/v1/bookings", auth: true, fast: true, h: s.book},
		{method: "GET", template: "/v1/bookings", prefix: "/v1/bookings", auth: true, h: s.listBookings},
		{method: "GET", template: "/v1/bookings/{id}", prefix: "/v1/bookings/", param: true, auth: true, h: s.getBooking},
		{method: "DELETE", template: "/v1/bookings/{id}", prefix: "/v1/bookings/", param: true, auth: true, h: s.cancelBooking},
		{method: "POST", template: "/v1/waitlist", prefix: "/v1/waitlist", auth: true, h: s.joinWaitlist},
		{method: "GET", template: "/v1/waitlist", prefix: "/v1/waitlist", auth: true, h: s.listWaitlist},
		{method: "DELETE", template: "/v1/waitlist/{id}", prefix: "/v1/waitlist/", param: true, auth: true, h: s.leaveWaitlist},
		{method: "GET", template: "/v1/made-by-others", prefix: "/v1/made-by-others", auth: true, h: s.madeByOthers},
		{method: "GET", template: "/v1/me/export", prefix: "/v1/me/export", auth: true, h: s.exportMine},
		{method: "POST", template: "/v1/me/privacy-consent", prefix: "/v1/me/privacy-consent", auth: true, h: s.agreeToNotice},
		{method: "GET", template: "/v1/me", prefix: "/v1/me", auth: true, h: s.me},
		{method: "POST", template: "/v1/me/close", prefix: "/v1/me/close", auth: true, h: s.closeAccount},
		{method: "DELETE", template: "/v1/me/close", prefix: "/v1/me/close", auth: true, h: s.cancelClosing},
		{method: "DELETE", template: "/v1/me/login-move", prefix: "/v1/me/login-move", auth: true, h: s.cancelLoginMove},
		{method: "POST", template: "/v1/phone/bookings", prefix: "/v1/phone/bookings", auth: true, h: s.phoneBook},
		{method: "POST", template: "/v1/phone/cancellations", prefix: "/v1/phone/cancellations", auth: true, h: s.phoneCancel},
		{method: "POST", template: "/v1/desk/bookings", prefix: "/v1/desk/bookings", auth: true, h: s.deskBook},
		{method: "POST", template: "/v1/desk/checkins", prefix: "/v1/desk/checkins", auth: true, h: s.checkIn},
		{method: "POST", template: "/v1/desk/reissue", prefix: "/v1/desk/reissue", auth: true, h: s.reissue},
		{method: "POST", template: "/v1/desk/cancellations", prefix: "/v1/desk/cancellations", auth: true, h: s.deskCancel},
		{method: "POST", template: "/v1/desk/lookup", prefix: "/v1/desk/lookup", auth: true, h: s.lookup},
		{method: "POST", template: "/v1/desk/identities/verify", prefix: "/v1/desk/identities/verify", auth: true, h: s.verifyIdentity},
		{method: "POST", template: "/v1/desk/deaths", prefix: "/v1/desk/deaths", auth: true, h: s.recordDeath},
		{method: "POST", template: "/v1/admin/deaths/{identity_id}/lift", prefix: "/v1/admin/deaths/", param: true, suffix: "/lift", auth: true, h: s.liftDeath},
		{method: "POST", template: "/v1/desk/password-resets", prefix: "/v1/desk/password-resets", auth: true, h: s.issueResetCode},
		{method: "POST", template: "/v1/desk/account-closures", prefix: "/v1/desk/account-closures", auth: true, h: s.deskCloseAccount},
		{method: "POST", template: "/v1/desk/phone-releases", prefix: "/v1/desk/phone-releases", auth: true, h: s.releasePhone},
		{method: "POST", template: "/v1/desk/phone-restores", prefix: "/v1/desk/phone-restores", auth: true, h: s.restorePhone},
		{method: "POST", template: "/v1/desk/login-moves", prefix: "/v1/desk/login-moves", auth: true, h: s.moveLoginBack},
		{method: "POST", template: "/v1/desk/identities/link", prefix: "/v1/desk/identities/link", auth: true, h: s.linkIdentities},
		{method: "POST", template: "/v1/desk/sessions/{id}/extra-slots", prefix: "/v1/desk/sessions/", param: true, suffix: "/extra-slots", auth: true, h: s.extraSlots},
		{method: "POST", template: "/v1/admin/sessions", prefix: "/v1/admin/sessions", auth: true, h: s.createSession},
		{method: "GET", template: "/v1/admin/sessions/{id}", prefix: "/v1/admin/sessions/", param: true, auth: true, h: s.adminSession},
		{method: "PATCH", template: "/v1/admin/sessions/{id}", prefix: "/v1/admin/sessions/", param: true, auth: true, h: s.updateSession},
		{method: "DELETE", template: "/v1/admin/sessions/{id}", prefix: "/v1/admin/sessions/", param: true, auth: true, h: s.deleteSession},
		{method: "POST", template: "/v1/admin/sessions/{id}/stop", prefix: "/v1/admin/sessions/", param: true, suffix: "/stop", auth: true, h: s.stopSession},
		{method: "POST", template: "/v1/admin/sessions/{id}/announcements", prefix: "/v1/admin/sessions/", param: true, suffix: "/announcements", auth: true, h: s.announceSession},
		{method: "POST", template: "/v1/admin/sessions/{id}/move", prefix: "/v1/admin/sessions/", param: true, suffix: "/move", auth: true, h: s.moveSession},
		{method: "POST", template: "/v1/desk/sessions/{id}/delay", prefix: "/v1/desk/sessions/", param: true, suffix: "/delay", auth: true, h: s.announceSession},
		{method: "POST", template: "/v1/admin/sessions/{id}/restore", prefix: "/v1/admin/sessions/", param: true, suffix: "/restore", auth: true, h: s.restoreSession},
		{method: "GET", template: "/v1/admin/sessions/{id}/notifications", prefix: "/v1/admin/sessions/", param: true, suffix: "/notifications", auth: true, h: s.sessionNotifications},
		{method: "POST", template: "/v1/admin/doctors/{id}/weeks", prefix: "/v1/admin/doctors/", param: true, suffix: "/weeks", auth: true, h: s.publishWeek},
		{method: "POST", template: "/v1/admin/doctors/{id}/templates", prefix: "/v1/admin/doctors/", param: true, suffix: "/templates", auth: true, h: s.createTemplate},
		{method: "GET", template: "/v1/admin/doctors/{id}/templates", prefix: "/v1/admin/doctors/", param: true, suffix: "/templates", auth: true, h: s.listTemplates},
		{method: "PATCH", template: "/v1/admin/templates/{id}", prefix: "/v1/admin/templates/", param: true, auth: true, h: s.updateTemplate},
		{method: "DELETE", template: "/v1/admin/templates/{id}", prefix: "/v1/admin/templates/", param: true, auth: true, h: s.deleteTemplate},
		{method: "POST", template: "/v1/admin/templates/{id}/weeks", prefix: "/v1/admin/templates/", param: true, suffix: "/weeks", auth: true, h: s.applyTemplate},
		{method: "GET", template: "/v1/admin/hospitals/{id}/doctors", prefix: "/v1/admin/hospitals/", param: true, suffix: "/doctors", auth: true, h: s.hospitalStaffing},
		{method: "POST", template: "/v1/admin/departments", prefix: "/v1/admin/departments", auth: true, h: s.createDepartment},
		{method: "PATCH", template: "/v1/admin/departments/{id}", prefix: "/v1/admin/departments/", param: true, auth: true, h: s.renameDepartment},
		{method: "POST", template: "/v1/admin/departments/{id}/retire", prefix: "/v1/admin/departments/", param: true, suffix: "/retire", auth: true, h: s.retireDepartment},
		{method: "POST", template: "/v1/admin/doctors", prefix: "/v1/admin/doctors", auth: true, h: s.createDoctor},
		{method: "PATCH", template: "/v1/admin/doctors/{id}", prefix: "/v1/admin/doctors/", param: true, auth: true, h: s.updateDoctor},
		{method: "POST", template: "/v1/admin/doctors/{id}/retire", prefix: "/v1/admin/doctors/", param: true, suffix: "/retire", auth: true, h: s.retireDoctor},
		{method: "POST", template: "/v1/admin/hospitals/{id}/policy", prefix: "/v1/admin/hospitals/", param: true, suffix: "/policy", auth: true, h: s.setPolicy},
		{method: "GET", template: "/v1/admin/hospitals/{id}/policy", prefix: "/v1/admin/hospitals/", param: true, suffix: "/policy", auth: true, h: s.getPolicy},
		{method: "POST", template: "/v1/admin/hospitals/{id}/sessions/bulk", prefix: "/v1/admin/hospitals/", param: true, suffix: "/sessions/bulk", auth: true, h: s.bulkSessions},
		{method: "GET", template: "/v1/admin/hospitals/{id}/holidays", prefix: "/v1/admin/hospitals/", param: true, suffix: "/holidays", auth: true, h: s.listHolidays},
		{method: "POST", template: "/v1/admin/hospitals/{id}/holidays", prefix: "/v1/admin/hospitals/", param: true, suffix: "/holidays", auth: true, h: s.setHoliday},
		{method: "DELETE", template: "/v1/admin/hospitals/{id}/holidays", prefix: "/v1/admin/hospitals/", param: true, suffix: "/holidays", auth: true, h: s.deleteHoliday},
		{method: "GET", template: "/v1/callbacks", prefix: "/v1/callbacks", auth: true, h: s.listCallBacks},
		{method: "POST", template: "/v1/callbacks/{id}/number", prefix: "/v1/callbacks/", param: true, suffix: "/number", auth: true, h: s.callBackNumber},
		{method: "POST", template: "/v1/callbacks/{id}/outcome", prefix: "/v1/callbacks/", param: true, suffix: "/outcome", auth: true, h: s.markCallBack},
		{method: "GET", template: "/v1/substitute-offers", prefix: "/v1/substitute-offers", auth: true, h: s.listOffers},
		{method: "POST", template: "/v1/substitute-offers/{id}/accept", prefix: "/v1/substitute-offers/", param: true, suffix: "/accept", auth: true, h: s.acceptOffer},
		{method: "POST", template: "/v1/substitute-offers/{id}/decline", prefix: "/v1/substitute-offers/", param: true, suffix: "/decline", auth: true, h: s.declineOffer},
		{method: "POST", template: "/v1/admin/account-policy", prefix: "/v1/admin/account-policy", auth: true, h: s.setAccountPolicy},
		{method: "GET", template: "/v1/admin/account-policy", prefix: "/v1/admin/account-policy", auth: true, h: s.getAccountPolicy},
		{method: "POST", template: "/v1/admin/sessions/{id}/pools", prefix: "/v1/admin/sessions/", param: true, suffix: "/pools", auth: true, h: s.movePool},
		{method: "GET", template: "/v1/admin/flags", prefix: "/v1/admin/flags", auth: true, h: s.listFlags},
		{method: "GET", template: "/v1/admin/bindings-to-review", prefix: "/v1/admin/bindings-to-review", auth: true, h: s.bindingsToReview},
		{method: "GET", template: "/v1/admin/flags/{id}", prefix: "/v1/admin/flags/", param: true, auth: true, h: s.getFlag},
		{method: "POST", template: "/v1/admin/flags/{id}/decision", prefix: "/v1/admin/flags/", param: true, suffix: "/decision", auth: true, h: s.decideFlag},
		{method: "POST", template: "/v1/admin/detect", prefix: "/v1/admin/detect", auth: true, h: s.detect},
		{method: "GET", template: "/v1/admin/audit", prefix: "/v1/admin/audit", auth: true, h: s.audit},
		{method: "POST", template: "/v1/admin/card-readers", prefix: "/v1/admin/card-readers", auth: true, h: s.registerCardReader},
		{method: "GET", template: "/v1/admin/card-readers", prefix: "/v1/admin/card-readers", auth: true, h: s.listCardReaders},
		{method: "POST", template: "/v1/admin/card-readers/{id}/retire", prefix: "/v1/admin/card-readers/", param: true, suffix: "/retire", auth: true, h: s.retireCardReader},
		{method: "POST", template: "/v1/reports", prefix: "/v1/reports", auth: true, h: s.fileReport},
		{method: "GET", template: "/v1/reports", prefix: "/v1/reports", auth: true, h: s.myCases(booking.CaseReport)},
		{method: "POST", template: "/v1/complaints", prefix: "/v1/complaints", auth: true, h: s.fileComplaint},
		{method: "POST", template: "/v1/appeals", prefix: "/v1/appeals", h: s.fileAppeal},
		{method: "POST", template: "/v1/person-appeals", prefix: "/v1/person-appeals", auth: true, h: s.filePersonAppeal},
		{method: "POST", template: "/v1/desk/appeals", prefix: "/v1/desk/appeals", auth: true, h: s.deskAppeal},
		{method: "POST", template: "/v1/desk/appeals/lookup", prefix: "/v1/desk/appeals/lookup", auth: true, h: s.deskAppealAnswer},
		{method: "GET", template: "/v1/complaints", prefix: "/v1/complaints", auth: true, h: s.myCases(booking.CaseComplaint)},
		{method: "GET", template: "/v1/cases/{id}", prefix: "/v1/cases/", param: true, auth: true, h: s.getCase},
		{method: "GET", template: "/v1/notifications", prefix: "/v1/notifications", auth: true, h: s.myNotifications},
		{method: "POST", template: "/v1/notifications/read", prefix: "/v1/notifications/read", auth: true, h: s.readNotifications},
		{method: "POST", template: "/v1/notifications/{id}/read", prefix: "/v1/notifications/", param: true, suffix: "/read", auth: true, h: s.readNotification},
		{method: "GET", template: "/v1/admin/cases", prefix: "/v1/admin/cases", auth: true, h: s.caseQueue},
		{method: "GET", template: "/v1/admin/cases/{id}", prefix: "/v1/admin/cases/", param: true, auth: true, h: s.reviewCase},
		{method: "POST", template: "/v1/admin/cases/{id}/answer", prefix: "/v1/admin/cases/", param: true, suffix: "/answer", auth: true, h: s.answerCase},
		{method: "POST", template: "/v1/admin/cases/{id}/close", prefix: "/v1/admin/cases/", param: true, suffix: "/close", auth: true, h: s.closeCase},
		{method: "POST", template: "/v1/admin/cases/{id}/flag", prefix: "/v1/admin/cases/", param: true, suffix: "/flag", auth: true, h: s.flagFromCase},
		{method: "POST", template: "/v1/admin/cases/{id}/departments", prefix: "/v1/admin/cases/", param: true, suffix: "/departments", auth: true, h: s.setDepartments},
		{method: "GET", template: "/v1/lottery/requests", prefix: "/v1/lottery/requests", auth: true, h: s.listEntries},
		{method: "GET", template: "/v1/lottery/requests/{id}", prefix: "/v1/lottery/requests/", param: true, auth: true, h: s.getEntry},
		{method: "DELETE", template: "/v1/lottery/requests/{id}", prefix: "/v1/lottery/requests/", param: true, auth: true, h: s.withdrawEntry},
		{method: "GET", template: "/v1/lottery/sessions/{id}", prefix: "/v1/lottery/sessions/", param: true, h: s.lotteryDraws},
		{method: "GET", template: "/v1/admin/sessions/{id}/lottery", prefix: "/v1/admin/sessions/", param: true, suffix: "/lottery", auth: true, h: s.adminLotteryDraws},
	}
}

func (s *Server) healthz(r *request) error {
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz tells a load balancer ready or not, and why in a few words: which
// hospital and what Redis holds are the admin address's /readyz
// (review19a L9: this address is open to anyone).
func (s *Server) readyz(r *request) error {
	if err := s.svc.Ready(r.context()); err != nil {
		var nr *booking.NotReady
		if errors.As(err, &nr) {
			return fmt.Errorf("%w: %w", booking.Errorf(booking.ErrUnavailable, "not ready: %s", nr.Reason), err)
		}
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]string{"status": "ready"})
	return nil
}

// signUpIn is a sign-up: the credentials and the holder's consent to the
// privacy notice, named by its version (review21 H3).
type signUpIn struct {
	Phone          string `json:"phone"`
	Password       string `json:"password"`
	PrivacyConsent string `json:"privacy_consent"`
}

func (in signUpIn) check() error {
	return Required("phone", in.Phone, "password", in.Password)
}

func (s *Server) createAccount(r *request) error {
	var in signUpIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	id, err := s.svc.CreateAccount(r.context(), in.Phone, in.Password, idempotencyKey(r.rc),
		booking.ConsentRequest{Version: in.PrivacyConsent}, r.origin)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusCreated, map[string]string{"account_id": id})
	return nil
}

// loginIn is a login: the credentials and, from a client that logged in to
// the account before, the device token that login answered.
type loginIn struct {
	Phone       string `json:"phone"`
	Password    string `json:"password"`
	DeviceToken string `json:"device_token"`
}

func (in loginIn) check() error {
	return Required("phone", in.Phone, "password", in.Password)
}

func (s *Server) login(r *request) error {
	var in loginIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	tok, err := s.svc.LoginDevice(r.context(), in.Phone, in.Password, in.DeviceToken, r.origin)
	var blocked *booking.BlockedError
	if errors.As(err, &blocked) {
		// The right password of a blocked account: why, and how to appeal.
		b := blockedOut{Reason: blocked.Info.Reason, AppealToken: blocked.Info.AppealToken,
			AppealDueWorkingDays: blocked.Info.AppealDue, Evidence: blocked.Info.Evidence}
		if !blocked.Info.Until.IsZero() {
			b.Until = blocked.Info.Until.In(readerZone(s.svc.Catalog(), "")).Format(time.RFC3339)
		}
		e := booking.ErrAccountBlocked
		WriteJSON(r.rc, e.Kind.HTTPStatus(), blockedBody{Error: errorDetail{Code: e.Code, Message: e.Message}, Blocked: b})
		return nil
	}
	if err != nil {
		return err
	}
	s.writeToken(r, tok)
	return nil
}

// writeToken answers a login: the token, and when it expires in the zone of
// the account's hospital (the stand-in zone for a patient or a platform
// administrator), with the offset, as every other time (review15 L7 read
// "…Z" here).
func (s *Server) writeToken(r *request, tok booking.Token) {
	out := map[string]any{"token": tok.Token,
		"expires_at": tok.ExpiresAt.In(readerZone(s.svc.Catalog(), tok.HospitalID)).Format(time.RFC3339)}
	if tok.DeviceToken != "" {
		out["device_token"] = tok.DeviceToken
	}
	if tok.ClosingCancelled {
		// The account's pending closing, cancelled by this change or
		// reset: the holder is told (they may not have asked for it).
		out["closing_cancelled"] = true
	}
	if !tok.ClosingDueAt.IsZero() {
		// A pending closing: the client shows it, and its 撤销注销
		// (DELETE /v1/me/close), on every page until it is cancelled.
		pendingClosing(out, tok.ClosingDueAt, readerZone(s.svc.Catalog(), tok.HospitalID))
	}
	if tok.ConsentNeeded {
		// No consent to the current privacy notice on record: the client
		// asks the holder (POST /v1/me/privacy-consent).
		out["privacy_consent_needed"] = true
		out["privacy_notice_version"] = booking.PrivacyNoticeVersion
	}
	WriteJSON(r.rc, fasthttp.StatusOK, out)
}

// blockedBody is the error answer to a blocked account's right password,
// with what its holder may know and the token to appeal with.
type blockedBody struct {
	Error   errorDetail `json:"error"`
	Blocked blockedOut  `json:"blocked"`
}

type blockedOut struct {
	Reason               string `json:"reason"`
	Until                string `json:"until,omitempty"`
	AppealToken          string `json:"appeal_token"`
	AppealDueWorkingDays int    `json:"appeal_due_working_days"`
	// Evidence: the kinds of evidence the review relied on, in a
	// patient's words (review21 M2).
	Evidence []booking.Evidence `json:"evidence,omitempty"`
}

func (s *Server) logout(r *request) error {
	if err := s.svc.Logout(r.context(), r.actor); err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]string{"status": "logged_out"})
	return nil
}

type passwordIn struct {
	Current     string `json:"current_password"`
	New         string `json:"new_password"`
	DeviceToken string `json:"device_token"` // optional: the login's, as at login
}

func (in passwordIn) check() error {
	return Required("current_password", in.Current, "new_password", in.New)
}

func (s *Server) changePassword(r *request) error {
	var in passwordIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	tok, err := s.svc.ChangePassword(r.context(), r.actor, booking.ChangePasswordRequest{Current: in.Current, New: in.New, DeviceToken: in.DeviceToken}, r.origin)
	if err != nil {
		return err
	}
	s.writeToken(r, tok)
	return nil
}

type phoneIn struct {
	Password    string `json:"password"`
	Phone       string `json:"phone"`
	DeviceToken string `json:"device_token"` // optional: the login's, as at login
}

func (in phoneIn) check() error {
	return Required("password", in.Password, "phone", in.Phone)
}

// changePhone moves the account to a new login number: the answer is a
// fresh token, as every other session of the account ends.
func (s *Server) changePhone(r *request) error {
	var in phoneIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	tok, err := s.svc.ChangePhone(r.context(), r.actor, booking.ChangePhoneRequest{Password: in.Password, Phone: in.Phone, DeviceToken: in.DeviceToken}, r.origin)
	if err != nil {
		return err
	}
	s.writeToken(r, tok)
	return nil
}

type addPatientIn struct {
	IDType   string `json:"id_type"`
	IDNumber string `json:"id_number"`
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	Self     bool   `json:"self"`
	// Relationship to the account holder; optional (default other, or
	// self when Self).
	Relationship string `json:"relationship"`
	// PrivacyConsent is the notice's version the holder agrees to for
	// this person; GuardianConsent, that they give it as the parent or
	// guardian of a child under 14 (review21 H3).
	PrivacyConsent  string `json:"privacy_consent"`
	GuardianConsent bool   `json:"guardian_consent"`
}

func (in addPatientIn) check() error {
	return Required("id_type", in.IDType, "id_number", in.IDNumber, "name", in.Name)
}

func (s *Server) addPatient(r *request) error {
	var in addPatientIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	p, err := s.svc.AddPatient(r.context(), r.actor, booking.AddPatientRequest{
		IDType: in.IDType, IDNumber: in.IDNumber, Name: in.Name, Phone: in.Phone, IsSelf: in.Self, Relationship: in.Relationship,
		IdempotencyKey: idempotencyKey(r.rc),
		Consent:        booking.ConsentRequest{Version: in.PrivacyConsent, Guardian: in.GuardianConsent},
	}, r.origin)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusCreated, patientView(p))
	return nil
}

type editPatientIn struct {
	Relationship *string `json:"relationship"`
	// Phone is the member's new contact number; "" clears it. A change
	// asks for the account's password, re-entered (review19c L6).
	Phone       *string `json:"phone"`
	Password    string  `json:"password"`
	DeviceToken string  `json:"device_token"` // optional: the login's, as at login
}

// editPatient changes a family member's relationship or contact number, in
// place, bookings pending or not: what a real-name system lets the holder
// change (the name and ID number are verified: remove the member and add
// them again).
func (s *Server) editPatient(r *request) error {
	var in editPatientIn
	if err := decode(r.rc, &in); err != nil {
		return err
	}
	if in.Relationship == nil && in.Phone == nil {
		return booking.FieldErrorf(booking.ErrInvalidField, "relationship", "give relationship, phone or both")
	}
	if in.Relationship != nil {
		if err := Required("relationship", *in.Relationship); err != nil {
			return err
		}
	}
	p, err := s.svc.ChangePatient(r.context(), r.actor, r.param, booking.PatientChange{Relationship: in.Relationship, Phone: in.Phone,
		Password: in.Password, DeviceToken: in.DeviceToken, Origin: r.origin})
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, patientView(p))
	return nil
}

// removePatient takes a family member off the list (204), or answers 409
// patient_has_pending while it has something to cancel first.
func (s *Server) removePatient(r *request) error {
	if err := s.svc.RemovePatient(r.context(), r.actor, r.param); err != nil {
		return err
	}
	r.rc.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

// ownConsentIn is the holder's confirmation that a person listed as a
// child, 14 now, read and agreed to the notice themselves.
type ownConsentIn struct {
	PrivacyConsent string `json:"privacy_consent"`
	PersonConsent  bool   `json:"person_consent"`
}

// confirmOwnConsent answers the family list's prompt for a person 14 now
// (own_consent_due): 200 with the member as it stands after.
func (s *Server) confirmOwnConsent(r *request) error {
	var in ownConsentIn
	if err := decode(r.rc, &in); err != nil {
		return err
	}
	p, err := s.svc.ConfirmOwnConsent(r.context(), r.actor, r.param, booking.ConsentRequest{Version: in.PrivacyConsent, Person: in.PersonConsent})
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, patientView(p))
	return nil
}

// listingOut is another account's listing of the person: all the person
// learns of that account is its login number, masked.
type listingOut struct {
	ListingID    string `json:"listing_id"`
	Account      string `json:"account_phone"`
	Relationship string `json:"relationship"`
	Since        string `json:"since"`
}

func listingViews(ls []booking.Listing, zone *time.Location) []listingOut {
	out := make([]listingOut, 0, len(ls))
	for _, l := range ls {
		out = append(out, listingOut{ListingID: l.ID, Account: l.PhoneMasked, Relationship: string(l.Relationship),
			Since: l.Since.In(zone).Format(time.RFC3339)})
	}
	return out
}

// listedBy lists the other accounts that list the caller's verified self
// as a family member (none without one).
func (s *Server) listedBy(r *request) error {
	ls, err := s.svc.ListedBy(r.context(), r.actor)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, listingViews(ls, readerZone(s.svc.Catalog(), "")))
	return nil
}

// leaveListing takes the caller's verified self off another account's list.
func (s *Server) leaveListing(r *request) error {
	l, err := s.svc.LeaveListing(r.context(), r.actor, r.param)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]string{"listing_id": l.ID, "status": "removed"})
	return nil
}

// deskListings is the desk's list of the accounts listing the person whose
// ID card the clerk holds.
func (s *Server) deskListings(r *request) error {
	var in identityIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	ls, err := s.svc.DeskListedBy(r.context(), r.actor, in.request())
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, listingViews(ls, readerZone(s.svc.Catalog(), r.actor.HospitalID)))
	return nil
}

// deskLeaveListing takes the person whose card the clerk holds off one
// account's list.
func (s *Server) deskLeaveListing(r *request) error {
	var in identityIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	l, err := s.svc.DeskLeaveListing(r.context(), r.actor, in.request(), r.param)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]string{"listing_id": l.ID, "status": "removed"})
	return nil
}

func (s *Server) listPatients(r *request) error {
	ps, err := s.svc.Patients(r.context(), r.actor)
	if err != nil {
		return err
	}
	writeList(r.rc, ps, patientView)
	return nil
}

func (s *Server) listHospitals(r *request) error {
	now := s.svc.Now()
	writeList(r.rc, s.svc.Catalog().Hospitals(), func(h *booking.Hospital) hospitalOut {
		return hospitalOut{ID: h.ID, Name: h.Name, TimeZone: h.TimeZone, Policy: policyOut(policyAt(h, now))}
	})
	return nil
}

func (s *Server) listDepartments(r *request) error {
	if _, err := s.svc.Hospital(r.param); err != nil {
		return err
	}
	var open []booking.Department // a closed department takes no bookings: patients do not see it
	for _, d := range s.svc.Catalog().Departments(r.param) {
		if !d.Retired() {
			open = append(open, d)
		}
	}
	writeList(r.rc, open, func(d booking.Department) departmentOut {
		return departmentOut{ID: d.ID, HospitalID: d.HospitalID, Name: d.Name}
	})
	return nil
}

func (s *Server) listSessions(r *request) error {
	args := r.rc.QueryArgs()
	date, dept := string(args.Peek("date")), string(args.Peek("department_id"))
	views, err := s.svc.Sessions(r.context(), r.param, date, dept)
	if err != nil {
		return err
	}
	cat, now := s.svc.Catalog(), s.svc.Now()
	writeList(r.rc, views, func(v booking.SessionView) sessionOut { return sessionView(cat, v, now) })
	return nil
}

type bookIn struct {
	SessionID string `json:"session_id"`
	PatientID string `json:"patient_id"`
	Channel   string `json:"channel"`
	// Waitlist: for an entry in a lottery draw, join the session's waitlist
	// if not drawn.
	Waitlist bool `json:"waitlist"`
	// PrivacyConsent and PersonConsent: for a person listed as a child on
	// a guardian's consent and 14 now, the holder confirms the person's
	// own consent to that version of the notice (person_consent_required
	// without).
	PrivacyConsent string `json:"privacy_consent"`
	PersonConsent  bool   `json:"person_consent"`
}

// bookKeys are bookIn's JSON names, for decodeFlat.
var bookKeys = []string{"session_id", "patient_id", "channel"}

func (s *Server) book(r *request) error {
	in, err := decodeBookIn(r.rc, s.svc.Catalog())
	if err != nil {
		return err
	}
	if err := Required("session_id", in.SessionID, "patient_id", in.PatientID); err != nil {
		return err
	}
	ch := booking.ChannelOnline
	if in.Channel != "" {
		if ch, err = booking.ParseChannel(in.Channel); err != nil {
			return err
		}
	}
	req := booking.BookRequest{SessionID: in.SessionID, PatientID: in.PatientID, Channel: ch,
		IdempotencyKey: idempotencyKey(r.rc), Origin: r.origin}
	// The fast reject path: a pool not yet released or already empty
	// answers from memory (and records the refused attempt), before the
	// shared (Redis) rate limits and the patient lookup.
	if err := s.svc.KnownRefusalOf(r.actor, &req); err != nil {
		return err
	}
	if err := s.attemptLimits(r, &req); err != nil {
		return err
	}
	req.Waitlist = in.Waitlist
	req.Consent = booking.ConsentRequest{Version: in.PrivacyConsent, Person: in.PersonConsent}
	res, err := s.svc.Attempt(r.context(), r.actor, req)
	if err != nil {
		return err
	}
	s.writeAttempt(r, res)
	return nil
}

// decodeBookIn reads a booking attempt's body: by decodeFlat, or when it
// steps aside by encoding/json. The body lives on this function's stack
// unless encoding/json is needed: given to it (an interface), a variable
// escapes, and in book it was one allocation on every attempt. A session
// id in cat is given as cat's own string, not a copy.
func decodeBookIn(rc *fasthttp.RequestCtx, cat *booking.Catalog) (bookIn, error) {
	var in bookIn
	if decodeFlat(rc.PostBody(), bookKeys, []*string{&in.SessionID, &in.PatientID, &in.Channel}, cat.SessionID) {
		return in, nil
	}
	return decodeBookInJSON(rc)
}

func decodeBookInJSON(rc *fasthttp.RequestCtx) (bookIn, error) {
	var in bookIn
	err := decode(rc, &in)
	return in, err
}

// writeAttempt answers an attempt: 201 with the booking, or 202 with the
// lottery entry, whose result is read from /v1/lottery/requests/{id}.
func (s *Server) writeAttempt(r *request, res booking.Result) {
	if res.Entered {
		WriteJSON(r.rc, fasthttp.StatusAccepted, entryView(res.Entry, zoneOf(s.svc.Catalog(), res.Entry.HospitalID)))
		return
	}
	WriteJSON(r.rc, fasthttp.StatusCreated, s.bookingView(res.Booking))
}

// idempotencyKey copies the header: the RequestCtx is reused after return.
// checkHeaders has refused one over MaxIdempotencyKey.
func idempotencyKey(rc *fasthttp.RequestCtx) string {
	return string(rc.Request.Header.Peek("Idempotency-Key"))
}

// pageOf reads a list's page from the query: ?after=<the id of the
// previous page's last item>&limit=<items>, the API's one style of paging
// (GET /v1/callbacks's; the audit log's before is its newest-first twin).
func pageOf(args *fasthttp.Args) (booking.Page, error) {
	p := booking.Page{After: string(args.Peek("after"))}
	if v := args.Peek("limit"); len(v) > 0 {
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 1 {
			return p, booking.FieldErrorf(booking.ErrInvalidField, "limit", "limit is a number of items, at least 1")
		}
		p.Limit = n
	}
	return p, nil
}

func (s *Server) listBookings(r *request) error {
	p, err := pageOf(r.rc.QueryArgs())
	if err != nil {
		return err
	}
	bs, err := s.svc.BookingsPage(r.context(), r.actor, p)
	if err != nil {
		return err
	}
	out, err := s.bookingViews(r.context(), bs)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, out)
	return nil
}

func (s *Server) getBooking(r *request) error {
	b, err := s.svc.Booking(r.context(), r.actor, r.param)
	if err != nil {
		return err
	}
	out, err := s.bookingViews(r.context(), []booking.Booking{b})
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, out[0])
	return nil
}

func (s *Server) cancelBooking(r *request) error {
	b, err := s.svc.Cancel(r.context(), r.actor, r.param, r.origin)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, s.bookingView(b))
	return nil
}

type waitlistIn struct {
	SessionID string `json:"session_id"`
	PatientID string `json:"patient_id"`
	// As bookIn's, for a person 14 now who was listed as a child.
	PrivacyConsent string `json:"privacy_consent"`
	PersonConsent  bool   `json:"person_consent"`
}

func (in waitlistIn) check() error {
	return Required("session_id", in.SessionID, "patient_id", in.PatientID)
}

func (s *Server) joinWaitlist(r *request) error {
	var in waitlistIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	e, err := s.svc.JoinWaitlist(r.context(), r.actor, booking.JoinWaitlistRequest{SessionID: in.SessionID, PatientID: in.PatientID,
		IdempotencyKey: idempotencyKey(r.rc), Origin: r.origin,
		Consent: booking.ConsentRequest{Version: in.PrivacyConsent, Person: in.PersonConsent}})
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusCreated, s.waitlistView(e))
	return nil
}

func (s *Server) listWaitlist(r *request) error {
	p, err := pageOf(r.rc.QueryArgs())
	if err != nil {
		return err
	}
	es, err := s.svc.WaitlistPage(r.context(), r.actor, p)
	if err != nil {
		return err
	}
	writeList(r.rc, es, s.waitlistView)
	return nil
}

func (s *Server) leaveWaitlist(r *request) error {
	if err := s.svc.LeaveWaitlist(r.context(), r.actor, r.param, r.origin); err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]string{"waitlist_id": r.param, "status": booking.WaitlistCancelled})
	return nil
}

// madeByOthersOut is what other accounts made for the caller's verified
// self, each item as the caller's own list shows it, with made_by: the
// maker's account phone, masked, all that is told of that account.
type madeByOthersOut struct {
	Bookings []bookingByOther  `json:"bookings"`
	Entries  []entryByOther    `json:"entries"`
	Waitlist []waitlistByOther `json:"waitlist"`
}

type (
	bookingByOther struct {
		Booking BookingOut `json:"booking"`
		MadeBy  string     `json:"made_by"`
	}
	entryByOther struct {
		Entry  EntryOut `json:"entry"`
		MadeBy string   `json:"made_by"`
	}
	waitlistByOther struct {
		Place  waitlistOut `json:"place"`
		MadeBy string      `json:"made_by"`
	}
)

func (s *Server) madeByOthers(r *request) error {
	m, err := s.svc.MadeByOthers(r.context(), r.actor)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, s.madeByOthersView(m))
	return nil
}

// madeByOthersView is m as the API answers it.
func (s *Server) madeByOthersView(m booking.MadeByOthers) madeByOthersOut {
	cat := s.svc.Catalog()
	out := madeByOthersOut{Bookings: []bookingByOther{}, Entries: []entryByOther{}, Waitlist: []waitlistByOther{}}
	for _, b := range m.Bookings {
		out.Bookings = append(out.Bookings, bookingByOther{s.bookingView(b), m.Makers[b.AccountID]})
	}
	for _, e := range m.Entries {
		out.Entries = append(out.Entries, entryByOther{entryView(e, zoneOf(cat, e.HospitalID)), m.Makers[e.AccountID]})
	}
	for _, w := range m.Waitlist {
		out.Waitlist = append(out.Waitlist, waitlistByOther{s.waitlistView(w), m.Makers[w.AccountID]})
	}
	return out
}

type identityIn struct {
	IDType   string `json:"id_type"`
	IDNumber string `json:"id_number"`
	Name     string `json:"name"`
	// Card is how the desk read the document (review25 H1): a reader's
	// signed read or the clerk's typed reason. Left out: typed, reason
	// unspecified (a client older than session 25), never a read.
	Card *cardIn `json:"card"`
}

// cardIn is a desk request's card marker (booking.CardRead).
type cardIn struct {
	Source      string    `json:"source"`
	ReaderID    string    `json:"reader_id"`
	ReadAt      time.Time `json:"read_at"`
	MAC         string    `json:"mac"`
	TypedReason string    `json:"typed_reason"`
	TypedText   string    `json:"typed_text"`
}

// check refuses an identity without its document's type, number or name;
// a desk request that embeds identityIn and needs more says so with
// requireWith.
func (in identityIn) check() error { return in.requireWith() }

// requireWith is check, then fields (JSON name, value pairs) required
// beside the identity.
func (in identityIn) requireWith(fields ...string) error {
	return Required(append([]string{"id_type", in.IDType, "id_number", in.IDNumber, "name", in.Name}, fields...)...)
}

func (in identityIn) request() booking.IdentityRequest {
	r := booking.IdentityRequest{IDType: in.IDType, IDNumber: in.IDNumber, Name: in.Name}
	if c := in.Card; c != nil {
		r.Card = booking.CardRead{Source: booking.CardSource(c.Source), ReaderID: c.ReaderID, ReadAt: c.ReadAt, MAC: c.MAC,
			TypedReason: c.TypedReason, TypedText: c.TypedText}
		if r.Card == (booking.CardRead{}) {
			r.Card.Source = "?" // an empty object is refused, not taken as no marker
		}
	}
	return r
}

type phoneBookIn struct {
	identityIn
	staffConsentIn
	CallerPhone string `json:"caller_phone"`
	SessionID   string `json:"session_id"`
}

// staffConsentIn is the consent to the privacy notice an operator or a
// clerk took from the person (review21 H3, session 23): the notice's
// version read out or signed, and whether a parent or guardian gave it for
// a child under 14. A person not known yet is not booked without it.
type staffConsentIn struct {
	PrivacyConsent  string `json:"privacy_consent"`
	GuardianConsent bool   `json:"guardian_consent"`
}

func (in staffConsentIn) consent() booking.ConsentRequest {
	return booking.ConsentRequest{Version: in.PrivacyConsent, Guardian: in.GuardianConsent}
}

func (in phoneBookIn) check() error {
	return in.requireWith("caller_phone", in.CallerPhone, "session_id", in.SessionID)
}

func (s *Server) phoneBook(r *request) error {
	var in phoneBookIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	return s.bookFor(r, booking.StaffBookRequest{IdentityRequest: in.request(), SessionID: in.SessionID,
		Channel: booking.ChannelPhone, CallerPhone: in.CallerPhone, Consent: in.consent()})
}

type phoneCancelIn struct {
	identityIn
	CallerPhone string `json:"caller_phone"`
	// One of the three: a booking, a lottery entry, a waitlist place.
	BookingID  string `json:"booking_id"`
	EntryID    string `json:"entry_id"`
	WaitlistID string `json:"waitlist_id"`
}

func (in phoneCancelIn) check() error {
	if err := in.requireWith("caller_phone", in.CallerPhone); err != nil {
		return err
	}
	n := 0
	for _, id := range []string{in.BookingID, in.EntryID, in.WaitlistID} {
		if id != "" {
			n++
		}
	}
	if n != 1 {
		return booking.FieldErrorf(booking.ErrInvalidField, "booking_id", "exactly one of booking_id, entry_id and waitlist_id")
	}
	return nil
}

// phoneCancel is an operator's cancellation for a caller on the line: the
// caller's ID document, name and the number they ring from
// (CancelForCaller; a lottery entry or a waitlist place an account made for
// the caller, WithdrawEntryForCaller, LeaveWaitlistForCaller); an
// operator's DELETE /v1/bookings/{id} is refused.
func (s *Server) phoneCancel(r *request) error {
	var in phoneCancelIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	switch {
	case in.EntryID != "":
		e, err := s.svc.WithdrawEntryForCaller(r.context(), r.actor, in.EntryID, in.request(), in.CallerPhone, r.origin)
		if err != nil {
			return err
		}
		WriteJSON(r.rc, fasthttp.StatusOK, entryView(e, zoneOf(s.svc.Catalog(), e.HospitalID)))
	case in.WaitlistID != "":
		if err := s.svc.LeaveWaitlistForCaller(r.context(), r.actor, in.WaitlistID, in.request(), in.CallerPhone, r.origin); err != nil {
			return err
		}
		WriteJSON(r.rc, fasthttp.StatusOK, map[string]string{"waitlist_id": in.WaitlistID, "status": booking.WaitlistCancelled})
	default:
		b, err := s.svc.CancelForCaller(r.context(), r.actor, in.BookingID, in.request(), in.CallerPhone, r.origin)
		if err != nil {
			return err
		}
		WriteJSON(r.rc, fasthttp.StatusOK, s.bookingView(b))
	}
	return nil
}

type deskBookIn struct {
	identityIn
	staffConsentIn
	SessionID    string `json:"session_id"`
	Channel      string `json:"channel"`
	ContactPhone string `json:"contact_phone"` // optional: a walk-in's number for a call back
}

func (in deskBookIn) check() error {
	return in.requireWith("session_id", in.SessionID)
}

func (s *Server) deskBook(r *request) error {
	var in deskBookIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	ch := booking.ChannelOnsite
	if in.Channel != "" {
		var err error
		if ch, err = booking.ParseChannel(in.Channel); err != nil {
			return err
		}
	}
	if ch != booking.ChannelOnsite && ch != booking.ChannelReferral {
		return booking.Errorf(booking.ErrInvalidChannel, "the desk books on the onsite or referral channel")
	}
	return s.bookFor(r, booking.StaffBookRequest{IdentityRequest: in.request(), SessionID: in.SessionID, Channel: ch,
		ContactPhone: in.ContactPhone, Consent: in.consent()})
}

func (s *Server) bookFor(r *request, req booking.StaffBookRequest) error {
	req.IdempotencyKey, req.Origin = idempotencyKey(r.rc), r.origin
	res, err := s.svc.AttemptFor(r.context(), r.actor, req)
	if err != nil {
		return err
	}
	s.writeAttempt(r, res)
	return nil
}

type checkInIn struct {
	identityIn
	BookingID      string `json:"booking_id"`
	OverrideReason string `json:"override_reason"`
}

func (in checkInIn) check() error {
	return in.requireWith("booking_id", in.BookingID)
}

func (s *Server) checkIn(r *request) error {
	var in checkInIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	b, err := s.svc.CheckIn(r.context(), r.actor, booking.CheckInRequest{IdentityRequest: in.request(), BookingID: in.BookingID,
		OverrideReason: in.OverrideReason, Origin: r.origin})
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, s.bookingView(b))
	return nil
}

type reissueIn struct {
	BookingID string `json:"booking_id"`
	Reason    string `json:"reason"`
}

func (in reissueIn) check() error {
	return Required("booking_id", in.BookingID, "reason", in.Reason)
}

func (s *Server) reissue(r *request) error {
	var in reissueIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	pl, err := s.svc.Reissue(r.context(), r.actor, booking.ReissueRequest{BookingID: in.BookingID, Reason: in.Reason, Origin: r.origin})
	if err != nil {
		return err
	}
	out := map[string]string{"booking_id": in.BookingID, "placed": pl.Outcome}
	if pl.Served != "" {
		out["waitlist_id"] = pl.Served
	}
	WriteJSON(r.rc, fasthttp.StatusOK, out)
	return nil
}

type deskCancelIn struct {
	BookingID  string `json:"booking_id"`
	ReasonCode string `json:"reason_code"`
	Reason     string `json:"reason"`
}

func (in deskCancelIn) check() error {
	return Required("booking_id", in.BookingID, "reason", in.Reason)
}

func (s *Server) deskCancel(r *request) error {
	var in deskCancelIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	b, pl, err := s.svc.DeskCancel(r.context(), r.actor, booking.DeskCancelRequest{BookingID: in.BookingID, ReasonCode: in.ReasonCode,
		Reason: in.Reason, IdempotencyKey: idempotencyKey(r.rc), Origin: r.origin})
	if err != nil {
		return err
	}
	out := map[string]any{"booking": s.bookingView(b), "placed": pl.Outcome}
	if pl.Served != "" {
		out["waitlist_id"] = pl.Served
	}
	WriteJSON(r.rc, fasthttp.StatusOK, out)
	return nil
}

type lookupIn struct {
	IDType   string `json:"id_type"`
	IDNumber string `json:"id_number"`
	// An operator's lookup is a caller's: the number they ring from and
	// their name as on the document, beside the ID number (LookupCaller).
	Name        string `json:"name"`
	CallerPhone string `json:"caller_phone"`
	// A clerk's lookup says how the identity was checked: the card read or
	// shown, or other with the reason (review21 L2); an operator's only
	// spoken, the caller read the number aloud (also when left out).
	IdentityCheck       string `json:"identity_check"`
	IdentityCheckReason string `json:"identity_check_reason"`
}

func (in lookupIn) check() error {
	return Required("id_type", in.IDType, "id_number", in.IDNumber)
}

func (s *Server) lookup(r *request) error {
	var in lookupIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	var l booking.Lookup
	var err error
	if r.actor.Role == booking.RoleOperator {
		if err := Required("name", in.Name, "caller_phone", in.CallerPhone); err != nil {
			return err
		}
		if check := booking.IdentityCheck(in.IdentityCheck); in.IdentityCheckReason != "" && (check == "" || check == booking.CheckSpoken) {
			return booking.FieldErrorf(booking.ErrInvalidField, "identity_check_reason", "a caller's lookup has no identity check reason: identity_check is spoken")
		}
		l, err = s.svc.LookupCaller(r.context(), r.actor, booking.IdentityRequest{IDType: in.IDType, IDNumber: in.IDNumber, Name: in.Name}, in.CallerPhone,
			booking.IdentityCheck(in.IdentityCheck))
	} else {
		l, err = s.svc.LookupIdentity(r.context(), r.actor, booking.DeskLookupRequest{IDType: in.IDType, IDNumber: in.IDNumber,
			Check: booking.IdentityCheck(in.IdentityCheck), CheckReason: in.IdentityCheckReason})
	}
	if err != nil {
		return err
	}
	out := lookupOut{IDType: l.Identity.IDType, MaskedID: l.Identity.NumberMasked, Name: l.Identity.NameMasked, FormerName: l.FormerName}
	if out.Bookings, err = s.bookingViews(r.context(), l.Bookings); err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, out)
	return nil
}

type deathIn struct {
	identityIn
	Evidence string `json:"evidence"`
	Reason   string `json:"reason"`
}

// recordDeath is the desk's 患者已故 (review24 M2, booking.RecordDeath).
func (s *Server) recordDeath(r *request) error {
	var in deathIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	res, err := s.svc.RecordDeath(r.context(), r.actor, booking.DeathRequest{IdentityRequest: in.request(), Evidence: in.Evidence, Reason: in.Reason})
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]any{"deceased": true,
		"withdrawn":       map[string]int{"bookings": res.Bookings, "lottery_entries": res.Entries, "waitlist_places": res.Places},
		"entries_in_draw": res.InDraw})
	return nil
}

type liftDeathIn struct {
	Reason string `json:"reason"`
}

func (in liftDeathIn) check() error { return Required("reason", in.Reason) }

// liftDeath lifts a death recorded in error (booking.LiftDeath).
func (s *Server) liftDeath(r *request) error {
	var in liftDeathIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	res, err := s.svc.LiftDeath(r.context(), r.actor, booking.LiftDeathRequest{IdentityID: r.param, Reason: in.Reason})
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]any{"deceased": false, "accounts_told": res.Told})
	return nil
}

type verifyIn struct {
	identityIn
	AccountPhone     string `json:"account_phone"`
	CorrectionReason string `json:"correction_reason"`
	NumberRung       bool   `json:"number_rung"`
	FormerName       string `json:"former_name"`
	// PrivacyConsent, with account_phone: the holder signed the notice of
	// that version at the binding (recorded as the account's consent).
	PrivacyConsent string `json:"privacy_consent"`
}

func (s *Server) verifyIdentity(r *request) error {
	var in verifyIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	who, err := s.svc.VerifyIdentity(r.context(), r.actor, booking.VerifyRequest{IdentityRequest: in.request(), AccountPhone: in.AccountPhone,
		CorrectionReason: in.CorrectionReason, NumberRung: in.NumberRung,
		FormerName: in.FormerName, Consent: booking.ConsentRequest{Version: in.PrivacyConsent}})
	if err != nil {
		return err
	}
	out := map[string]any{"id_type": who.IDType, "masked_id": who.NumberMasked, "name": who.NameMasked, "verified": true}
	if in.AccountPhone != "" {
		out["self_bound"] = true
	}
	WriteJSON(r.rc, fasthttp.StatusOK, out)
	return nil
}

type resetCodeIn struct {
	identityIn
	AccountPhone string `json:"account_phone"`
}

// issueResetCode is the desk's reset of a forgotten password: the holder's
// card checked against the account, a one-time code answered once.
func (s *Server) issueResetCode(r *request) error {
	var in resetCodeIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	c, err := s.svc.IssueResetCode(r.context(), r.actor, booking.ResetCodeRequest{IdentityRequest: in.request(), AccountPhone: in.AccountPhone})
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusCreated, map[string]string{"code": c.Code, "account_id": c.AccountID,
		"phone": c.PhoneMasked, "holder": c.HolderMasked,
		"expires_at": c.ExpiresAt.In(readerZone(s.svc.Catalog(), r.actor.HospitalID)).Format(time.RFC3339)})
	return nil
}

type releaseIn struct {
	identityIn
	Phone            string `json:"phone"`
	CarrierProofSeen bool   `json:"carrier_proof_seen"`
}

func (in releaseIn) check() error {
	return in.requireWith("phone", in.Phone)
}

// releasePhone is the desk's release of a recycled number for its new
// holder: their card, the number, the carrier's document seen.
func (s *Server) releasePhone(r *request) error {
	var in releaseIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	out, err := s.svc.ReleasePhone(r.context(), r.actor, booking.ReleasePhoneRequest{IdentityRequest: in.request(), Phone: in.Phone,
		CarrierProofSeen: in.CarrierProofSeen})
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]any{"phone": out.PhoneMasked, "released": true})
	return nil
}

type restoreIn struct {
	identityIn
	Phone string `json:"phone"`
}

func (in restoreIn) check() error {
	return in.requireWith("phone", in.Phone)
}

// restorePhone gives a released account a new login number, for its
// holder at the desk with their card.
func (s *Server) restorePhone(r *request) error {
	var in restoreIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	out, err := s.svc.RestorePhone(r.context(), r.actor, booking.RestorePhoneRequest{IdentityRequest: in.request(), Phone: in.Phone})
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]any{"phone": out.PhoneMasked})
	return nil
}

type moveLoginIn struct {
	identityIn
	AccountPhone string `json:"account_phone"` // optional: the card's person's own account without it
	NewPhone     string `json:"new_phone"`
	NumberRung   bool   `json:"number_rung"`
}

func (in moveLoginIn) check() error {
	return in.requireWith("new_phone", in.NewPhone)
}

// moveLoginBack moves a taken login back to its holder at the desk: their
// card, a new number of theirs rung from the desk; every login ends and
// the answer carries the reset code for the new number, shown once.
func (s *Server) moveLoginBack(r *request) error {
	var in moveLoginIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	out, err := s.svc.MoveLoginBack(r.context(), r.actor, booking.MoveLoginRequest{IdentityRequest: in.request(),
		AccountPhone: in.AccountPhone, NewPhone: in.NewPhone, NumberRung: in.NumberRung})
	if err != nil {
		return err
	}
	loc := readerZone(s.svc.Catalog(), r.actor.HospitalID)
	body := map[string]string{"account_id": out.AccountID, "from_phone": out.FromMasked, "status": "moved",
		"phone": out.PhoneMasked, "holder": out.HolderMasked, "code": out.Reset.Code,
		"expires_at": out.Reset.ExpiresAt.In(loc).Format(time.RFC3339)}
	if out.Pending {
		// A typed card: the move waits its cooling-off (review25 H4); the
		// code works for the new number once it takes effect.
		body["status"], body["due_at"] = "pending", out.DueAt.In(loc).Format(time.RFC3339)
		WriteJSON(r.rc, fasthttp.StatusAccepted, body)
		return nil
	}
	WriteJSON(r.rc, fasthttp.StatusOK, body)
	return nil
}

// deskCloseAccount closes a patient account for its holder, who shows the
// ID card: the account is account_phone's, or without it the card's
// person's own.
func (s *Server) deskCloseAccount(r *request) error {
	var in struct {
		resetCodeIn
		TakenReason string `json:"taken_reason"` // optional: the login was taken; cancelled without penalty
	}
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	c, err := s.svc.CloseAccountAtDesk(r.context(), r.actor, booking.DeskCloseRequest{IdentityRequest: in.request(),
		AccountPhone: in.AccountPhone, TakenReason: in.TakenReason})
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, closedOut(c))
	return nil
}

type accountCloseIn struct {
	Password    string `json:"password"`
	DeviceToken string `json:"device_token"` // optional: the login's, as at login
}

func (in accountCloseIn) check() error {
	return Required("password", in.Password)
}

// closeAccount is a patient closing their own account: every token of it
// ends, this one's too, so the answer carries none.
func (s *Server) closeAccount(r *request) error {
	var in accountCloseIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	c, err := s.svc.CloseAccount(r.context(), r.actor, booking.CloseAccountRequest{Password: in.Password, DeviceToken: in.DeviceToken}, r.origin)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, closedOut(c))
	return nil
}

// me is the caller's own account (GET /v1/me): the login number masked,
// when it was made, and a pending closing (pending_closing, closing_due_at).
func (s *Server) me(r *request) error {
	a, err := s.svc.OwnAccount(r.context(), r.actor)
	if err != nil {
		return err
	}
	loc := readerZone(s.svc.Catalog(), r.actor.HospitalID)
	out := map[string]any{"account_id": a.ID, "role": string(a.Role), "phone": a.PhoneMasked,
		"created_at": a.CreatedAt.In(loc).Format(time.RFC3339), "pending_closing": false}
	pendingClosing(out, a.ClosingDueAt, loc)
	// A desk login move waiting for its cooling-off (review25 H4): its
	// holder sees it here and cancels it (DELETE /v1/me/login-move).
	m, ok, err := s.svc.PendingLoginMoveOf(r.context(), r.actor)
	if err != nil {
		return err
	}
	if ok {
		hospital := ""
		if h, found := s.svc.Catalog().Hospital(m.HospitalID); found {
			hospital = h.Name
		}
		out["pending_login_move"] = map[string]string{"phone": m.To.Masked, "hospital": hospital,
			"requested_at": m.RequestedAt.In(loc).Format(time.RFC3339), "due_at": m.DueAt.In(loc).Format(time.RFC3339)}
	}
	WriteJSON(r.rc, fasthttp.StatusOK, out)
	return nil
}

// pendingClosing puts a pending closing (due not zero) on an answer:
// pending_closing true and closing_due_at, the name the closing's own
// answer (POST /v1/me/close) gives the time.
func pendingClosing(out map[string]any, due time.Time, loc *time.Location) {
	if due.IsZero() {
		return
	}
	out["pending_closing"] = true
	out["closing_due_at"] = due.In(loc).Format(time.RFC3339)
}

// cancelClosing is the holder's 撤销注销 (DELETE /v1/me/close): the
// account's pending closing cancelled; with none pending, the same answer
// (cancelled false).
func (s *Server) cancelClosing(r *request) error {
	ok, err := s.svc.CancelClosing(r.context(), r.actor)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]any{"pending_closing": false, "cancelled": ok})
	return nil
}

// cancelLoginMove is the holder's cancel of a desk login move that waits
// (DELETE /v1/me/login-move, review25 H4); with none waiting, the same
// answer (cancelled false).
func (s *Server) cancelLoginMove(r *request) error {
	ok, err := s.svc.CancelLoginMove(r.context(), r.actor)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]any{"pending_login_move": false, "cancelled": ok})
	return nil
}

// closedOut is a closing's answer: the account, its status (closed, or
// pending until closing_due_at for the holder's own), and what was
// cancelled.
func closedOut(c booking.ClosedAccount) map[string]any {
	out := map[string]any{"account_id": c.AccountID, "status": "closed", "phone": c.PhoneMasked,
		"cancelled": map[string]int{"bookings": c.Bookings, "late_bookings": c.LateBookings,
			"lottery_entries": c.Entries, "waitlist_places": c.Places}}
	if c.Pending {
		out["status"] = "pending"
		out["closing_due_at"] = c.DueAt.UTC().Format(time.RFC3339)
	}
	return out
}

type resetIn struct {
	Phone       string `json:"phone"`
	Code        string `json:"code"`
	NewPassword string `json:"new_password"`
}

func (in resetIn) check() error {
	return Required("phone", in.Phone, "code", in.Code, "new_password", in.NewPassword)
}

// redeemResetCode sets a new password with the desk's code and logs in.
func (s *Server) redeemResetCode(r *request) error {
	var in resetIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	tok, err := s.svc.RedeemResetCode(r.context(), in.Phone, in.Code, in.NewPassword, r.origin)
	if err != nil {
		return err
	}
	s.writeToken(r, tok)
	return nil
}

type linkIn struct {
	Person   identityIn `json:"person"`
	Document identityIn `json:"document"`
}

func (in linkIn) check() error {
	return Required("person.id_type", in.Person.IDType, "person.id_number", in.Person.IDNumber, "person.name", in.Person.Name,
		"document.id_type", in.Document.IDType, "document.id_number", in.Document.IDNumber, "document.name", in.Document.Name)
}

// linkIdentities is a clerk linking a person's second ID document to the
// person known under the first (LinkIdentities): 200 with the person's
// masked identity.
func (s *Server) linkIdentities(r *request) error {
	var in linkIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	who, err := s.svc.LinkIdentities(r.context(), r.actor, booking.LinkRequest{Person: in.Person.request(), Document: in.Document.request()})
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]any{"id_type": who.IDType, "masked_id": who.NumberMasked, "name": who.NameMasked, "linked": true})
	return nil
}

type extraSlotsIn struct {
	Count        int    `json:"count"`
	Reason       string `json:"reason"`
	AuthorisedBy string `json:"authorised_by"`
}

func (in extraSlotsIn) check() error {
	return Required("reason", in.Reason, "authorised_by", in.AuthorisedBy)
}

func (s *Server) extraSlots(r *request) error {
	var in extraSlotsIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	added, err := s.svc.AddExtraSlots(r.context(), r.actor, booking.ExtraSlotsRequest{SessionID: r.param, Count: in.Count,
		Reason: in.Reason, AuthorisedBy: in.AuthorisedBy, IdempotencyKey: idempotencyKey(r.rc), Origin: r.origin})
	if err != nil {
		return err
	}
	nos := make([]int, len(added))
	ch := booking.ChannelOnsite
	for i, sl := range added {
		nos[i], ch = sl.No, sl.Channel // one pool: a lottery's still to be drawn, or the on-site pool
	}
	WriteJSON(r.rc, fasthttp.StatusCreated, map[string]any{"session_id": r.param, "channel": ch, "slot_nos": nos})
	return nil
}

type movePoolIn struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Count  int    `json:"count"`
	Reason string `json:"reason"`
}

func (s *Server) movePool(r *request) error {
	var in movePoolIn
	if err := decode(r.rc, &in); err != nil {
		return err
	}
	from, err := booking.ParseChannel(in.From)
	if err != nil {
		return err
	}
	to, err := booking.ParseChannel(in.To)
	if err != nil {
		return err
	}
	moved, err := s.svc.MovePool(r.context(), r.actor, booking.MovePoolRequest{SessionID: r.param, From: from, To: to, Count: in.Count, Reason: in.Reason})
	if err != nil {
		return err
	}
	// Up to count move: the answer says how many of those asked did (review19b L2).
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]any{"session_id": r.param, "from": from, "to": to,
		"requested": in.Count, "moved": len(moved), "slot_nos": moved})
	return nil
}

// bindingToReviewOut is an account's self the binding rule would refuse
// or question, masked (booking.BindingToReview).
type bindingToReviewOut struct {
	AccountID   string     `json:"account_id"`
	PhoneMasked string     `json:"account_phone_masked"`
	PatientID   string     `json:"patient_id"`
	NameMasked  string     `json:"name_masked"`
	IDMasked    string     `json:"id_number_masked"`
	BirthYear   int        `json:"birth_year,omitempty"`
	BoundAt     *time.Time `json:"bound_at,omitempty"`
	NoRing      bool       `json:"no_ring"`
	FamilyToo   bool       `json:"family_too"`
	Minor       bool       `json:"minor"`
}

// bindingsToReview lists the bindings made before the binding rule
// (GET /v1/admin/bindings-to-review), for platform administrators.
func (s *Server) bindingsToReview(r *request) error {
	bs, err := s.svc.BindingsToReview(r.context(), r.actor)
	if err != nil {
		return err
	}
	loc := readerZone(s.svc.Catalog(), r.actor.HospitalID)
	out := make([]bindingToReviewOut, len(bs))
	for i, b := range bs {
		out[i] = bindingToReviewOut{AccountID: b.AccountID, PhoneMasked: b.PhoneMasked, PatientID: b.PatientID, NameMasked: b.NameMasked,
			IDMasked: b.IDMasked, BirthYear: b.BirthYear, NoRing: b.NoRing, FamilyToo: b.FamilyToo, Minor: b.Minor}
		if !b.BoundAt.IsZero() {
			t := b.BoundAt.In(loc)
			out[i].BoundAt = &t
		}
	}
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]any{"items": out})
	return nil
}

func (s *Server) listFlags(r *request) error {
	p, err := pageOf(r.rc.QueryArgs())
	if err != nil {
		return err
	}
	fs, err := s.svc.FlagsPage(r.context(), r.actor, string(r.rc.QueryArgs().Peek("status")), p)
	if err != nil {
		return err
	}
	loc := readerZone(s.svc.Catalog(), r.actor.HospitalID)
	writeList(r.rc, fs, func(f booking.Flag) booking.Flag { return flagIn(f, loc) })
	return nil
}

// flagIn is f with its times in loc: a flag spans hospitals, so it is told
// in the reader's zone (review15 L7 read "…Z" here).
func flagIn(f booking.Flag, loc *time.Location) booking.Flag {
	f.CreatedAt = f.CreatedAt.In(loc)
	if f.DueAt != nil {
		t := f.DueAt.In(loc)
		f.DueAt = &t
	}
	if f.OverturnedAt != nil {
		t := f.OverturnedAt.In(loc)
		f.OverturnedAt = &t
	}
	if !f.DecidedAt.IsZero() {
		f.DecidedAt = f.DecidedAt.In(loc)
	}
	if f.Dismissal != nil {
		d := *f.Dismissal
		if !d.RequestedAt.IsZero() {
			d.RequestedAt = d.RequestedAt.In(loc)
		}
		f.Dismissal = &d
	}
	return f
}

type flagOut struct {
	booking.Flag
	Timeline []booking.Event `json:"timeline"`
	// Elsewhere: the flag's persons an account outside its group lists,
	// by identity id; a confirmation bars them only when named in also_bar.
	Elsewhere map[string]booking.Elsewhere `json:"elsewhere"`
}

func (s *Server) getFlag(r *request) error {
	f, err := s.svc.Flag(r.context(), r.actor, r.param)
	if err != nil {
		return err
	}
	cat := s.svc.Catalog()
	loc := readerZone(cat, r.actor.HospitalID)
	for i, e := range f.Timeline {
		if h, ok := cat.Hospital(e.HospitalID); ok {
			f.Timeline[i].TS = e.TS.In(h.Location())
		} else {
			f.Timeline[i].TS = e.TS.In(loc)
		}
	}
	if f.Elsewhere == nil {
		f.Elsewhere = map[string]booking.Elsewhere{}
	}
	WriteJSON(r.rc, fasthttp.StatusOK, flagOut{Flag: flagIn(f.Flag, loc), Timeline: f.Timeline, Elsewhere: f.Elsewhere})
	return nil
}

type decisionIn struct {
	Action  string   `json:"action"`
	Note    string   `json:"note"`
	AlsoBar []string `json:"also_bar"`
	// ReasonCode: a dismissal's (booking.DismissReasons).
	ReasonCode string `json:"reason_code"`
}

func (in decisionIn) check() error {
	return Required("action", in.Action, "note", in.Note)
}

func (s *Server) decideFlag(r *request) error {
	var in decisionIn
	if err := decodeChecked(r.rc, &in); err != nil {
		return err
	}
	f, err := s.svc.DecideFlag(r.context(), r.actor, r.param, booking.Decision{Action: in.Action, Note: in.Note, Origin: r.origin, AlsoBar: in.AlsoBar, ReasonCode: in.ReasonCode})
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, f)
	return nil
}

func (s *Server) detect(r *request) error {
	n, err := s.svc.RunDetection(r.context(), r.actor)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, map[string]int{"opened": n})
	return nil
}

type auditOut struct {
	ID        string `json:"audit_id"`
	TS        string `json:"ts"`
	ActorID   string `json:"actor_id"`
	ActorRole string `json:"actor_role"`
	Action    string `json:"action"`
	Target    string `json:"target"`
	Reason    string `json:"reason"`
}

func (s *Server) audit(r *request) error {
	since, err := queryTime(r.rc.QueryArgs(), "since")
	if err != nil {
		return err
	}
	if since.IsZero() {
		since = s.svc.Now().Add(-7 * 24 * time.Hour)
	}
	// before: the id of the previous page's last entry (a page is
	// booking.AuditPageSize entries; a full one may have more behind it).
	// review25 M3: actor, action and session narrow the read.
	qa := r.rc.QueryArgs()
	as, err := s.svc.AuditFiltered(r.context(), r.actor, since, string(qa.Peek("before")), booking.AuditFilter{
		ActorID: string(qa.Peek("actor")), Action: string(qa.Peek("action")), SessionID: string(qa.Peek("session"))})
	if err != nil {
		return err
	}
	// Each row's time in its hospital's zone, with the offset, as every
	// session and booking time is (review9 read "…Z" here beside "+08:00"
	// everywhere else); a platform-wide row in the reader's hospital's, or
	// the stand-in zone.
	cat := s.svc.Catalog()
	fallback := readerZone(cat, r.actor.HospitalID)
	writeList(r.rc, as, func(a booking.AuditEntry) auditOut {
		loc := fallback
		if h, ok := cat.Hospital(a.HospitalID); ok {
			loc = h.Location()
		}
		return auditOut{ID: a.ID, TS: a.TS.In(loc).Format(booking.StampLayout), ActorID: a.ActorID, ActorRole: string(a.ActorRole),
			Action: a.Action, Target: a.Target, Reason: a.Reason}
	})
	return nil
}

func (s *Server) listEntries(r *request) error {
	es, err := s.svc.Entries(r.context(), r.actor)
	if err != nil {
		return err
	}
	cat := s.svc.Catalog()
	writeList(r.rc, es, func(e booking.Entry) EntryOut { return entryView(e, zoneOf(cat, e.HospitalID)) })
	return nil
}

func (s *Server) getEntry(r *request) error {
	e, err := s.svc.Entry(r.context(), r.actor, r.param)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, entryView(e, zoneOf(s.svc.Catalog(), e.HospitalID)))
	return nil
}

func (s *Server) withdrawEntry(r *request) error {
	e, err := s.svc.WithdrawEntry(r.context(), r.actor, r.param, r.origin)
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusOK, entryView(e, zoneOf(s.svc.Catalog(), e.HospitalID)))
	return nil
}

// lotteryDraws is the public record of a session's lottery pools: anyone
// may read it, and once a pool is drawn it lists the entries a page at a
// time (booking.PublicDrawPage): ?channel=…&after=<request id> reads the
// page after entries_next.
func (s *Server) lotteryDraws(r *request) error {
	args := r.rc.QueryArgs()
	ps, err := s.svc.PublicDrawPage(r.context(), r.param, booking.Channel(args.Peek("channel")), string(args.Peek("after")))
	if err != nil {
		return err
	}
	loc := s.sessionZone(r.param)
	writeList(r.rc, ps, func(p booking.DrawPage) DrawOut {
		out := DrawView(p.PublishedDraw, loc)
		out.EntriesNext = p.Next
		return out
	})
	return nil
}

func (s *Server) adminLotteryDraws(r *request) error {
	if r.actor.Role != booking.RoleAdmin {
		return booking.Errorf(booking.ErrForbidden, "only administrators see entries before the draw")
	}
	ds, err := s.svc.LotteryDraws(r.context(), r.actor, r.param)
	if err != nil {
		return err
	}
	loc := s.sessionZone(r.param)
	writeList(r.rc, ds, func(d booking.PublishedDraw) DrawOut { return DrawView(d, loc) })
	return nil
}

// sessionZone is the time zone of a session's hospital.
func (s *Server) sessionZone(sessionID string) *time.Location {
	if sess, ok := s.svc.Catalog().Session(sessionID); ok {
		return zoneOf(s.svc.Catalog(), sess.HospitalID)
	}
	return zoneOf(s.svc.Catalog(), "")
}

// consentIn is an account's consent to the current privacy notice, given
// after sign-up (an account made before consents were recorded, or a
// newer notice: the login says privacy_consent_needed).
type consentIn struct {
	PrivacyConsent string `json:"privacy_consent"`
}

func (s *Server) agreeToNotice(r *request) error {
	var in consentIn
	if err := decode(r.rc, &in); err != nil {
		return err
	}
	c, err := s.svc.AgreeToNotice(r.context(), r.actor, booking.ConsentRequest{Version: in.PrivacyConsent})
	if err != nil {
		return err
	}
	WriteJSON(r.rc, fasthttp.StatusCreated, consentView(c, readerZone(s.svc.Catalog(), "")))
	return nil
}

// consentOut is a recorded consent to the privacy notice.
type consentOut struct {
	NoticeVersion string `json:"notice_version"`
	GivenAt       string `json:"given_at"`
	GivenBy       string `json:"given_by"`
	Channel       string `json:"channel"`
	PatientID     string `json:"patient_id,omitempty"`
}

func consentView(c booking.Consent, zone *time.Location) consentOut {
	return consentOut{NoticeVersion: c.NoticeVersion, GivenAt: c.At.In(zone).Format(time.RFC3339), GivenBy: string(c.By),
		Channel: string(c.Channel), PatientID: c.PatientID}
}
