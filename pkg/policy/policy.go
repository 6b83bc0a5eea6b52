// Package policy reads a project's throttling policies, policies.yaml in
// micro-gw 3.x's format, into spec.Policies:
//
//	resourcePolicies:      # x-wso2-throttling-tier: shared by all callers
//	  - 10kPerMin: {count: 10000, unitTime: 1, timeUnit: min}
//	applicationPolicies:   # per application (the token's application.tier)
//	  - 10PerMin: {count: 10, unitTime: 1, timeUnit: min}
//	subscriptionPolicies:  # per application per API (subscribedAPIs[].subscriptionTier)
//	  - Gold: {count: 5000, unitTime: 1, timeUnit: min}
//
// A project without policies.yaml gets micro-gw 3.x's default policies
// (Defaults), the ones micro-gw init writes. Unlimited is defined in every
// kind without being written (spec.Policies.Defines).
package policy

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v4"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// File is the policies file in a project's folder.
const File = "policies.yaml"

// TimeUnits are the values timeUnit may take (spec owns them).
var TimeUnits = spec.TimeUnits

// kinds are the top-level keys of policies.yaml, in the file's order.
var kinds = []string{spec.PolicyResource, spec.PolicyApplication, spec.PolicySubscription}

// Defaults returns micro-gw 3.x's default policies: what micro-gw init
// writes, and what a project without policies.yaml gets.
func Defaults() *spec.Policies {
	perMin := func(name string, count int64) spec.Policy {
		return spec.Policy{Name: name, Count: count, UnitTime: 1, TimeUnit: "min"}
	}
	return &spec.Policies{
		Resource:    []spec.Policy{perMin("50kPerMin", 50000), perMin("20kPerMin", 20000), perMin("10kPerMin", 10000)},
		Application: []spec.Policy{perMin("50PerMin", 50), perMin("20PerMin", 20), perMin("10PerMin", 10)},
		Subscription: []spec.Policy{perMin("Gold", 5000), perMin("Silver", 2000), perMin("Bronze", 10),
			perMin("Unauthenticated", 500), perMin("Default", 500)},
	}
}

// Template returns the policies.yaml micro-gw init writes: Defaults, with
// comments saying what each kind limits.
func Template() string {
	d := Defaults()
	var b strings.Builder
	b.WriteString(`# Throttling policies, in micro-gw 3.x's format. Each policy allows count
# requests per unitTime timeUnit (sec, min, hour or day). Unlimited is always
# defined and never limits. Without this file a project gets these defaults.
`)
	comments := map[string]string{
		spec.PolicyResource:     "# x-wso2-throttling-tier at API and operation level: one count shared by all callers.",
		spec.PolicyApplication:  "# Per calling application (the token's application.tier), across APIs.",
		spec.PolicySubscription: "# Per application per API (the token's subscribedAPIs[].subscriptionTier);\n# Unauthenticated applies per client IP to APIs served open.",
	}
	for _, kind := range kinds {
		b.WriteString("\n" + comments[kind] + "\n" + kind + ":\n")
		for _, p := range d.Of(kind) {
			fmt.Fprintf(&b, "  - %s: {count: %d, unitTime: %d, timeUnit: %s}\n", p.Name, p.Count, p.UnitTime, p.TimeUnit)
		}
	}
	return b.String()
}

// Load reads dir/policies.yaml; a project without one gets Defaults.
// Errors name the file (as policies.yaml) and the line.
func Load(dir string) (*spec.Policies, error) {
	data, err := os.ReadFile(filepath.Join(dir, File))
	if errors.Is(err, os.ErrNotExist) {
		return Defaults(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", File, err)
	}
	return Parse(File, data)
}

// Parse reads policies.yaml held in data; name is the file name used in
// errors. Every problem is reported, one per line.
func Parse(name string, data []byte) (*spec.Policies, error) {
	r := &reader{name: name}
	pol := &spec.Policies{}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: YAML syntax error: %v; fix the syntax (check indentation and colons)", name, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if len(bytes.TrimSpace(data)) == 0 || root.Kind == 0 || root.Kind == yaml.DocumentNode || root.ShortTag() == "!!null" {
		return pol, nil // an empty file defines no policy but Unlimited
	}
	if root.Kind != yaml.MappingNode {
		r.fail(root, "the file must be an object with "+strings.Join(kinds, ", "), "see micro-gw init's "+File)
		return nil, r.err()
	}
	seenKind := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if !slices.Contains(kinds, k.Value) {
			r.fail(k, fmt.Sprintf("unknown key %q", k.Value), "policies.yaml holds "+strings.Join(kinds, ", "))
			continue
		}
		if seenKind[k.Value] {
			r.fail(k, k.Value+" is given twice", "merge the two lists")
			continue
		}
		seenKind[k.Value] = true
		list := r.policies(k, v)
		switch k.Value {
		case spec.PolicyResource:
			pol.Resource = list
		case spec.PolicyApplication:
			pol.Application = list
		case spec.PolicySubscription:
			pol.Subscription = list
		}
	}
	if err := r.err(); err != nil {
		return nil, err
	}
	return pol, nil
}

// reader collects the problems of one file.
type reader struct {
	name string
	errs []string
}

func (r *reader) fail(at *yaml.Node, msg, hint string) {
	r.errs = append(r.errs, fmt.Sprintf("%s:%d: %s; %s", r.name, at.Line, msg, hint))
}

func (r *reader) err() error {
	if len(r.errs) == 0 {
		return nil
	}
	return errors.New(strings.Join(r.errs, "\n"))
}

const example = "- 10kPerMin: {count: 10000, unitTime: 1, timeUnit: min}"

// policies reads the list of one kind: single-key maps, name to policy.
func (r *reader) policies(key, list *yaml.Node) []spec.Policy {
	if list.Kind == yaml.ScalarNode && list.ShortTag() == "!!null" {
		return nil
	}
	if list.Kind != yaml.SequenceNode {
		r.fail(key, key.Value+" must be a list of policies", "write e.g. "+key.Value+":\n  "+example)
		return nil
	}
	var out []spec.Policy
	lines := map[string]int{}
	for _, item := range list.Content {
		if item.Kind != yaml.MappingNode || len(item.Content) != 2 {
			r.fail(item, key.Value+" entries must each be one name: {count, unitTime, timeUnit}", "write e.g. "+example)
			continue
		}
		nameNode := item.Content[0]
		name := strings.TrimSpace(nameNode.Value)
		switch {
		case name == "":
			r.fail(nameNode, "a policy has no name", "write e.g. "+example)
			continue
		case name == spec.Unlimited:
			r.fail(nameNode, spec.Unlimited+" is always defined and never limits; it cannot be redefined", "remove it, or give the policy another name")
			continue
		case lines[name] > 0:
			r.fail(nameNode, fmt.Sprintf("%s policy %q is defined twice (also at line %d)", key.Value, name, lines[name]), "keep one of them")
			continue
		}
		lines[name] = nameNode.Line
		if p, ok := r.policy(name, item.Content[1]); ok {
			out = append(out, p)
		}
	}
	return out
}

// policy reads {count, unitTime, timeUnit}.
func (r *reader) policy(name string, n *yaml.Node) (spec.Policy, bool) {
	p := spec.Policy{Name: name}
	if n.Kind != yaml.MappingNode {
		r.fail(n, fmt.Sprintf("policy %s must be {count, unitTime, timeUnit}", name), "write e.g. "+example)
		return p, false
	}
	ok := true
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		seen[k.Value] = true
		switch k.Value {
		case "count":
			p.Count = r.positive(name, k, v, "count: 10000")
			ok = ok && p.Count > 0
		case "unitTime":
			p.UnitTime = r.positive(name, k, v, "unitTime: 1")
			ok = ok && p.UnitTime > 0
		case "timeUnit":
			if v.Kind != yaml.ScalarNode || !slices.Contains(TimeUnits, v.Value) {
				r.fail(v, fmt.Sprintf("policy %s: timeUnit %q is not one of %s", name, v.Value, strings.Join(TimeUnits, ", ")), "write e.g. timeUnit: min")
				ok = false
				continue
			}
			p.TimeUnit = v.Value
		case "stopOnQuotaReach":
			// micro-gw 3.x's subscription policies carried it; the
			// gateway always stops at the quota, so only true reads.
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" || v.Value != "true" {
				r.fail(v, fmt.Sprintf("policy %s: stopOnQuotaReach %q is not supported: the gateway always stops at the quota (micro-gw 3.x's false let requests past it)", name, v.Value), "remove it, or write stopOnQuotaReach: true")
				ok = false
			}
		default:
			r.fail(k, fmt.Sprintf("policy %s: unknown key %q", name, k.Value), "a policy holds count, unitTime and timeUnit")
			ok = false
		}
	}
	for _, f := range []string{"count", "unitTime", "timeUnit"} {
		if !seen[f] {
			r.fail(n, fmt.Sprintf("policy %s has no %s", name, f), "write e.g. "+example)
			ok = false
		}
	}
	return p, ok
}

// positive reads a whole number from 1 to MaxInt64; 0 after a problem.
func (r *reader) positive(name string, k, v *yaml.Node, example string) int64 {
	var n int64
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || v.Decode(&n) != nil || n < 1 || n > math.MaxInt64/2 {
		r.fail(v, fmt.Sprintf("policy %s: %s must be a whole number of 1 or more, got %q", name, k.Value, v.Value), "write e.g. "+example)
		return 0
	}
	return n
}
