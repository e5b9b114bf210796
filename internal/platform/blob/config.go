package blob

import (
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/spf13/pflag"
)

// DefaultURL is the default of --blob.url: empty, the directory
// <data dir>/blobs.
const DefaultURL = ""

// defaultDirName is the blob directory inside the data directory.
const defaultDirName = "blobs"

// Config selects the blob store.
type Config struct {
	// URL is empty for <data dir>/blobs, or file:///dir, s3://bucket?...,
	// mem://.
	URL string `yaml:"url"`
}

// RegisterFlags registers --blob.url on fs, writing into c.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.URL, "blob.url", DefaultURL,
		"blob store: s3://bucket?endpoint=...&use_path_style=true&region=..., file:///dir, mem://, or empty for a directory in the data directory")
}

// Validate reports the problem of c's URL, if any.
func (c *Config) Validate() error {
	if c.URL == "" {
		return nil
	}
	_, err := parseURL(c.URL)
	return err
}

func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("blob.url: %w", err)
	}
	switch u.Scheme {
	case "file":
		if (u.Host != "" && u.Host != "localhost") || u.Path == "" || !filepath.IsAbs(u.Path) {
			return nil, fmt.Errorf("blob.url: %q: file URLs need an absolute path (file:///dir)", raw)
		}
	case "s3":
		if u.Host == "" {
			return nil, fmt.Errorf("blob.url: %q: no bucket", raw)
		}
	case "mem":
	default:
		return nil, fmt.Errorf("blob.url: %q: scheme must be file, s3 or mem", raw)
	}
	return u, nil
}
