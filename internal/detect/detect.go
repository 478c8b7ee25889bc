// Package detect finds scalpers in the booking-event stream. It owns the
// signals — what a person at a keyboard cannot do (sub-human reaction, a
// machine's cadence, storms of retries, hours of polling), more people or
// bookings than a family has, concentration on the scarcest sessions, slots
// taken and not used, slots passed on at the second (with their direction),
// a new phone every day, a clerk favouring the same people — the linking of
// accounts into groups by evidence that means one operator, the rule that
// combines the evidence (no single kind of it flags on its own), and the
// flags with their reasons in Chinese and English.
//
// Detect is a pure function of the events and the Config: the service runs it
// over its event table and `fairslot detect` over a file, and both get the
// same flags. It takes time linear in the events (after one sort) and
// memory of a few tens of bytes per event. docs/detection.md explains the
// signals, their defaults and the rule.
package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"fairslot/internal/booking"
)

// StatusOpen is the status of a flag nobody has decided on; the detector
// only makes open flags.
const StatusOpen = "open"

// Reason is one piece of a flag's evidence, with its numbers, in English
// and Chinese; Kind is its kind of evidence and Points what it adds to the
// score (0 when a stronger signal of the same kind is counted instead).
type Reason struct {
	Signal   string  `json:"signal"`
	Kind     string  `json:"kind,omitempty"`
	Detail   string  `json:"detail"`
	DetailZH string  `json:"detail_zh,omitempty"`
	Points   float64 `json:"points"`
}

// Flag is a group of accounts and persons that looks like scalping, in the
// shape of GET /v1/admin/flags. FlagID is derived from the accounts (or, with
// none, the persons), so every run over the same events names it the same.
// AccountIDs holds staff ids too when a clerk is part of the group.
// Threshold is the score a flag needs, Explanation (and ExplanationZH) how
// its score was made up, in an administrator's words.
type Flag struct {
	FlagID        string    `json:"flag_id"`
	Score         float64   `json:"score"`
	Status        string    `json:"status"`
	Reasons       []Reason  `json:"reasons"`
	AccountIDs    []string  `json:"account_ids"`
	PatientIDs    []string  `json:"patient_ids"`
	CreatedAt     time.Time `json:"created_at"`
	Threshold     float64   `json:"threshold"`
	Explanation   string    `json:"explanation"`
	ExplanationZH string    `json:"explanation_zh"`
	// CaseIDs are the scalper reports attached to the flag's accounts.
	CaseIDs []string `json:"case_ids,omitempty"`
}

// Detect runs every signal over events, links what they share into groups
// and returns the flags, highest score first. The input is not modified and
// may be in any order.
func Detect(events []booking.Event, cfg Config) []Flag {
	return DetectWithReports(events, nil, cfg)
}

// DetectWithReports is Detect with patients' scalper reports of the same
// window as testimony (reports.go).
func DetectWithReports(events []booking.Event, reports []booking.Report, cfg Config) []Flag {
	in := NewInput()
	for i := range events {
		in.Add(&events[i])
	}
	for i := range reports {
		in.AddReport(&reports[i])
	}
	return in.Detect(cfg)
}

// Detect runs the detector over the input's events; see Detect.
func (in *Input) Detect(cfg Config) []Flag {
	d := newDetector(in, cfg)
	d.index()
	d.accountSignals()
	d.beforeOpening()
	d.identities()
	d.attrSignals()
	d.othersPatients()
	d.findHandoffs()
	d.handoffSignals()
	d.unseenPassedOn()
	d.linkedHandoffs()
	d.insiders()
	d.staffCalls()
	return d.flags()
}

// flagID names a group by its members.
func flagID(accounts, persons []string) string {
	members := accounts
	if len(members) == 0 {
		members = persons
	}
	h := sha256.Sum256([]byte(strings.Join(members, "\n")))
	return "flg_" + hex.EncodeToString(h[:10])
}

// kindNames are the kinds of evidence in an administrator's words.
var kindNames = map[string][2]string{
	kAutomation: {"automation (what a person at a keyboard cannot do)", "自动化操作（人手做不到）"},
	kScale:      {"scale (more people or bookings than a family has)", "规模（超出一个家庭）"},
	kTargeting:  {"targeting of the scarcest sessions", "盯抢最紧俏的号源"},
	kNonUse:     {"slots taken and not used", "占号不用"},
	kTransfer:   {"slots passed on to other people (hand-offs, strangers at the desk)", "转号（倒号、他人持证来取号）"},
	kEvasion:    {"evasion (a new phone every day)", "规避（频繁更换设备）"},
	kInsider:    {"staff favouring the same people", "工作人员偏向特定人员"},
	kClaims:     {"other people's ID numbers, refused when it tried to add them", "添加他人身份证号被拒"},
	kDisowned:   {"people who cancelled, from their own accounts, what it booked for them", "被办理人本人取消其代办的预约"},
	kReport:     {"patients' reports (testimony: never a kind of its own)", "患者举报（旁证，不单独计为一类证据）"},
}

// explain says how a score was made up, in English and Chinese.
func (d *detector) explain(s scored) (en, zh string) {
	best := map[string]*item{}
	for _, it := range s.items {
		if b := best[it.kind]; b == nil || it.score > b.score {
			best[it.kind] = it
		}
	}
	var partsEN, partsZH []string
	for _, k := range sortedKeys(best) {
		it := best[k]
		pts := min(d.cfg.KindCap, it.score)
		if it.alone && it.score >= d.cfg.Threshold {
			pts = it.score
		}
		names, ok := kindNames[k]
		if !ok {
			continue
		}
		partsEN = append(partsEN, fmt.Sprintf("%s %.2f (%s)", names[0], pts, it.signal))
		partsZH = append(partsZH, fmt.Sprintf("%s %.2f（%s）", names[1], pts, it.signal))
	}
	en = fmt.Sprintf("Score %.2f, flagged at %.2f or more: %s. Each kind of evidence adds its strongest signal, at most %.2f, so no single kind flags on its own: at least %d kinds are needed",
		s.score, d.cfg.Threshold, strings.Join(partsEN, " + "), d.cfg.KindCap, d.cfg.MinKinds)
	zh = fmt.Sprintf("评分 %.2f（达到 %.2f 即提示）：%s。每类证据只计最强的一项、最多 %.2f 分，单独一类证据不会触发提示，至少需要 %d 类",
		s.score, d.cfg.Threshold, strings.Join(partsZH, " + "), d.cfg.KindCap, d.cfg.MinKinds)
	if s.alone {
		en += "; a clerk favouring the same people, or hand-offs repeated between the same accounts, is a combination of evidence in itself and counts in full"
		zh += "；工作人员反复偏向同样的人、或同一对账号反复转号，本身就是多项证据的组合，按全分计"
	}
	return en + ".", zh + "。"
}
