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
// reaches Min, and then adds Weight × value/Min to its group's score, but at
// most Cap × Weight (Cap defaults to 2): twice the evidence counts more, a
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
type Rules struct {
	// The four person counts are one family: a group scores the strongest
	// of them, because a farm's accounts, device and phone all show the
	// same people and would otherwise be counted three times.
	PersonsPerAccount Rule `json:"persons_per_account"`
	PersonsPerDevice  Rule `json:"persons_per_device"`
	PersonsPerPhone   Rule `json:"persons_per_phone"`
	PersonsPerIP      Rule `json:"persons_per_ip"`
	AccountsPerDevice Rule `json:"accounts_per_device"`
	AccountsPerPhone  Rule `json:"accounts_per_phone"`
	SharedPersons     Rule `json:"shared_persons"`
	Handoff           Rule `json:"handoff"`
	FastReaction      Rule `json:"fast_reaction"`
	FastPercentile    Rule `json:"fast_percentile"`
	Burst             Rule `json:"burst"`
	Cancellations     Rule `json:"cancellations"`
	NoShows           Rule `json:"no_shows"`
	Volume            Rule `json:"booking_volume"`
	Scarce            Rule `json:"scarce_concentration"`
	MissingDevice     Rule `json:"missing_device"`
	RateLimited       Rule `json:"rate_limited"`
	Insider           Rule `json:"insider"`
}

// Config is every threshold and weight of the detector. DefaultConfig says
// the defaults; docs/detection.md says why.
type Config struct {
	// Threshold is the score at which a group is flagged.
	Threshold float64 `json:"threshold"`
	// Window is the span over which distinct persons (and bookings) are
	// counted; LongWindow a second, longer span for the persons per
	// account, device and phone: a farm that adds a few IDs a week never
	// shows many in one week. An account has the same threshold over both
	// (a family has at most 5 patients, ever); a device or phone has
	// LongMinPersons over the long one (two accounts of one household on a
	// tablet see up to 9 people in a month).
	Window         Duration `json:"window"`
	LongWindow     Duration `json:"long_window"`
	LongMinPersons float64  `json:"long_min_persons"`
	// HubAccounts: a device, phone or person shared by more accounts is a
	// hub (a hospital kiosk, a desk PC) and links nobody; nor does an IP
	// with more accounts count its persons.
	HubAccounts int `json:"hub_accounts"`
	// IPLinkShare: an IP shared by several accounts never makes a group
	// (a carrier's NAT, a hospital's Wi-Fi); it merges flagged groups into
	// one flag when at least this share of its accounts are flagged.
	IPLinkShare float64 `json:"ip_link_share"`
	// FastReaction is below human speed: booked − release_at under it.
	FastReaction Duration `json:"fast_reaction"`
	// ReactionPercentile of the reaction times of accounts with no
	// sub-human booking is "manual use"; bookings faster than it (but not
	// under FastReaction, counted already) feed fast_percentile. The
	// percentile is clamped to [PercentileFloor, PercentileCap]: slowed-down
	// bots that book under a second by the hundred must not drag "manual"
	// down to their own speed, and a quick person needs a second at least.
	ReactionPercentile float64  `json:"reaction_percentile"`
	PercentileFloor    Duration `json:"percentile_floor"`
	PercentileCap      Duration `json:"percentile_cap"`
	// BurstWindow: the most bookings one account made within it.
	BurstWindow Duration `json:"burst_window"`
	// CancelWindow: the most cancellations one account made within it.
	CancelWindow Duration `json:"cancel_window"`
	// HandoffWindow: a cancel followed this soon by a booking of the same
	// session by another account or person is a hand-off, if the cancelled
	// booking had been held for HandoffMinHeld at least: cancelling a
	// booking made a minute ago and rebooking for the right family member
	// is a correction, while a scalper holds the slot until it is sold.
	HandoffWindow  Duration `json:"handoff_window"`
	HandoffMinHeld Duration `json:"handoff_min_held"`
	// A session's sell-out time is the reaction time of its
	// ScarceQuantile-th booking (sessions with ScarceMinBookings or more):
	// the median, because returned slots are rebooked late. Scarce are the
	// sessions selling out within ScarceSellout, and the fastest
	// ScarceDecile of sessions if they sold out within ScarceMaxSellout. An
	// account concentrates on them when at least ScarceMinShare of its
	// bookings are on them.
	ScarceQuantile    float64  `json:"scarce_quantile"`
	ScarceMinBookings int      `json:"scarce_min_bookings"`
	ScarceDecile      float64  `json:"scarce_decile"`
	ScarceMaxSellout  Duration `json:"scarce_max_sellout"`
	ScarceSellout     Duration `json:"scarce_sellout"`
	ScarceMinShare    float64  `json:"scarce_min_share"`
	// No-shows (late cancellations included) count only at a rate of
	// NoShowMinRate of the account's bookings or more.
	NoShowMinRate float64 `json:"no_show_min_rate"`
	// MissingDeviceMinEvents self-service events before the share without
	// a device id counts.
	MissingDeviceMinEvents int `json:"missing_device_min_events"`
	// Insiders: within InsiderWindow, a person is favoured by a staff
	// member who booked or reissued for them InsiderRepeat times, or
	// InsiderReissueRepeat times through a reissue or extra slot (a booking
	// by the same staff member on the same session within InsiderFollow of
	// it).
	InsiderWindow        Duration `json:"insider_window"`
	InsiderFollow        Duration `json:"insider_follow"`
	InsiderRepeat        int      `json:"insider_repeat"`
	InsiderReissueRepeat int      `json:"insider_reissue_repeat"`
	// MaxReasons per signal in one flag; the rest are summarised.
	MaxReasons int `json:"max_reasons"`

	Rules Rules `json:"rules"`
}

// DefaultConfig is the configuration docs/detection.md explains.
func DefaultConfig() Config {
	return Config{
		Threshold:              1.0,
		Window:                 Duration(7 * 24 * time.Hour),
		LongWindow:             Duration(30 * 24 * time.Hour),
		LongMinPersons:         10,
		HubAccounts:            10,
		IPLinkShare:            0.5,
		FastReaction:           Duration(300 * time.Millisecond),
		ReactionPercentile:     0.01,
		PercentileFloor:        Duration(800 * time.Millisecond),
		PercentileCap:          Duration(time.Second),
		BurstWindow:            Duration(2 * time.Second),
		CancelWindow:           Duration(48 * time.Hour),
		HandoffWindow:          Duration(20 * time.Second),
		HandoffMinHeld:         Duration(10 * time.Minute),
		ScarceQuantile:         0.5,
		ScarceMinBookings:      3,
		ScarceDecile:           0.1,
		ScarceMaxSellout:       Duration(6 * time.Hour),
		ScarceSellout:          Duration(10 * time.Minute),
		ScarceMinShare:         0.5,
		NoShowMinRate:          0.25,
		MissingDeviceMinEvents: 3,
		InsiderWindow:          Duration(30 * 24 * time.Hour),
		InsiderFollow:          Duration(15 * time.Minute),
		InsiderRepeat:          6,
		InsiderReissueRepeat:   3,
		MaxReasons:             5,
		Rules: Rules{
			PersonsPerAccount: Rule{Min: 6, Weight: 0.8},
			PersonsPerDevice:  Rule{Min: 6, Weight: 0.7},
			PersonsPerPhone:   Rule{Min: 6, Weight: 0.7},
			PersonsPerIP:      Rule{Min: 11, Weight: 0.4},
			AccountsPerDevice: Rule{Min: 4, Weight: 0.4},
			AccountsPerPhone:  Rule{Min: 3, Weight: 0.3},
			SharedPersons:     Rule{Min: 3, Weight: 0.3},
			Handoff:           Rule{Min: 1.5, Weight: 0.75},
			FastReaction:      Rule{Min: 2, Weight: 0.8},
			FastPercentile:    Rule{Min: 3, Weight: 0.4},
			Burst:             Rule{Min: 3, Weight: 0.5},
			Cancellations:     Rule{Min: 4, Weight: 0.5},
			NoShows:           Rule{Min: 4, Weight: 0.5, Cap: 2.5},
			Volume:            Rule{Min: 10, Weight: 0.4},
			Scarce:            Rule{Min: 4, Weight: 0.5, Cap: 1.5},
			MissingDevice:     Rule{Min: 0.9, Weight: 0.15, Cap: 1},
			RateLimited:       Rule{Min: 10, Weight: 0.3},
			Insider:           Rule{Min: 2, Weight: 1.0},
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
	case c.Threshold <= 0:
		return fmt.Errorf("detector config: threshold must be positive")
	case c.Window <= 0 || c.LongWindow <= 0 || c.BurstWindow <= 0 || c.CancelWindow <= 0 || c.HandoffWindow <= 0 || c.InsiderWindow <= 0:
		return fmt.Errorf("detector config: windows must be positive")
	case c.HubAccounts < 1:
		return fmt.Errorf("detector config: hub_accounts must be at least 1")
	case c.ReactionPercentile < 0 || c.ReactionPercentile >= 1 || c.ScarceDecile < 0 || c.ScarceDecile > 1 ||
		c.ScarceQuantile <= 0 || c.ScarceQuantile > 1:
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
