package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/web/apierr"
)

type openapiDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		SecuritySchemes map[string]struct {
			Type, Scheme string
		} `json:"securitySchemes"`
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

// paramRef is a parameter given by reference.
type paramRef struct {
	Ref string `json:"$ref"`
}

var httpMethods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

// TestOpenAPIDescribesEveryRoute keeps the document honest: every route the
// real server registers is described (path and method), and everything
// described is served.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res := b.callAs(t, "", http.MethodGet, "/api/v1/openapi.json", nil)
	var doc openapiDoc
	res.decode(t, http.StatusOK, &doc)
	var raw map[string]any
	if err := json.Unmarshal(res.Body, &raw); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	if s := doc.Components.SecuritySchemes["bearerAuth"]; s.Type != "http" || s.Scheme != "bearer" {
		t.Errorf("bearer scheme %+v", s)
	}

	param := regexp.MustCompile(`:([A-Za-z_]+)`)
	served := map[string]bool{}
	for _, r := range b.e.Routes() {
		m := strings.ToLower(r.Method)
		if !slices.Contains(httpMethods, m) {
			continue // echo's internal route-not-found entries for groups
		}
		// An escaped colon (events\:batch) is part of the path, not a parameter.
		path := strings.ReplaceAll(param.ReplaceAllString(strings.ReplaceAll(r.Path, `\:`, "\x00"), "{$1}"), "\x00", ":")
		served[m+" "+path] = true
		if _, ok := doc.Paths[path][m]; !ok {
			t.Errorf("%s %s is served but not in openapi.json", r.Method, path)
		}
	}
	for _, want := range []string{"post /webhooks/twilio/sms", "post /webhooks/twilio/status", "get /healthz", "get /readyz", "get /metrics",
		"put /api/v1/contacts", "get /api/v1/contacts", "get /api/v1/consent", "get /api/v1/conversations", "get /api/v1/conversations/{id}/messages"} {
		if !served[want] {
			t.Errorf("the test server does not serve %s: the comparison would be incomplete", want)
		}
	}
	for path, ops := range doc.Paths {
		for m, op := range ops {
			if !slices.Contains(httpMethods, m) {
				continue
			}
			if !served[m+" "+path] {
				t.Errorf("openapi.json describes %s %s, which is not served", strings.ToUpper(m), path)
			}
			var o struct {
				Security   *[]map[string][]string     `json:"security"`
				Responses  map[string]json.RawMessage `json:"responses"`
				Parameters []paramRef                 `json:"parameters"`
			}
			if err := json.Unmarshal(op, &o); err != nil {
				t.Fatal(err)
			}
			if len(o.Responses) == 0 {
				t.Errorf("%s %s has no responses", m, path)
			}
			// API routes need the key, except the document itself; the others never do.
			needsKey := strings.HasPrefix(path, "/api/v1/") && path != "/api/v1/openapi.json"
			hasKey := false
			if o.Security != nil {
				for _, req := range *o.Security {
					if _, ok := req["bearerAuth"]; ok {
						hasKey = true
					}
				}
			}
			if o.Security == nil || needsKey != hasKey {
				t.Errorf("%s %s: security %v, want bearer=%v stated explicitly", m, path, o.Security, needsKey)
			}
			if _, ok := o.Responses["401"]; needsKey && !ok {
				t.Errorf("%s %s does not document 401", m, path)
			}
			// Every creating POST of the API takes Idempotency-Key (the
			// handlers' side is tested by sending a bad key to every POST).
			if m == "post" && needsKey {
				idem := slices.Contains(o.Parameters, paramRef{Ref: "#/components/parameters/IdempotencyKey"})
				if _, ok := o.Responses["409"]; !idem || !ok {
					t.Errorf("POST %s does not document the Idempotency-Key parameter and its 409", path)
				}
			}
		}
	}

	// The error codes are the catalogue's, no more and no fewer.
	var errSchema struct {
		Properties struct {
			Error struct {
				Properties struct {
					Code struct {
						Enum []string `json:"enum"`
					} `json:"code"`
				} `json:"properties"`
			} `json:"error"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(doc.Components.Schemas["Error"], &errSchema); err != nil {
		t.Fatal(err)
	}
	var catalogue []string
	for code := range apierr.Codes() {
		catalogue = append(catalogue, code)
	}
	documented := errSchema.Properties.Error.Properties.Code.Enum
	slices.Sort(catalogue)
	slices.Sort(documented)
	if !slices.Equal(catalogue, documented) {
		t.Errorf("Error.code enum %v\nwant the apierr catalogue %v", documented, catalogue)
	}

	// Every $ref points at something.
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "$ref" {
					ref, _ := x.(string)
					if !resolves(raw, ref) {
						t.Errorf("dangling $ref %q", ref)
					}
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(raw)
}

func resolves(doc map[string]any, ref string) bool {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	var cur any = doc
	for _, part := range strings.Split(rest, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}
