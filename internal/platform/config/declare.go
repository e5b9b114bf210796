package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	yamlv3 "go.yaml.in/yaml/v3"
)

// DecodeStrict decodes the first YAML document of data into v, refusing
// any field v has no place for, so that a misspelt key in a declaration
// (streams, views, rules, a product's spec) is an error, not a default.
// An input without a document returns io.EOF.
func DecodeStrict(data []byte, v any) error {
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	return dec.Decode(v)
}

// DeclarationFiles returns the files a declaration flag names: path
// itself, or the *.yaml files of a directory in name order. what names
// the declarations in errors ("streams").
func DeclarationFiles(path, what string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	files, err := filepath.Glob(filepath.Join(path, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("read %s in %s: %w", what, path, err)
	}
	slices.Sort(files)
	return files, nil
}
