// The Pulumi engine's YAML reader as an oracle: each input document is decoded with gopkg.in/yaml.v3
// into `any`, as the engine decodes a stack file, and printed as JSON with its Go types.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"gopkg.in/yaml.v3"
)

func typed(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			m[k] = typed(e)
		}
		return map[string]any{"map": m}
	case map[any]any:
		m := map[string]any{}
		for k, e := range x {
			m[fmt.Sprintf("%v", k)] = typed(e)
		}
		return map[string]any{"map": m}
	case []any:
		a := []any{}
		for _, e := range x {
			a = append(a, typed(e))
		}
		return a
	case time.Time:
		return map[string]any{"str": x.String()}
	case string:
		return map[string]any{"str": x}
	case bool:
		return map[string]any{"bool": x}
	case int, int64, uint64:
		return map[string]any{"int": fmt.Sprint(x)}
	case float64:
		return map[string]any{"float": fmt.Sprint(x)}
	case nil:
		return nil
	}
	return map[string]any{"other": fmt.Sprintf("%T", v)}
}

func main() {
	var docs []string
	if err := json.NewDecoder(os.Stdin).Decode(&docs); err != nil {
		panic(err)
	}
	out := []any{}
	for _, d := range docs {
		var v any
		if err := yaml.Unmarshal([]byte(d), &v); err != nil {
			out = append(out, map[string]any{"error": err.Error()})
		} else {
			out = append(out, map[string]any{"value": typed(v)})
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		panic(err)
	}
}
