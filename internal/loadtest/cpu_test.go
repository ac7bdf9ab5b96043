package loadtest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// clockTick is USER_HZ, the unit of /proc/<pid>/stat's CPU times (100 on
// every Linux this runs on).
const clockTick = 10 * time.Millisecond

// procCPU is the user+system CPU time pid has used, 0 if it is gone.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * clockTick
}

// cpuMeter samples where CPU goes during a slice: the server process, the
// Postgres backends connected to its database, and this process (the load
// generator). Everything else on the machine is "other".
type cpuMeter struct {
	server int
	pool   *pgxpool.Pool
	start  map[string]time.Duration
	pg     map[int]time.Duration
}

// cpuUse is one slice's CPU per request, in microseconds.
type cpuUse struct{ server, postgres, loadgen, machine float64 }

func (c cpuUse) String() string {
	return fmt.Sprintf("CPU µs/request: server %.0f, its postgres backends %.0f, load generator %.0f, machine total %.0f",
		c.server, c.postgres, c.loadgen, c.machine)
}

func newCPUMeter(server int, pool *pgxpool.Pool) *cpuMeter {
	m := &cpuMeter{server: server, pool: pool}
	m.start = m.sample()
	return m
}

func (m *cpuMeter) backends() map[int]time.Duration {
	out := map[int]time.Duration{}
	rows, err := m.pool.Query(context.Background(), `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	if err != nil {
		return out
	}
	defer rows.Close()
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) == nil {
			out[pid] = procCPU(pid)
		}
	}
	return out
}

func (m *cpuMeter) sample() map[string]time.Duration {
	var pg time.Duration
	bs := m.backends()
	if m.pg == nil {
		m.pg = bs
	} else {
		for pid, t := range bs {
			pg += t - m.pg[pid] // a backend born during the slice counts from 0
		}
	}
	return map[string]time.Duration{
		"server": procCPU(m.server), "postgres": pg, "loadgen": procCPU(os.Getpid()), "machine": machineCPU(),
	}
}

// done returns the CPU per request since newCPUMeter.
func (m *cpuMeter) done(requests int) cpuUse {
	end := m.sample()
	per := func(k string) float64 {
		d := end[k] - m.start[k]
		if k == "postgres" {
			d = end[k] // already a difference
		}
		return float64(d.Microseconds()) / float64(max(1, requests))
	}
	return cpuUse{server: per("server"), postgres: per("postgres"), loadgen: per("loadgen"), machine: per("machine")}
}

// machineCPU is the busy (non-idle, non-iowait) time of every core, from /proc/stat.
func machineCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var busy int64
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i == 3 || i == 4 || i >= 7 { // idle, iowait; steal/guest are not ours
			continue
		}
		busy += n
	}
	return time.Duration(busy) * clockTick
}
