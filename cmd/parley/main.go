// Command parley is the Parley SMS conversation gateway: one binary for the
// web server, the queue worker, migrations and admin tasks.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // IANA zones even in images without /usr/share/zoneinfo

	"github.com/parleyhq/parley/internal/admin"
	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/auth"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/logging"
	"github.com/parleyhq/parley/internal/store"
)

const usage = `parley — two-way SMS conversations for brands

Usage:
  parley migrate                 apply database migrations (safe to run twice)
  parley serve [--worker=false]  run the HTTP server (and the queue worker)
  parley worker                  run the queue worker alone
  parley dev                     run everything locally with a demo brand and a phone simulator
  parley brand add ...           create or update a brand and its numbers
  parley user add ...            create a console user (password from stdin, or generated)
  parley apikey add --name NAME [--brand SLUG]... [--scope SCOPE]... [--rate N]
                                create an API key (printed as the last line)
  parley contacts import FILE.csv --brand SLUG
                                import contacts (and their consent) from a CSV file

Run 'parley COMMAND --help' for a command's flags. Configuration comes from the
environment: DATABASE_URL, REDIS_URL, PARLEY_ADDR, PARLEY_PUBLIC_URL,
TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_API_URL, PARLEY_SPOOL_DIR, and
PARLEY_PPROF_ADDR (optional, loopback only: Go's profiler for serve and worker).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "parley:", err)
			os.Exit(1)
		}
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	log := logging.New(stderr, slog.LevelInfo)
	cmd, rest := args[0], args[1:]
	if (cmd == "brand" || cmd == "user" || cmd == "apikey") && (len(rest) == 0 || rest[0] != "add") {
		if len(rest) > 0 && (rest[0] == "--help" || rest[0] == "-h") {
			fmt.Fprintf(stdout, "Usage: parley %s add [flags]\n", cmd)
			return nil
		}
		return fmt.Errorf("usage: parley %s add [flags] (see parley %s add --help)", cmd, cmd)
	}
	if cmd == "brand" || cmd == "user" || cmd == "apikey" {
		cmd, rest = cmd+" add", rest[1:]
	}
	if cmd == "contacts" {
		if len(rest) == 0 || rest[0] != "import" {
			return errors.New("usage: parley contacts import FILE.csv --brand SLUG")
		}
		cmd, rest = "contacts import", flagsFirst(rest[1:])
	}
	fs := flag.NewFlagSet("parley "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch cmd {
	case "migrate":
		fs.Usage = func() {
			fmt.Fprintln(stderr, "Usage: parley migrate\n\nApplies the embedded SQL migrations under an advisory lock. Needs DATABASE_URL.")
		}
		if err := fs.Parse(rest); err != nil {
			return err
		}
		cfg, err := config.FromEnv(getenv, config.Needs{Database: true})
		if err != nil {
			return err
		}
		return store.Migrate(ctx, cfg.DatabaseURL, log)

	case "serve", "worker":
		worker := fs.Bool("worker", true, "also run the queue worker in this process")
		concurrency := fs.Int("concurrency", 200, "send tasks processed at once by the worker (most only wait for their number's next slot)")
		fs.Usage = func() {
			fmt.Fprintf(stderr, "Usage: parley %s\n\n", cmd)
			if cmd == "serve" {
				fmt.Fprintln(stderr, "Runs the HTTP server (webhooks, API, console) and, unless --worker=false, the queue worker.")
				fs.PrintDefaults()
			} else {
				fmt.Fprintln(stderr, "Runs the queue worker alone (sending, relay, reconciler), to scale sending apart from the web.")
				fs.PrintDefaults()
			}
		}
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if cmd == "worker" {
			cfg, err := config.FromEnv(getenv, config.Needs{Database: true, Redis: true, Twilio: true})
			if err != nil {
				return err
			}
			if cfg.PprofAddr != "" {
				if err := app.StartPprof(ctx, cfg.PprofAddr, log); err != nil {
					return err
				}
			}
			return app.RunWorker(ctx, cfg, log, app.Options{Concurrency: *concurrency})
		}
		cfg, err := config.FromEnv(getenv, config.Needs{Database: true, Redis: true, HTTP: true, Twilio: true})
		if err != nil {
			return err
		}
		return serve(ctx, cfg, log, *worker, *concurrency)

	case "dev":
		fs.Usage = func() {
			fmt.Fprintln(stderr, "Usage: parley dev\n\nMigrates, creates the demo brand, demo data and a login, and serves with the\nsimulator carrier and the phone simulator at /dev/phone. No Twilio account needed.")
		}
		if err := fs.Parse(rest); err != nil {
			return err
		}
		return app.Dev(ctx, getenv, log, stdout)

	case "brand add":
		in := app.BrandAddInput{}
		var numbers multiFlag
		var help optionalString
		fs.StringVar(&in.Slug, "slug", "", "brand identifier, e.g. demo-air (required)")
		fs.StringVar(&in.Name, "name", "", "display name, e.g. \"Demo Air\" (required)")
		fs.Var(&numbers, "number", "a sender number in E.164 (repeatable)")
		fs.IntVar(&in.MPS, "mps", 10, "messages per second each number may send")
		fs.StringVar(&in.Timezone, "timezone", "", "IANA time zone (default America/New_York)")
		fs.StringVar(&in.Country, "country", "", "default country of phone numbers written without +country code (default US)")
		fs.Var(&help, "help-text", "the answer to HELP/INFO")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		in.Numbers, in.HelpText = numbers, help.ptr()
		return withStore(ctx, getenv, func(st *store.Store) error {
			b, err := app.BrandAdd(ctx, st, in)
			if err != nil {
				return err
			}
			nums := make([]string, 0, len(b.Numbers))
			for _, n := range b.Numbers {
				nums = append(nums, fmt.Sprintf("%s (%d mps)", n.Number, n.MPS))
			}
			fmt.Fprintf(stdout, "brand %s (%s) id=%d timezone=%s country=%s numbers: %s\n", b.Slug, b.Name, b.ID, b.Timezone, b.DefaultCountry, strings.Join(nums, ", "))
			return nil
		})

	case "user add":
		email := fs.String("email", "", "login email (required)")
		role := fs.String("role", "agent", "admin, agent or marketer")
		var brands multiFlag
		fs.Var(&brands, "brand", "limit the user to this brand's conversations (repeat for several; none: every brand)")
		capacity := fs.String("capacity", "", "open conversations assigned to the user automatically at most, 0 to 1000 (default 10 for a new user; absent keeps it)")
		fs.Usage = func() {
			fmt.Fprintln(stderr, "Usage: parley user add --email a@b.c --role admin|agent|marketer [--brand slug ...] [--capacity N]\n\nThe password is read from stdin (first line); with no stdin one is generated and printed.")
			fs.PrintDefaults()
		}
		if err := fs.Parse(rest); err != nil {
			return err
		}
		capN := -1
		if *capacity != "" {
			n, err := admin.CheckCapacity(*capacity)
			if err != nil {
				return fmt.Errorf("--capacity: %q: a whole number from 0 to 1000", *capacity)
			}
			capN = n
		}
		pw := readPassword(stdin)
		return withStore(ctx, getenv, func(st *store.Store) error {
			u, generated, err := app.UserAdd(ctx, st, *email, *role, pw, brands...)
			if err != nil {
				return err
			}
			if capN >= 0 {
				if err := st.SetUserCapacity(ctx, u.ID, capN); err != nil {
					return err
				}
			}
			fmt.Fprintf(stdout, "user %s role=%s id=%d\n", u.Email, u.Role, u.ID)
			if generated != "" {
				fmt.Fprintf(stdout, "password: %s\n", generated)
			}
			return nil
		})

	case "apikey add":
		name := fs.String("name", "", "what the key is for (required)")
		var brands, scopes []string
		fs.Func("brand", "a brand the key may touch, by slug (repeat for more; none: every brand)", func(v string) error {
			brands = append(brands, v)
			return nil
		})
		fs.Func("scope", "a scope the key has (repeat for more; none: every scope): "+scopeNames(), func(v string) error {
			scopes = append(scopes, v)
			return nil
		})
		rate := fs.String("rate", "100", "requests per second (burst twice that), shared by every process")
		fs.Usage = func() {
			fmt.Fprintln(stderr, "Usage: parley apikey add --name NAME [--brand SLUG]... [--scope SCOPE]... [--rate N]\n\nPrints the new key as the last line; only its hash is stored.")
			fs.PrintDefaults()
		}
		if err := fs.Parse(rest); err != nil {
			return err
		}
		return withStore(ctx, getenv, func(st *store.Store) error {
			key, err := app.APIKeyAdd(ctx, st, *name, app.ForBrands(brands...), app.WithScopes(scopes...), app.AtRate(*rate))
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "API key %q created; it is shown only once:\n%s\n", *name, key)
			return nil
		})

	case "contacts import":
		brand := fs.String("brand", "", "the brand whose contacts and consent these are (required)")
		fs.Usage = func() {
			fmt.Fprintln(stderr, `Usage: parley contacts import FILE.csv --brand SLUG

Columns: phone (or phones, ';'-separated), loyalty_id, name, timezone; any other
column becomes an attribute; optional consent_purpose, consent_status,
consent_source, consent_evidence, consent_at. Bad rows are reported with their
line and reason and skipped; the rest is imported. Importing the same file
twice changes nothing, and an import never lifts an opt-out the customer texted.`)
			fs.PrintDefaults()
		}
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return errors.New("usage: parley contacts import FILE.csv --brand SLUG (one file)")
		}
		if *brand == "" {
			return errors.New("--brand: give the brand's slug")
		}
		return withStore(ctx, getenv, func(st *store.Store) error {
			return importContacts(ctx, st, fs.Arg(0), *brand, stdout, stderr)
		})
	}
	return fmt.Errorf("unknown command %q (run parley --help)", cmd)
}

// flagsFirst moves positional arguments after the flags, so that
// "import FILE --brand x" parses like "import --brand x FILE".
func flagsFirst(args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			flags = append(flags, a)
			if !strings.Contains(a, "=") && i+1 < len(args) && a != "--help" && a != "-h" {
				flags = append(flags, args[i+1])
				i++
			}
		default:
			pos = append(pos, a)
		}
	}
	return append(flags, pos...)
}

func scopeNames() string {
	names := make([]string, len(auth.Scopes))
	for i, s := range auth.Scopes {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

func serve(ctx context.Context, cfg config.Config, log *slog.Logger, worker bool, concurrency int) error {
	if concurrency <= 0 {
		return fmt.Errorf("--concurrency: %d must be at least 1", concurrency)
	}
	a, err := app.Build(ctx, cfg, log, app.Options{Concurrency: concurrency})
	if err != nil {
		return err
	}
	defer a.Close()
	if cfg.PprofAddr != "" {
		if err := app.StartPprof(ctx, cfg.PprofAddr, log); err != nil {
			return err
		}
	}
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("PARLEY_ADDR: cannot listen on %s: %w", cfg.Addr, err)
	}
	return a.Run(ctx, ln, worker)
}

func withStore(ctx context.Context, getenv func(string) string, fn func(*store.Store) error) error {
	cfg, err := config.FromEnv(getenv, config.Needs{Database: true})
	if err != nil {
		return err
	}
	// Four: `contacts import` holds two sessions and writes merges on a
	// third connection (the pool opens connections only when asked).
	st, err := store.Open(ctx, cfg.DatabaseURL, 4)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

// readPassword takes the first line of stdin when stdin is a pipe or file.
func readPassword(stdin io.Reader) string {
	if f, ok := stdin.(*os.File); ok {
		if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice != 0 {
			return "" // a terminal: generate rather than echo a typed password
		}
	}
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	return strings.TrimRight(line, "\r\n")
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type optionalString struct {
	v   string
	set bool
}

func (o *optionalString) String() string     { return o.v }
func (o *optionalString) Set(v string) error { o.v, o.set = v, true; return nil }
func (o *optionalString) ptr() *string {
	if !o.set {
		return nil
	}
	return &o.v
}
