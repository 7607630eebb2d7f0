// Command imagepack packs one static binary into a container image without a registry or a Docker
// engine, and writes it as a docker-archive tar that `ctr -n k8s.io images import FILE` accepts:
//
//	imagepack --binary bin/demo-app --env FAULT_ERROR_RATE=0.3 \
//	    --tag docker.io/stagewise/demo-app:1.6.0 --out demo-app-1.6.0.tar
//
// The image has one layer holding the binary at /<name> (mode 0755), and a config whose entrypoint
// is that file. Every timestamp is the Unix epoch, so the same binary and flags give the same image
// digest on every build.
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// options are the command line, parsed.
type options struct {
	Binary string
	Name   string
	Env    []string
	Tags   []string
	Out    string
	User   string
	Arch   string
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var env, tags listFlag
	fs := flag.NewFlagSet("imagepack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Binary, "binary", "", "the static binary to pack (required)")
	fs.StringVar(&o.Name, "name", "", "its file name in the image, /<name> (default: the binary's base name)")
	fs.Var(&env, "env", "K=V in the image's environment (repeatable)")
	fs.Var(&tags, "tag", "a full image reference with registry and tag, e.g. docker.io/stagewise/demo-app:1.5.0 (repeatable, at least one)")
	fs.StringVar(&o.Out, "out", "", "the docker-archive tar to write (required)")
	// 65534 is nobody: the app needs no privilege, and a non-root user keeps it that way.
	fs.StringVar(&o.User, "user", "65534", "the user the entrypoint runs as (uid or uid:gid)")
	fs.StringVar(&o.Arch, "arch", runtime.GOARCH, "the binary's architecture, recorded in the config (containerd imports the images of its own platform)")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	o.Env, o.Tags = env, tags
	if o.Binary == "" || o.Out == "" || len(o.Tags) == 0 {
		return options{}, errors.New("--binary, --out and at least one --tag are required")
	}
	if o.Name == "" {
		o.Name = filepath.Base(o.Binary)
	}
	if strings.Contains(o.Name, "/") || o.Name == "." || o.Name == ".." {
		return options{}, fmt.Errorf("--name %q: a plain file name, without '/'", o.Name)
	}
	for _, kv := range o.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return options{}, fmt.Errorf("--env %q: want KEY=VALUE", kv)
		}
	}
	for _, u := range strings.SplitN(o.User, ":", 2) {
		if _, err := strconv.ParseUint(u, 10, 32); err != nil {
			return options{}, fmt.Errorf("--user %q: want a numeric uid or uid:gid (the image has no /etc/passwd)", o.User)
		}
	}
	return o, nil
}

// epoch is every timestamp in the image, for a reproducible digest.
var epoch = time.Unix(0, 0).UTC()

// binaryLayer is an uncompressed tar holding the binary at /<name>, mode 0755, owned by root (the
// user running it only needs to read and execute it).
func binaryLayer(binary []byte, fileName string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeReg,
		Name:     fileName,
		Mode:     0o755,
		Size:     int64(len(binary)),
		ModTime:  epoch,
		Format:   tar.FormatPAX,
	}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(binary); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// build is the image that o describes.
func build(o options) (v1.Image, error) {
	binary, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, err
	}
	layerTar, err := binaryLayer(binary, o.Name)
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: epoch},
			CreatedBy: "imagepack: /" + o.Name,
		},
	})
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS = "linux"
	cfg.Architecture = o.Arch
	cfg.Created = v1.Time{Time: epoch}
	cfg.Config.Entrypoint = []string{"/" + o.Name}
	cfg.Config.Env = append([]string(nil), o.Env...)
	cfg.Config.WorkingDir = "/"
	cfg.Config.User = o.User
	return mutate.ConfigFile(img, cfg)
}

// write packs o's image into o.Out under every tag. Tags are parsed strictly (registry and tag
// spelled out) so that the archive names the image exactly as containerd will list it.
func write(o options) error {
	refs := map[name.Reference]v1.Image{}
	img, err := build(o)
	if err != nil {
		return err
	}
	for _, t := range o.Tags {
		tag, err := name.NewTag(t, name.StrictValidation)
		if err != nil {
			return fmt.Errorf("--tag %q: %w (write it in full, e.g. docker.io/stagewise/demo-app:1.5.0)", t, err)
		}
		refs[tag] = img
	}
	if err := os.MkdirAll(filepath.Dir(o.Out), 0o755); err != nil {
		return err
	}
	// Written beside the target and renamed: a reader never sees a half-written archive.
	tmp := o.Out + ".tmp"
	if err := tarball.MultiRefWriteToFile(tmp, refs); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, o.Out)
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "imagepack: %v\n", err)
		os.Exit(2)
	}
	if err := write(o); err != nil {
		fmt.Fprintf(os.Stderr, "imagepack: %v\n", err)
		os.Exit(1)
	}
}
