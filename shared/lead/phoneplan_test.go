package lead

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

var update = flag.Bool("update", false, "write phoneplan.json from the phonenumbers library")

// libraryPlan is phoneplan.json as the phonenumbers library's metadata gives it: one region a
// line, sorted, so that an update of the library is a readable diff.
func libraryPlan(t *testing.T) []byte {
	t.Helper()
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.Fatal(err)
	}
	key := func(id string, code int32) string {
		if id == "001" {
			return "001:" + strconv.Itoa(int(code))
		}
		return id
	}
	desc := func(d *phonenumbers.PhoneNumberDesc) planDesc {
		return planDesc{Pattern: d.GetNationalNumberPattern(), Lengths: d.GetPossibleLength()}
	}
	var regions []*planRegion
	byCode := map[string][]string{}
	for _, md := range coll.GetMetadata() {
		r := &planRegion{
			Key: key(md.GetId(), md.GetCountryCode()), Code: strconv.Itoa(int(md.GetCountryCode())),
			IDD: md.GetInternationalPrefix(), NPForParse: md.GetNationalPrefixForParsing(),
			Transform: md.GetNationalPrefixTransformRule(), Leading: md.GetLeadingDigits(),
			General: desc(md.GetGeneralDesc()),
		}
		r.General.Local = md.GetGeneralDesc().GetPossibleLengthLocalOnly()
		// getNumberTypeHelper's types; any one matching makes a number valid.
		for _, d := range []*phonenumbers.PhoneNumberDesc{md.GetPremiumRate(), md.GetTollFree(), md.GetSharedCost(),
			md.GetVoip(), md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail(), md.GetFixedLine(), md.GetMobile()} {
			if d.GetNationalNumberPattern() != "" {
				r.Types = append(r.Types, desc(d))
			}
		}
		regions = append(regions, r)
		if _, ok := byCode[r.Code]; !ok {
			for _, id := range phonenumbers.GetRegionCodesForCountryCode(int(md.GetCountryCode())) {
				byCode[r.Code] = append(byCode[r.Code], key(id, md.GetCountryCode()))
			}
		}
	}
	slices.SortFunc(regions, func(a, b *planRegion) int { return cmpString(a.Key, b.Key) })
	var out bytes.Buffer
	codes, _ := json.Marshal(byCode)
	fmt.Fprintf(&out, "{\"by_code\":%s,\n\"regions\":[\n", codes)
	for i, r := range regions {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(b)
		if i < len(regions)-1 {
			out.WriteString(",")
		}
		out.WriteString("\n")
	}
	out.WriteString("]}\n")
	return out.Bytes()
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestPhonePlanCurrent: phoneplan.json is what the phonenumbers library in go.mod gives; after
// an update of the library, `go test ./shared/lead -run TestPhonePlanCurrent -update` writes it.
func TestPhonePlanCurrent(t *testing.T) {
	want := libraryPlan(t)
	if *update {
		if err := os.WriteFile("phoneplan.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(phonePlanJSON, want) {
		t.Fatal("phoneplan.json is not the phonenumbers library's metadata: go test ./shared/lead -run TestPhonePlanCurrent -update")
	}
	if p := phonePlan(); len(p.regions) < 240 || len(p.byCode["1"]) < 20 || p.byCode["1"][0] != "US" {
		t.Errorf("the plan has %d regions and code 1 is %v", len(p.regions), p.byCode["1"])
	}
}

// TestPhonePlanAgreesWithLibrary holds e164 to the library's Parse, IsValidNumber and
// Format(E164): for every region and number type, its example number written internationally
// (+), nationally (as the library formats it, read with the region), dialled from Germany and
// from the US (their international prefixes), and each of these a digit shorter, a digit
// longer and with its first national digit changed; each must come out the same (the same
// E.164, or refused by both).
func TestPhonePlanAgreesWithLibrary(t *testing.T) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.Fatal(err)
	}
	digitsOf := func(s string) string {
		var b []byte
		for i := 0; i < len(s); i++ {
			if s[i] >= '0' && s[i] <= '9' {
				b = append(b, s[i])
			}
		}
		return string(b)
	}
	library := func(input, region string) (string, bool) {
		n, err := phonenumbers.Parse(input, region)
		if err != nil || !phonenumbers.IsValidNumber(n) {
			return "", false
		}
		return phonenumbers.Format(n, phonenumbers.E164), true
	}
	var cases, valid, differ int
	check := func(input, region string) {
		cases++
		want, wok := library(input, region)
		got, gok := phonePlan().e164(digitsOf(input), len(input) > 0 && input[0] == '+', region)
		if wok {
			valid++
		}
		if got != want || gok != wok {
			differ++
			if differ <= 20 {
				t.Errorf("%q in %s: plan %q %v, library %q %v", input, region, got, gok, want, wok)
			}
		}
	}
	for _, md := range coll.GetMetadata() {
		cc := strconv.Itoa(int(md.GetCountryCode()))
		for _, d := range []*phonenumbers.PhoneNumberDesc{md.GetGeneralDesc(), md.GetFixedLine(), md.GetMobile(), md.GetTollFree(),
			md.GetPremiumRate(), md.GetSharedCost(), md.GetVoip(), md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail()} {
			ex := d.GetExampleNumber()
			if ex == "" {
				continue
			}
			variants := []string{ex, ex[:len(ex)-1], ex + "5", string('1'+(ex[0]-'0'+1)%9) + ex[1:]}
			for _, v := range variants {
				check("+"+cc+v, "")
				check("00"+cc+v, "DE")
				check("011"+cc+v, "US")
				if md.GetId() != "001" {
					if n, err := phonenumbers.Parse("+"+cc+v, md.GetId()); err == nil {
						check(phonenumbers.Format(n, phonenumbers.NATIONAL), md.GetId())
					}
					check(v, md.GetId())
				}
			}
		}
	}
	t.Logf("%d numbers in %d regions, %d valid by the library: %d differ", cases, len(coll.GetMetadata()), valid, differ)
	if differ > 0 {
		t.Errorf("%d of %d numbers differ from the library", differ, cases)
	}
}
