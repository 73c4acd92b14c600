package lead

import (
	_ "embed"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// The phone plan is libphonenumber's metadata as the checks need it: per region its country
// calling code, international and national prefixes, and the patterns and lengths of valid
// numbers. phoneplan.json is written from github.com/nyaruka/phonenumbers by
// `go test ./shared/lead -run TestPhonePlanCurrent -update`, and TestPhonePlanCurrent fails when
// it no longer matches the library. The library itself stays out of the functions: it parses all
// of its metadata at package init (some 20 ms and 2.5 MB at every cold start), where this plan
// is read on the first phone number checked and a region's patterns compiled on its first use.
// e164 follows the library's Parse and IsValidNumber step for step (phonenumberutil.go), and
// TestPhonePlanAgreesWithLibrary holds it to them.
//
//go:embed phoneplan.json
var phonePlanJSON []byte

// plan is the parsed phone plan.
type plan struct {
	regions map[string]*planRegion // by region code; non-geographic entities by "001:" + code
	byCode  map[string][]string    // country calling code to its regions, the main one first
}

// planFile is phoneplan.json.
type planFile struct {
	ByCode  map[string][]string `json:"by_code"`
	Regions []*planRegion       `json:"regions"`
}

// planRegion is one region's metadata (libphonenumber's PhoneMetadata, what parsing and
// validation read of it).
type planRegion struct {
	Key        string     `json:"key"` // the region code, or "001:" + the code of a non-geographic entity
	Code       string     `json:"cc"`
	IDD        string     `json:"idd,omitempty"`       // international prefix
	NPForParse string     `json:"npfp,omitempty"`      // national prefix for parsing
	Transform  string     `json:"transform,omitempty"` // national prefix transform rule
	Leading    string     `json:"leading,omitempty"`   // leading digits of a region sharing its code
	General    planDesc   `json:"general"`
	Types      []planDesc `json:"types"` // every number type with a pattern: valid when one matches

	once             sync.Once
	idd, np, leading *regexp.Regexp
}

// planDesc is a number description: a pattern of the national number and its possible lengths.
type planDesc struct {
	Pattern string  `json:"pattern"`
	Lengths []int32 `json:"lengths,omitempty"`
	Local   []int32 `json:"local,omitempty"` // lengths possible only locally (general description)
	re      *regexp.Regexp
}

var (
	thePlan     *plan
	thePlanOnce sync.Once
)

// phonePlan is the plan, read on first use; a plan that does not parse is a build defect, which
// TestPhonePlanCurrent catches.
func phonePlan() *plan {
	thePlanOnce.Do(func() {
		var f planFile
		if err := json.Unmarshal(phonePlanJSON, &f); err != nil {
			panic("lead: phoneplan.json: " + err.Error())
		}
		thePlan = &plan{regions: make(map[string]*planRegion, len(f.Regions)), byCode: f.ByCode}
		for _, r := range f.Regions {
			thePlan.regions[r.Key] = r
		}
	})
	return thePlan
}

// compiled is r with its patterns compiled, once.
func (r *planRegion) compiled() *planRegion {
	r.once.Do(func() {
		anchored := func(p string) *regexp.Regexp {
			if p == "" {
				return nil
			}
			return regexp.MustCompile("^(?:" + p + ")")
		}
		r.idd, r.np, r.leading = anchored(r.IDD), anchored(r.NPForParse), anchored(r.Leading)
		r.General.re = regexp.MustCompile("^(?:" + r.General.Pattern + ")$")
		for i := range r.Types {
			r.Types[i].re = regexp.MustCompile("^(?:" + r.Types[i].Pattern + ")$")
		}
	})
	return r
}

// matches is libphonenumber's isNumberMatchingDesc: a possible length (when the description
// has lengths) and the pattern.
func (d *planDesc) matches(nsn string) bool {
	if len(d.Lengths) > 0 && !slices.Contains(d.Lengths, int32(len(nsn))) {
		return false
	}
	return d.re.MatchString(nsn)
}

// valid is getNumberTypeHelper(nsn) != UNKNOWN: the general description and one type match.
func (r *planRegion) valid(nsn string) bool {
	if !r.General.matches(nsn) {
		return false
	}
	for i := range r.Types {
		if r.Types[i].matches(nsn) {
			return true
		}
	}
	return false
}

// lengthVerdict is testNumberLength for an unknown type.
type lengthVerdict int

const (
	lengthPossible lengthVerdict = iota
	lengthLocalOnly
	lengthTooShort
	lengthTooLong
	lengthInvalid
)

func (r *planRegion) length(nsn string) lengthVerdict {
	possible, n := r.General.Lengths, int32(len(nsn))
	switch {
	case len(possible) == 0 || possible[0] == -1:
		return lengthInvalid
	case slices.Contains(r.General.Local, n):
		return lengthLocalOnly
	case possible[0] > n:
		return lengthTooShort
	case possible[len(possible)-1] < n:
		return lengthTooLong
	case slices.Contains(possible, n):
		return lengthPossible
	}
	return lengthInvalid
}

// stripNationalPrefix is maybeStripNationalPrefixAndCarrierCode: nsn without the region's
// national (trunk) prefix, transformed as the region says, unless that would make a number that
// matched the general pattern stop matching it.
func (r *planRegion) stripNationalPrefix(nsn string) string {
	if nsn == "" || r.np == nil {
		return nsn
	}
	groups := r.np.FindStringSubmatchIndex(nsn)
	if groups == nil {
		return nsn
	}
	viable := r.General.re.MatchString(nsn)
	last := len(groups)/2 - 1
	if r.Transform == "" || groups[last*2] < 0 {
		if viable && !r.General.re.MatchString(nsn[groups[1]:]) {
			return nsn
		}
		return nsn[groups[1]:]
	}
	transformed := r.np.ReplaceAllString(nsn, r.Transform)
	if viable && !r.General.re.MatchString(transformed) {
		return nsn
	}
	return transformed
}

// countryCode is extractCountryCode: the calling code at the start of digits (1 to 3 digits,
// never starting with 0) and the rest; "" when none is known.
func (p *plan) countryCode(digits string) (code, rest string) {
	if digits == "" || digits[0] == '0' {
		return "", digits
	}
	for n := 1; n <= 3 && n <= len(digits); n++ {
		if _, ok := p.byCode[digits[:n]]; ok {
			return digits[:n], digits[n:]
		}
	}
	return "", digits
}

// main is the metadata of the code's main region.
func (p *plan) main(code string) *planRegion {
	if keys := p.byCode[code]; len(keys) > 0 {
		return p.regions[keys[0]].compiled()
	}
	return nil
}

// e164 is libphonenumber's Parse(digits, region) followed by IsValidNumber and Format(E164):
// plus says the number was written with a leading +. ok is false for a number that is not
// valid.
func (p *plan) e164(digits string, plus bool, region string) (string, bool) {
	var def *planRegion
	if r := p.regions[region]; r != nil { // a region code: non-geographic entities are keyed "001:" + code
		def = r.compiled()
	}
	// maybeExtractCountryCode
	code, nsn := "", digits
	rest, idd := digits, plus
	if !plus && def != nil {
		rest, idd = def.afterIDD(digits)
	}
	switch {
	case idd:
		if len(rest) <= 2 {
			return "", false
		}
		if code, nsn = p.countryCode(rest); code == "" {
			return "", false
		}
	case def == nil:
		return "", false
	case strings.HasPrefix(digits, def.Code):
		national := def.stripNationalPrefix(digits[len(def.Code):])
		if !def.General.re.MatchString(digits) && def.General.re.MatchString(national) || def.length(digits) == lengthTooLong {
			code, nsn = def.Code, national
		}
	}
	meta := def
	if code == "" {
		code = def.Code
	} else if def == nil || p.byCode[code][0] != region {
		meta = p.main(code)
	}
	if len(nsn) < 2 {
		return "", false
	}
	if meta != nil {
		if stripped := meta.stripNationalPrefix(nsn); meta.length(stripped) == lengthPossible || meta.length(stripped) == lengthTooLong {
			nsn = stripped
		}
	}
	if len(nsn) < 2 || len(nsn) > 17 {
		return "", false
	}
	// IsValidNumber: the number's region (the only one of its code; else the first whose leading
	// digits it has or, for a region without them, that it is valid for), then validity there.
	var in *planRegion
	for _, k := range p.byCode[code] {
		r := p.regions[k].compiled()
		if len(p.byCode[code]) == 1 || r.leading != nil && r.leading.MatchString(nsn) || r.leading == nil && r.valid(nsn) {
			in = r
			break
		}
	}
	if in == nil || !in.valid(nsn) {
		return "", false
	}
	return "+" + code + nsn, true
}

// afterIDD is parsePrefixAsIdd: the digits after the region's international prefix, and
// whether they start with it (and go on with something other than 0, which no country code
// starts with).
func (r *planRegion) afterIDD(digits string) (string, bool) {
	if r.idd == nil {
		return digits, false
	}
	loc := r.idd.FindStringIndex(digits)
	if loc == nil || loc[1] < len(digits) && digits[loc[1]] == '0' {
		return digits, false
	}
	return digits[loc[1]:], true
}
