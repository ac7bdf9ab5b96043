package inbound

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/outbound"
)

// Spool is the durable local log of verified webhooks that could not reach
// Postgres. Each record is appended and fsynced before the webhook answers
// 200, so Twilio's one delivery is never lost. Records live in segment files
// named by the time they were opened (a new one each day, or past maxSegment
// bytes); the replayer drains sealed segments in name order, which is arrival
// order, and deletes a segment only once every record in it is stored.
//
// A record is an inbound text or a delivery status callback (see Record).
// Record layout: 4-byte big-endian length, 4-byte CRC-32 (IEEE) of the
// payload, JSON payload. A torn final record (a crash mid-write) fails its
// length or checksum and ends that segment.
type Spool struct {
	dir        string
	maxSegment int64

	mu      sync.Mutex
	cur     *os.File
	curName string
	curDay  string
	curSize int64
	pending int // records written and not yet replayed
	seq     int
	now     func() time.Time
}

const segmentSuffix = ".spool"

// Record is one spooled webhook: exactly one of Message and Status is set.
type Record struct {
	Message *Message           `json:"message,omitempty"`
	Status  *outbound.Callback `json:"status,omitempty"`
}

// OpenSpool opens (creating if needed) the spool directory and counts the
// records left there by an earlier run.
func OpenSpool(dir string) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("PARLEY_SPOOL_DIR: cannot create %s: %w", dir, err)
	}
	s := &Spool{dir: dir, maxSegment: 16 << 20, now: time.Now}
	segs, err := s.segments()
	if err != nil {
		return nil, err
	}
	for _, name := range segs {
		recs, err := readSegment(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		s.pending += len(recs)
	}
	return s, nil
}

// Pending is how many spooled records wait to be replayed.
func (s *Spool) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending
}

// Append writes one message durably (fsync) before returning.
func (s *Spool) Append(m Record) error {
	payload, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("spool: encode: %w", err)
	}
	rec := make([]byte, 8+len(payload))
	binary.BigEndian.PutUint32(rec[0:4], uint32(len(payload))) //nolint:gosec // G115: a payload is a webhook body, far below 4 GiB
	binary.BigEndian.PutUint32(rec[4:8], crc32.ChecksumIEEE(payload))
	copy(rec[8:], payload)

	s.mu.Lock()
	defer s.mu.Unlock()
	day := s.now().UTC().Format("20060102")
	if s.cur == nil || s.curDay != day || s.curSize >= s.maxSegment {
		if err := s.rotateLocked(day); err != nil {
			return err
		}
	}
	if _, err := s.cur.Write(rec); err != nil {
		return fmt.Errorf("spool: write %s: %w", s.curName, err)
	}
	if err := s.cur.Sync(); err != nil {
		return fmt.Errorf("spool: fsync %s: %w", s.curName, err)
	}
	s.curSize += int64(len(rec))
	s.pending++
	return nil
}

func (s *Spool) rotateLocked(day string) error {
	if err := s.sealLocked(); err != nil {
		return err
	}
	s.seq++
	name := fmt.Sprintf("%s-%020d-%06d%s", day, s.now().UnixNano(), s.seq, segmentSuffix)
	f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_EXCL, 0o600) //nolint:gosec // G304: a new segment name in the spool's own directory
	if err != nil {
		return fmt.Errorf("spool: open segment: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		_ = f.Close() // the directory sync failed: that error is the one to report
		return err
	}
	s.cur, s.curName, s.curDay, s.curSize = f, name, day, 0
	return nil
}

func (s *Spool) sealLocked() error {
	if s.cur == nil {
		return nil
	}
	err := s.cur.Close()
	s.cur, s.curName = nil, ""
	if err != nil {
		return fmt.Errorf("spool: close segment: %w", err)
	}
	return nil
}

// DeadLetter appends a record Postgres refused (not an outage: the record
// itself) to dead-letter.jsonl in the spool directory, with the reason, so an
// operator can look at it; the spool then moves on.
func (s *Spool) DeadLetter(r Record, reason error) error {
	line, err := json.Marshal(struct {
		At     time.Time `json:"at"`
		Reason string    `json:"reason"`
		Record Record    `json:"record"`
	}{time.Now().UTC(), reason.Error(), r})
	if err != nil {
		return fmt.Errorf("spool: dead letter: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(s.dir, "dead-letter.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("spool: dead letter: %w", err)
	}
	defer func() { _ = f.Close() }() // synced below before returning; a close error loses nothing
	if _, err := f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("spool: dead letter: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("spool: dead letter: %w", err)
	}
	return nil
}

// Close closes the open segment.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sealLocked()
}

// Drain replays every record in arrival order through store. It seals the open
// segment first so it owns every file it reads. It stops at the first error
// (the database went away again), leaving that segment for the next try; a
// record stored twice is harmless because the pipeline deduplicates on
// MessageSid.
func (s *Spool) Drain(store func(Record) error) (int, error) {
	return s.DrainBatches(1, func(recs []Record) error { return store(recs[0]) })
}

// DrainBatches is Drain handing store up to max consecutive records of a
// segment at a time, so a replay can store them as one batch.
func (s *Spool) DrainBatches(size int, store func([]Record) error) (int, error) {
	size = max(size, 1)
	s.mu.Lock()
	err := s.sealLocked()
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	segs, err := s.segments()
	if err != nil {
		return 0, err
	}
	done := 0
	for _, name := range segs {
		path := filepath.Join(s.dir, name)
		recs, err := readSegment(path)
		if err != nil {
			return done, err
		}
		for rest := recs; len(rest) > 0; {
			n := min(size, len(rest))
			if err := store(rest[:n]); err != nil {
				return done, err
			}
			rest = rest[n:]
		}
		if err := os.Remove(path); err != nil {
			return done, fmt.Errorf("spool: remove %s: %w", name, err)
		}
		if err := syncDir(s.dir); err != nil {
			return done, err
		}
		done += len(recs)
		s.mu.Lock()
		s.pending -= len(recs)
		s.mu.Unlock()
	}
	return done, nil
}

// segments lists segment files, oldest first. A segment being written by Append
// is not listed because Drain seals it first and Append then opens a new one
// with a later name; Drain only reads segments it saw after sealing.
func (s *Spool) segments() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("spool: list %s: %w", s.dir, err)
	}
	s.mu.Lock()
	open := s.curName
	s.mu.Unlock()
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), segmentSuffix) && e.Name() != open {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

func readSegment(path string) ([]Record, error) {
	f, err := os.Open(path) //nolint:gosec // G304: path is a segment file listed from the spool's own directory
	if err != nil {
		return nil, fmt.Errorf("spool: open %s: %w", path, err)
	}
	defer func() { _ = f.Close() }() // read only
	r := bufio.NewReader(f)
	var out []Record
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return out, nil // end, or a torn header
			}
			return nil, fmt.Errorf("spool: read %s: %w", path, err)
		}
		n := binary.BigEndian.Uint32(hdr[0:4])
		if n > 1<<20 {
			return out, nil // garbage length: a torn record
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return out, nil // torn payload
		}
		if crc32.ChecksumIEEE(payload) != binary.BigEndian.Uint32(hdr[4:8]) {
			return out, nil
		}
		var m Record
		if err := json.Unmarshal(payload, &m); err != nil {
			return nil, fmt.Errorf("spool: decode record in %s: %w", path, err)
		}
		out = append(out, m)
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir) //nolint:gosec // G304: dir is the configured spool directory
	if err != nil {
		return fmt.Errorf("spool: open dir: %w", err)
	}
	defer func() { _ = d.Close() }() // read only (opened to fsync the directory)
	if err := d.Sync(); err != nil {
		return fmt.Errorf("spool: fsync dir: %w", err)
	}
	return nil
}
