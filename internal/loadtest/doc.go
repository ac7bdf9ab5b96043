// Package loadtest measures and proves the built `parley` binary from
// outside, as Twilio and a deployment see it: real child processes, real
// HTTP over loopback, real Postgres and Redis. It holds the benchmarks
// (`make bench`), and the soak (docs/soak.md): TestSoakShort, which runs in
// `go test`, and TestSoakLong (`make soak`, only with PARLEY_SOAK=1).
package loadtest
