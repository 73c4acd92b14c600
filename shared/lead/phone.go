package lead

import (
	"fmt"
	"strings"
)

// CheckPhone is the number in answer in E.164 ("+4915123456789"). A number without a leading +
// is read as one of region's (its trunk and international prefixes included: 0151..., 0044...).
// Only the characters people type in a number are allowed (digits, spaces, + - . / ( )): other
// scripts' digits and letters (vanity numbers) are not what a person answering with their own
// number types. Whether the number is valid is libphonenumber's judgement, from the plan its
// metadata gives (phoneplan.go).
func CheckPhone(answer, region string) (string, error) {
	s, err := plain(answer, MaxPhoneBytes)
	if err != nil {
		return "", err
	}
	digits := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == ' ' || c == '+' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')':
		default:
			return "", fmt.Errorf("%w: phone: only digits, spaces and + - . / ( )", ErrInvalid)
		}
	}
	if len(digits) < 4 {
		return "", fmt.Errorf("%w: phone: too few digits", ErrInvalid)
	}
	plus := strings.HasPrefix(s, "+")
	if strings.LastIndexByte(s, '+') > 0 {
		return "", fmt.Errorf("%w: phone: + only in front", ErrInvalid)
	}
	if !plus {
		if err := CheckRegion(region); err != nil {
			return "", err
		}
	}
	n, ok := phonePlan().e164(string(digits), plus, strings.ToUpper(region))
	if !ok {
		return "", fmt.Errorf("%w: phone: not a valid number (default region %q)", ErrInvalid, region)
	}
	return n, nil
}

// CheckRegion checks a default region for phone numbers: an ISO 3166 alpha-2 code the number
// plan knows ("US", "DE").
func CheckRegion(region string) error {
	if region == "" {
		return fmt.Errorf("%w: phone: no country code, and the account sets no phone_region", ErrInvalid)
	}
	if r := phonePlan().regions[strings.ToUpper(region)]; r == nil || len(region) != 2 {
		return fmt.Errorf("phone_region %q: not a region code the number library knows (ISO 3166 alpha-2, e.g. US, DE)", region)
	}
	return nil
}
