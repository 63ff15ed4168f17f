// Command wxkit is the one binary of wxkit: the gateway (`wxkit serve`), the
// offline WeChat emulator (`wxkit emulator`), and tools that talk to them
// (`wxkit push`, `wxkit token`, `wxkit pay orders|reconcile`).
//
// `wxkit serve` without any configuration (no --config, no WXKIT_CONFIG,
// no ./wxkit.yaml) is dev mode: the gateway on 127.0.0.1:8080 and the
// emulator on 127.0.0.1:8081 in one process, with a demo app and a demo
// WeChat Pay merchant. Then, in a second terminal, `wxkit push --text
// hello` prints "world".
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/cobra"
)

// Dev-mode port layout (documented in README.md).
const (
	DevGatewayAddr  = "127.0.0.1:8080"
	DevEmulatorAddr = "127.0.0.1:8081"
	DevDBFile       = "wxkit-dev.db"
	// DefaultConfigFile is read by serve and token when neither --config nor
	// WXKIT_CONFIG names a file and it exists in the working directory.
	DefaultConfigFile = "wxkit.yaml"
)

// Main is the program, separated from the process (wtf's Main): tests run
// it in-process with their own arguments, environment and outputs.
type Main struct {
	Stdout, Stderr io.Writer
	// Getenv reads the environment (os.Getenv when nil).
	Getenv func(string) string
	// Ready, when set, is called by serve and emulator once they listen,
	// with the base URLs ("" for a part that is not running).
	Ready func(gatewayURL, emulatorURL string)
}

func (m *Main) getenv(k string) string {
	if m.Getenv != nil {
		return m.Getenv(k)
	}
	return os.Getenv(k)
}

// Run runs the command line args (without the program name) until it is
// done or ctx ends.
func (m *Main) Run(ctx context.Context, args []string) error {
	root := &cobra.Command{
		Use:           "wxkit",
		Short:         "WeChat Official Account toolkit: gateway, emulator and tools",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(m.Stdout)
	root.SetErr(m.Stderr)
	root.SetArgs(args)
	root.AddCommand(m.serveCommand(), m.emulatorCommand(), m.pushCommand(), m.tokenCommand())
	root.AddCommand(m.menuCommand(), m.migrateCommand())
	root.AddCommand(m.payCommand())       // pay.go
	root.AddCommand(m.componentCommand()) // component.go
	return root.ExecuteContext(ctx)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if path := os.Getenv("WXKIT_CPUPROFILE"); path != "" {
		// Profiling aid for benchmarks: a CPU profile of the whole run.
		if f, err := os.Create(path); err == nil {
			if err := pprof.StartCPUProfile(f); err == nil {
				defer pprof.StopCPUProfile()
			}
		}
	}
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr}
	err := m.Run(ctx, os.Args[1:])
	pprof.StopCPUProfile()
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintln(os.Stderr, "wxkit:", ee.msg)
			}
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "wxkit:", err)
		os.Exit(1)
	}
}

// exitError ends the program with a status code after printing msg.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }
