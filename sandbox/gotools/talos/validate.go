package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/validation"
)

// runtimeMode is the runtime mode a config is checked for. Talos keeps its own mode type in an internal package;
// this one answers the three questions validation.RuntimeMode asks the same way.
type runtimeMode struct {
	name string
	// installed: a metal node that has been installed no longer needs install instructions (Talos's apply-config
	// handler wraps the platform's mode likewise); talosctl validate never sets it.
	installed bool
}

var _ validation.RuntimeMode = runtimeMode{}

func (m runtimeMode) String() string        { return m.name }
func (m runtimeMode) RequiresInstall() bool { return m.name == "metal" && !m.installed }
func (m runtimeMode) InContainer() bool     { return m.name == "container" }

// runtimeModes are the names talosctl validate accepts, in Talos's order.
var runtimeModes = []string{"cloud", "container", "metal", "metal-agent"}

func parseRuntimeMode(text string) (runtimeMode, error) {
	for _, name := range runtimeModes {
		if name == text {
			return runtimeMode{name: name}, nil
		}
	}

	return runtimeMode{}, fmt.Errorf("unknown runtime mode: %q", text)
}

func newValidateCommand() *cobra.Command {
	var (
		configPath string
		modeName   string
		strict     bool
	)

	command := &cobra.Command{
		Use:   "validate",
		Short: "Validate config",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			loaded, err := configloader.NewFromFile(configPath)
			if err != nil {
				return err
			}

			mode, err := parseRuntimeMode(modeName)
			if err != nil {
				return err
			}

			options := []validation.Option{validation.WithLocal()}
			if strict {
				options = append(options, validation.WithStrict())
			}

			warnings, err := loaded.Validate(mode, options...)
			for _, warning := range warnings {
				fmt.Fprintf(os.Stderr, "WARNING: %s\n", warning)
			}

			if err != nil {
				return err
			}

			fmt.Printf("%s is valid for %s mode\n", configPath, modeName)

			return nil
		},
	}

	set := command.Flags()
	set.StringVarP(&configPath, "config", "c", "", "the path of the config file")
	set.StringVarP(&modeName, "mode", "m", "",
		"the mode to validate the config for (valid values are metal, cloud, and container)")
	set.BoolVar(&strict, "strict", false, "treat validation warnings as errors")

	if err := command.MarkFlagRequired("mode"); err != nil {
		panic(err)
	}

	return command
}
