package bus

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// Defaults of the bus flags. The empty URL selects the embedded server; the
// empty listen address keeps it off the network.
const (
	DefaultURL          = ""
	DefaultListen       = ""
	DefaultSyncAlways   = false
	DefaultStreamPrefix = ""
)

// Config selects and tunes the event bus. The zero value is valid: an
// embedded server with no listener, syncing on an interval, without prefix.
type Config struct {
	// URL of an external NATS server or cluster (comma-separated URLs are
	// accepted). Empty runs the embedded server in the process.
	URL string `yaml:"url"`
	// Listen is a host:port for the embedded server to accept clients from
	// other processes on; port 0 picks a free port. Empty opens no listener.
	// Only meaningful with an empty URL.
	Listen string `yaml:"listen"`
	// SyncAlways makes the embedded server fsync every write instead of on an
	// interval: no acknowledged message is lost on power failure, but
	// publishing is much slower. Only meaningful with an empty URL.
	SyncAlways bool `yaml:"sync-always"`
	// StreamPrefix isolates stream names and subjects on a shared server.
	// Empty in production.
	StreamPrefix string `yaml:"stream-prefix"`
}

// RegisterFlags registers the bus flags (--nats.*) on fs, with the defaults
// above, writing into c.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.URL, "nats.url", DefaultURL,
		"NATS URL(s) of an external JetStream server or cluster; empty runs an embedded server in the process")
	fs.StringVar(&c.Listen, "nats.listen", DefaultListen,
		"embedded server only: host:port to accept NATS clients on (port 0 picks a free port); empty opens no port")
	fs.BoolVar(&c.SyncAlways, "nats.sync-always", DefaultSyncAlways,
		"embedded server only: fsync every write (no loss on power failure, much slower publishing)")
	fs.StringVar(&c.StreamPrefix, "nats.stream-prefix", DefaultStreamPrefix,
		"prefix for stream names and subjects, to share one NATS server between installations or tests")
}

var prefixRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Validate reports every problem of c at once, joined with errors.Join.
func (c *Config) Validate() error {
	var errs []error
	if c.URL != "" {
		errs = append(errs, validateURLs(c.URL)...)
		if c.Listen != "" {
			errs = append(errs, errors.New("nats.listen: applies only to the embedded server, but nats.url is set"))
		}
		if c.SyncAlways {
			errs = append(errs, errors.New("nats.sync-always: applies only to the embedded server, but nats.url is set"))
		}
	}
	if c.Listen != "" {
		if err := validateListen(c.Listen); err != nil {
			errs = append(errs, err)
		}
	}
	if c.StreamPrefix != "" && !prefixRE.MatchString(c.StreamPrefix) {
		errs = append(errs, fmt.Errorf("nats.stream-prefix: %q must contain only letters, digits, '_' and '-'", c.StreamPrefix))
	}
	return errors.Join(errs...)
}

func validateURLs(s string) []error {
	var errs []error
	for _, raw := range strings.Split(s, ",") {
		raw = strings.TrimSpace(raw)
		u, err := url.Parse(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("nats.url: %q: %w", raw, err))
			continue
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			errs = append(errs, fmt.Errorf("nats.url: %q: scheme must be nats, tls, ws or wss", raw))
			continue
		}
		if u.Host == "" {
			errs = append(errs, fmt.Errorf("nats.url: %q: no host", raw))
		}
	}
	return errs
}

func validateListen(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("nats.listen: %q: %w", s, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("nats.listen: %q: port must be a number from 0 to 65535", s)
	}
	return nil
}
