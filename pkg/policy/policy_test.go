package policy

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// TestTemplateParsesToDefaults protects init's policies.yaml: it reads
// back as exactly the defaults a project without the file gets, which are
// micro-gw 3.x's.
func TestTemplateParsesToDefaults(t *testing.T) {
	got, err := Parse(File, []byte(Template()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, Defaults()) {
		t.Errorf("template reads as %+v, want %+v", got, Defaults())
	}
	d := Defaults()
	for _, c := range []struct {
		kind, name string
		count      int64
	}{
		{spec.PolicyResource, "50kPerMin", 50000}, {spec.PolicyResource, "20kPerMin", 20000}, {spec.PolicyResource, "10kPerMin", 10000},
		{spec.PolicyApplication, "50PerMin", 50}, {spec.PolicyApplication, "20PerMin", 20}, {spec.PolicyApplication, "10PerMin", 10},
		{spec.PolicySubscription, "Gold", 5000}, {spec.PolicySubscription, "Silver", 2000}, {spec.PolicySubscription, "Bronze", 10},
		{spec.PolicySubscription, "Unauthenticated", 500}, {spec.PolicySubscription, "Default", 500},
	} {
		i := -1
		for j, p := range d.Of(c.kind) {
			if p.Name == c.name {
				i = j
			}
		}
		if i < 0 || d.Of(c.kind)[i].Count != c.count || d.Of(c.kind)[i].Window().Minutes() != 1 {
			t.Errorf("%s %s: want %d per minute in %+v", c.kind, c.name, c.count, d.Of(c.kind))
		}
		if !d.Defines(c.kind, spec.Unlimited) {
			t.Errorf("%s does not define Unlimited", c.kind)
		}
	}
}

// TestLoadWithoutFileGivesDefaults protects projects made before
// policies.yaml existed: they build with micro-gw 3.x's defaults.
func TestLoadWithoutFileGivesDefaults(t *testing.T) {
	got, err := Load(t.TempDir())
	if err != nil || !reflect.DeepEqual(got, Defaults()) {
		t.Fatalf("Load = %+v, %v", got, err)
	}
}

// TestLoadReadsTheProjectFile protects Load: the project's file replaces
// the defaults entirely.
func TestLoadReadsTheProjectFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, File), []byte("resourcePolicies:\n  - 5PerSec: {count: 5, unitTime: 1, timeUnit: sec}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	want := &spec.Policies{Resource: []spec.Policy{{Name: "5PerSec", Count: 5, UnitTime: 1, TimeUnit: "sec"}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Load = %+v, %v; want %+v", got, err, want)
	}
}

// TestMicroGW3PoliciesFileReads protects the migration promise: 3.x's
// block style, with stopOnQuotaReach, reads.
func TestMicroGW3PoliciesFileReads(t *testing.T) {
	got, err := Parse(File, []byte(`resourcePolicies:
  - 50kPerMin:
      count: 50000
      unitTime: 1
      timeUnit: min
applicationPolicies:
  - 10PerMin:
      count: 10
      unitTime: 1
      timeUnit: min
subscriptionPolicies:
  - Gold:
      count: 5000
      unitTime: 1
      timeUnit: min
      stopOnQuotaReach: true
  - Daily:
      count: 100
      unitTime: 2
      timeUnit: day
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Resource) != 1 || len(got.Application) != 1 || len(got.Subscription) != 2 || got.Subscription[1].Window().Hours() != 48 {
		t.Errorf("got %+v", got)
	}
}

// TestBadPoliciesNameTheLine covers every refusal of policies.yaml, each
// naming the file and line and what to write.
func TestBadPoliciesNameTheLine(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"count zero", "resourcePolicies:\n  - A: {count: 0, unitTime: 1, timeUnit: min}\n",
			`policies.yaml:2: policy A: count must be a whole number of 1 or more, got "0"; write e.g. count: 10000`},
		{"count text", "resourcePolicies:\n  - A:\n      count: lots\n      unitTime: 1\n      timeUnit: min\n",
			`policies.yaml:3: policy A: count must be a whole number of 1 or more, got "lots"`},
		{"unit time negative", "applicationPolicies:\n  - A: {count: 1, unitTime: -1, timeUnit: min}\n",
			`policies.yaml:2: policy A: unitTime must be a whole number of 1 or more, got "-1"`},
		{"time unit", "subscriptionPolicies:\n  - A: {count: 1, unitTime: 1, timeUnit: minute}\n",
			`policies.yaml:2: policy A: timeUnit "minute" is not one of sec, min, hour, day; write e.g. timeUnit: min`},
		{"missing field", "resourcePolicies:\n  - A: {count: 1, unitTime: 1}\n",
			`policies.yaml:2: policy A has no timeUnit`},
		{"duplicate", "resourcePolicies:\n  - A: {count: 1, unitTime: 1, timeUnit: min}\n  - A: {count: 2, unitTime: 1, timeUnit: min}\n",
			`policies.yaml:3: resourcePolicies policy "A" is defined twice (also at line 2); keep one of them`},
		{"unlimited redefined", "resourcePolicies:\n  - Unlimited: {count: 1, unitTime: 1, timeUnit: min}\n",
			`policies.yaml:2: Unlimited is always defined and never limits; it cannot be redefined`},
		{"unknown kind", "resourcePolicy:\n  - A: {count: 1, unitTime: 1, timeUnit: min}\n",
			`policies.yaml:1: unknown key "resourcePolicy"; policies.yaml holds resourcePolicies, applicationPolicies, subscriptionPolicies`},
		{"not a list", "resourcePolicies: {A: {count: 1, unitTime: 1, timeUnit: min}}\n",
			`policies.yaml:1: resourcePolicies must be a list of policies`},
		{"two keys in one entry", "resourcePolicies:\n  - {A: {count: 1, unitTime: 1, timeUnit: min}, B: {count: 1, unitTime: 1, timeUnit: min}}\n",
			`policies.yaml:2: resourcePolicies entries must each be one name: {count, unitTime, timeUnit}`},
		{"unknown field", "resourcePolicies:\n  - A: {count: 1, unitTime: 1, timeUnit: min, burst: 5}\n",
			`policies.yaml:2: policy A: unknown key "burst"`},
		{"stop on quota false", "subscriptionPolicies:\n  - A: {count: 1, unitTime: 1, timeUnit: min, stopOnQuotaReach: false}\n",
			`policies.yaml:2: policy A: stopOnQuotaReach "false" is not supported: the gateway always stops at the quota`},
		{"syntax", "resourcePolicies:\n  - A: {count: 1\n", `policies.yaml: YAML syntax error`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(File, []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant it to contain %s", err, tc.want)
			}
		})
	}
}

// TestEmptyPoliciesFileDefinesOnlyUnlimited protects an empty file: it
// means no policy but Unlimited, not the defaults.
func TestEmptyPoliciesFileDefinesOnlyUnlimited(t *testing.T) {
	got, err := Parse(File, []byte("# nothing\n"))
	if err != nil || got.Defines(spec.PolicyResource, "10kPerMin") || !got.Defines(spec.PolicyResource, spec.Unlimited) {
		t.Fatalf("got %+v, %v", got, err)
	}
}
