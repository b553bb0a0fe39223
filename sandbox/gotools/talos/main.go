// Command talos-config is the part of talosctl v1.13.9 that works without a node: `gen secrets`, `gen config` and
// `validate`, with talosctl's flags, defaults, file modes, outputs and error words, on Talos's own configuration
// code (github.com/siderolabs/talos/pkg/machinery). The talosforge sandbox's talosctl stand-in hands these three
// commands to it; the full talosctl module cannot be built from the Go module proxy here.
//
// One command of ours, hidden and named as ours, serves the stand-in's simulated nodes: `talosforge-node-check`
// reads a machine config on stdin (patched first with --config-patch, as talosctl apply-config patches it) and
// answers, as JSON, what a Talos node's apply-config handler would say of it in each runtime mode (nodecheck.go).
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		// The commands answer as talosctl's do, so usage lines and cobra's messages name talosctl.
		Use:               "talosctl",
		Short:             "A CLI for out-of-band management of Kubernetes nodes created by Talos",
		SilenceErrors:     true,
		SilenceUsage:      true,
		DisableAutoGenTag: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newGenCommand(), newValidateCommand(), newNodeCheckCommand())

	return root
}

// execute runs one command line and reports a failure as talosctl's main does: the error text alone on stderr,
// then, when the text looks like a usage mistake (it names arguments, a flag or a command), a blank line and the
// command's usage.
func execute(root *cobra.Command, args []string, stderr io.Writer) int {
	root.SetArgs(args)

	command, err := root.ExecuteC()
	if err == nil {
		return 0
	}

	text := err.Error()
	fmt.Fprintln(stderr, text)

	if strings.Contains(text, "arg(s)") || strings.Contains(text, "flag") || strings.Contains(text, "command") {
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, command.UsageString())
	}

	return 1
}

func main() {
	os.Exit(execute(newRootCommand(), os.Args[1:], os.Stderr))
}
