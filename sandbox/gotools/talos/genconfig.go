package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/go-multierror"
	sideronet "github.com/siderolabs/net"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v4"

	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/bundle"
	"github.com/siderolabs/talos/pkg/machinery/config/configpatcher"
	"github.com/siderolabs/talos/pkg/machinery/config/encoder"
	"github.com/siderolabs/talos/pkg/machinery/config/generate"
	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/constants"
	"github.com/siderolabs/talos/pkg/machinery/gendata"
	"github.com/siderolabs/talos/pkg/machinery/version"
)

const (
	outputControlPlane = "controlplane"
	outputWorker       = "worker"
	outputTalosconfig  = "talosconfig"
)

var outputTypes = []string{outputControlPlane, outputWorker, outputTalosconfig}

type genConfigFlags struct {
	additionalSANs       []string
	configVersion        string
	dnsDomain            string
	kubernetesVersion    string
	talosVersion         string
	installDisk          string
	installImage         string
	outputDir            string // hidden, kept by talosctl for old scripts
	output               string
	outputTypes          []string
	patches              []string
	patchesControlPlane  []string
	patchesWorker        []string
	registryMirrors      []string
	withExamples         bool
	withDocs             bool
	withClusterDiscovery bool
	withKubeSpan         bool
	withSecrets          string
}

// defaultInstallImage is talosctl's default for --install-image: the installer of this Talos release, whose tag
// the TAG environment variable overrides (talosctl reads it when it builds its flags).
func defaultInstallImage() string {
	tag := version.Tag
	if fromEnv, ok := os.LookupEnv("TAG"); ok {
		tag = fromEnv
	}

	return gendata.ImagesRegistry + "/" + gendata.ImagesUsername + "/installer:" + tag
}

func newGenConfigCommand(shared *genFlags) *cobra.Command {
	flags := &genConfigFlags{}
	command := &cobra.Command{
		Use:   "config <cluster name> <cluster endpoint>",
		Short: "Generates a set of configuration files for Talos cluster",
		Long: `The cluster endpoint is the URL for the Kubernetes API. If you decide to use
a control plane node, common in a single node control plane setup, use port 6443 as
this is the port that the API server binds to on every control plane node. For an HA
setup, usually involving a load balancer, use the IP and port of the load balancer.`,
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := checkClusterEndpoint(args[1]); err != nil {
				return err
			}

			if flags.configVersion != "v1alpha1" {
				return fmt.Errorf("unknown config version: %q", flags.configVersion)
			}

			return flags.generate(shared, args[0], args[1])
		},
	}

	set := command.Flags()
	set.StringVar(&flags.installDisk, "install-disk", "/dev/sda", "the disk to install to")
	set.StringVar(&flags.installImage, "install-image", defaultInstallImage(), "the image used to perform an installation")
	set.StringSliceVar(&flags.additionalSANs, "additional-sans", []string{},
		"additional Subject-Alt-Names for the APIServer certificate")
	set.StringVar(&flags.dnsDomain, "dns-domain", "cluster.local", "the dns domain to use for cluster")
	set.StringVar(&flags.configVersion, "version", "v1alpha1", "the desired machine config version to generate")
	set.StringVar(&flags.talosVersion, "talos-version", "",
		"the desired Talos version to generate config for (backwards compatibility, e.g. v0.8)")
	set.StringVar(&flags.kubernetesVersion, "kubernetes-version", constants.DefaultKubernetesVersion,
		"desired kubernetes version to run")
	set.StringArrayVar(&flags.patches, "config-patch", nil,
		"patch generated machineconfigs (applied to all node types), use @file to read a patch from file")
	set.StringArrayVar(&flags.patchesControlPlane, "config-patch-control-plane", nil,
		"patch generated machineconfigs (applied to 'init' and 'controlplane' types)")
	set.StringArrayVar(&flags.patchesWorker, "config-patch-worker", nil,
		"patch generated machineconfigs (applied to 'worker' type)")
	set.StringSliceVar(&flags.registryMirrors, "registry-mirror", []string{},
		"list of registry mirrors to use in format: <registry host>=<mirror URL>")
	set.BoolVar(&flags.withExamples, "with-examples", true, "renders all machine configs with the commented examples")
	set.BoolVar(&flags.withDocs, "with-docs", true, "renders all machine configs adding the documentation for each field")
	set.BoolVar(&flags.withClusterDiscovery, "with-cluster-discovery", true, "enable cluster discovery feature")
	set.BoolVar(&flags.withKubeSpan, "with-kubespan", false, "enable KubeSpan feature")
	set.StringVar(&flags.withSecrets, "with-secrets", "", "use a secrets file generated using 'gen secrets'")
	set.StringSliceVarP(&flags.outputTypes, "output-types", "t", outputTypes,
		fmt.Sprintf("types of outputs to be generated. valid types are: %q", outputTypes))
	set.StringVarP(&flags.output, "output", "o", "",
		`destination to output generated files. when multiple output types are specified, it must be a directory. `+
			`for a single output type, it must either be a file path, or "-" for stdout`)
	set.StringVar(&flags.outputDir, "output-dir", "", "destination to output generated files")
	_ = set.MarkHidden("output-dir")

	return command
}

// checkOutputs checks --output-types and --output (and folds the hidden --output-dir into --output).
func (flags *genConfigFlags) checkOutputs() error {
	if len(flags.outputTypes) == 0 {
		return errors.New("at least one output type must be specified")
	}

	if len(flags.outputTypes) > 1 && flags.output == toStdout {
		return errors.New("can't use multiple output types with stdout")
	}

	if flags.outputDir != "" && flags.output != "" {
		return errors.New("can't use both output-dir and output")
	}

	if flags.outputDir != "" {
		flags.output = flags.outputDir
	}

	var problems error

	for _, kind := range flags.outputTypes {
		if !slices.Contains(outputTypes, kind) {
			problems = multierror.Append(problems, fmt.Errorf("invalid output type: %q", kind))
		}
	}

	return problems
}

// destinations maps each output type to where it goes: stdout, the working folder, a folder, or (for a single
// type, without --output-dir) the file --output names.
func (flags *genConfigFlags) destinations() (map[string]string, error) {
	names := map[string]string{
		outputControlPlane: machine.TypeControlPlane.String() + ".yaml",
		outputWorker:       machine.TypeWorker.String() + ".yaml",
		outputTalosconfig:  "talosconfig",
	}
	result := map[string]string{}

	switch {
	case flags.output == toStdout:
		for kind := range names {
			result[kind] = toStdout
		}
	case flags.output == "":
		cwd, err := os.Getwd()
		if err != nil {
			return nil, err
		}

		for kind, name := range names {
			result[kind] = filepath.Join(cwd, name)
		}
	case len(flags.outputTypes) == 1 && flags.outputDir == "":
		for kind := range names {
			result[kind] = flags.output
		}
	default:
		for kind, name := range names {
			result[kind] = filepath.Join(flags.output, name)
		}
	}

	return result, nil
}

func (flags *genConfigFlags) options() ([]generate.Option, error) {
	var options []generate.Option

	for _, spec := range flags.registryMirrors {
		host, mirror, ok := strings.Cut(spec, "=")
		if !ok {
			return nil, fmt.Errorf("invalid registry mirror spec: %q", spec)
		}

		options = append(options, generate.WithRegistryMirror(host, mirror))
	}

	if flags.talosVersion != "" {
		contract, err := config.ParseContractFromVersion(flags.talosVersion)
		if err != nil {
			return nil, fmt.Errorf("invalid talos-version: %w", err)
		}

		options = append(options, generate.WithVersionContract(contract))
	}

	if flags.withKubeSpan {
		options = append(options, generate.WithKubeSpanEnabled(true))
	}

	if flags.withSecrets != "" {
		loaded, err := secrets.LoadBundle(flags.withSecrets)
		if err != nil {
			return nil, fmt.Errorf("failed to load secrets bundle: %w", err)
		}

		if err = loaded.Validate(); err != nil {
			return nil, fmt.Errorf("failed to validate secrets bundle: %w", err)
		}

		options = append(options, generate.WithSecretsBundle(loaded))
	}

	return append(options,
		generate.WithInstallDisk(flags.installDisk),
		generate.WithInstallImage(flags.installImage),
		generate.WithAdditionalSubjectAltNames(flags.additionalSANs),
		generate.WithDNSDomain(flags.dnsDomain),
		generate.WithClusterDiscovery(flags.withClusterDiscovery),
	), nil
}

// configBundle generates the three configs and the talosconfig, then applies the patches (all nodes, then
// control planes, then workers) with Talos's patcher.
func (flags *genConfigFlags) configBundle(options []generate.Option, clusterName, endpoint string) (*bundle.Bundle, error) {
	bundleOptions := []bundle.Option{
		bundle.WithInputOptions(&bundle.InputOptions{
			ClusterName: clusterName,
			Endpoint:    endpoint,
			KubeVersion: strings.TrimPrefix(flags.kubernetesVersion, "v"),
			GenOptions:  options,
		}),
	}

	for _, group := range []struct {
		patches []string
		option  func([]configpatcher.Patch) bundle.Option
	}{
		{flags.patches, bundle.WithPatch},
		{flags.patchesControlPlane, bundle.WithPatchControlPlane},
		{flags.patchesWorker, bundle.WithPatchWorker},
	} {
		loaded, err := configpatcher.LoadPatches(group.patches)
		if err != nil {
			return nil, fmt.Errorf("error parsing config JSON patch: %w", err)
		}

		bundleOptions = append(bundleOptions, group.option(loaded))
	}

	generated, err := bundle.NewBundle(bundleOptions...)
	if err != nil {
		return nil, fmt.Errorf("failed to generate config bundle: %w", err)
	}

	return generated, nil
}

func (flags *genConfigFlags) generate(shared *genFlags, clusterName, endpoint string) error {
	if err := flags.checkOutputs(); err != nil {
		return err
	}

	destinations, err := flags.destinations()
	if err != nil {
		return err
	}

	options, err := flags.options()
	if err != nil {
		return err
	}

	generated, err := flags.configBundle(options, clusterName, endpoint)
	if err != nil {
		return err
	}

	comments := encoder.CommentsDisabled
	if flags.withDocs {
		comments |= encoder.CommentsDocs
	}

	if flags.withExamples {
		comments |= encoder.CommentsExamples
	}

	// always in this order, whatever the order of --output-types
	for _, kind := range outputTypes {
		if !slices.Contains(flags.outputTypes, kind) {
			continue
		}

		var data []byte

		switch kind {
		case outputControlPlane:
			data, err = generated.Serialize(comments, machine.TypeControlPlane)
		case outputWorker:
			data, err = generated.Serialize(comments, machine.TypeWorker)
		default:
			data, err = yaml.Marshal(generated.TalosConfig())
			if err != nil {
				err = fmt.Errorf("failed to marshal config: %+v", err)
			}
		}

		if err != nil {
			return err
		}

		if err = shared.writeOutput(data, destinations[kind], 0o644); err != nil {
			return err
		}
	}

	return nil
}

// suggestEndpoint turns what the user gave into the https URL with a port that talosctl suggests instead.
func suggestEndpoint(u *url.URL) *url.URL {
	// a bare host (or host:port that parsed as a path) is moved to the host part
	if u.Scheme == "" && u.Host == "" && u.Path != "" {
		u.Host, u.Path = u.Path, ""
	}

	u.Scheme = "https"

	if u.Port() == "" {
		u.Host = fmt.Sprintf("%s:%d", u.Host, constants.DefaultControlPlanePort)
	}

	return u
}

// checkClusterEndpoint wants an https URL, as talosctl does before generating anything.
func checkClusterEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		if strings.Contains(endpoint, "/") {
			return fmt.Errorf("failed to parse the cluster endpoint URL: %w", err)
		}

		u = &url.URL{Host: endpoint} // host:port without a scheme does not parse as a URL
	}

	switch {
	case u.Scheme == "" && u.Port() == "":
		return fmt.Errorf("no scheme and port specified for the cluster endpoint URL\ntry: %q", suggestEndpoint(u))
	case u.Scheme == "":
		return fmt.Errorf("no scheme specified for the cluster endpoint URL\ntry: %q", suggestEndpoint(u))
	case u.Scheme != "https":
		return fmt.Errorf("the control plane endpoint URL should have scheme https://\ntry: %q", suggestEndpoint(u))
	}

	if err = sideronet.ValidateEndpointURI(endpoint); err != nil {
		return fmt.Errorf("error validating the cluster endpoint URL: %w", err)
	}

	return nil
}
