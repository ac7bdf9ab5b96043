package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// QueueStat is one queue's backlog at scrape time.
type QueueStat struct {
	Name                                      string
	Pending, Active, Scheduled, Retry, Failed int
	LatencySeconds                            float64
}

// PoolStat is the Postgres pool at scrape time.
type PoolStat struct {
	Acquired, Idle, Total, Max int32
	AcquireCount, EmptyAcquire int64
	AcquireSeconds             float64
}

// Sources are read when Prometheus scrapes, never in a request: each may
// be nil.
type Sources struct {
	Queues      func() []QueueStat
	Pool        func() PoolStat
	SSEClients  func() int
	Campaigns   func() map[string]int // running, scheduled, paused … : how many campaigns
	TriggerRuns func() map[string]int // pending, sent, skipped …: runs by outcome
}

var (
	queueSize = prometheus.NewDesc("parley_queue_tasks", "Tasks in each asynq queue by state (pending, active, scheduled, retry, archived).",
		[]string{"queue", "state"}, nil)
	queueLatency = prometheus.NewDesc("parley_queue_latency_seconds", "Age of each asynq queue's oldest pending task.", []string{"queue"}, nil)
	poolConns    = prometheus.NewDesc("parley_pg_pool_connections", "Postgres pool connections by state (acquired, idle, total, max).",
		[]string{"state"}, nil)
	poolAcquires = prometheus.NewDesc("parley_pg_pool_acquires_total", "Connections acquired from the Postgres pool.", nil, nil)
	poolEmpty    = prometheus.NewDesc("parley_pg_pool_empty_acquires_total", "Acquires that had to wait for a connection.", nil, nil)
	poolWait     = prometheus.NewDesc("parley_pg_pool_acquire_seconds_total", "Time spent acquiring Postgres connections.", nil, nil)
	sseClients   = prometheus.NewDesc("parley_sse_clients", "Consoles connected to the live event stream.", nil, nil)
	campaigns    = prometheus.NewDesc("parley_campaigns", "Campaigns by state.", []string{"state"}, nil)
	triggerRuns  = prometheus.NewDesc("parley_trigger_runs", "Trigger runs by outcome.", []string{"outcome"}, nil)
)

type collector struct{ src Sources }

// Watch reports src's values on every scrape.
func (m *Metrics) Watch(src Sources) { m.Registry.MustRegister(collector{src}) }

func (collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{queueSize, queueLatency, poolConns, poolAcquires, poolEmpty, poolWait, sseClients, campaigns, triggerRuns} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if c.src.Queues != nil {
		for _, q := range c.src.Queues() {
			for state, n := range map[string]int{"pending": q.Pending, "active": q.Active, "scheduled": q.Scheduled, "retry": q.Retry, "archived": q.Failed} {
				gauge(queueSize, float64(n), q.Name, state)
			}
			gauge(queueLatency, q.LatencySeconds, q.Name)
		}
	}
	if c.src.Pool != nil {
		p := c.src.Pool()
		for state, n := range map[string]int32{"acquired": p.Acquired, "idle": p.Idle, "total": p.Total, "max": p.Max} {
			gauge(poolConns, float64(n), state)
		}
		ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(p.AcquireCount))
		ch <- prometheus.MustNewConstMetric(poolEmpty, prometheus.CounterValue, float64(p.EmptyAcquire))
		ch <- prometheus.MustNewConstMetric(poolWait, prometheus.CounterValue, p.AcquireSeconds)
	}
	if c.src.SSEClients != nil {
		gauge(sseClients, float64(c.src.SSEClients()))
	}
	if c.src.Campaigns != nil {
		for state, n := range c.src.Campaigns() {
			gauge(campaigns, float64(n), state)
		}
	}
	if c.src.TriggerRuns != nil {
		for outcome, n := range c.src.TriggerRuns() {
			gauge(triggerRuns, float64(n), outcome)
		}
	}
}
