package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/plinthai/plinth/client"
)

func modelsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "models", Short: "List, show and create models"}
	var pageSize int
	list := &cobra.Command{Use: "list", Short: "List models", Args: cobra.NoArgs, RunE: wrapRun(func(cmd *cobra.Command, _ []string) error {
		c, err := g.client()
		if err != nil {
			return err
		}
		var all []client.Model
		for token := ""; ; {
			page, err := c.ListModels(cmd.Context(), pageSize, token)
			if err != nil {
				return err
			}
			all = append(all, page.Models...)
			if token = page.NextPageToken; token == "" {
				break
			}
		}
		return g.printModels(cmd.OutOrStdout(), all)
	})}
	list.Flags().IntVar(&pageSize, "page-size", 100, "models fetched per request")
	get := &cobra.Command{Use: "get NAME", Short: "Show a model", Args: cobra.ExactArgs(1), RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
		c, err := g.client()
		if err != nil {
			return err
		}
		m, err := c.GetModel(cmd.Context(), args[0])
		if err != nil {
			return err
		}
		return g.printModels(cmd.OutOrStdout(), m)
	})}
	var desc string
	create := &cobra.Command{Use: "create NAME", Short: "Create a model", Args: cobra.ExactArgs(1), RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
		c, err := g.client()
		if err != nil {
			return err
		}
		m, err := c.CreateModel(cmd.Context(), args[0], desc, nil)
		if err != nil {
			return err
		}
		return g.printModels(cmd.OutOrStdout(), m)
	})}
	create.Flags().StringVar(&desc, "description", "", "what the model is for")
	cmd.AddCommand(list, get, create)
	return cmd
}

// printModels prints one model or a list.
func (g *globals) printModels(w io.Writer, v any) error {
	models, ok := v.([]client.Model)
	if !ok {
		models = []client.Model{v.(client.Model)}
	}
	rows := make([][]string, 0, len(models))
	for _, m := range models {
		rows = append(rows, []string{m.Name, strconv.FormatInt(m.LatestVersion, 10), aliasList(m.Aliases), m.CreatedAt.Format(time.RFC3339), m.Description})
	}
	return g.print(w, v, []string{"NAME", "LATEST", "ALIASES", "CREATED", "DESCRIPTION"}, rows)
}

func aliasList(a map[string]int64) string {
	var parts []string
	for k, v := range a {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

type versionFlags struct {
	artifact, format, uri, description string
	metrics                            map[string]string
	all                                bool
}

func versionsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "versions", Short: "List, show, register and archive model versions"}
	var vf versionFlags
	list := &cobra.Command{Use: "list MODEL", Short: "List a model's versions", Args: cobra.ExactArgs(1), RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
		c, err := g.client()
		if err != nil {
			return err
		}
		vs, err := c.ListVersions(cmd.Context(), args[0], vf.all)
		if err != nil {
			return err
		}
		return g.printVersions(cmd.OutOrStdout(), vs, vs)
	})}
	list.Flags().BoolVar(&vf.all, "all", false, "include archived versions")
	get := &cobra.Command{Use: "get MODEL VERSION", Short: "Show a version", Args: cobra.ExactArgs(2), RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
		return g.oneVersion(cmd, args, func(c *client.Client, m string, n int64) (client.Version, error) {
			return c.GetVersion(cmd.Context(), m, n)
		})
	})}
	archive := &cobra.Command{Use: "archive MODEL VERSION", Short: "Archive a version", Args: cobra.ExactArgs(2), RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
		return g.oneVersion(cmd, args, func(c *client.Client, m string, n int64) (client.Version, error) {
			return c.ArchiveVersion(cmd.Context(), m, n)
		})
	})}
	create := &cobra.Command{Use: "create MODEL", Short: "Upload an artifact (with a progress bar) and register it as the next version", Args: cobra.ExactArgs(1),
		RunE: wrapRun(func(cmd *cobra.Command, args []string) error { return g.createVersion(cmd, args[0], vf) })}
	f := create.Flags()
	f.StringVar(&vf.artifact, "artifact", "", "artifact file to upload")
	f.StringVar(&vf.format, "format", "", "plinth (default), xgboost-json, or remote (with --uri)")
	f.StringVar(&vf.uri, "uri", "", "Open Inference Protocol server of a remote version")
	f.StringVar(&vf.description, "description", "", "what changed")
	f.StringToStringVar(&vf.metrics, "metric", nil, "metrics, e.g. --metric auprc=0.81,auc=0.97")
	_ = create.MarkFlagFilename("artifact")
	cmd.AddCommand(list, get, create, archive, versionGateCommand(g))
	return cmd
}

func (g *globals) oneVersion(cmd *cobra.Command, args []string, fn func(*client.Client, string, int64) (client.Version, error)) error {
	n, err := parseVersion(args[1])
	if err != nil {
		return err
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	v, err := fn(c, args[0], n)
	if err != nil {
		return err
	}
	return g.printVersions(cmd.OutOrStdout(), v, []client.Version{v})
}

func (g *globals) printVersions(w io.Writer, v any, vs []client.Version) error {
	rows := make([][]string, 0, len(vs))
	for _, x := range vs {
		sha := x.ArtifactSHA256
		if len(sha) > 12 {
			sha = sha[:12]
		}
		rows = append(rows, []string{x.Model, strconv.FormatInt(x.Version, 10), x.Status, x.Format, sha, metricList(x.Metrics), x.CreatedAt.Format(time.RFC3339)})
	}
	return g.print(w, v, []string{"MODEL", "VERSION", "STATUS", "FORMAT", "ARTIFACT", "METRICS", "CREATED"}, rows)
}

func (g *globals) createVersion(cmd *cobra.Command, model string, vf versionFlags) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	metrics, err := parseMetricFlag("--metric", vf.metrics)
	if err != nil {
		return err
	}
	req := client.CreateVersionRequest{Description: vf.description, Format: vf.format, URI: vf.uri, Metrics: metrics}
	if vf.artifact != "" {
		a, err := upload(cmd, c, vf.artifact)
		if err != nil {
			return err
		}
		req.ArtifactSHA256 = a.SHA256
	} else if vf.uri == "" {
		return fmt.Errorf("name the model file with --artifact FILE, or a remote server with --format remote --uri URL")
	}
	v, err := c.CreateVersion(cmd.Context(), model, req)
	if err != nil {
		return err
	}
	return g.printVersions(cmd.OutOrStdout(), v, []client.Version{v})
}

// upload hashes the file, then streams it with a progress bar on stderr.
func upload(cmd *cobra.Command, c *client.Client, path string) (client.Artifact, error) {
	f, err := os.Open(path)
	if err != nil {
		return client.Artifact{}, fmt.Errorf("artifact: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return client.Artifact{}, fmt.Errorf("artifact %s: %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return client.Artifact{}, fmt.Errorf("artifact %s: %w", path, err)
	}
	bar := progressbar.NewOptions64(size, progressbar.OptionSetWriter(cmd.ErrOrStderr()), progressbar.OptionShowBytes(true),
		progressbar.OptionSetDescription("uploading "+path), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100*time.Millisecond))
	r := progressbar.NewReader(f, bar)
	a, err := c.UploadArtifact(cmd.Context(), &r, size, hex.EncodeToString(h.Sum(nil)))
	_ = bar.Finish()
	return a, err
}

func aliasesCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "aliases", Short: "Read, move and delete aliases such as champion"}
	var ifMatch, reason string
	var force bool
	print := func(cmd *cobra.Command, a client.Alias) error {
		row := []string{a.Model, a.Name, strconv.FormatInt(a.Version, 10), strconv.FormatInt(a.Revision, 10), a.UpdatedBy}
		return g.print(cmd.OutOrStdout(), a, []string{"MODEL", "ALIAS", "VERSION", "REVISION", "UPDATED BY"}, [][]string{row})
	}
	get := &cobra.Command{Use: "get MODEL ALIAS", Short: "Show an alias", Args: cobra.ExactArgs(2), RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
		c, err := g.client()
		if err != nil {
			return err
		}
		a, err := c.GetAlias(cmd.Context(), args[0], args[1])
		if err != nil {
			return err
		}
		return print(cmd, a)
	})}
	set := &cobra.Command{Use: "set MODEL ALIAS VERSION", Short: "Point an alias at a version", Args: cobra.ExactArgs(3), RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
		n, err := parseVersion(args[2])
		if err != nil {
			return err
		}
		c, err := g.client()
		if err != nil {
			return err
		}
		var a client.Alias
		if force {
			a, err = c.ForceAlias(cmd.Context(), args[0], args[1], n, reason)
		} else {
			a, err = c.SetAlias(cmd.Context(), args[0], args[1], n, ifMatch)
		}
		if err != nil {
			return gateHint(err, args[0], args[1], n)
		}
		return print(cmd, a)
	})}
	set.Flags().StringVar(&ifMatch, "if-revision", "", "move only if the alias is at this revision")
	set.Flags().BoolVar(&force, "force", false, "move champion past its validation gate (admin only, needs --reason)")
	set.Flags().StringVar(&reason, "reason", "", "why champion is forced; audited")
	set.MarkFlagsMutuallyExclusive("force", "if-revision")
	del := &cobra.Command{Use: "delete MODEL ALIAS", Short: "Delete an alias", Args: cobra.ExactArgs(2), RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
		c, err := g.client()
		if err != nil {
			return err
		}
		return c.DeleteAlias(cmd.Context(), args[0], args[1])
	})}
	cmd.AddCommand(get, set, del)
	return cmd
}

// gateHint adds the next step to a refused champion move.
func gateHint(err error, model, alias string, version int64) error {
	var e *client.Error
	if alias != "champion" || !errors.As(err, &e) || e.Status != http.StatusConflict || !strings.Contains(e.Detail, "gate") {
		return err
	}
	return fmt.Errorf("%w\n  → run `plinth versions gate %s %d` first", err, model, version)
}
