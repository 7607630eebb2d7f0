package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// pack writes an archive from args and returns its path.
func pack(t *testing.T, args ...string) string {
	t.Helper()
	o, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(o); err != nil {
		t.Fatal(err)
	}
	return o.Out
}

func TestArchiveReadsBack(t *testing.T) {
	dir := t.TempDir()
	content := []byte("\x7fELF not really, but bytes to find again")
	bin := filepath.Join(dir, "demo-app")
	if err := os.WriteFile(bin, content, 0o755); err != nil {
		t.Fatal(err)
	}
	tags := []string{"docker.io/stagewise/demo-app:1.6.0", "docker.io/stagewise/demo-app:bad-errors"}
	out := pack(t, "--binary", bin, "--env", "FAULT_ERROR_RATE=0.3", "--env", "OTEL_SERVICE_NAME=demo-app",
		"--tag", tags[0], "--tag", tags[1], "--out", filepath.Join(dir, "out", "demo-app.tar"))

	// The docker-archive manifest names the image under both tags, exactly as given.
	manifest, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(out) })
	if err != nil {
		t.Fatal(err)
	}
	if len(manifest) != 1 {
		t.Fatalf("%d images in the archive, want 1", len(manifest))
	}
	got := slices.Sorted(slices.Values(manifest[0].RepoTags))
	if !slices.Equal(got, tags) {
		t.Errorf("RepoTags %v, want %v", got, tags)
	}

	for _, ref := range tags {
		tag, err := name.NewTag(ref)
		if err != nil {
			t.Fatal(err)
		}
		img, err := tarball.ImageFromPath(out, &tag)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		c := cfg.Config
		if !slices.Equal(c.Entrypoint, []string{"/demo-app"}) || c.WorkingDir != "/" || c.User != "65534" ||
			!slices.Equal(c.Env, []string{"FAULT_ERROR_RATE=0.3", "OTEL_SERVICE_NAME=demo-app"}) {
			t.Errorf("%s: config %+v", ref, c)
		}
		if cfg.OS != "linux" || cfg.Architecture == "" {
			t.Errorf("%s: platform %s/%s", ref, cfg.OS, cfg.Architecture)
		}
		layers, err := img.Layers()
		if err != nil || len(layers) != 1 {
			t.Fatalf("%s: layers %d, %v; want 1", ref, len(layers), err)
		}

		// The image's file system: exactly /demo-app, 0755, with the binary's bytes.
		tr := tar.NewReader(mutate.Extract(img))
		var files []string
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, h.Name)
			if h.Name != "demo-app" {
				continue
			}
			if h.Mode&0o777 != 0o755 || h.Typeflag != tar.TypeReg {
				t.Errorf("mode %o type %c, want a regular file 0755", h.Mode, h.Typeflag)
			}
			b, _ := io.ReadAll(tr)
			if !bytes.Equal(b, content) {
				t.Errorf("file content %q, want the binary's", b)
			}
		}
		if !slices.Equal(files, []string{"demo-app"}) {
			t.Errorf("files %v, want [demo-app]", files)
		}
	}
}

func TestSameInputSameDigest(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "pause")
	if err := os.WriteFile(bin, []byte("pause"), 0o755); err != nil {
		t.Fatal(err)
	}
	digest := func(out, user string) string {
		pack(t, "--binary", bin, "--user", user, "--tag", "localhost/stagewise/pause:1", "--out", out)
		tag, _ := name.NewTag("localhost/stagewise/pause:1")
		img, err := tarball.ImageFromPath(out, &tag)
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d.String()
	}
	a, b := digest(filepath.Join(dir, "a.tar"), "65535"), digest(filepath.Join(dir, "b.tar"), "65535")
	if a != b {
		t.Errorf("two builds of the same binary: %s and %s", a, b)
	}
	if c := digest(filepath.Join(dir, "c.tar"), "0"); c == a {
		t.Errorf("a different user gave the same digest %s", c)
	}
}

func TestBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--out", "x.tar", "--tag", "docker.io/a/b:1"}, "--binary"},
		{[]string{"--binary", "b", "--out", "x.tar"}, "--tag"},
		{[]string{"--binary", "b", "--out", "x.tar", "--tag", "t:1", "--env", "NOVALUE"}, "KEY=VALUE"},
		{[]string{"--binary", "b", "--out", "x.tar", "--tag", "t:1", "--user", "nobody"}, "numeric uid"},
		{[]string{"--binary", "b", "--out", "x.tar", "--tag", "t:1", "--name", "bin/app"}, "plain file name"},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one mentioning %q", tc.args, err, tc.want)
		}
	}
	// A tag without registry or tag is refused when writing: the archive must name it in full.
	dir := t.TempDir()
	bin := filepath.Join(dir, "app")
	if err := os.WriteFile(bin, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"stagewise/demo-app:1.5.0", "docker.io/stagewise/demo-app"} {
		o, err := parseFlags([]string{"--binary", bin, "--out", filepath.Join(dir, "x.tar"), "--tag", tag}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if err := write(o); err == nil || !strings.Contains(err.Error(), "--tag") {
			t.Errorf("tag %q: error %v, want a refusal naming --tag", tag, err)
		}
	}
}
