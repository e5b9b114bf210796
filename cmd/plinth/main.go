// Command plinth is Plinth's one binary: `plinth serve` runs the platform's
// targets, in one process or one per target.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/plinthai/plinth/internal/app"
	"github.com/plinthai/plinth/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, demo.Command(ctx))
	stop()
	os.Exit(code)
}
