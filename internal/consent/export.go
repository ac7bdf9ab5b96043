package consent

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// ExportFlushRows is how many ledger rows an export writes between two
// flushes to the client.
const ExportFlushRows = 500

// exportColumns are the ledger file's columns.
var exportColumns = []string{"id", "phone", "purpose", "status", "source", "evidence", "message_id", "created_at", "campaign_id"}

// Export writes brand's whole consent ledger to w as CSV, oldest first:
// id, phone, purpose, status, source, evidence, message_id (empty when the
// entry came with no text) and created_at (RFC 3339, UTC, to the
// microsecond the ledger keeps). It streams, in constant memory, and calls
// flush every ExportFlushRows rows and at the end. It returns how many
// entries it wrote.
func (l *Ledger) Export(ctx context.Context, brandID int64, w io.Writer, flush func() error) (int64, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(exportColumns); err != nil {
		return 0, err
	}
	var n int64
	record := make([]string, len(exportColumns))
	err := l.st.ExportConsent(ctx, brandID, func(e store.ConsentEvent) error {
		record[0] = strconv.FormatInt(e.ID, 10)
		record[1], record[2], record[3], record[4], record[5] = e.Phone, e.Purpose, e.Status, e.Source, e.Evidence
		record[6] = ""
		if e.MessageID != 0 {
			record[6] = strconv.FormatInt(e.MessageID, 10)
		}
		record[7] = e.CreatedAt.UTC().Format(time.RFC3339Nano)
		record[8] = ""
		if e.CampaignID != 0 {
			record[8] = strconv.FormatInt(e.CampaignID, 10)
		}
		if err := cw.Write(record); err != nil {
			return err
		}
		n++
		if n%ExportFlushRows == 0 {
			return flushCSV(cw, flush)
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	return n, flushCSV(cw, flush)
}

func flushCSV(cw *csv.Writer, flush func() error) error {
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return flush()
}
