package console

import (
	"errors"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/campaign"
)

// parseCondition reads one line of the audience form: "key = value",
// "key != …" is not offered; "key in a, b", "key >= 10" (>, >=, <, <=),
// "key exists", "key missing".
func parseCondition(line string) (string, campaign.AttrCondition, error) {
	var c campaign.AttrCondition
	fields := strings.Fields(line)
	if len(fields) == 2 && (fields[1] == "exists" || fields[1] == "missing") {
		v := fields[1] == "exists"
		c.Exists = &v
		return fields[0], c, nil
	}
	for _, op := range []string{">=", "<=", ">", "<", "=", " in "} {
		i := strings.Index(line, op)
		if i <= 0 {
			continue
		}
		key, val := strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+len(op):])
		if key == "" || val == "" {
			break
		}
		switch op {
		case "=":
			c.Eq = val
		case " in ":
			for _, v := range strings.Split(val, ",") {
				c.In = append(c.In, strings.TrimSpace(v))
			}
		default:
			n, err := strconv.ParseFloat(val, 64)
			if err != nil {
				return "", c, errors.New(strconv.Quote(val) + " is not a number")
			}
			switch op {
			case ">":
				c.Gt = &n
			case ">=":
				c.Gte = &n
			case "<":
				c.Lt = &n
			case "<=":
				c.Lte = &n
			}
		}
		return key, c, nil
	}
	return "", c, errors.New(`write "attribute = value", "attribute in a, b", "attribute >= 10" or "attribute exists"`)
}

func mergeCondition(into *campaign.AttrCondition, c campaign.AttrCondition) {
	if c.Eq != nil {
		into.Eq = c.Eq
	}
	if c.In != nil {
		into.In = c.In
	}
	for _, p := range []struct{ to, from **float64 }{{&into.Gt, &c.Gt}, {&into.Gte, &c.Gte}, {&into.Lt, &c.Lt}, {&into.Lte, &c.Lte}} {
		if *p.from != nil {
			*p.to = *p.from
		}
	}
	if c.Exists != nil {
		into.Exists = c.Exists
	}
}
