package ingest

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"

	"github.com/plinthai/plinth/internal/platform/config"
)

// Field types of a stream schema.
const (
	TypeString    = "string"
	TypeNumber    = "number"
	TypeInteger   = "integer"
	TypeBool      = "bool"
	TypeTimestamp = "timestamp" // RFC 3339 string, or Unix milliseconds as a number
)

var fieldTypes = []string{TypeString, TypeNumber, TypeInteger, TypeBool, TypeTimestamp}

// Field declares one field of a stream's events.
type Field struct {
	Name     string `yaml:"name"`
	Type     string `yaml:"type"`
	Required bool   `yaml:"required"`
}

// Stream declares one event stream: its schema, the fields that key its
// entities, the event-time field and an optional event-id field. Events
// carry only declared fields unless AllowExtra is set.
type Stream struct {
	Name       string   `yaml:"name"`
	EntityKeys []string `yaml:"entity_keys"`
	TimeField  string   `yaml:"time_field"`
	IDField    string   `yaml:"id_field"`
	Fields     []Field  `yaml:"fields"`
	AllowExtra bool     `yaml:"allow_extra_fields"`

	byName  map[string]int // index into Fields, built by check
	timeIdx int            // index of TimeField in Fields, -1 when none
	subject string         // the bus subject of its events, set by New
}

// streamsFile is the document form of a streams file.
type streamsFile struct {
	Streams []*Stream `yaml:"streams"`
}

var streamNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// LoadStreams reads stream declarations from path: one YAML file, or every
// *.yaml file of a directory (not recursive). An empty path declares none.
// It reports every problem found, naming the file and the stream.
func LoadStreams(path string) (map[string]*Stream, error) {
	out := map[string]*Stream{}
	if path == "" {
		return out, nil
	}
	files, err := config.DeclarationFiles(path, "streams")
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, f := range files {
		errs = append(errs, loadStreamsFile(f, out))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func loadStreamsFile(path string, out map[string]*Stream) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read streams: %w", err)
	}
	var doc streamsFile
	if err := config.DecodeStrict(b, &doc); err != nil {
		return fmt.Errorf("streams file %s: %w", path, err)
	}
	var errs []error
	for i, s := range doc.Streams {
		if err := s.check(); err != nil {
			errs = append(errs, fmt.Errorf("streams file %s: streams[%d] %q: %w", path, i, s.Name, err))
			continue
		}
		if _, dup := out[s.Name]; dup {
			errs = append(errs, fmt.Errorf("streams file %s: stream %q declared twice", path, s.Name))
			continue
		}
		out[s.Name] = s
	}
	return errors.Join(errs...)
}

// check validates a declaration and indexes its fields.
func (s *Stream) check() error {
	var errs []error
	if !streamNameRE.MatchString(s.Name) {
		errs = append(errs, fmt.Errorf("name must match %s", streamNameRE))
	}
	s.byName = make(map[string]int, len(s.Fields))
	for i, f := range s.Fields {
		if f.Name == "" {
			errs = append(errs, fmt.Errorf("fields[%d]: no name", i))
		}
		if !slices.Contains(fieldTypes, f.Type) {
			errs = append(errs, fmt.Errorf("field %q: type %q is not one of %v", f.Name, f.Type, fieldTypes))
		}
		if _, dup := s.byName[f.Name]; dup {
			errs = append(errs, fmt.Errorf("field %q declared twice", f.Name))
		}
		s.byName[f.Name] = i
	}
	if len(s.EntityKeys) == 0 {
		errs = append(errs, errors.New("entity_keys: name at least one field"))
	}
	for _, k := range s.EntityKeys {
		errs = append(errs, s.checkRef("entity_keys", k, TypeString, TypeInteger))
	}
	s.timeIdx = -1
	if s.TimeField != "" {
		errs = append(errs, s.checkRef("time_field", s.TimeField, TypeTimestamp))
		s.timeIdx = s.byName[s.TimeField]
	}
	if s.IDField != "" {
		errs = append(errs, s.checkRef("id_field", s.IDField, TypeString, TypeInteger))
	}
	return errors.Join(errs...)
}

// checkRef checks that a special field is declared, required, and of one
// of the allowed types.
func (s *Stream) checkRef(what, name string, types ...string) error {
	i, ok := s.byName[name]
	if !ok {
		return fmt.Errorf("%s: field %q is not declared", what, name)
	}
	f := s.Fields[i]
	if !slices.Contains(types, f.Type) {
		return fmt.Errorf("%s: field %q must be of type %v, not %s", what, name, types, f.Type)
	}
	if !f.Required {
		return fmt.Errorf("%s: field %q must be required", what, name)
	}
	return nil
}
