package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/configpatcher"
)

// nodeCheckCommand is ours, not talosctl's (hidden, and not in the CLI reference): the sandbox's talosctl
// stand-in calls it to check a config the way a Talos node's apply-config handler does before it takes it.
const nodeCheckCommand = "talosforge-node-check"

// nodeCheckCase is one situation a node can be in when a config reaches it.
type nodeCheckCase struct {
	name string
	mode runtimeMode
}

var nodeCheckCases = []nodeCheckCase{
	{"metal", runtimeMode{name: "metal"}}, // a metal node in maintenance mode, still to be installed
	{"metal-installed", runtimeMode{name: "metal", installed: true}},
	{"cloud", runtimeMode{name: "cloud"}},
	{"container", runtimeMode{name: "container"}},
	{"metal-agent", runtimeMode{name: "metal-agent"}},
}

type nodeCheckVerdict struct {
	Warnings []string `json:"warnings"`
	Error    string   `json:"error,omitempty"`
}

type nodeCheckAnswer struct {
	// PatchError is the refusal of a --config-patch, worded as talosctl apply-config reports it.
	PatchError string `json:"patch_error,omitempty"`
	// Config is the patched config, as talosctl apply-config would send it (only when patches were given).
	Config string `json:"config,omitempty"`
	// DecodeError is configloader's refusal of the bytes (what the handler returns as InvalidArgument).
	DecodeError string `json:"decode_error,omitempty"`
	// V1Alpha1 says whether the config has a v1alpha1 document (a configured node refuses one without).
	V1Alpha1 bool                        `json:"v1alpha1"`
	Cases    map[string]nodeCheckVerdict `json:"cases,omitempty"`
}

func newNodeCheckCommand() *cobra.Command {
	var patches []string

	command := &cobra.Command{
		Use:    nodeCheckCommand,
		Short:  "talosforge sandbox: check a machine config on stdin as a node's apply-config would, answer JSON",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			data, err := io.ReadAll(os.Stdin)
			if err != nil {
				return fmt.Errorf("%s: reading stdin: %w", nodeCheckCommand, err)
			}

			var answer nodeCheckAnswer

			if len(patches) > 0 {
				data, err = patchAsApplyConfig(data, patches)
				if err != nil {
					return json.NewEncoder(os.Stdout).Encode(nodeCheckAnswer{PatchError: err.Error()})
				}

				answer = checkAsNode(data)
				answer.Config = string(data)
			} else {
				answer = checkAsNode(data)
			}

			return json.NewEncoder(os.Stdout).Encode(answer)
		},
	}
	command.Flags().StringArrayVarP(&patches, "config-patch", "p", nil,
		"patches applied first, as talosctl apply-config --config-patch applies them")

	return command
}

// patchAsApplyConfig is what talosctl apply-config does with --config-patch before it sends the config: load the
// patches (@file or inline), apply them to the file's bytes, and take the result's bytes.
func patchAsApplyConfig(data []byte, specs []string) ([]byte, error) {
	patches, err := configpatcher.LoadPatches(specs)
	if err != nil {
		return nil, err
	}

	patched, err := configpatcher.Apply(configpatcher.WithBytes(data), patches)
	if err != nil {
		return nil, err
	}

	return patched.Bytes()
}

func checkAsNode(data []byte) nodeCheckAnswer {
	loaded, err := configloader.NewFromBytes(data)
	if err != nil {
		return nodeCheckAnswer{DecodeError: err.Error()}
	}

	answer := nodeCheckAnswer{V1Alpha1: loaded.RawV1Alpha1() != nil, Cases: map[string]nodeCheckVerdict{}}

	for _, situation := range nodeCheckCases {
		warnings, err := loaded.Validate(situation.mode)

		verdict := nodeCheckVerdict{Warnings: warnings}
		if verdict.Warnings == nil {
			verdict.Warnings = []string{}
		}

		if err != nil {
			verdict.Error = err.Error()
		}

		answer.Cases[situation.name] = verdict
	}

	return answer
}
