package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v4"

	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
)

// toStdout is the output name that means standard output, for both gen commands.
const toStdout = "-"

// genFlags holds what `gen` gives its subcommands: the persistent --force.
type genFlags struct {
	force bool
}

func newGenCommand() *cobra.Command {
	shared := &genFlags{}
	gen := &cobra.Command{
		Use:   "gen",
		Short: "Generate CAs, certificates, and private keys",
	}
	gen.PersistentFlags().BoolVarP(&shared.force, "force", "f", false, "will overwrite existing files")
	gen.AddCommand(newGenSecretsCommand(shared), newGenConfigCommand(shared))

	return gen
}

// mayWrite refuses an existing file unless --force was given (talosctl's check, before every write).
func (g *genFlags) mayWrite(path string) error {
	if g.force {
		return nil
	}

	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("file %q already exists, use --force to overwrite", path)
	}

	return nil
}

// writeOutput writes a generated file the way `gen config` does: to stdout for "-", else after the --force check,
// creating the parent folders, and announcing "Created <path>" on stderr (even when the write itself failed).
func (g *genFlags) writeOutput(data []byte, destination string, mode os.FileMode) error {
	if destination == toStdout {
		_, err := os.Stdout.Write(data)

		return err
	}

	if err := g.mayWrite(destination); err != nil {
		return err
	}

	if err := os.MkdirAll(filepath.Dir(destination), os.ModePerm); err != nil {
		return fmt.Errorf("failed to create output dir: %w", err)
	}

	err := os.WriteFile(destination, data, mode)

	fmt.Fprintf(os.Stderr, "Created %s\n", destination)

	return err
}

type genSecretsFlags struct {
	outputFile        string
	talosVersion      string
	fromKubernetesPKI string
	fromControlPlane  string
	bootstrapToken    string
}

func newGenSecretsCommand(shared *genFlags) *cobra.Command {
	flags := &genSecretsFlags{}
	command := &cobra.Command{
		Use:   "secrets",
		Short: "Generates a secrets bundle file which can later be used to generate a config",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			bundle, err := flags.bundle()
			if err != nil {
				return err
			}

			data, err := yaml.Marshal(bundle)
			if err != nil {
				return err
			}

			if flags.outputFile == toStdout {
				_, err = os.Stdout.Write(data)

				return err
			}

			if err = shared.mayWrite(flags.outputFile); err != nil {
				return err
			}

			// no "Created" line and no parent folders here: talosctl's gen secrets writes the file alone
			return os.WriteFile(flags.outputFile, data, 0o600)
		},
	}

	set := command.Flags()
	set.StringVarP(&flags.outputFile, "output-file", "o", "secrets.yaml", `path of the output file, or "-" for stdout`)
	set.StringVar(&flags.talosVersion, "talos-version", "",
		"the desired Talos version to generate secrets bundle for (backwards compatibility, e.g. v0.8)")
	set.StringVar(&flags.fromControlPlane, "from-controlplane-config", "",
		"use the provided controlplane Talos machine configuration as input")
	set.StringVarP(&flags.fromKubernetesPKI, "from-kubernetes-pki", "p", "",
		"use a Kubernetes PKI directory (e.g. /etc/kubernetes/pki) as input")
	set.StringVarP(&flags.bootstrapToken, "kubernetes-bootstrap-token", "t", "", "use the provided bootstrap token as input")

	return command
}

// bundle makes the secrets bundle from the chosen source. As in talosctl, the bootstrap token is only an input of
// --from-kubernetes-pki; a freshly generated bundle gets a random one.
func (flags *genSecretsFlags) bundle() (*secrets.Bundle, error) {
	var contract *config.VersionContract

	if flags.talosVersion != "" {
		parsed, err := config.ParseContractFromVersion(flags.talosVersion)
		if err != nil {
			return nil, fmt.Errorf("invalid talos-version: %w", err)
		}

		contract = parsed
	}

	// one instant for every certificate of the bundle, as talosctl does
	var (
		bundle *secrets.Bundle
		err    error
	)

	switch {
	case flags.fromKubernetesPKI != "":
		bundle, err = secrets.NewBundleFromKubernetesPKI(flags.fromKubernetesPKI, flags.bootstrapToken, contract)
	case flags.fromControlPlane != "":
		loaded, loadErr := configloader.NewFromFile(flags.fromControlPlane)
		if loadErr != nil {
			return nil, fmt.Errorf("failed to load controlplane config: %w", loadErr)
		}

		bundle = secrets.NewBundleFromConfig(secrets.NewFixedClock(time.Now()), loaded)
	default:
		bundle, err = secrets.NewBundle(secrets.NewFixedClock(time.Now()), contract)
	}

	if err != nil {
		return nil, fmt.Errorf("failed to create secrets bundle: %w", err)
	}

	return bundle, nil
}
