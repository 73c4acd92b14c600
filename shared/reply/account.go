package reply

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// MaxTextBytes is Meta's limit on a message's text.
const MaxTextBytes = 1000

// Login is how the account is connected to Meta, which decides the Graph host and token kind.
type Login string

const (
	LoginInstagram Login = "instagram" // graph.instagram.com, POST /{ig-id}/messages, Instagram user token
	LoginFacebook  Login = "facebook"  // graph.facebook.com, POST /{page-id}/messages, Page token
)

// Account is an Instagram professional account replywindow answers for.
type Account struct {
	ID       string `json:"id"` // the Instagram account id (entry.id in webhooks)
	Username string `json:"username,omitempty"`
	// AppUserIDs are the app-scoped ids of the people who connected the account (the user_id of
	// Meta's data-deletion requests): a request from one of them deletes the account's data.
	AppUserIDs      []string       `json:"app_user_ids,omitempty"`
	Login           Login          `json:"login"`
	PageID          string         `json:"page_id,omitempty"` // Facebook Login only
	TokenParam      string         `json:"token_param"`       // SSM SecureString name of the access token
	Rules           []Rule         `json:"rules"`
	Disclosure      string         `json:"disclosure,omitempty"`        // automated-experience line appended when a rule asks
	RepeatPerPerson bool           `json:"repeat_per_person,omitempty"` // allow more than one DM per person per media
	Limits          map[Lane]Limit `json:"limits,omitempty"`            // overrides of Meta's defaults
	DMRules         []DMRule       `json:"dm_rules,omitempty"`          // flows for conversations the person starts
	// Entry points (entry.go): story mentions, ig.me refs, ice breakers and the persistent menu.
	MentionRules   []MentionRule `json:"mention_rules,omitempty"`
	RefRules       []RefRule     `json:"ref_rules,omitempty"`
	IceBreakers    []IceBreaker  `json:"ice_breakers,omitempty"`
	PersistentMenu []MenuItem    `json:"persistent_menu,omitempty"`
	Leads          LeadSettings  `json:"leads,omitzero"` // steps that ask: consent line, phone region, retention
	// HumanPause is how long automation leaves a conversation alone after a person on the account
	// answered in it from Instagram (DefaultHumanPause when zero).
	HumanPause time.Duration `json:"human_pause,omitempty"`
	// DisclosureLapse is how long without an automated message before the next discloses again
	// (DefaultDisclosureLapse when zero).
	DisclosureLapse time.Duration `json:"disclosure_lapse,omitempty"`
	Unhealthy       string        `json:"unhealthy,omitempty"` // why the account cannot send; "" when healthy
	UnhealthySince  time.Time     `json:"unhealthy_since,omitzero"`
	TokenExpiresAt  time.Time     `json:"token_expires_at,omitzero"`
	Version         int64         `json:"version"`
	UpdatedAt       time.Time     `json:"updated_at,omitzero"`
	Tracking        *Tracking     `json:"tracking,omitempty"` // links through the click route (tracking.go)

	// Paused stops the answers without losing the configuration (accounts pause/resume): its
	// comments are SKIPPED SkipPaused. State, not configuration: accounts put keeps it.
	Paused bool `json:"paused,omitempty"`
}

// Limit is the account's rate limit for lane.
func (a Account) Limit(l Lane) Limit {
	if lim, ok := a.Limits[l]; ok {
		return lim
	}
	return DefaultLimit(l)
}

// Pause is how long a human's answer pauses automation in a conversation.
func (a Account) Pause() time.Duration {
	if a.HumanPause > 0 {
		return a.HumanPause
	}
	return DefaultHumanPause
}

// Lapse is how long without an automated message before the next discloses again.
func (a Account) Lapse() time.Duration {
	if a.DisclosureLapse > 0 {
		return a.DisclosureLapse
	}
	return DefaultDisclosureLapse
}

// SenderID is the id messages are sent from: the page for Facebook Login, else the account.
func (a Account) SenderID() string {
	if a.Login == LoginFacebook {
		return a.PageID
	}
	return a.ID
}

// Healthy reports whether the account can send.
func (a Account) Healthy() bool { return a.Unhealthy == "" }

// Validate checks the account and every rule; errors name the rule and the field.
func (a Account) Validate() error {
	switch {
	case a.ID == "":
		return fmt.Errorf("id: required")
	case !ValidID(a.ID):
		return fmt.Errorf("id: %w", CheckID("account", a.ID))
	case a.Login != LoginInstagram && a.Login != LoginFacebook:
		return fmt.Errorf("login: %q, want %q or %q", a.Login, LoginInstagram, LoginFacebook)
	case a.Login == LoginFacebook && a.PageID == "":
		return fmt.Errorf("page_id: required with facebook login")
	case a.PageID != "" && !ValidID(a.PageID):
		return fmt.Errorf("page_id: %w", CheckID("page", a.PageID))
	case a.TokenParam == "":
		return fmt.Errorf("token_param: required")
	}
	for i, m := range a.AppUserIDs {
		if !ValidID(m) {
			return fmt.Errorf("app_user_ids[%d]: %w", i, CheckID("app-scoped user", m))
		}
	}
	if !utf8.ValidString(a.Disclosure) {
		return fmt.Errorf("disclosure: not valid UTF-8")
	}
	for lane, lim := range a.Limits {
		if !slices.Contains(Lanes, lane) {
			return fmt.Errorf("limits: unknown lane %q", lane)
		}
		if err := lim.Validate(); err != nil {
			return fmt.Errorf("limits.%s: %w", lane, err)
		}
	}
	for i, r := range a.Rules {
		if err := r.validate(a.Disclosure); err != nil {
			return fmt.Errorf("rules[%d] %q: %w", i, r.Name, err)
		}
	}
	if err := a.validateTracking(); err != nil {
		return err
	}
	if err := a.validateConversations(); err != nil {
		return err
	}
	return a.validateAsks()
}

// MatchMode is how a rule's keywords are compared with the comment.
type MatchMode string

const (
	MatchWord     MatchMode = "word"     // a keyword appears as whole word(s)
	MatchContains MatchMode = "contains" // a keyword appears anywhere
	MatchExact    MatchMode = "exact"    // the comment is exactly a keyword
	MatchAny      MatchMode = "any"      // every comment
)

// Rule chooses the private reply for the comments it matches.
type Rule struct {
	Name          string    `json:"name"`
	Match         MatchMode `json:"match"`
	Keywords      []string  `json:"keywords,omitempty"`
	Exclude       []string  `json:"exclude,omitempty"` // words that veto the rule
	Media         []string  `json:"media,omitempty"`   // only these media ids; empty = all
	Kinds         []Kind    `json:"kinds,omitempty"`   // only these kinds; empty = all
	Message       string    `json:"message"`           // may use {username}
	Disclose      bool      `json:"disclose,omitempty"`
	PublicReplies []string  `json:"public_replies,omitempty"` // public comment reply variants
	// Buttons (up to 3) or QuickReplies (up to 13) go on the private reply. Quick replies do not
	// show in the Requests folder, where people who do not follow the account see the DM:
	// buttons reach everyone.
	Buttons      []Button     `json:"buttons,omitempty"`
	QuickReplies []QuickReply `json:"quick_replies,omitempty"`
	Flow         []Step       `json:"flow,omitempty"`     // what follows the private reply
	Tracking     *Tracking    `json:"tracking,omitempty"` // over the account's (tracking.go)

	// Disabled keeps a rule in the configuration without answering with it (the file's
	// `enabled: false`). From and Until bound the comments it answers by their creation time
	// (Job.CommentedAt): a campaign's rule; zero is no bound.
	Disabled bool      `json:"disabled,omitempty"`
	From     time.Time `json:"from,omitzero"`
	Until    time.Time `json:"until,omitzero"`
	// Variants try other messages against each other: each person gets one, by weight (Variant).
	Variants []Variant `json:"variants,omitempty"`
}

// Opening is the private reply's message with the text given (Render's).
func (r Rule) Opening(text string) Message {
	return Message{Text: text, Buttons: r.Buttons, QuickReplies: r.QuickReplies}
}

// MediaRules reports whether any rule is limited to some media: matching then needs the media.
func (a Account) MediaRules() bool {
	for _, r := range a.Rules {
		if len(r.Media) > 0 {
			return true
		}
	}
	return false
}

// Match is the first rule that matches job, if any.
func (a Account) Match(job Job) (Rule, bool) {
	text := Fold(job.Text)
	for _, r := range a.Rules {
		if r.matches(job, text) {
			return r, true
		}
	}
	return Rule{}, false
}

func (r Rule) matches(job Job, folded string) bool {
	if !r.Active(job.CommentedAt) {
		return false
	}
	if len(r.Media) > 0 && !contains(r.Media, job.MediaID) {
		return false
	}
	if len(r.Kinds) > 0 && !contains(r.Kinds, job.Kind) {
		return false
	}
	for _, x := range r.Exclude {
		if hasWord(folded, Fold(x)) {
			return false
		}
	}
	if r.Match == MatchAny {
		return true
	}
	for _, k := range r.Keywords {
		k = Fold(k)
		if k == "" {
			continue
		}
		switch r.Match {
		case MatchExact:
			if folded == k {
				return true
			}
		case MatchContains:
			if strings.Contains(folded, k) {
				return true
			}
		default: // word
			if hasWord(folded, k) {
				return true
			}
		}
	}
	return false
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// hasWord reports whether the folded text holds the folded phrase bounded by non-letters.
func hasWord(text, phrase string) bool {
	if phrase == "" {
		return false
	}
	for i := 0; i <= len(text)-len(phrase); {
		j := strings.Index(text[i:], phrase)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(phrase)
		before, _ := utf8.DecodeLastRuneInString(text[:start])
		after, _ := utf8.DecodeRuneInString(text[end:])
		if (start == 0 || !isWordRune(before)) && (end == len(text) || !isWordRune(after)) {
			return true
		}
		_, size := utf8.DecodeRuneInString(text[start:])
		i = start + size
	}
	return false
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// Fold makes text comparable: accents removed, lower case, spaces collapsed and trimmed.
func Fold(s string) string {
	if !isASCII(s) {
		// Transformers keep state, so each call builds its own chain; ASCII text (most
		// keywords and comments) skips this entirely.
		t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
		if out, _, err := transform.String(t, s); err == nil {
			s = out
		}
	}
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Render is the private reply's text for a commenter: {username} expanded, and the account's
// disclosure line appended when the rule asks for it.
func (r Rule) Render(username, disclosure string) (string, error) {
	text := strings.ReplaceAll(r.Message, "{username}", username)
	if r.Disclose && disclosure != "" {
		text += "\n\n" + disclosure
	}
	if !utf8.ValidString(text) {
		return "", fmt.Errorf("message: not valid UTF-8")
	}
	if len(text) > MaxTextBytes {
		return "", fmt.Errorf("message: %d bytes, Meta allows %d", len(text), MaxTextBytes)
	}
	return text, nil
}

// maxUsername is Instagram's longest username; validation expands {username} to this length so
// that no commenter can push a message over Meta's byte limit.
const maxUsername = 30

func (r Rule) validate(disclosure string) error {
	if !r.From.IsZero() && !r.Until.IsZero() && !r.Until.After(r.From) {
		return fmt.Errorf("until: %s is not after from %s", r.Until.UTC().Format(time.RFC3339), r.From.UTC().Format(time.RFC3339))
	}
	switch r.Match {
	case MatchWord, MatchContains, MatchExact:
		if len(r.Keywords) == 0 {
			return fmt.Errorf("keywords: required with match %q", r.Match)
		}
	case MatchAny:
	default:
		return fmt.Errorf("match: %q, want word, contains, exact or any", r.Match)
	}
	for _, k := range r.Kinds {
		if !k.Valid() {
			return fmt.Errorf("kinds: unknown kind %q", k)
		}
	}
	if err := r.validateVariants(disclosure); err != nil {
		return err
	}
	if strings.TrimSpace(r.Message) == "" {
		return fmt.Errorf("message: required")
	}
	if r.Disclose && disclosure == "" {
		return fmt.Errorf("disclose: the account has no disclosure text")
	}
	if _, err := r.Render(strings.Repeat("x", maxUsername), disclosure); err != nil {
		return err
	}
	if err := checkLinks(r.Message); err != nil {
		return fmt.Errorf("message: %w", err)
	}
	long, _ := r.Render(strings.Repeat("x", maxUsername), disclosure)
	if err := r.Opening(long).Validate(true); err != nil {
		return err
	}
	if err := validateFlow(r.Flow, disclosure); err != nil {
		return err
	}
	for i, p := range r.PublicReplies {
		if strings.TrimSpace(p) == "" || len(p) > MaxTextBytes || !utf8.ValidString(p) {
			return fmt.Errorf("public_replies[%d]: empty, invalid UTF-8 or over %d bytes", i, MaxTextBytes)
		}
	}
	return nil
}

// checkLinks rejects http(s) links that do not parse to an absolute URL with a host.
func checkLinks(text string) error {
	for _, f := range strings.Fields(text) {
		if !strings.HasPrefix(f, "http://") && !strings.HasPrefix(f, "https://") {
			continue
		}
		f = strings.TrimRight(f, ".,;:!?)")
		u, err := url.Parse(f)
		if err != nil || u.Host == "" || !strings.Contains(u.Host, ".") {
			return fmt.Errorf("link %q is not a well-formed URL", f)
		}
	}
	return nil
}
