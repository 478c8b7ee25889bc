package web

import (
	"testing"
	"time"
)

// TestPrivacyNoticeInBrowser (review21 H3): the privacy notice
// (个人信息保护说明) is one click from where a patient gives personal
// information — the registration form and the form that adds a family
// member, a child under 14 included —, Chinese first, and says what is
// collected and why (the detection's profiling included), how long it is
// kept and the patient's rights; it passes axe-core's WCAG 2.1 A/AA rules.
func TestPrivacyNoticeInBrowser(t *testing.T) {
	s := newSite(t)
	src := axeSource(t)
	b := newBrowser(t, s.base, 3*time.Minute)

	b.open("/patient/register")
	b.contains("#privacy-note", "个人信息保护说明")
	b.click("#privacy-note a", "/patient/privacy")
	b.contains("h1", "个人信息保护说明")
	b.contains("#privacy-what", "证件号码")
	b.contains("#privacy-what", "未满 14 周岁")
	b.contains("#privacy-what", "设备标识")
	b.contains("#privacy-how", "30 天")
	b.contains("#privacy-detection", "人工审核")
	b.contains("#privacy-rights", "注销")
	b.contains(".hint", PrivacyNoticeVersion)
	b.axeClean(src, "the privacy notice")
	b.shot("privacy-01")
	b.phoneShot("privacy-01-390")

	b.register(newPhone(), "correct horse battery")
	b.open("/patient/family")
	b.contains("#family-privacy", "监护人")
	b.click("#family-privacy a", "/patient/privacy")
	b.contains("#privacy-rights", "监护人")
}
