// Package browsertest drives the agents' console in a real headless
// Chromium (Debian's chromium, installed by `make test`): sign in, live
// updates, reply, assign, note, close, and escaping of hostile text. It holds
// only tests; the browser dependency stays out of the console package.
package browsertest
