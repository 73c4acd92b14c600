package reply

import (
	"slices"
	"testing"
)

func TestProfileDiff(t *testing.T) {
	ask := IceBreaker{Question: "What's cooking?", Payload: "ASK"}
	menu := MenuItem{Type: ButtonPostback, Title: "Recipe", Payload: "RECIPE"}
	shop := MenuItem{Type: ButtonURL, Title: "Shop", URL: "https://shop.example.com"}
	tests := []struct {
		name       string
		meta, file MessengerProfile
		want       []string
	}{
		{"both empty", MessengerProfile{}, MessengerProfile{IceBreakers: []IceBreaker{}}, nil},
		{"same", MessengerProfile{IceBreakers: []IceBreaker{ask}, Menu: []MenuItem{menu, shop}}, MessengerProfile{IceBreakers: []IceBreaker{ask}, Menu: []MenuItem{menu, shop}}, nil},
		{"other ice breaker", MessengerProfile{IceBreakers: []IceBreaker{{Question: "Other?", Payload: "OTHER"}}}, MessengerProfile{IceBreakers: []IceBreaker{ask}},
			[]string{`ice_breakers[0]: Meta "Other?" → OTHER, file "What's cooking?" → ASK`}},
		{"menu missing on Meta", MessengerProfile{}, MessengerProfile{Menu: []MenuItem{menu, shop}},
			[]string{`persistent_menu[0]: Meta (none), file "Recipe" → RECIPE`, `persistent_menu[1]: Meta (none), file "Shop" → https://shop.example.com`}},
		{"extra on Meta", MessengerProfile{IceBreakers: []IceBreaker{ask}}, MessengerProfile{},
			[]string{`ice_breakers[0]: Meta "What's cooking?" → ASK, file (none)`}},
		{"order differs", MessengerProfile{Menu: []MenuItem{shop, menu}}, MessengerProfile{Menu: []MenuItem{menu, shop}},
			[]string{`persistent_menu[0]: Meta "Shop" → https://shop.example.com, file "Recipe" → RECIPE`, `persistent_menu[1]: Meta "Recipe" → RECIPE, file "Shop" → https://shop.example.com`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ProfileDiff(tt.meta, tt.file)
			if !slices.Equal(got, tt.want) {
				t.Errorf("ProfileDiff = %q, want %q", got, tt.want)
			}
			if eq := tt.meta.Equal(tt.file); eq != (len(tt.want) == 0) {
				t.Errorf("Equal = %v with diff %q", eq, got)
			}
		})
	}
}
