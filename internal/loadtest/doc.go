// Package loadtest measures the built `parley` binary from outside, as Twilio
// and a deployment see it: a real child process, real HTTP over loopback, the
// real Postgres and Redis. It holds only benchmarks (`make bench`); `go test`
// without -bench runs nothing here.
package loadtest
