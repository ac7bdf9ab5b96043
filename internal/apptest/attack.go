package apptest

import "strings"

// SQLInjection is the corpus the security tests send to every filter and
// search: quotes, comments, UNION, stacked queries, LIKE wildcards, a sleep,
// a NUL byte, bytes that are not UTF-8, right-to-left and astral
// characters, placeholders and a very long string. Each must be answered
// 200 or a 4xx naming the field, and change nothing.
var SQLInjection = []string{
	`'`,
	`''`,
	`"`,
	`' OR '1'='1`,
	`1 OR 1=1 --`,
	`' OR 1=1 --`,
	`admin'/*`,
	`*/ OR /*`,
	`'; DROP TABLE contacts; --`,
	`1; DROP TABLE messages`,
	`' UNION SELECT email, password_hash FROM users --`,
	`') UNION ALL SELECT NULL, NULL, NULL --`,
	`'||pg_sleep(2)||'`,
	`%' --`,
	`%_%`,
	`\`,
	`$1`,
	"nul\x00byte",
	"\xff\xfe not utf-8 \xc3\x28",
	"\u202e'; DROP TABLE users; --",
	"𝕏 Ünïcødé 日本語 🙂",
	strings.Repeat("A'", 4000),
}

// XSS is the corpus of hostile text stored as customers' texts, names and
// attributes, and as campaign names and bodies: a page must show each as
// text, run nothing and grow no element from it. Each sets
// window.__xss when it runs, and carries the marker XSSMarker in an
// attribute or tag name so an injected element can be found.
var XSS = []string{
	`<script>window.__xss=1;alert(1)</script>`,
	`"><img src=x onerror="window.__xss=2;alert(2)" data-xss-marker>`,
	`'><svg onload="window.__xss=3;alert(3)" data-xss-marker></svg>`,
	`<a href="javascript:window.__xss=4;alert(4)" data-xss-marker>click</a>`,
	`</textarea><script>window.__xss=5</script><textarea>`,
	`</title></style><iframe srcdoc="<script>parent.__xss=6</script>" data-xss-marker></iframe>`,
	`{{.Name}} {{define "x"}}{{end}} ${7*7} <xss-marker-tag></xss-marker-tag>`,
	`<details open ontoggle="window.__xss=8" data-xss-marker>`,
}

// XSSMarker is what every element the XSS corpus would create carries,
// as an attribute (data-xss-marker) or as its tag name (xss-marker-tag).
const XSSMarker = "[data-xss-marker], xss-marker-tag, iframe[srcdoc]"
