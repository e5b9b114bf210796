package inference

import (
	"context"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/plinthai/plinth/internal/registry"
)

// TestRemoteRuntime serves a version whose artifact is a FastAPI server
// speaking the Open Inference Protocol (Debian's python3-fastapi).
func TestRemoteRuntime(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import fastapi, uvicorn").Run(); err != nil {
		t.Skip("python3-fastapi and python3-uvicorn are not installed (apt-get install python3-fastapi python3-uvicorn)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", "testdata/oip_server.py", strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	base := "http://127.0.0.1:" + strconv.Itoa(port) + "/v2/models/sum"
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base)
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("FastAPI server did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	reg := newFakeRegistry()
	v := reg.addVersion("sum", registry.FormatRemote, nil, map[string]string{"features": "a,b,c"})
	reg.mu.Lock()
	reg.versions["sum"][v-1].URI = base
	reg.mu.Unlock()
	reg.setAlias("sum", aliasChampion, v)
	h := start(t, reg, testConfig(t), nil)

	status, _, body := h.do("POST", "/v1/models/sum:predict", []byte(`{"id":"r","features":{"a":1,"b":2,"c":3.5}}`), nil)
	if status != 200 || string(body) != `{"id":"r","model":"sum","version":1,"arm":"champion","score":6.5}`+"\n" {
		t.Errorf("remote /v1 = %d %s", status, body)
	}
	status, _, body = h.do("POST", "/v2/models/sum/infer", []byte(`{"id":"q","inputs":[{"name":"features","shape":[2,3],"datatype":"FP32","data":[1,1,1,2,2,2]}]}`), nil)
	want := `{"model_name":"sum","model_version":"1","id":"q","outputs":[{"name":"score","datatype":"FP32","shape":[2,1],"data":[3,6]}]}`
	if status != 200 || string(body) != want {
		t.Errorf("remote /v2 = %d %s, want %s", status, body, want)
	}
}
