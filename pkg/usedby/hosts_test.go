package usedby

import (
	"strconv"
	"strings"
	"testing"
)

func TestNormalizeHost(t *testing.T) {
	for in, want := range map[string]string{
		"Web.Example.COM.":  "web.example.com",
		" web.example.com ": "web.example.com",
		"":                  "",
		".":                 "",
		"*.Example.com":     "*.example.com",
	} {
		if got := NormalizeHost(in); got != want {
			t.Errorf("NormalizeHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCovers(t *testing.T) {
	for _, tc := range []struct {
		sans  []string
		ips   []string
		host  string
		cover bool
	}{
		{sans: []string{"web.example.com"}, host: "web.example.com", cover: true},
		{sans: []string{"Web.Example.com"}, host: "web.example.com", cover: true},
		{sans: []string{"web.example.com."}, host: "web.example.com", cover: true},
		{sans: []string{"web.example.com"}, host: "api.example.com"},
		{sans: []string{"*.example.com"}, host: "api.example.com", cover: true},
		{sans: []string{"*.EXAMPLE.com"}, host: "api.example.com", cover: true},
		// One label only, and never the parent itself.
		{sans: []string{"*.example.com"}, host: "a.b.example.com"},
		{sans: []string{"*.example.com"}, host: "example.com"},
		{sans: []string{"*.example.com"}, host: ".example.com"},
		// Partial-label and non-left-most wildcards cover nothing else.
		{sans: []string{"w*.example.com"}, host: "web.example.com"},
		{sans: []string{"*eb.example.com"}, host: "web.example.com"},
		{sans: []string{"web.*.com"}, host: "web.example.com"},
		{sans: []string{"*.*.com"}, host: "a.example.com"},
		{sans: []string{"*"}, host: "example"},
		{sans: []string{"*."}, host: "a"},
		// A wildcard host is covered by the same wildcard only.
		{sans: []string{"*.example.com"}, host: "*.example.com", cover: true},
		{sans: []string{"a.example.com"}, host: "*.example.com"},
		{sans: []string{"*.b.example.com"}, host: "*.example.com"},
		// IP literals: IP SANs only, in any spelling of the same address.
		{ips: []string{"10.0.0.1"}, host: "10.0.0.1", cover: true},
		{sans: []string{"10.0.0.1"}, host: "10.0.0.1"},
		{ips: []string{"2001:db8::1"}, host: "2001:db8:0::1", cover: true},
		{ips: []string{"2001:db8::1"}, host: "[2001:db8::1]", cover: true},
		{ips: []string{"10.0.0.1"}, host: "::ffff:10.0.0.1", cover: true},
		{ips: []string{"10.0.0.2"}, host: "10.0.0.1"},
		{ips: []string{"not an ip"}, host: "10.0.0.1"},
		{ips: []string{"10.0.0.1"}, host: "[10.0.0.1]", cover: true},
		{ips: []string{"10.0.0.1"}, host: "010.0.0.1"},
		// Digits that are no address are a DNS name.
		{sans: []string{"10.0.0"}, host: "10.0.0", cover: true},
		{ips: []string{"10.0.0.0"}, host: "10.0.0"},
		// Hostile or empty input never matches by accident.
		{sans: []string{""}, host: ""},
		{sans: []string{"web.example.com"}, host: ""},
		{sans: nil, host: "web.example.com"},
		{sans: []string{strings.Repeat("a.", 200) + "com"}, host: strings.Repeat("a.", 200) + "com", cover: true},
	} {
		if got := Covers(tc.sans, tc.ips, tc.host); got != tc.cover {
			t.Errorf("Covers(%q, %q, %q) = %v, want %v", tc.sans, tc.ips, tc.host, got, tc.cover)
		}
	}
}

// A thousand hosts against a thousand SANs is answered quickly and exactly.
func TestCoversManyHosts(t *testing.T) {
	var sans []string
	for i := 0; i < 1000; i += 2 {
		sans = append(sans, "h"+strconv.Itoa(i)+".example.com")
	}
	covered := 0
	for i := 0; i < 1000; i++ {
		if Covers(sans, nil, "h"+strconv.Itoa(i)+".example.com") {
			covered++
		}
	}
	if covered != 500 {
		t.Fatalf("covered %d of 1000 hosts, want 500", covered)
	}
}

// Judging a DNS host allocates nothing: usedBy is built each time an
// object is served, and metrics count uncovered hosts at every scrape.
func TestCoversAllocations(t *testing.T) {
	sans := []string{"web.example.com", "*.api.example.com"}
	ips := []string{"10.0.0.1"}
	for _, host := range []string{"web.example.com", "v1.api.example.com", "other.example.com", "10.0.0.1", "2001:db8::1"} {
		if n := testing.AllocsPerRun(100, func() { Covers(sans, ips, host) }); n != 0 {
			t.Errorf("Covers(%q) allocates %v times", host, n)
		}
	}
}
