package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/plinthai/plinth/internal/gateway"
)

func apikeysCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "apikeys", Short: "Create, list and revoke API keys of service accounts (admin)"}
	var all bool
	list := &cobra.Command{Use: "list", Short: "List API keys", Args: cobra.NoArgs, RunE: wrapRun(func(cmd *cobra.Command, _ []string) error {
		c, err := g.client()
		if err != nil {
			return err
		}
		keys, err := c.ListAPIKeys(cmd.Context(), all)
		if err != nil {
			return err
		}
		rows := make([][]string, 0, len(keys))
		for _, k := range keys {
			revoked := ""
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.Format(time.RFC3339)
			}
			rows = append(rows, []string{k.ID, k.Name, strings.Join(k.Scopes, ","), k.CreatedAt.Format(time.RFC3339), revoked})
		}
		return g.print(cmd.OutOrStdout(), keys, []string{"ID", "NAME", "SCOPES", "CREATED", "REVOKED"}, rows)
	})}
	list.Flags().BoolVar(&all, "all", false, "include revoked keys")
	var name string
	var scopes []string
	create := &cobra.Command{Use: "create", Short: "Create an API key; its secret is printed once", Args: cobra.NoArgs, RunE: wrapRun(func(cmd *cobra.Command, _ []string) error {
		c, err := g.client()
		if err != nil {
			return err
		}
		k, err := c.CreateAPIKey(cmd.Context(), name, scopes)
		if err != nil {
			return err
		}
		if g.output == OutputJSON {
			return g.print(cmd.OutOrStdout(), k, nil, nil)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "API key %s (%s) with scopes %s. The secret is shown only now:\n\n  %s\n\n", k.ID, k.Name, strings.Join(k.Scopes, ","), k.Key)
		return nil
	})}
	create.Flags().StringVar(&name, "name", "", "who or what uses the key")
	create.Flags().StringSliceVar(&scopes, "scopes", nil, "scopes: "+strings.Join(gateway.AllScopes(), ", "))
	_ = create.MarkFlagRequired("name")
	_ = create.MarkFlagRequired("scopes")
	_ = create.RegisterFlagCompletionFunc("scopes", cobra.FixedCompletions(gateway.AllScopes(), cobra.ShellCompDirectiveNoFileComp))
	revoke := &cobra.Command{Use: "revoke ID", Short: "Revoke an API key at once", Args: cobra.ExactArgs(1), RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
		c, err := g.client()
		if err != nil {
			return err
		}
		if err := c.RevokeAPIKey(cmd.Context(), args[0]); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "revoked %s\n", args[0])
		return nil
	})}
	cmd.AddCommand(list, create, revoke)
	return cmd
}

func statusCommand(g *globals) *cobra.Command {
	return &cobra.Command{Use: "status", Short: "Show the server's version, readiness and who you are", Args: cobra.NoArgs,
		RunE: wrapRun(func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			s, err := c.Status(cmd.Context())
			if err != nil {
				return err
			}
			ready := "ready"
			if !s.Ready {
				ready = "not ready: " + s.Reason
			}
			rows := [][]string{{c.Addr(), s.Version, ready, s.Subject, strings.Join(s.Scopes, ",")}}
			return g.print(cmd.OutOrStdout(), s, []string{"SERVER", "VERSION", "STATUS", "YOU", "SCOPES"}, rows)
		})}
}

// tokenFlags are the options of `plinth token`.
type tokenFlags struct {
	dataDir, secret, issuer, audience, subject string
	scopes                                     []string
	ttl                                        time.Duration
}

func tokenCommand(*globals) *cobra.Command {
	var tf tokenFlags
	cmd := &cobra.Command{Use: "token", Short: "Mint a development token (HS256) from the data directory's secret",
		Long: `Mint a development JWT signed with the HMAC secret of a data directory (the
one 'plinth serve --data.dir' generated) or --auth.hmac-secret. Print it, then
export PLINTH_TOKEN=$(plinth token --scopes models:read,models:write).`,
		Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			secret := []byte(tf.secret)
			if len(secret) == 0 {
				var err error
				if secret, err = gateway.LoadSecret(tf.dataDir, false); err != nil {
					return fmt.Errorf("%w\n  → run `plinth serve --data.dir %s` once to create it, or pass --auth.hmac-secret", err, tf.dataDir)
				}
			}
			if err := gateway.CheckScopes("scopes", tf.scopes); err != nil {
				return err
			}
			tok, err := gateway.MintToken(secret, tf.issuer, tf.audience, tf.subject, tf.scopes, tf.ttl)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		}}
	f := cmd.Flags()
	f.StringVar(&tf.dataDir, "data.dir", "./data", "data directory whose secret signs the token")
	f.StringVar(&tf.secret, "auth.hmac-secret", "", "sign with this secret instead")
	f.StringVar(&tf.issuer, "auth.issuer", gateway.DefaultIssuer, "iss claim (the server's --auth.issuer)")
	f.StringVar(&tf.audience, "auth.audience", gateway.DefaultAudience, "aud claim (the server's --auth.audience)")
	f.StringVar(&tf.subject, "subject", "developer", "sub claim: who the token speaks for")
	f.StringSliceVar(&tf.scopes, "scopes", []string{gateway.ScopeModelsRead}, "scopes: "+strings.Join(gateway.AllScopes(), ", "))
	f.DurationVar(&tf.ttl, "ttl", 12*time.Hour, "how long the token is valid")
	_ = cmd.RegisterFlagCompletionFunc("scopes", cobra.FixedCompletions(gateway.AllScopes(), cobra.ShellCompDirectiveNoFileComp))
	return cmd
}
