package reply

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestVariantSplit(t *testing.T) {
	cases := []struct {
		name     string
		variants []Variant
	}{
		{"even", []Variant{{Name: "A", Weight: 1}, {Name: "B", Weight: 1}}},
		{"70/30", []Variant{{Name: "A", Weight: 70}, {Name: "B", Weight: 30}}},
		{"three", []Variant{{Name: "A", Weight: 5}, {Name: "B", Weight: 3}, {Name: "C", Weight: 2}}},
		{"small share", []Variant{{Name: "A", Weight: 95}, {Name: "B", Weight: 5}}},
	}
	const people = 100_000
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Rule{Name: "recipe", Message: "hi", Variants: c.variants}
			got := map[string]int{}
			for i := range people {
				name, _ := r.Variant("17841400000000001", strconv.Itoa(1_000_000_000_000+i))
				got[name]++
			}
			total := 0
			for _, v := range c.variants {
				total += v.Weight
			}
			for _, v := range c.variants {
				want := float64(v.Weight) / float64(total)
				share := float64(got[v.Name]) / people
				if math.Abs(share-want) > 0.01 {
					t.Errorf("variant %s: %.4f of people, want %.4f ± 0.01", v.Name, share, want)
				}
			}
		})
	}
}

func TestVariantFixedPerPerson(t *testing.T) {
	r := Rule{Name: "recipe", Message: "default", Variants: []Variant{
		{Name: "A", Weight: 1, Message: "text A"}, {Name: "B", Weight: 1, Message: "text B"}, {Name: "C", Weight: 1}}}
	step := Step{Name: "link", Variants: []StepVariant{
		{Name: "A", Weight: 1, Messages: []Message{{Text: "link A"}}}, {Name: "B", Weight: 1, Messages: []Message{{Text: "link B"}}},
		{Name: "C", Weight: 1, Messages: []Message{{Text: "link C"}}}}}
	seen := map[string]bool{}
	for i := range 300 {
		person := strconv.Itoa(5_000_000 + i)
		name, sent := r.Variant("acct", person)
		for range 3 { // a retry, another instance: the same answer
			again, sent2 := r.Variant("acct", person)
			if again != name || sent2.Message != sent.Message {
				t.Fatalf("person %s: variant %s then %s", person, name, again)
			}
		}
		stepName, msgs := step.Variant("acct", "recipe", person)
		if stepName != name || msgs[0].Text != "link "+name {
			t.Fatalf("person %s: rule variant %s, step variant %s (%q): the flow must keep the person's variant", person, name, stepName, msgs[0].Text)
		}
		want := map[string]string{"A": "text A", "B": "text B", "C": "default"}[name]
		if sent.Message != want {
			t.Fatalf("variant %s sends %q, want %q", name, sent.Message, want)
		}
		seen[name] = true
	}
	if len(seen) != 3 {
		t.Errorf("variants met: %v, want all three", seen)
	}
	if name, same := (Rule{Name: "x", Message: "m"}).Variant("a", "p"); name != "" || same.Message != "m" {
		t.Errorf("a rule without variants: %q %q", name, same.Message)
	}
}

func TestVariantValidation(t *testing.T) {
	base := func() Rule {
		return Rule{Name: "recipe", Match: MatchWord, Keywords: []string{"recipe"}, Message: "hi {username}"}
	}
	cases := []struct {
		name string
		edit func(*Rule)
		want string // "" for valid
	}{
		{"valid", func(r *Rule) { r.Variants = []Variant{{Name: "A", Weight: 1}, {Name: "B", Weight: 2, Message: "hey"}} }, ""},
		{"weight 0", func(r *Rule) { r.Variants = []Variant{{Name: "A", Weight: 1}, {Name: "B", Weight: 0}} }, `variants[1] "B": weight: 0, must be more than 0`},
		{"negative weight", func(r *Rule) { r.Variants = []Variant{{Name: "A", Weight: -3}} }, `variants[0] "A": weight: -3`},
		{"no message", func(r *Rule) { r.Message = ""; r.Variants = []Variant{{Name: "A", Weight: 1, Message: "x"}} }, "variants: the rule has no message"},
		{"no name", func(r *Rule) { r.Variants = []Variant{{Weight: 1}} }, "variants[0]: name: required"},
		{"name twice", func(r *Rule) { r.Variants = []Variant{{Name: "A", Weight: 1}, {Name: "A", Weight: 1}} }, `variants[1] "A": name: used twice`},
		{"bad link", func(r *Rule) { r.Variants = []Variant{{Name: "A", Weight: 1, Message: "go http://nohost"}} }, `variants[0] "A": message: link`},
		{"step weight 0", func(r *Rule) {
			r.Flow = []Step{{Name: "link", On: Trigger{Any: true}, Messages: []Message{{Text: "x"}},
				Variants: []StepVariant{{Name: "A", Weight: 0, Messages: []Message{{Text: "y"}}}}}}
		}, `flow[0] "link": variants[0] "A": weight: 0`},
		{"step variant without messages", func(r *Rule) {
			r.Flow = []Step{{Name: "link", On: Trigger{Any: true}, Messages: []Message{{Text: "x"}},
				Variants: []StepVariant{{Name: "A", Weight: 1}}}}
		}, `flow[0] "link": variants[0] "A": messages: at least one`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := base()
			c.edit(&r)
			a := Account{ID: "17841400000000001", Login: LoginInstagram, TokenParam: "/t", Rules: []Rule{r}}
			err := a.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("valid rule refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestStepMessageFindsVariantMessage(t *testing.T) {
	b := Message{Text: "link B"}
	a := Account{Rules: []Rule{{Name: "recipe", Flow: []Step{{Name: "link", Messages: []Message{{Text: "link"}},
		Variants: []StepVariant{{Name: "B", Weight: 1, Messages: []Message{b}}}}}}}}
	m, ok := a.StepMessage(FollowUp{Rule: "recipe", Step: "link", Digest: b.Digest(), Variant: "B"})
	if !ok || m.Text != "link B" {
		t.Fatalf("claimed variant message: %v %q", ok, m.Text)
	}
}
