package booking

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// A hospital's departments and doctors, as its own administrator keeps them:
// created, edited and retired, never deleted (sessions and bookings name
// them). Every change is audited and raises the catalog's version in its
// transaction, so every instance learns it within a catalog watch.

// DepartmentRequest is a department as an administrator creates or renames
// it.
type DepartmentRequest struct {
	HospitalID string // on create; a department never changes hospital
	Name       string
	Reason     string // for the audit log; optional
	// IdempotencyKey, when set, derives the department's id: a repeat of
	// a create names the same department and creates nothing new.
	IdempotencyKey string
}

// DoctorRequest is a doctor as an administrator creates or edits them.
type DoctorRequest struct {
	DepartmentID   string // the hospital is the department's
	Name           string
	Title          string   // 职称, as the hospital writes it
	FeeLevel       FeeLevel // empty: general on create, unchanged on edit
	Reason         string
	IdempotencyKey string
}

// admin checks that actor is an administrator covering hospitalID.
func admin(actor Actor, hospitalID, what string) error {
	if actor.Role != RoleAdmin {
		return Errorf(ErrForbidden, "only administrators %s", what)
	}
	if !actor.Covers(hospitalID) {
		return Errorf(ErrForbidden, "this hospital is not yours")
	}
	return nil
}

// checkName is a department's or doctor's name: 1 to max characters of
// text, trimmed.
func checkName(field, v string, max int) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", FieldErrorf(ErrInvalidField, field, "%s is required", field)
	}
	return v, checkText(field, v, max)
}

// CreateDepartment adds a department to a hospital.
func (s *Service) CreateDepartment(ctx context.Context, actor Actor, req DepartmentRequest) (Department, error) {
	cat := s.catalog.Load()
	if _, ok := cat.Hospital(req.HospitalID); !ok {
		return Department{}, ErrHospitalNotFound
	}
	if err := admin(actor, req.HospitalID, "manage departments"); err != nil {
		return Department{}, err
	}
	name, err := checkName("name", req.Name, 60)
	if err != nil {
		return Department{}, err
	}
	if err := auditText("reason", req.Reason, 500); err != nil {
		return Department{}, err
	}
	d := Department{ID: newID(), HospitalID: req.HospitalID, Name: name}
	if req.IdempotencyKey != "" {
		d.ID = s.idempotentID(actor.AccountID, "department\x00"+req.IdempotencyKey)
		if done, ok := cat.Department(d.ID); ok {
			return done, nil // a repeat: the department it created
		}
	}
	audit := s.catalogAudit(actor, "department_create", "department:"+d.ID, d.HospitalID, fmt.Sprintf("%q; %s", name, req.Reason))
	err = s.store.SaveDepartment(ctx, d, true, audit)
	return s.savedDepartment(ctx, d.ID, err)
}

// RenameDepartment changes a department's name.
func (s *Service) RenameDepartment(ctx context.Context, actor Actor, id string, req DepartmentRequest) (Department, error) {
	d, ok := s.catalog.Load().Department(id) // a malformed id is simply not there
	if !ok {
		return Department{}, ErrDepartmentNotFound
	}
	if err := admin(actor, d.HospitalID, "manage departments"); err != nil {
		return Department{}, err
	}
	name, err := checkName("name", req.Name, 60)
	if err != nil {
		return Department{}, err
	}
	if err := auditText("reason", req.Reason, 500); err != nil {
		return Department{}, err
	}
	audit := s.catalogAudit(actor, "department_update", "department:"+d.ID, d.HospitalID, fmt.Sprintf("%q → %q; %s", d.Name, name, req.Reason))
	d.Name = name
	err = s.store.SaveDepartment(ctx, d, false, audit)
	return s.savedDepartment(ctx, d.ID, err)
}

// RetireDepartment closes a department that has no doctor left on the
// schedule (SQL checks it again in the transaction).
func (s *Service) RetireDepartment(ctx context.Context, actor Actor, id, reason string) (Department, error) {
	cat := s.catalog.Load()
	d, ok := cat.Department(id)
	if !ok {
		return Department{}, ErrDepartmentNotFound
	}
	if err := admin(actor, d.HospitalID, "manage departments"); err != nil {
		return Department{}, err
	}
	if err := needReason(reason); err != nil {
		return Department{}, err
	}
	if d.Retired() {
		return d, nil // already: the answer of a repeat
	}
	for _, doc := range cat.Doctors(d.HospitalID) {
		if doc.DepartmentID == d.ID && !doc.Retired() {
			return Department{}, Errorf(ErrDepartmentInUse, "%s still works in this department: move or retire them first", doc.Name)
		}
	}
	now := s.cfg.Now()
	audit := s.catalogAudit(actor, "department_retire", "department:"+d.ID, d.HospitalID, fmt.Sprintf("%q; %s", d.Name, reason))
	err := s.store.RetireDepartment(ctx, d.ID, now, audit)
	return s.savedDepartment(ctx, d.ID, err)
}

func (s *Service) savedDepartment(ctx context.Context, id string, err error) (Department, error) {
	return saved(ctx, s, "department", id, err, (*Catalog).Department)
}

// saved answers a catalog change: err, or the changed item as the catalog
// has it once refreshed.
func saved[T any](ctx context.Context, s *Service, what, id string, err error, find func(*Catalog, string) (T, bool)) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	if _, err := s.Refresh(ctx); err != nil {
		return zero, err
	}
	got, ok := find(s.catalog.Load(), id)
	if !ok {
		return zero, fmt.Errorf("%s %s: not in the catalog after refresh", what, id)
	}
	return got, nil
}

// CreateDoctor adds a doctor to one of the hospital's open departments.
func (s *Service) CreateDoctor(ctx context.Context, actor Actor, req DoctorRequest) (Doctor, error) {
	cat := s.catalog.Load()
	doc := Doctor{ID: newID()}
	if req.IdempotencyKey != "" {
		doc.ID = s.idempotentID(actor.AccountID, "doctor\x00"+req.IdempotencyKey)
		if done, ok := cat.Doctor(doc.ID); ok {
			if err := admin(actor, done.HospitalID, "manage doctors"); err != nil {
				return Doctor{}, err
			}
			return done, nil // a repeat: the doctor it created
		}
	}
	if req.FeeLevel == "" {
		req.FeeLevel = FeeGeneral
	}
	doc, err := s.doctorFromRequest(actor, doc, req)
	if err != nil {
		return Doctor{}, err
	}
	audit := s.catalogAudit(actor, "doctor_create", "doctor:"+doc.ID, doc.HospitalID, doctorSummary(doc, req.Reason))
	err = s.store.SaveDoctor(ctx, doc, true, audit, nil)
	return s.savedDoctor(ctx, doc.ID, err)
}

// UpdateDoctor changes a doctor's name, title, fee level or department.
// Sessions already published keep the department they were published in;
// the change applies to what is published next.
func (s *Service) UpdateDoctor(ctx context.Context, actor Actor, id string, req DoctorRequest) (Doctor, error) {
	old, ok := s.catalog.Load().Doctor(id)
	if !ok {
		return Doctor{}, ErrDoctorNotFound
	}
	if err := admin(actor, old.HospitalID, "manage doctors"); err != nil {
		return Doctor{}, err
	}
	if old.Retired() {
		return Doctor{}, ErrDoctorRetired
	}
	if req.DepartmentID == "" {
		req.DepartmentID = old.DepartmentID
	}
	if req.Name == "" {
		req.Name = old.Name
	}
	if req.FeeLevel == "" {
		req.FeeLevel = old.FeeLevel.OrGeneral()
	}
	doc, err := s.doctorFromRequest(actor, old, req)
	if err != nil {
		return Doctor{}, err
	}
	audit := s.catalogAudit(actor, "doctor_update", "doctor:"+doc.ID, doc.HospitalID,
		fmt.Sprintf("was %s; now %s", doctorSummary(old, ""), doctorSummary(doc, req.Reason)))
	err = s.store.SaveDoctor(ctx, doc, false, audit, s.feeOrTitleNotices(old, doc))
	return s.savedDoctor(ctx, doc.ID, err)
}

// NoticeSessionChanged is the kind of the notice to a booking's account
// that its clinic's fee level or doctor's title changed (UpdateDoctor).
const NoticeSessionChanged = "session_changed"

// feeLabels name the fee levels as patients read them.
var feeLabels = map[FeeLevel][2]string{
	FeeGeneral: {"普通门诊", "general clinic"},
	FeeExpert:  {"专家门诊", "expert clinic"},
	FeeSpecial: {"特需门诊", "special-needs clinic"},
}

// feeOrTitleNotices are what the bookings of a doctor's clinics not yet
// over are told when an edit changes what their patients pay (the fee
// level) or whom they see (the title): one notice per session, which the
// store writes for each of its confirmed bookings in the edit's
// transaction (Store.SaveDoctor). None when neither changed — a rename, a
// department — or nothing of the doctor's is still to come.
func (s *Service) feeOrTitleNotices(old, doc Doctor) []Notification {
	var zh, en []string
	if from, to := old.FeeLevel.OrGeneral(), doc.FeeLevel.OrGeneral(); from != to {
		zh = append(zh, "挂号费级别由"+feeLabels[from][0]+"改为"+feeLabels[to][0])
		en = append(en, "the fee level is now "+feeLabels[to][1]+" (was "+feeLabels[from][1]+")")
	}
	if old.Title != doc.Title {
		zh = append(zh, "医生职称由"+cmp.Or(old.Title, "未注明")+"改为"+cmp.Or(doc.Title, "未注明"))
		en = append(en, "the doctor's title is now "+cmp.Or(doc.Title, "not given")+" (was "+cmp.Or(old.Title, "not given")+")")
	}
	if len(zh) == 0 {
		return nil
	}
	cat := s.catalog.Load()
	now := s.cfg.Now()
	var ns []Notification
	for _, sess := range cat.HospitalSessions(doc.HospitalID) {
		if sess.DoctorID != doc.ID || sess.Stopped() || !now.Before(sess.Closes()) {
			continue
		}
		sz, se := sessionLines(cat, sess)
		ns = append(ns, Notification{Kind: NoticeSessionChanged, HospitalID: sess.HospitalID, SessionID: sess.ID, CreatedAt: now,
			Body: "您预约的出诊信息有变更：" + strings.Join(zh, "，") + "：" + sz +
				" The clinic you booked changed: " + strings.Join(en, "; ") + ": " + se})
	}
	return ns
}

// doctorFromRequest checks a request against the catalog and lays it over
// doc (new, or the doctor as it was).
func (s *Service) doctorFromRequest(actor Actor, doc Doctor, req DoctorRequest) (Doctor, error) {
	if req.DepartmentID == "" {
		return Doctor{}, FieldErrorf(ErrInvalidField, "department_id", "department_id is required")
	}
	dept, ok := s.catalog.Load().Department(req.DepartmentID)
	if !ok {
		return Doctor{}, ErrDepartmentNotFound
	}
	if err := admin(actor, dept.HospitalID, "manage doctors"); err != nil {
		return Doctor{}, err
	}
	if doc.HospitalID != "" && doc.HospitalID != dept.HospitalID {
		return Doctor{}, FieldErrorf(ErrInvalidField, "department_id", "department_id is another hospital's: a doctor stays in their hospital")
	}
	if dept.Retired() {
		return Doctor{}, ErrDepartmentRetired
	}
	name, err := checkName("name", req.Name, 60)
	if err != nil {
		return Doctor{}, err
	}
	title := strings.TrimSpace(req.Title)
	if err := checkText("title", title, 60); err != nil {
		return Doctor{}, err
	}
	if !req.FeeLevel.Valid() {
		return Doctor{}, FieldErrorf(ErrInvalidField, "fee_level", "fee_level must be general, expert or special")
	}
	if err := auditText("reason", req.Reason, 500); err != nil {
		return Doctor{}, err
	}
	doc.HospitalID, doc.DepartmentID, doc.Name, doc.Title, doc.FeeLevel = dept.HospitalID, dept.ID, name, title, req.FeeLevel
	return doc, nil
}

// RetireDoctor takes a doctor off the schedule for good: the row stays
// (past sessions and bookings name it), nothing new is published for
// them. A doctor with an upcoming session that is not stopped is refused
// (ErrDoctorHasSessions): the administrator deletes or stops those first,
// so no patient is left booked with a doctor who has gone. SQL checks it
// again in the transaction that retires, against sessions another
// instance just published.
func (s *Service) RetireDoctor(ctx context.Context, actor Actor, id, reason string) (Doctor, error) {
	cat := s.catalog.Load()
	doc, ok := cat.Doctor(id)
	if !ok {
		return Doctor{}, ErrDoctorNotFound
	}
	if err := admin(actor, doc.HospitalID, "manage doctors"); err != nil {
		return Doctor{}, err
	}
	if err := needReason(reason); err != nil {
		return Doctor{}, err
	}
	if doc.Retired() {
		return doc, nil // already: the answer of a repeat
	}
	now := s.cfg.Now()
	if err := upcomingSessions(cat, doc, now); err != nil {
		return Doctor{}, err
	}
	audit := s.catalogAudit(actor, "doctor_retire", "doctor:"+doc.ID, doc.HospitalID, doctorSummary(doc, reason))
	err := s.store.RetireDoctor(ctx, doc.ID, now, audit)
	return s.savedDoctor(ctx, doc.ID, err)
}

// upcomingSessions is ErrDoctorHasSessions naming how many sessions the
// doctor has that are neither over nor stopped, and each of the first ten,
// earliest first (review19b L3: naming only the first sent the scheduler
// back for each in turn); nil when there is none.
func upcomingSessions(cat *Catalog, doc Doctor, now time.Time) error {
	var up []*Session
	for _, sess := range cat.HospitalSessions(doc.HospitalID) {
		if sess.DoctorID == doc.ID && !sess.Stopped() && sess.EndsAt.After(now) {
			up = append(up, sess)
		}
	}
	if len(up) == 0 {
		return nil
	}
	slices.SortFunc(up, func(a, b *Session) int { return a.StartsAt.Compare(b.StartsAt) })
	names := make([]string, 0, 10)
	for _, sess := range up[:min(len(up), 10)] {
		names = append(names, sess.VisitDate+" "+sess.Period)
	}
	if len(up) > 10 {
		names = append(names, fmt.Sprintf("and %d more", len(up)-10))
	}
	what := "sessions"
	if len(up) == 1 {
		what = "session"
	}
	return Errorf(ErrDoctorHasSessions, "the doctor has %d upcoming %s: %s: delete or stop them first", len(up), what, strings.Join(names, ", "))
}

func (s *Service) savedDoctor(ctx context.Context, id string, err error) (Doctor, error) {
	return saved(ctx, s, "doctor", id, err, (*Catalog).Doctor)
}

// HospitalDoctors lists a hospital's doctors, retired ones too, for its
// administrators.
func (s *Service) HospitalDoctors(actor Actor, hospitalID string) ([]Doctor, error) {
	cat := s.catalog.Load()
	if _, ok := cat.Hospital(hospitalID); !ok {
		return nil, ErrHospitalNotFound
	}
	if err := admin(actor, hospitalID, "list a hospital's doctors"); err != nil {
		return nil, err
	}
	return cat.Doctors(hospitalID), nil
}

// catalogAudit is the audit entry of a change of the catalog.
func (s *Service) catalogAudit(actor Actor, action, target, hospitalID, reason string) AuditEntry {
	return AuditEntry{ID: newID(), TS: s.cfg.Now(), ActorID: actor.AccountID, ActorRole: actor.Role, Action: action,
		Target: target, HospitalID: hospitalID, Reason: strings.TrimSuffix(reason, "; ")}
}

func needReason(reason string) error {
	if err := requireText("reason", reason, 2, ""); err != nil {
		return err
	}
	return auditText("reason", reason, 500)
}

func doctorSummary(d Doctor, reason string) string {
	out := fmt.Sprintf("%q (%s, %s) in department %s", d.Name, d.Title, d.FeeLevel.OrGeneral(), d.DepartmentID)
	if reason != "" {
		out += "; " + reason
	}
	return out
}
