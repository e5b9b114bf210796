package inference

import (
	"strconv"
	"strings"
)

// ServerMetadata is the protocol's server metadata.
type ServerMetadata struct {
	Name       string   `json:"name"`
	Version    string   `json:"version"`
	Extensions []string `json:"extensions"`
}

// TensorMetadata describes one input or output tensor; -1 is a variable
// dimension.
type TensorMetadata struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

// ModelMetadata is the protocol's model metadata. Properties carries the
// versions by alias and the feature names, in row order.
type ModelMetadata struct {
	Name       string            `json:"name"`
	Versions   []string          `json:"versions"`
	Platform   string            `json:"platform"`
	Inputs     []TensorMetadata  `json:"inputs"`
	Outputs    []TensorMetadata  `json:"outputs"`
	Properties map[string]string `json:"properties,omitempty"`
}

// ServerMetadata describes this server and the protocol extensions it
// implements.
func (s *Service) ServerMetadata(version string) ServerMetadata {
	return ServerMetadata{Name: "plinth", Version: version, Extensions: []string{"binary_tensor_data", "model_list", "plinth_traffic"}}
}

// version returns a loaded version of the model: v, or the champion when
// v is 0. It fails with ErrModelNotFound, ErrVersionNotFound or ErrLoading.
func (s *Service) version(name string, v int64) (*loaded, *deployment, error) {
	e, err := s.entry(name)
	if err != nil {
		return nil, nil, err
	}
	d := e.dep.Load()
	if d == nil || d.champion == nil {
		return nil, nil, errorf(ErrLoading, "model %q has no champion loaded", name)
	}
	if v == 0 {
		return d.champion, d, nil
	}
	if l := d.find(v); l != nil {
		return l, d, nil
	}
	return nil, nil, errorf(ErrVersionNotFound, "model %q version %d is not loaded", name, v)
}

// ModelReady is nil when the model (version v, or its champion when v is
// 0) can answer now.
func (s *Service) ModelReady(name string, v int64) error {
	_, _, err := s.version(name, v)
	return err
}

// ModelMetadata describes a model as served by version v (0: champion).
func (s *Service) ModelMetadata(name string, v int64) (ModelMetadata, error) {
	l, d, err := s.version(name, v)
	if err != nil {
		return ModelMetadata{}, err
	}
	sig := l.sig
	md := ModelMetadata{
		Name: name, Platform: sig.platform,
		Properties: map[string]string{"features": strings.Join(sig.features, ","), "served_version": l.versionStr},
	}
	for _, x := range d.all() {
		md.Versions = append(md.Versions, x.versionStr)
	}
	md.Properties[aliasChampion] = d.champion.versionStr
	if d.challenger != nil {
		md.Properties[aliasChallenger] = d.challenger.versionStr
		md.Properties["challenger_percent"] = strconv.FormatFloat(d.traffic.ChallengerPercent, 'g', -1, 64)
		md.Properties["shadow"] = strconv.FormatBool(d.traffic.Shadow)
	}
	if sig.input == inputUser {
		md.Inputs = []TensorMetadata{{inputUser, sig.inputDT.String(), []int64{-1}}}
	} else {
		md.Inputs = []TensorMetadata{{inputFeatures, sig.inputDT.String(), []int64{-1, int64(sig.width())}}}
	}
	for _, o := range sig.outputs {
		md.Outputs = append(md.Outputs, TensorMetadata{o.name, o.dt.String(), []int64{-1, int64(o.width)}})
	}
	return md, nil
}
