package definition

import (
	"slices"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v4"
)

// The gateway does not enforce OpenAPI security yet. A definition that asks
// for it must not build into a gateway that is silently open, so scanSecurity
// says so once per definition, naming the schemes, and names every scheme a
// requirement uses that the definition does not define.

// scanSecurity warns about the security requirements of the definition.
func (p *parser) scanSecurity() {
	defined := map[string]bool{}
	schemesKey := lookup(p.root, "components", "securitySchemes")
	hint := "define it under components.securitySchemes"
	if p.swagger {
		schemesKey, hint = get(p.root, "securityDefinitions").val, "define it under securityDefinitions"
	}
	for _, kv := range pairs(schemesKey) {
		defined[kv.key.Value] = true
	}

	var first *yaml.Node
	var used []string
	type undefinedUse struct {
		at          *yaml.Node
		prefix, use string
	}
	var undefined []undefinedUse
	for _, sec := range p.securityLists() {
		for _, req := range requirementNames(sec.list) {
			if first == nil || sec.key.Line < first.Line {
				first = sec.key
			}
			if slices.Contains(used, req.name) {
				continue
			}
			used = append(used, req.name)
			if !defined[req.name] {
				undefined = append(undefined, undefinedUse{req.at, sec.prefix(), req.name})
			}
		}
	}
	if first == nil {
		return
	}
	names := slices.Clone(used)
	sort.Strings(names)
	p.warn(first, "security is not enforced yet, so the requirements on %s are ignored: requests reach the backend without credentials; protect the backend itself until the gateway enforces security",
		strings.Join(names, ", "))
	for _, u := range undefined {
		p.warn(u.at, "%ssecurity scheme %q is not defined; %s. Security is not enforced by the gateway yet: requests pass without credentials",
			u.prefix, u.use, hint)
	}
}

// requirement is one scheme named in a security requirement.
type requirement struct {
	name string
	at   *yaml.Node
}

// requirementNames lists the schemes a security list names, reading the
// string form older tools wrote ("petstore_auth:[]") too.
func requirementNames(list *yaml.Node) []requirement {
	var out []requirement
	if list == nil || list.Kind != yaml.SequenceNode {
		return nil
	}
	for _, item := range list.Content {
		item = deref(item)
		switch item.Kind {
		case yaml.MappingNode:
			for _, kv := range pairs(item) {
				out = append(out, requirement{kv.key.Value, kv.key})
			}
		case yaml.ScalarNode:
			if name, _ := parseLegacyRequirement(item.Value); name != "" && item.ShortTag() == "!!str" {
				out = append(out, requirement{name, item})
			}
		}
	}
	return out
}

// scanUnsupportedFields warns, once each, about the standard fields whose
// behaviour the gateway does not implement: callbacks and webhooks are
// requests the backend sends to others, which do not pass through it.
func (p *parser) scanUnsupportedFields() {
	var callbacks []string
	var first *yaml.Node
	for _, path := range pairs(get(p.root, "paths").val) {
		for _, op := range pairs(p.followRef(path.val)) {
			m := strings.ToUpper(op.key.Value)
			if e := get(op.val, "callbacks"); e.key != nil && slices.Contains(methods, m) {
				if first == nil {
					first = e.key
				}
				callbacks = append(callbacks, m+" "+showPath(path.key.Value))
			}
		}
	}
	if e := lookup(p.root, "components", "callbacks"); e != nil && first == nil {
		first = get(get(p.root, "components").val, "callbacks").key
	}
	if first != nil {
		where := ""
		if len(callbacks) > 0 {
			where = " (" + shortList(callbacks, 5) + ")"
		}
		p.warn(first, "callbacks%s are not served: they are requests the backend sends to clients, which do not pass through the gateway", where)
	}
	if e := get(p.root, "webhooks"); e.key != nil {
		var names []string
		for _, kv := range pairs(e.val) {
			names = append(names, kv.key.Value)
		}
		p.warn(e.key, "webhooks (%s) are not served: they are requests the backend sends to others, which do not pass through the gateway", shortList(names, 5))
	}
}
