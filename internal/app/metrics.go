package app

import (
	"context"
	"time"

	"github.com/parleyhq/parley/internal/metrics"
)

// metricSources are what /metrics reads at scrape time: the asynq queues'
// backlog and latency, the Postgres pool, the consoles on the live stream
// and the campaigns by state.
func (a *App) metricSources() metrics.Sources {
	return metrics.Sources{
		Queues: func() []metrics.QueueStat {
			var out []metrics.QueueStat
			for _, q := range a.Queue.Stats() {
				out = append(out, metrics.QueueStat{Name: q.Name, Pending: q.Pending, Active: q.Active, Scheduled: q.Scheduled,
					Retry: q.Retry, Failed: q.Failed, LatencySeconds: q.Latency.Seconds()})
			}
			return out
		},
		Pool: func() metrics.PoolStat {
			s := a.Store.Pool.Stat()
			return metrics.PoolStat{Acquired: s.AcquiredConns(), Idle: s.IdleConns(), Total: s.TotalConns(), Max: s.MaxConns(),
				AcquireCount: s.AcquireCount(), EmptyAcquire: s.EmptyAcquireCount(), AcquireSeconds: s.AcquireDuration().Seconds()}
		},
		SSEClients: func() int {
			if a.Hub == nil { // a worker serves no consoles
				return 0
			}
			return a.Hub.Subscribers()
		},
		Campaigns: func() map[string]int {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			m, err := a.Store.CampaignStates(ctx)
			if err != nil {
				a.Log.Warn("metrics: campaign states", "err", err)
			}
			return m
		},
	}
}
