// Package metrics holds Parley's Prometheus instruments in one registry per
// process (no globals), exposed at GET /metrics.
package metrics

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the counters and histograms Parley reports.
type Metrics struct {
	Registry           *prometheus.Registry
	InboundTotal       *prometheus.CounterVec // by outcome: stored, duplicate, spooled
	SignatureFailures  *prometheus.CounterVec // by endpoint
	WebhookLatency     *prometheus.HistogramVec
	SpoolDepthGauge    prometheus.Gauge
	StatusCallbacks    *prometheus.CounterVec // by outcome: applied, stale, pending
	HTTPRequestsByCode *prometheus.CounterVec
	SendOutcomes       *prometheus.CounterVec // by outcome: sent, suppressed, held, rate_limited, retryable, …
	CarrierCalls       *prometheus.CounterVec // by sender number and error code ("0": accepted)
}

// New registers every instrument in a fresh registry.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		InboundTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_inbound_messages_total", Help: "Inbound texts received, by outcome (stored, duplicate, spooled).",
		}, []string{"outcome"}),
		SignatureFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_webhook_signature_failures_total", Help: "Webhook requests refused for a bad or missing X-Twilio-Signature.",
		}, []string{"endpoint"}),
		WebhookLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "parley_webhook_duration_seconds", Help: "Time to answer a Twilio webhook.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"endpoint"}),
		SpoolDepthGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "parley_spool_pending", Help: "Inbound texts waiting in the durable spool for Postgres.",
		}),
		StatusCallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_status_callbacks_total", Help: "Delivery status callbacks, by outcome (applied, stale, pending).",
		}, []string{"outcome"}),
		SendOutcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_send_outcomes_total", Help: "Outbound send attempts by outcome (sent, suppressed, held, rate_limited, retryable, ambiguous, …).",
		}, []string{"outcome"}),
		CarrierCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_carrier_calls_total", Help: "Calls to the carrier's send API by sender number and error code (0: accepted).",
		}, []string{"from", "code"}),
		HTTPRequestsByCode: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
	}
	r.MustRegister(m.InboundTotal, m.SignatureFailures, m.WebhookLatency, m.SpoolDepthGauge, m.StatusCallbacks,
		m.HTTPRequestsByCode, m.SendOutcomes, m.CarrierCalls, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, o := range []string{"stored", "duplicate", "spooled"} {
		m.InboundTotal.WithLabelValues(o)
	}
	for _, e := range []string{"sms", "status"} {
		m.SignatureFailures.WithLabelValues(e)
	}
	return m
}

// Received counts one inbound text by outcome (inbound.Metrics).
func (m *Metrics) Received(outcome string) { m.InboundTotal.WithLabelValues(outcome).Inc() }

// SpoolDepth reports the spool's backlog (inbound.Metrics).
func (m *Metrics) SpoolDepth(n int) { m.SpoolDepthGauge.Set(float64(n)) }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// Sent counts one send attempt's outcome (outbound.SendMetrics).
func (m *Metrics) Sent(outcome string) { m.SendOutcomes.WithLabelValues(outcome).Inc() }

// Carrier counts one carrier call by number and error code
// (outbound.SendMetrics).
func (m *Metrics) Carrier(from string, code int) {
	m.CarrierCalls.WithLabelValues(from, strconv.Itoa(code)).Inc()
}
