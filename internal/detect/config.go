package detect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Rule is one signal's threshold and weight. The signal fires when its value
// reaches Min, and then adds Weight × value/Min to its kind of evidence, but
// at most Cap × Weight (Cap defaults to 2): twice the evidence counts more, a
// hundred times does not drown every other signal.
type Rule struct {
	Min    float64 `json:"min"`
	Weight float64 `json:"weight"`
	Cap    float64 `json:"cap,omitempty"`
}

// score is what value contributes under r; 0 below the threshold.
func (r Rule) score(value float64) float64 {
	if r.Weight <= 0 || r.Min <= 0 || value < r.Min {
		return 0
	}
	c := r.Cap
	if c <= 0 {
		c = 2
	}
	return r.Weight * min(c, value/r.Min)
}

// Rules holds the rule of every signal, named as in the reasons of a flag.
// docs/detection.md gives the reason in the domain behind each default.
type Rules struct {
	// automation: what a person at a keyboard cannot do.
	FastReaction Rule `json:"fast_reaction"`
	Cadence      Rule `json:"cadence"`
	RetryStorm   Rule `json:"retry_storm"`
	Polling      Rule `json:"polling"`
	Burst        Rule `json:"burst"`
	RateLimited  Rule `json:"rate_limited"`
	// BeforeOpening: attempts at one session before its release, the
	// account's people together (before_opening.go).
	BeforeOpening Rule `json:"before_opening"`
	// scale: more people or bookings than a family has.
	PersonsPerAccount Rule `json:"persons_per_account"`
	PersonsPerDevice  Rule `json:"persons_per_device"`
	PersonsPerPhone   Rule `json:"persons_per_phone"`
	PersonsPerGroup   Rule `json:"persons_per_group"`
	AccountsPerDevice Rule `json:"accounts_per_device"`
	AccountsPerPhone  Rule `json:"accounts_per_phone"`
	ScarcePersons     Rule `json:"scarce_persons"`
	ScarceWon         Rule `json:"scarce_won"`
	FreshPersons      Rule `json:"fresh_persons"`
	SharedPersons     Rule `json:"shared_persons"`
	Volume            Rule `json:"booking_volume"`
	HeldAtOnce        Rule `json:"held_at_once"`
	UnusedSlots       Rule `json:"unused_slots"`
	// targeting: the scarcest sessions, again and again.
	Scarce     Rule `json:"scarce_concentration"`
	Racing     Rule `json:"release_racing"`
	SameExpert Rule `json:"same_expert"`
	// PhantomPatients: persons the account raced for at the release of the
	// scarcest sessions who never came, anywhere (signals.go, phantoms).
	PhantomPatients Rule `json:"phantom_patients"`
	// PhantomRaces: the scarcest sessions raced for those persons.
	PhantomRaces Rule `json:"phantom_races"`
	// ScarceForMany: the scarcest sessions tried by an account or group
	// of more people than a family, when most of what it tried
	// (scarce_for_many.go).
	ScarceForMany Rule `json:"scarce_for_many"`
	// non_use: slots taken and not used.
	UnusedScarce Rule `json:"unused_scarce"`
	Wasted       Rule `json:"wasted"`
	NoShows      Rule `json:"no_shows"`
	NeverCame    Rule `json:"never_came"`
	// NeverSeen: settled bookings of an account none of whose people
	// ever came, all unused.
	NeverSeen Rule `json:"never_seen"`
	// OthersPatients: people on unrelated accounts whose settled
	// bookings on an account that never used one went unused
	// (others_patients.go).
	OthersPatients Rule `json:"others_patients"`
	BulkCancel     Rule `json:"bulk_cancel"`
	// transfer: slots passed on to other people.
	HandoffGiven Rule `json:"handoff_given"`
	ReturnsTaken Rule `json:"returns_taken"`
	HandoffPair  Rule `json:"handoff_pair"`
	// HandoffLinked: slots an account took at the second from an account
	// it shares a handset or number with, for a person put on it for the
	// slot (handoff_linked.go).
	HandoffLinked Rule `json:"handoff_linked"`
	// StrangersCame: bookings that people not on the account came to the
	// desk for and were turned away (a refused check-in naming who came).
	StrangersCame Rule `json:"strangers_came"`
	// UnseenPassedOn: slots of an account none of whose people ever came
	// that went to somebody else — a hand-off, or a stranger at the desk
	// (unseen.go).
	UnseenPassedOn Rule `json:"unseen_passed_on"`
	// evasion: a new phone every day.
	DeviceChurn Rule `json:"device_churn"`
	// insider: a clerk favouring the same people.
	Insider Rule `json:"insider"`
	// A call-centre operator's own evidence (staffcalls.go, review23 H1,
	// H2, H3), scored by the rule like an account's — no kind alone:
	// CallerPersons (scale) the most different persons an operator booked,
	// entered or waitlisted on calls from one caller number within Window;
	// StaffPace (automation) the most different persons within
	// StaffPaceWindow; StaffNeverCame (non_use) persons of settled phone
	// bookings who never came anywhere, when most did not; StaffHandoff
	// (transfer) a phone booking the operator cancelled whose session the
	// same operator's booking or waitlist place for another person took
	// within InsiderFollow.
	CallerPersons  Rule `json:"caller_persons"`
	StaffPace      Rule `json:"staff_pace"`
	StaffNeverCame Rule `json:"staff_never_came"`
	StaffHandoff   Rule `json:"staff_handoff"`
	// claims: distinct ID numbers the service refused to put on the
	// account (identity_taken, identity_unverified; identities.go).
	ClaimsRefused Rule `json:"claims_refused"`
	// disowned: distinct people whose verified self ended, from their own
	// account, what the account made for them (identities.go).
	EndedByPerson Rule `json:"ended_by_person"`
	// reported: patients' reports (举报), counted by independent
	// reporters; never a kind of evidence of its own (reports.go).
	Reported Rule `json:"reported"`
}

// Config is every threshold and weight of the detector. DefaultConfig says
// the defaults; docs/detection.md says why.
type Config struct {
	// Threshold is the score at which an account (or a clerk) is flagged.
	Threshold float64 `json:"threshold"`
	// KindCap is the most one kind of evidence adds to a score, and
	// MinKinds how many kinds must add at least KindMin each. With the
	// defaults (0.75, 2, 0.25 against a threshold of 1) no single kind of
	// evidence — speed alone, a count of persons alone — ever flags; the
	// insider and the repeated hand-off pair, each a combination in itself,
	// may.
	KindCap  float64 `json:"kind_cap"`
	MinKinds int     `json:"min_kinds"`
	KindMin  float64 `json:"kind_min"`
	// Window is the span over which counts are taken (distinct persons,
	// bookings, wasted slots…): the most in any span of that length.
	Window Duration `json:"window"`
	// HubAccounts: a device or phone of more accounts is a hospital's
	// machine or a call centre's line and links nobody; a person on more
	// accounts links nobody either.
	HubAccounts int `json:"hub_accounts"`
	// TerminalAccounts: a device of this many accounts or more whose
	// bookings look like ordinary patients' (they come; few are on scarce
	// sessions) is a shared terminal — a community kiosk — and links nobody.
	TerminalAccounts int `json:"terminal_accounts"`
	// MaxGroup bounds the accounts linked into one group: links are
	// added strongest first and never make a group larger.
	MaxGroup int `json:"max_group"`
	// IPLinkShare: an IP shared by several accounts never makes a group
	// (a carrier's NAT, a hospital's Wi-Fi); it merges flags into one when
	// at least this share of its accounts are flagged.
	IPLinkShare float64 `json:"ip_link_share"`
	// FastReaction is below human speed: booked − release_at under it.
	FastReaction Duration `json:"fast_reaction"`
	// Cadence: runs of at least CadenceRun attempts, each within CadenceGap
	// of the last, whose gaps vary by less than CadenceCV (standard
	// deviation over mean) are a machine's: a person's clicks vary by 20%
	// and more.
	CadenceRun int      `json:"cadence_run"`
	CadenceGap Duration `json:"cadence_gap"`
	CadenceCV  float64  `json:"cadence_cv"`
	// RetryWindow: the most attempts at one session within it
	// (retry_storm); PollWindow: the most refused attempts within it
	// (polling).
	RetryWindow Duration `json:"retry_window"`
	PollWindow  Duration `json:"poll_window"`
	// BurstWindow: the most bookings one account made within it.
	BurstWindow Duration `json:"burst_window"`
	// BulkWindow: the most cancellations one account made within it.
	BulkWindow Duration `json:"bulk_window"`
	// HandoffWindow: a cancel followed this soon by a booking of the same
	// session by another account (or person) is a hand-off, if the
	// cancelled booking had been held for HandoffMinHeld at least (a
	// correction comes sooner). A receiver that took the returns of
	// WatcherGivers different accounts or more is a return watcher: the
	// hand-offs it took say nothing against those who cancelled.
	HandoffWindow  Duration `json:"handoff_window"`
	HandoffMinHeld Duration `json:"handoff_min_held"`
	WatcherGivers  int      `json:"watcher_givers"`
	// A session's sell-out time is the reaction time of its
	// ScarceQuantile-th booking (sessions with ScarceMinBookings or more):
	// the median, because returned slots are rebooked late. Scarce are the
	// sessions selling out within ScarceSellout, and the fastest
	// ScarceDecile of sessions if they sold out within ScarceMaxSellout. An
	// account concentrates on them when at least ScarceMinShare of its
	// raced-for bookings are on them.
	ScarceQuantile    float64  `json:"scarce_quantile"`
	ScarceMinBookings int      `json:"scarce_min_bookings"`
	ScarceDecile      float64  `json:"scarce_decile"`
	ScarceMaxSellout  Duration `json:"scarce_max_sellout"`
	ScarceSellout     Duration `json:"scarce_sellout"`
	ScarceMinShare    float64  `json:"scarce_min_share"`
	// An attempt (booked or refused) from RaceBefore before a session's
	// release to RaceAfter after it is a race for the session.
	RaceBefore Duration `json:"race_before"`
	RaceAfter  Duration `json:"race_after"`
	// RacingMinShare: release_racing counts when at least this share of
	// the sessions an account tried were races.
	RacingMinShare float64 `json:"racing_min_share"`
	// FreshWithin: a person added this soon before their first booking
	// is fresh (fresh_persons).
	FreshWithin Duration `json:"fresh_within"`
	// PhantomSpan: phantom_patients counts an account's races for persons
	// who never came only when those races span this long at least: a
	// trip or an illness makes a family give back what it won for a week
	// or two.
	PhantomSpan Duration `json:"phantom_span"`
	// OverAfter: a session whose latest check-in or no-show is this old is
	// over; its bookings never used have lapsed.
	OverAfter Duration `json:"over_after"`
	// Non-use is measured against a generous family: one that misses
	// NoShowRate of its bookings (no-shows, late cancellations, lapses) and
	// wastes ScarceWasteRate of its scarcest slots (cancelled or missed).
	// The signals' values are the surprise of the account's record under
	// those rates (−log10 of its chance): 2 is once in a hundred. Persons
	// never came count when the account used under NeverCameMaxUse of its
	// settled bookings.
	NoShowRate      float64 `json:"no_show_rate"`
	WasteRate       float64 `json:"waste_rate"`
	ScarceWasteRate float64 `json:"scarce_waste_rate"`
	NeverCameMaxUse float64 `json:"never_came_max_use"`
	// Insiders: within Window, a person is favoured by a staff member who
	// booked or reissued for them InsiderRepeat times, or
	// InsiderReissueRepeat times through a reissue or extra slot (a booking
	// by the same staff member on the same session within InsiderFollow of
	// it). Referral bookings do not count: booking for the same residents
	// again and again is a referrer's job. A person given
	// InsiderReissueAlone reissues or extra slots by one staff member
	// within Window counts as two favoured persons: more than a patient in
	// a course of treatment, seen weekly at most (4–5 a month), can need;
	// 0 turns it off.
	InsiderFollow Duration `json:"insider_follow"`
	// StaffPaceWindow: staff_pace counts an operator's different persons
	// within it. A call is one household (at most 5 persons, an account's
	// limit) and takes 2–3 minutes: two full households are the most a
	// person at a headset can book in 5 minutes.
	StaffPaceWindow      Duration `json:"staff_pace_window"`
	InsiderRepeat        int      `json:"insider_repeat"`
	InsiderReissueRepeat int      `json:"insider_reissue_repeat"`
	InsiderReissueAlone  int      `json:"insider_reissue_alone"`
	// MaxReasons per signal in one flag; the rest are summarised.
	MaxReasons int `json:"max_reasons"`

	Rules Rules `json:"rules"`
}

// DefaultConfig is the configuration docs/detection.md explains.
func DefaultConfig() Config {
	return Config{
		Threshold:            1.0,
		KindCap:              0.75,
		MinKinds:             2,
		KindMin:              0.25,
		Window:               Duration(30 * 24 * time.Hour),
		HubAccounts:          20,
		TerminalAccounts:     4,
		MaxGroup:             30,
		IPLinkShare:          0.5,
		FastReaction:         Duration(300 * time.Millisecond),
		CadenceRun:           8,
		CadenceGap:           Duration(5 * time.Second),
		CadenceCV:            0.1,
		RetryWindow:          Duration(time.Minute),
		PollWindow:           Duration(time.Hour),
		BurstWindow:          Duration(2 * time.Second),
		BulkWindow:           Duration(time.Hour),
		HandoffWindow:        Duration(60 * time.Second),
		HandoffMinHeld:       Duration(10 * time.Minute),
		WatcherGivers:        3,
		ScarceQuantile:       0.5,
		ScarceMinBookings:    3,
		ScarceDecile:         0.1,
		ScarceMaxSellout:     Duration(6 * time.Hour),
		ScarceSellout:        Duration(10 * time.Minute),
		ScarceMinShare:       0.5,
		RaceBefore:           Duration(2 * time.Minute),
		RaceAfter:            Duration(10 * time.Minute),
		RacingMinShare:       0.6,
		OverAfter:            Duration(6 * time.Hour),
		FreshWithin:          Duration(48 * time.Hour),
		PhantomSpan:          Duration(15 * 24 * time.Hour),
		NoShowRate:           0.2,
		WasteRate:            0.3,
		ScarceWasteRate:      0.25,
		NeverCameMaxUse:      0.5,
		InsiderFollow:        Duration(15 * time.Minute),
		StaffPaceWindow:      Duration(5 * time.Minute),
		InsiderRepeat:        6,
		InsiderReissueRepeat: 3,
		InsiderReissueAlone:  6,
		MaxReasons:           5,
		Rules: Rules{
			FastReaction:      Rule{Min: 2, Weight: 0.5, Cap: 1.5},
			Cadence:           Rule{Min: 1, Weight: 0.5, Cap: 1.5},
			RetryStorm:        Rule{Min: 15, Weight: 0.5, Cap: 1.5},
			Polling:           Rule{Min: 30, Weight: 0.5, Cap: 1.5},
			BeforeOpening:     Rule{Min: 15, Weight: 0.5, Cap: 1.5},
			Burst:             Rule{Min: 4, Weight: 0.5, Cap: 1.5},
			RateLimited:       Rule{Min: 10, Weight: 0.3},
			PersonsPerAccount: Rule{Min: 6, Weight: 0.5, Cap: 1.5},
			PersonsPerDevice:  Rule{Min: 16, Weight: 0.5, Cap: 1.5},
			PersonsPerPhone:   Rule{Min: 16, Weight: 0.5, Cap: 1.5},
			PersonsPerGroup:   Rule{Min: 16, Weight: 0.5, Cap: 1.5},
			AccountsPerDevice: Rule{Min: 4, Weight: 0.3},
			AccountsPerPhone:  Rule{Min: 4, Weight: 0.3},
			ScarcePersons:     Rule{Min: 6, Weight: 0.5, Cap: 1.5},
			ScarceWon:         Rule{Min: 10, Weight: 0.5, Cap: 1.5},
			FreshPersons:      Rule{Min: 4, Weight: 0.5, Cap: 1.5},
			SharedPersons:     Rule{Min: 3, Weight: 0.3},
			Volume:            Rule{Min: 25, Weight: 0.4, Cap: 1.875},
			HeldAtOnce:        Rule{Min: 12, Weight: 0.5, Cap: 1.5},
			UnusedSlots:       Rule{Min: 12, Weight: 0.5, Cap: 1.5},
			Scarce:            Rule{Min: 4, Weight: 0.5, Cap: 1.5},
			Racing:            Rule{Min: 5, Weight: 0.4, Cap: 1.8},
			SameExpert:        Rule{Min: 6, Weight: 0.5, Cap: 1.5},
			PhantomPatients:   Rule{Min: 3, Weight: 0.5, Cap: 1.5},
			PhantomRaces:      Rule{Min: 3, Weight: 0.5, Cap: 1.5},
			ScarceForMany:     Rule{Min: 4, Weight: 0.5, Cap: 1.5},
			NeverSeen:         Rule{Min: 3, Weight: 0.5, Cap: 1.5},
			OthersPatients:    Rule{Min: 3, Weight: 0.5, Cap: 1.5},
			UnusedScarce:      Rule{Min: 3, Weight: 0.5, Cap: 1.5},
			Wasted:            Rule{Min: 2, Weight: 0.5, Cap: 1.5},
			NoShows:           Rule{Min: 2, Weight: 0.5, Cap: 1.5},
			NeverCame:         Rule{Min: 3, Weight: 0.5, Cap: 1.5},
			BulkCancel:        Rule{Min: 4, Weight: 0.4},
			HandoffGiven:      Rule{Min: 2, Weight: 0.5, Cap: 1.5},
			ReturnsTaken:      Rule{Min: 3, Weight: 0.5, Cap: 1.5},
			HandoffPair:       Rule{Min: 2, Weight: 1.0, Cap: 1.5},
			HandoffLinked:     Rule{Min: 1, Weight: 0.5, Cap: 1.5},
			StrangersCame:     Rule{Min: 2, Weight: 0.5, Cap: 1.5},
			UnseenPassedOn:    Rule{Min: 1, Weight: 0.5, Cap: 1.5},
			ClaimsRefused:     Rule{Min: 3, Weight: 0.5, Cap: 1.5},
			EndedByPerson:     Rule{Min: 3, Weight: 0.5, Cap: 1.5},
			DeviceChurn:       Rule{Min: 5, Weight: 0.5, Cap: 1.5},
			Insider:           Rule{Min: 2, Weight: 1.0},
			CallerPersons:     Rule{Min: 6, Weight: 0.5, Cap: 1.5},
			StaffPace:         Rule{Min: 12, Weight: 0.5, Cap: 1.5},
			StaffNeverCame:    Rule{Min: 6, Weight: 0.5, Cap: 1.5},
			StaffHandoff:      Rule{Min: 1, Weight: 0.3, Cap: 2.5},
			Reported:          Rule{Min: 1, Weight: 0.15, Cap: 3},
		},
	}
}

// LoadConfig reads a JSON configuration over the defaults: a file names only
// what it changes. Unknown names are an error, so a typo does not silently
// leave a default in force.
func LoadConfig(r io.Reader) (Config, error) {
	c := DefaultConfig()
	data, err := io.ReadAll(r)
	if err != nil {
		return c, fmt.Errorf("read detector config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("detector config: %w", err)
	}
	return c, c.Validate()
}

// Validate rejects a configuration the detector cannot run with.
func (c Config) Validate() error {
	switch {
	case c.Threshold <= 0 || c.KindCap <= 0:
		return fmt.Errorf("detector config: threshold and kind_cap must be positive")
	case c.Window <= 0 || c.BurstWindow <= 0 || c.BulkWindow <= 0 || c.HandoffWindow <= 0 || c.RetryWindow <= 0 ||
		c.PollWindow <= 0 || c.CadenceGap <= 0:
		return fmt.Errorf("detector config: windows must be positive")
	case c.HubAccounts < 1 || c.MaxGroup < 1 || c.MinKinds < 1 || c.CadenceRun < 3:
		return fmt.Errorf("detector config: hub_accounts, max_group and min_kinds must be at least 1, cadence_run at least 3")
	case c.ScarceDecile < 0 || c.ScarceDecile > 1 || c.ScarceQuantile <= 0 || c.ScarceQuantile > 1:
		return fmt.Errorf("detector config: percentiles and shares must lie in [0, 1]")
	}
	return nil
}

// Duration is a time.Duration written in JSON as Go writes durations
// ("300ms", "168h"); a plain number is read as nanoseconds.
type Duration time.Duration

// D is the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON accepts "300ms", "168h", "7d" (whole days) or nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		n, nerr := strconv.ParseInt(string(b), 10, 64)
		if nerr != nil {
			return fmt.Errorf("duration %s: want a string like \"300ms\" or nanoseconds", b)
		}
		*d = Duration(n)
		return nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = Duration(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
