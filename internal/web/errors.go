package web

import (
	"errors"
	"fmt"
	"html/template"

	"fairslot/internal/booking"
)

// The console's own errors, in the domain's shape so they render like any
// other.
var (
	errInternal         = &booking.Error{Kind: booking.KindInternal, Code: "internal", Message: "something went wrong on our side; look at your bookings before you try again"}
	errPageNotFound     = &booking.Error{Kind: booking.KindNotFound, Code: "page_not_found", Message: "no such page"}
	errMethodNotAllowed = &booking.Error{Kind: booking.KindInvalid, Code: "method_not_allowed", Message: "this page does not take that method"}
	errBadCSRF          = &booking.Error{Kind: booking.KindForbidden, Code: "csrf_failed", Message: "the form could not be verified (it may have expired); go back, reload the page and try again"}
	errForeignOrigin    = &booking.Error{Kind: booking.KindForbidden, Code: "foreign_origin", Message: "the form was sent from another site"}
	errPasswordsDiffer  = &booking.Error{Kind: booking.KindInvalid, Code: "passwords_differ", Message: "the two passwords differ"}
	// errWrongPassword is invalid_credentials on a signed-in patient's own
	// change: the phone is not in doubt, only the current password.
	errWrongPassword = &booking.Error{Kind: booking.KindUnauthenticated, Code: "wrong_password", Message: "the current password is wrong"}
)

// wrongConsoleError is wrong_console with the console the account belongs
// in, which the error page links to.
type wrongConsoleError struct {
	err *booking.Error
	to  *console // nil for a role without a console (a referrer uses the API)
}

func (e *wrongConsoleError) Error() string { return e.err.Error() }
func (e *wrongConsoleError) Unwrap() error { return e.err }

// errWrongConsole refuses an account on a console its role may not use and
// sends it to its own: signedIn says whether the browser holds its session
// (a page of another console) or was refused at this console's login.
func errWrongConsole(c *console, r booking.Role, signedIn bool) error {
	to := consoleFor(r)
	msg := fmt.Sprintf("the %s console is for %s", c.Name, c.audience)
	switch {
	case to == nil:
		msg += fmt.Sprintf("; %s accounts have no console here and use the API", r)
	case signedIn:
		msg += fmt.Sprintf("; you are signed in with a %s account, whose console is %s (or log out to use another account)", r, to.Path)
	default:
		msg += fmt.Sprintf("; %s accounts sign in at %s", r, to.Path+"/login")
	}
	return &wrongConsoleError{err: &booking.Error{Kind: booking.KindForbidden, Code: "wrong_console", Message: msg}, to: to}
}

// pageError is an error as a page shows it: the domain's message, a Chinese
// rendering of its code when there is one, and the code itself, small.
type pageError struct {
	Code    string
	Message string
	ZH      string
	// Link and LinkText send the reader where they belong (wrong_console:
	// their own console).
	Link, LinkText string
	// Fields are the form fields the error is about (invalid_id_number:
	// id_number), first the one to correct: a page marks them invalid and
	// ties them to the message (invalidField).
	Fields []string
	// Form is the id of the form that was refused, on a page with several
	// forms that have the same fields (the desk's check-in form of each
	// booking, its search form): only that form's fields are marked. Empty
	// on a page whose forms have no field in common.
	Form string
	// Reason is the refused form's reason as typed, shown again in that
	// form (kept) so that a clerk or an administrator does not write it
	// twice. Only a reason: a staff form never sends back an ID number, a
	// name or a phone (docs/accessibility.md).
	Reason string
}

// errorFields are the form fields an error code is about, for every form
// of every console: a field's name is the same on every form that has it.
// An error whose code names no one field (invalid_field: which one was
// left empty) names its fields where it is made (onFields).
var errorFields = map[string][]string{
	"invalid_id_type":     {"id_type"},
	"invalid_id_number":   {"id_number"},
	"invalid_name":        {"name"},
	"invalid_phone":       {"phone"},
	"phone_taken":         {"phone"},
	"phone_limit":         {"phone"},
	"weak_password":       {"password"},
	"passwords_differ":    {"password2"},
	"invalid_credentials": {"phone", "password"},
	// The card read does not match the booking: the number or the name.
	"identity_mismatch":   {"id_number", "name"},
	"identity_unverified": {"name", "id_number"},
	// The card's name is not the one the desk verified for the number.
	"verified_name_differs": {"name"},
	// A session the schedule form publishes: its date, its times, its
	// release time, the on-site pool the hospital's share needs.
	"invalid_date":        {"date"},
	"session_in_past":     {"date", "start"},
	"session_too_far":     {"date"},
	"session_overlap":     {"start", "end"},
	"release_after_start": {"release"},
	"onsite_share_short":  {"onsite"},
	"doctor_not_found":    {"doctor_id"},
}

// fieldsError is an error about the named form fields, whatever its code.
type fieldsError struct {
	err    error
	fields []string
}

func (e *fieldsError) Error() string { return e.err.Error() }
func (e *fieldsError) Unwrap() error { return e.err }

// onFields says which form fields err is about, first the one to correct,
// for a code errorFields cannot tie to one field.
func onFields(err error, fields ...string) error { return &fieldsError{err: err, fields: fields} }

// invalidField is the attributes of a field of form that the page's error
// is about: aria-invalid, aria-describedby naming the error's message (so a
// screen reader reads it with the field), and autofocus on the first, so
// that after the reload the reader lands on the field to correct, hearing
// why. Empty when the error is about another field or another form, or
// there is none.
func invalidField(e *pageError, form, name string) template.HTMLAttr {
	if e == nil || e.Form != "" && e.Form != form {
		return ""
	}
	for i, f := range e.Fields {
		if f != name {
			continue
		}
		if i == 0 {
			return ` aria-invalid="true" aria-describedby="error" autofocus`
		}
		return ` aria-invalid="true" aria-describedby="error"`
	}
	return ""
}

// publicError splits err into what the page may show and its status. An
// error that is not a *booking.Error is internal: the page says something
// went wrong and the detail is logged, once. Unavailable and internal domain
// errors wrap a cause worth logging too.
func (c *Console) publicError(r *request, err error) (*pageError, int) {
	e, ok := booking.Public(err)
	if !ok {
		e = errInternal
	}
	if !ok || e.Kind == booking.KindUnavailable || e.Kind == booking.KindInternal {
		route := ""
		if r != nil && r.route != nil {
			route = r.route.pattern
		}
		c.log.Error("web request failed", "route", route, "code", e.Code, "err", err)
	}
	status := e.Kind.HTTPStatus()
	pe := &pageError{Code: e.Code, Message: e.Message, ZH: zhMessage(e.Code), Fields: errorFields[e.Code]}
	if e.Field != "" {
		pe.Fields = []string{e.Field} // a reason too short, a note with a control character
	}
	if e.See != "" {
		// The caller is the person (verified): where to end it.
		pe.ZH += "这是其他账户为您办理的，您可以在“我的预约 · 他人为您办理”中取消或撤回。"
		pe.Link, pe.LinkText = "/patient/bookings#made-by-others", "他人为您办理 Made for you by other accounts"
	}
	switch {
	case e.Code != "account_closing":
	case r != nil && r.actor.Role == booking.RolePatient:
		// The banner above holds the button (撤销注销): point to it.
		pe.Link, pe.LinkText = "#cancel-closing", "撤销注销 Cancel the closing"
	default:
		// Staff accepting a substitute offer for a closing account: the
		// button is the holder's, not theirs.
		pe.ZH = "该号所属的患者账号正在注销中（本人网上申请），不能为其接受替诊：注销会取消该账号的预约。可以为患者放弃该号，请账号本人先撤销注销，或在窗口为患者另行挂号。"
	}
	var fe *fieldsError
	if errors.As(err, &fe) {
		pe.Fields = fe.fields
	}
	var wc *wrongConsoleError
	if errors.As(err, &wc) && wc.to != nil {
		pe.Link, pe.LinkText = wc.to.Path, "前往 Go to "+wc.to.Title
	}
	return pe, status
}

// zhMessage is the Chinese line shown above the domain's English message.
// The domain's messages can be more specific than these (which rule, which
// release time); both are shown.
func zhMessage(code string) string {
	return zhMessages[code]
}

var zhMessages = map[string]string{
	"internal":                    "系统出错，请先查看“我的预约”再重试。",
	"page_not_found":              "页面不存在。",
	"method_not_allowed":          "不支持此操作。",
	"csrf_failed":                 "表单已失效，请返回并刷新页面后重试。",
	"foreign_origin":              "请求来自其他网站，已拒绝。",
	"passwords_differ":            "两次输入的密码不一致。",
	"wrong_password":              "当前密码不正确。",
	"wrong_console":               "此账号不能使用本控制台，请前往该账号对应的控制台。",
	"invalid_field":               "有必填项未填写或格式不对。",
	"invalid_id_type":             "证件类型不正确。",
	"invalid_id_number":           "证件号码无效。",
	"invalid_name":                "姓名无效。",
	"invalid_phone":               "手机号无效，请填写大陆手机号（来电号码也可以是带区号的固定电话，如 010-65123456）。",
	"weak_password":               "密码须为 8 到 72 个字符。",
	"invalid_reset_code":          "手机号或重置码不正确，或重置码已使用、已过期。请到挂号窗口重新领取。",
	"not_account_holder":          "证件不是该账号本人的，只能为账号本人重置密码。",
	"reset_needs_holder":          "该账号没有登记本人，窗口无法核对证件，不能重置密码。",
	"release_own_number":          "证件是该账号本人的：请本人用密码修改手机号（忘记密码可先领取重置码），不需释放号码。",
	"account_not_released":        "该证件本人的账号仍有登录手机号，请本人用密码修改；只有已释放号码的账号才在窗口登记新号码。",
	"card_read_invalid":           "读卡信息无效：不是本院登记的读卡器对该证件和姓名的读取。请重新读卡，或手工录入并选择原因。",
	"card_read_stale":             "读卡时间已过久，请重新读卡。",
	"login_move_pending":          "该账号已有一项待生效的改登录手机号申请：账号本人可撤销，或到期后生效。",
	"closing_too_soon":            "最近 7 天内修改过密码或登录手机号，暂不能在网上注销账号。如确需注销，请本人携带身份证到挂号窗口办理。",
	"number_in_use":               "使用该号码登录的账号最近 90 天内仍在使用，号码仍属原机主，不能释放。运营商只回收长期不用的号码。",
	"releases_limited":            "您 24 小时内已释放 5 个号码，已达上限。请由其他窗口人员办理，或明天再办。",
	"invalid_date":                "日期格式应为 年-月-日。",
	"invalid_token":               "登录已失效，请重新登录。",
	"token_expired":               "登录已过期，请重新登录。",
	"unauthenticated":             "请先登录。",
	"invalid_credentials":         "手机号或密码错误。",
	"forbidden":                   "无权进行此操作。",
	"channel_forbidden":           "此渠道不能预约。",
	"account_blocked":             "账号已被停用。输入正确的密码登录，可查看原因并提出申诉。",
	"account_under_review":        "账号正在接受审核（异常预约检查），审核结束前不能注销。",
	"account_closing":             "账号正在注销中，撤销注销后才能预约（也不能参加摇号或候补）。请点击页面上方的“撤销注销”按钮。本账号办理的预约、候补和摇号报名已在申请注销时取消，撤销注销也不会恢复；窗口或电话为您办理的预约仍可查看和取消。",
	"account_disabled":            "该工作人员账号已停用，请联系本院的系统管理员。",
	"not_found":                   "找不到该记录。",
	"hospital_not_found":          "找不到该医院。",
	"session_not_found":           "找不到该出诊。",
	"patient_not_found":           "找不到该就诊人。",
	"notification_not_found":      "找不到该消息。",
	"invalid_appeal_token":        "申诉凭证无效或已过期，请重新登录后再提交申诉。",
	"appeal_pending":              "您已提交的申诉尚在处理中，请等待答复。",
	"patient_has_pending":         "该就诊人还有未就诊的预约、摇号报名或候补，请先取消或撤回后再移除。",
	"patient_removed":             "该就诊人已从账号中移除；如需为其预约，请重新添加。",
	"patient_is_self":             "本人信息不能移除，也不能改为其他关系。",
	"booking_not_found":           "找不到该预约。",
	"sold_out":                    "号源已约满。",
	"already_booked":              "该就诊人已预约本次出诊。",
	"person_booked_elsewhere":     "该就诊人已有预约、摇号报名或候补，与本次预约冲突。若不是本账号办理的，本人持身份证到挂号窗口核验后，可在自己的账户中查看并取消。",
	"phone_taken":                 "该手机号已注册。",
	"patient_exists":              "该就诊人已在列表中。",
	"identity_taken":              "该证件已是另一账号的本人。如果这是您本人的证件，请携带身份证到挂号窗口，工作人员核验姓名后会将其绑定到本账号（请告知本账号的手机号）。",
	"identity_claims_limited":     "今日本账号或本网络被拒绝的证件添加次数过多，请明天再试，或携身份证到挂号窗口办理。",
	"realname_checks_limited":     "该证件号码或本账号今日与登记信息不符的次数过多，请明天再试，或携身份证到挂号窗口核验。",
	"self_exists":                 "本账号已有“本人”。",
	"holder_bound":                "该账号的本人是另一人，已在挂号窗口凭其身份证绑定：窗口不会把账号改绑给他人。请持证人另行注册自己的账号（原本人可凭身份证在窗口注销该账号）。",
	"listed_as_family":            "该账号把此人登记为配偶、子女或父母：家人不是账号本人，不能绑定为本人。请持证人绑定自己的账号。",
	"minor_not_self":              "未满14周岁的儿童不能作为账号本人（《个人信息保护法》第31条）：请由父母或监护人在自己的账号中以“子女”添加，并勾选监护人同意。",
	"booking_not_active":          "该预约已不是有效状态。",
	"already_waitlisted":          "该就诊人已在本次出诊的候补名单中。",
	"waitlist_not_waiting":        "该候补已不在等待中。",
	"waitlist_not_found":          "找不到该候补。",
	"slots_available":             "本次出诊还有号，请直接预约。",
	"not_reissuable":              "该预约没有可再分配的号。",
	"checkin_closed":              "签到仅在就诊当天、出诊结束前开放。",
	"slot_time_passed":            "号时已过：只可取消登记错误；患者未到请在号时结束后重发（记爽约）。",
	"idempotency_key_reused":      "该请求编号已用于另一个请求。",
	"request_in_progress":         "请求正在处理中，请稍候。",
	"not_released":                "号源尚未开放。",
	"channel_closed":              "本次出诊没有网上号源。",
	"session_closed":              "出诊已开始或已结束。",
	"lottery_release":             "本次出诊以摇号方式放号。",
	"patient_barred":              "该就诊人暂停预约。因爽约暂停的，到期自动恢复；经平台审核暂停的，可以在列有该就诊人的账号中提出申诉，或本人持身份证到挂号窗口提出申诉。",
	"not_barred_by_review":        "该就诊人没有因平台审核被暂停预约，无需申诉（因爽约暂停的，到期自动恢复）。",
	"second_admin_required":       "申诉须由另一位管理员复核：确认该线索的管理员不能支持对它的申诉。",
	"quota_day_department":        "同一就诊人同一天同一科室只能预约一次。",
	"quota_day":                   "该就诊人当天的预约已达上限。",
	"quota_week":                  "该就诊人本周的预约已达上限。",
	"quota_month":                 "该就诊人本月的预约已达上限。",
	"case_not_found":              "没有这条投诉或举报。",
	"case_closed":                 "这条投诉或举报已办结。",
	"too_many_open_cases":         "您有多条投诉或举报尚待答复，请等答复后再提交。",
	"report_pending":              "您对同一账号、号码或预约的举报尚待答复，请等答复后再提交。",
	"reports_limited":             "今日从您所在网络提交的举报和投诉过多，请明天再试，或到医院服务台反映。",
	"too_many_patients":           "就诊人数量已达上限。",
	"phone_limit":                 "该手机号关联的账号已达上限。",
	"identity_mismatch":           "姓名与证件登记信息不符。",
	"identity_unverified":         "姓名与证件号码登记信息不符，请对照身份证核对；也可持身份证到挂号窗口核验。",
	"identity_deceased":           "挂号窗口已登记该就诊人离世，无法再为其预约；如有误，请联系医院管理员。",
	"verified_name_differs":       "该证件号码已由挂号窗口核验为另一姓名，请核对身份证；如核验的姓名有误，须先填写原因予以更正。",
	"token_revoked":               "登录已结束（已退出或已改密码），请重新登录。",
	"invalid_text":                "文字中含有控制字符或无效编码。",
	"flag_not_found":              "找不到该线索。",
	"flag_decided":                "该线索已有结论，不能再改。",
	"no_maker":                    "此举报未涉及其他患者账户办理的预约，无可标记的账户。",
	"rate_limited":                "请求过于频繁，请稍后再试。",
	"unavailable":                 "系统暂时不可用，请稍后再试；如是预约，本次未预约成功。",
	"outcome_unknown":             "系统暂时无法确认本次操作是否已办理成功。请先查看记录（患者请看“我的预约”）再决定；如未办理，返回原页面重新提交同一表单即可，不会重复办理。",
	"already_entered":             "该就诊人已报名本次出诊的摇号。",
	"person_already_entered":      "本账户中同名、持另一证件的就诊人已报名本次摇号：同一人只能报名一次。",
	"entry_closed":                "本号源已开始摇号，不能再报名或撤回。",
	"entry_not_found":             "找不到该摇号报名。",
	"offer_closed":                "该替诊安排已答复或已过期。",
	"offer_not_found":             "找不到该替诊安排。",
	"session_stopped":             "医院已停诊，本次出诊不能预约。",
	"session_moved":               "本次出诊已改期，未能预约：请查看新的日期后重新预约。",
	"privacy_consent_required":    "请阅读并同意《个人信息保护告知》后再继续。",
	"privacy_notice_outdated":     "《个人信息保护告知》已更新，请阅读新版本并同意后再继续。",
	"guardian_consent_required":   "未满14周岁的就诊人需由监护人同意《个人信息保护告知》。",
	"person_consent_required":     "该就诊人已满14周岁，须由本人同意《个人信息保护告知》：请确认其本人已阅读并同意。",
	"hospital_exists":             "已有同名医院。",
	"lookups_limited":             "未读卡的查询本小时已达上限：请读取或查看证件后再查，或稍后再试。",
	"caller_persons_limit":        "今天用此号码来电已为一个家庭所能登记的人数办理过预约、摇号或候补：一个家庭只为自家人来电；养老机构等请通过转诊渠道预约。",
	"registration_error_not_desk": "只有本窗口当天办理的现场挂号可按“登记错误”取消；患者自己的预约请按“患者要求”取消（过截止时间计爽约），号时已过请重发。",
	"clerk_day_limit":             "您今天的现场挂号或加号已达一个窗口一天的上限，请由其他挂号员办理。",
	"freed_slot_wait":             "您刚在本出诊释放了号源（窗口取消或重发），15 分钟内请由其他窗口为本出诊挂号；该号先给候补，再在无人预知的时刻回到窗口。",
	"operator_pace_limit":         "您过去一小时的电话预约、摇号报名和候补已达上限，请由其他话务员接听。",
	"beyond_booking_window":       "该出诊超出医院的预约期限，暂不能预约。",
	// The staff consoles' (the desk, the call centre, the administrator's 号源 work):
	// staff read Chinese too (review19b M8: the schedule's refusals were English only,
	// some with an id where a doctor and a time were expected).
	"no_change":                 "账号已是此状态，无需更改。",
	"doctor_not_found":          "找不到该医生。",
	"department_not_found":      "找不到该科室。",
	"department_exists":         "本院已有同名科室。",
	"department_in_use":         "该科室仍有医生在出诊表上，请先调出或停用这些医生。",
	"department_retired":        "该科室已撤销，不能再加入医生。",
	"doctor_retired":            "该医生已停用，不能再为其发布号源。",
	"doctor_has_sessions":       "该医生还有未结束的出诊，请先删除或停诊后再停用。",
	"template_not_found":        "找不到该周排班模板。",
	"session_overlap":           "该医生在这个时间已有出诊。",
	"session_released":          "该出诊的号源已放出，只能加号、调整号池或停诊。",
	"quota_mismatch":            "各渠道号数之和与总号数不一致。",
	"release_after_start":       "有渠道的放号时间晚于出诊开始时间。",
	"onsite_share_short":        "现场号池少于医院为现场患者保留的比例。",
	"substitute_not_same_level": "替诊医生须为同科室、同职称、同挂号费级别。",
	"substitute_lottery":        "含摇号号池的出诊不能替诊：中签者是为原医生抽出的。",
	"callback_not_found":        "本院回拨名单上没有这一条。",
	"callback_done":             "已通知过此人，回拨已从名单上移除。",
	"number_not_opened":         "从回电列表答复替诊须先打开该条的号码并致电患者（30 分钟内，由本人操作）；在窗口请持患者证件在预约查询中答复。",
	"caller_changed":            "此页面显示后来电者已更换（在另一个标签页中设置了其他来电者）：未作任何操作。请打开当前来电者的页面后重试。",
	"caller_phone_unknown":      "此人没有留存联系电话（现场挂号未留电话，或在保存号码之前预约）。",
	"session_in_past":           "出诊开始时间已过。",
	"extra_slots_limit":         "该出诊的加号已达医院规定的上限。",
	"session_too_far":           "出诊日期超过今天起 366 天。",
	// An administrator's (review19b), in Chinese though staff-only: the
	// 号源 manager reads them.
	"release_notice":       "已公布的放号时间只能推迟；提前须距现在不少于医院规定的通知时间（默认 24 小时）。",
	"booked_changed":       "该出诊的预约人数与停诊确认时显示的不同（页面已过时）：请核对现在的人数后再确认停诊。",
	"edited_meanwhile":     "该出诊在您编辑期间已被他人修改（或已加号、调整号池）：请重新打开后再修改。",
	"version_required":     "修改出诊须带上读取时的版本号（version 或 If-Match）。",
	"release_passed":       "本周有号池按模板算出的放号时间已过，发布即立即放号：确认后再发布，或调整模板的提前天数。",
	"restore_closed":       "该停诊已不能撤销（已超过医院规定的撤销时限、门诊已开始、已撤销过，或停诊时已安排替诊）：如需出诊请重新发布。",
	"lottery_window_short": "摇号报名时间至少 10 分钟，让事先不知情的患者也能报名。",

	// The desk's link of a person's two ID documents (a clerk's console).
	"link_unverified":           "两种证件的姓名须先在窗口凭证件核验，再关联为同一人：请先逐一核验证件。",
	"link_names_differ":         "两种证件核验的姓名不同，不能关联为同一人。",
	"link_same_document":        "两种证件是同一证件。",
	"document_linked_elsewhere": "该证件已关联到另一人。",
	"link_conflict":             "关联期间又有人用其中一种证件预约、报名或候补，请再次关联。",
}
