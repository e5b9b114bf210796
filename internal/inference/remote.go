package inference

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/plinthai/plinth/internal/registry"
)

// maxRemoteResponse bounds what a remote server may answer.
const maxRemoteResponse = 16 << 20

// remote serves a version whose artifact is another server speaking the
// Open Inference Protocol over REST, in any language. The version's URI is
// the model's base URL on that server, such as
// http://host:8000/v2/models/fraud (optionally ending in /versions/<v>).
// Its metadata gives the input tensor and the row width; the version's
// "features" tag (comma-separated) names the columns for /v1 predict by
// name, else they are f0, f1, …. The first output is the score.
type remote struct {
	client *http.Client
	url    string
	input  string
	output string
	width  int
}

// oipMeta is the part of a model metadata response remote reads.
type oipMeta struct {
	Inputs []struct {
		Name     string  `json:"name"`
		Datatype string  `json:"datatype"`
		Shape    []int64 `json:"shape"`
	} `json:"inputs"`
	Outputs []struct {
		Name string `json:"name"`
	} `json:"outputs"`
}

func newRemote(ctx context.Context, client *http.Client, v registry.Version) (runtime, *signature, error) {
	url := strings.TrimSuffix(v.URI, "/")
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return nil, nil, fmt.Errorf("remote model URI %q: want an http(s) URL of an Open Inference Protocol model", v.URI)
	}
	var meta oipMeta
	if err := remoteCall(ctx, client, http.MethodGet, url, nil, &meta); err != nil {
		return nil, nil, fmt.Errorf("remote model metadata: %w", err)
	}
	if len(meta.Inputs) == 0 || len(meta.Outputs) == 0 || len(meta.Inputs[0].Shape) == 0 {
		return nil, nil, fmt.Errorf("remote model %s declares no input shape or no output", url)
	}
	in := meta.Inputs[0]
	width := int(in.Shape[len(in.Shape)-1])
	features := featureNames(v.Tags["features"], width)
	if width <= 0 {
		width = len(features)
	}
	if width <= 0 || len(features) != width {
		return nil, nil, fmt.Errorf("remote model %s: input width %d does not match %d feature names", url, width, len(features))
	}
	rt := &remote{client: client, url: url, input: in.Name, output: meta.Outputs[0].Name, width: width}
	return rt, scoreSig(features, "remote_oip"), nil
}

// featureNames splits a "features" tag, or makes f0..f(width-1).
func featureNames(tag string, width int) []string {
	if tag != "" {
		return strings.Split(tag, ",")
	}
	names := make([]string, max(width, 0))
	for i := range names {
		names[i] = "f" + strconv.Itoa(i)
	}
	return names
}

func (r *remote) predict(ctx context.Context, rows []float32, n int, out []float64) error {
	body := make([]byte, 0, 64+12*len(rows))
	body = append(body, `{"inputs":[{"name":`...)
	body = strconv.AppendQuote(body, r.input)
	body = append(body, `,"datatype":"FP32","shape":`...)
	body = appendShape(body, []int64{int64(n), int64(r.width)})
	body = append(body, `,"data":[`...)
	for i, v := range rows[:n*r.width] {
		if i > 0 {
			body = append(body, ',')
		}
		body = strconv.AppendFloat(body, float64(v), 'g', -1, 32)
	}
	body = append(body, `]}]}`...)
	var resp struct {
		Outputs []struct {
			Name string    `json:"name"`
			Data []float64 `json:"data"`
		} `json:"outputs"`
	}
	if err := remoteCall(ctx, r.client, http.MethodPost, r.url+"/infer", body, &resp); err != nil {
		return err
	}
	for _, o := range resp.Outputs {
		if o.Name == r.output || len(resp.Outputs) == 1 {
			if len(o.Data) != n {
				return fmt.Errorf("remote model answered %d values for %d rows", len(o.Data), n)
			}
			copy(out, o.Data)
			return nil
		}
	}
	return fmt.Errorf("remote model answered without output %q", r.output)
}

// remoteCall does one JSON exchange; a non-200 answer becomes an error
// carrying the server's {"error": …} message.
func remoteCall(ctx context.Context, client *http.Client, method, url string, body []byte, into any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxRemoteResponse))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(data, &e)
		return fmt.Errorf("%s %s: status %d: %s", method, url, resp.StatusCode, e.Error)
	}
	return json.Unmarshal(data, into)
}
