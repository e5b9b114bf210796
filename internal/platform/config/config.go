// Package config layers Plinth's configuration: defaults < YAML file <
// environment < command-line flags.
//
// Every option is a pflag flag named <module>.<option> in kebab case,
// registered by the owning package's Config.RegisterFlags with its default.
// The flag binds the Config struct field, so one name serves all layers:
//
//	flag:        --server.http-addr=:9090
//	YAML:        server: {http-addr: ":9090"}
//	environment: PLINTH_SERVER_HTTP_ADDR=:9090
//
// In the environment name the first underscore after the prefix separates
// module and option and the others stand for dashes. Unknown keys in the
// file or PLINTH_ variables in the environment are errors, so a typo never
// passes silently.
package config

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"
	yamlv3 "go.yaml.in/yaml/v3"
)

// EnvPrefix starts every environment variable Plinth reads.
const EnvPrefix = "PLINTH_"

// Apply fills every flag not set on the command line from the YAML file
// (if path is not empty) and then from environ (KEY=value pairs, usually
// os.Environ()), so flags win over the environment and the environment
// over the file. skip names flags that only make sense on the command line.
func Apply(fs *pflag.FlagSet, path string, environ []string, skip ...string) error {
	k := koanf.New(".")
	if path != "" {
		if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
			return fmt.Errorf("read config file %s: %w", path, err)
		}
	}
	fileKeys := k.Keys()
	envVals, err := fromEnv(fs, environ)
	errs := []error{err}
	for _, key := range fileKeys {
		if fs.Lookup(key) == nil || contains(skip, key) {
			errs = append(errs, fmt.Errorf("config file %s: unknown option %q", path, key))
		}
	}
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || contains(skip, f.Name) {
			return
		}
		val, ok := envVals[f.Name]
		src := "environment variable " + EnvName(f.Name)
		if !ok && k.Exists(f.Name) {
			val, ok = stringify(k.Get(f.Name)), true
			src = "config file option " + f.Name
		}
		if !ok {
			return
		}
		if err := setFresh(f, val); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", src, err))
		}
	})
	return errors.Join(errs...)
}

// setFresh sets a flag from a string, replacing (not appending to) a list
// default, without marking it changed on the command line.
func setFresh(f *pflag.Flag, val string) error {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		var items []string
		if val != "" {
			items = strings.Split(val, ",")
		}
		return sv.Replace(items)
	}
	return f.Value.Set(val)
}

// EnvName returns the environment variable for a flag name.
func EnvName(flag string) string {
	r := strings.NewReplacer(".", "_", "-", "_")
	return EnvPrefix + strings.ToUpper(r.Replace(flag))
}

func fromEnv(fs *pflag.FlagSet, environ []string) (map[string]string, error) {
	byEnv := map[string]string{}
	fs.VisitAll(func(f *pflag.Flag) { byEnv[EnvName(f.Name)] = f.Name })
	out := map[string]string{}
	var errs []error
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		flag, known := byEnv[name]
		if !known {
			errs = append(errs, fmt.Errorf("environment variable %s: unknown option", name))
			continue
		}
		out[flag] = val
	}
	return out, errors.Join(errs...)
}

func stringify(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ",")
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Dump renders the effective value of every flag as the YAML a config file
// would hold, skipping the named flags. Values of flags marked secret (by
// an annotation "secret") print as "<redacted>".
func Dump(fs *pflag.FlagSet, skip ...string) ([]byte, error) {
	root := map[string]any{}
	var names []string
	fs.VisitAll(func(f *pflag.Flag) {
		if !contains(skip, f.Name) {
			names = append(names, f.Name)
		}
	})
	sort.Strings(names)
	for _, name := range names {
		f := fs.Lookup(name)
		var v any = f.Value.String()
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			v = sv.GetSlice()
		}
		if _, secret := f.Annotations["secret"]; secret && f.Value.String() != "" {
			v = "<redacted>"
		}
		node := root
		parts := strings.Split(name, ".")
		for _, p := range parts[:len(parts)-1] {
			child, ok := node[p].(map[string]any)
			if !ok {
				child = map[string]any{}
				node[p] = child
			}
			node = child
		}
		node[parts[len(parts)-1]] = v
	}
	return yamlv3.Marshal(root)
}

// MarkSecret annotates a flag so Dump never prints its value.
func MarkSecret(fs *pflag.FlagSet, name string) {
	_ = fs.SetAnnotation(name, "secret", []string{"true"})
}

// Environ is os.Environ, here so callers and tests name the source.
func Environ() []string { return os.Environ() }
