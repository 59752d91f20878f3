// Command genesis is the one Genesis binary: server (`genesis up`,
// `genesis serve`) and client (every other subcommand).
//
// GENESIS_CPUPROFILE=PREFIX writes a CPU profile of the process to
// PREFIX.PID when it exits normally (including on SIGINT/SIGTERM), for
// `go tool pprof`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/genesis-science/genesis/internal/cli"
)

func main() {
	if p := os.Getenv("GENESIS_CPUPROFILE"); p != "" {
		f, err := os.Create(fmt.Sprintf("%s.%d", p, os.Getpid()))
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "genesis: cpu profile: %v\n", err)
			os.Exit(2)
		}
		code := run()
		pprof.StopCPUProfile()
		f.Close()
		os.Exit(code)
	}
	os.Exit(run())
}

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
}
