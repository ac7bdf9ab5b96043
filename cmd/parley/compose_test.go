package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// docker-compose.yml stays true to the binary: every Parley service runs a
// real subcommand with flags it has, and sets only variables Parley reads.
func TestComposeFile(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Services map[string]struct {
			Build       string            `yaml:"build"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	src, err := os.ReadFile("../../internal/config/config.go")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, m := range regexp.MustCompile(`getenv\("([A-Z_]+)"\)`).FindAllStringSubmatch(string(src), -1) {
		known[m[1]] = true
	}
	parleys := 0
	for name, s := range f.Services {
		if s.Build == "" {
			continue
		}
		parleys++
		if len(s.Command) < 2 || s.Command[0] != "parley" {
			t.Errorf("%s: command %q is not a parley subcommand", name, s.Command)
			continue
		}
		if !slices.Contains([]string{"dev", "migrate", "serve", "worker"}, s.Command[1]) {
			t.Errorf("%s: parley has no subcommand %q", name, s.Command[1])
		}
		for _, flag := range s.Command[2:] {
			if s.Command[1] != "serve" || flag != "--worker=false" {
				t.Errorf("%s: unexpected flag %q", name, flag)
			}
		}
		for k := range s.Environment {
			if !known[k] {
				t.Errorf("%s: sets %s, which Parley does not read", name, k)
			}
		}
		if !strings.Contains(s.Environment["DATABASE_URL"], "@postgres:5432/") || !strings.HasPrefix(s.Environment["REDIS_URL"], "redis://redis:6379/") {
			t.Errorf("%s: DATABASE_URL/REDIS_URL do not point at the compose services: %v", name, s.Environment)
		}
	}
	if parleys < 4 {
		t.Errorf("found %d Parley services, want dev, migrate, web and worker", parleys)
	}
}
