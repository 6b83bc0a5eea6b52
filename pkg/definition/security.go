package definition

import (
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v4"
)

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
