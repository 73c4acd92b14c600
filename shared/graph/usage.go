package graph

import (
	"encoding/json"
	"math"
	"net/http"
	"time"
)

// usageFigures are the percentages (of Meta's allowance) one usage entry reports.
type usageFigures struct {
	Type         string  `json:"type"`
	CallCount    float64 `json:"call_count"`
	TotalCPUTime float64 `json:"total_cputime"`
	TotalTime    float64 `json:"total_time"`
	// Minutes until a throttled account may call again.
	RegainMinutes float64 `json:"estimated_time_to_regain_access"`
}

func (f usageFigures) highest() float64 {
	return math.Max(f.CallCount, math.Max(f.TotalCPUTime, f.TotalTime))
}

// Usage reads Meta's X-Business-Use-Case-Usage and X-App-Usage headers: the highest percentage
// of any allowance they report (0 when absent or unreadable) and the longest
// estimated_time_to_regain_access. The replier slows down on it before Meta has to say no.
func Usage(h http.Header) (percent int, regainAfter time.Duration) {
	var high, regain float64
	if v := h.Get("X-Business-Use-Case-Usage"); v != "" {
		// {"<business or account id>": [{"type": ..., "call_count": ..., ...}, ...], ...}
		var buc map[string][]usageFigures
		if json.Unmarshal([]byte(v), &buc) == nil {
			for _, list := range buc {
				for _, f := range list {
					high = math.Max(high, f.highest())
					regain = math.Max(regain, f.RegainMinutes)
				}
			}
		}
	}
	if v := h.Get("X-App-Usage"); v != "" {
		var f usageFigures
		if json.Unmarshal([]byte(v), &f) == nil {
			high = math.Max(high, f.highest())
		}
	}
	return int(math.Ceil(high)), time.Duration(regain * float64(time.Minute))
}
