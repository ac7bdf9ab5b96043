package contact

import (
	"context"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/store"
)

// The columns an export writes besides the import's: the contact's id and
// where its first phone stands with the brand. They say what the file
// was; they are not meant to be imported (an id is another database's,
// and consent belongs to the brand that recorded it, with its evidence).
const (
	colID                    = "id"
	colConsentMarketing      = "consent_marketing"
	colConsentConversational = "consent_conversational"
)

// ExportFlushRows is how many rows an export writes between two flushes
// to the client, so the file arrives as it is read.
const ExportFlushRows = 500

// ExportResult says what an export wrote.
type ExportResult struct {
	Rows int64
	// SkippedKeys are attribute keys left out because the import could not
	// read them back as themselves: a name that, ignoring case and
	// surrounding spaces, is a column of the file or another key's.
	SkippedKeys []string
}

// exportFixed are the file's columns before the attributes.
var exportFixed = []string{colID, colPhones, colLoyalty, colName, colTimezone}

// reservedColumns are the names, folded as the import folds them, that an
// attribute column may not take: every column the import reads by name,
// and the export's own.
var reservedColumns = []string{colPhone, colPhones, colLoyalty, colName, colTimezone, colPurpose, colStatus, colSource,
	colEvidence, colConsentAt, colID, colConsentMarketing, colConsentConversational}

// exportKeys picks the attribute keys that become columns: those whose
// folded name is free, each folded name taken once, the first in sorted
// order winning.
func exportKeys(keys []string) (kept, skipped []string) {
	taken := map[string]bool{}
	for _, n := range reservedColumns {
		taken[n] = true
	}
	for _, k := range keys {
		f := strings.ToLower(strings.TrimSpace(k))
		if f == "" || taken[f] {
			skipped = append(skipped, k)
			continue
		}
		taken[f] = true
		kept = append(kept, k)
	}
	return kept, skipped
}

// consentCell is a consent state as the file writes it.
func consentCell(status string) string {
	if status == "" {
		return "none"
	}
	return status
}

// Export writes brand b's contacts (store.ExportContacts says which) to w
// as CSV, streaming: columns id, phones (";"-separated, E.164), loyalty_id,
// name, timezone, one column per attribute key (sorted; text, numbers in
// plain decimal, true/false, objects and arrays as JSON), then
// consent_marketing and consent_conversational (opted_in, opted_out or
// none: the first phone's newest state at the brand). It calls flush every
// ExportFlushRows rows and at the end, after handing w what it holds. The
// import reads the file's phones, loyalty_id, name, timezone and
// attributes back (Import); it does not know id and the consent columns.
func (s *Service) Export(ctx context.Context, b store.Brand, w io.Writer, flush func() error) (ExportResult, error) {
	var res ExportResult
	cw := csv.NewWriter(w)
	var record []string
	header := func(keys []string) ([]string, error) {
		kept, skipped := exportKeys(keys)
		res.SkippedKeys = skipped
		cols := slices.Concat(exportFixed, kept, []string{colConsentMarketing, colConsentConversational})
		record = make([]string, len(cols))
		return kept, cw.Write(cols)
	}
	each := func(r store.ContactExport) error {
		record[0] = strconv.FormatInt(r.ID, 10)
		record[1] = strings.Join(r.Phones, ";")
		record[2], record[3], record[4] = r.LoyaltyID, r.Name, r.Timezone
		for i, v := range r.Attributes {
			record[len(exportFixed)+i] = ""
			if v != nil {
				record[len(exportFixed)+i] = *v
			}
		}
		record[len(record)-2], record[len(record)-1] = consentCell(r.Marketing), consentCell(r.Conversational)
		if err := cw.Write(record); err != nil {
			return err
		}
		res.Rows++
		if res.Rows%ExportFlushRows == 0 {
			return flushCSV(cw, flush)
		}
		return nil
	}
	if err := s.st.ExportContacts(ctx, b.ID, header, each); err != nil {
		return res, err
	}
	return res, flushCSV(cw, flush)
}

// flushCSV hands w what the CSV writer holds, then flushes w.
func flushCSV(cw *csv.Writer, flush func() error) error {
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return flush()
}
