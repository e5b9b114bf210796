package gateway

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/plinthai/plinth/internal/platform/problem"
)

// Problem type slugs the edge adds to package problem's kinds.
const (
	slugRateLimited      = "rate-limited"
	slugOverloaded       = "overloaded"
	slugHeaderTooLarge   = "header-too-large"
	slugInjected         = "injected-fault"
	slugMethodNotAllowed = "method-not-allowed"
)

// writeProblem sends a problem document of a slug outside package
// problem's kinds (429, 431, injected faults); under /v2 it sends the Open
// Inference Protocol's {"error": detail} instead.
func writeProblem(w http.ResponseWriter, r *http.Request, status int, slug, detail string) {
	if oipPath(r.URL.Path) {
		writeOIPError(w, status, detail)
		return
	}
	problem.WriteDetails(w, problem.Details{
		Type: problem.TypePrefix + slug, Title: http.StatusText(status), Status: status,
		Detail: detail, Instance: r.URL.Path, RequestID: w.Header().Get("X-Request-Id"),
	})
}

// writeError sends err as a problem document, or under /v2 as the Open
// Inference Protocol's {"error": "..."} with the same status. Internal
// errors keep their detail to the log.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	if !oipPath(r.URL.Path) {
		problem.Write(w, r, err)
		return
	}
	status, msg := problem.Status(err), err.Error()
	if !problem.IsKind(err) {
		msg = "internal error"
	}
	writeOIPError(w, status, msg)
}

// oipPath reports whether path belongs to the Open Inference Protocol.
func oipPath(path string) bool { return path == "/v2" || strings.HasPrefix(path, "/v2/") }

func writeOIPError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// headerBytes counts a request's header block roughly as it came on the
// wire: names, values and separators.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + len(r.URL.RequestURI()) + 12
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// shedder bounds the requests served at once; past the bound it refuses
// at once rather than queueing (load shedding).
type shedder struct{ slots chan struct{} }

func newShedder(n int) *shedder { return &shedder{slots: make(chan struct{}, n)} }

// acquire takes a slot without waiting; release gives it back.
func (s *shedder) acquire() bool {
	select {
	case s.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (s *shedder) release() { <-s.slots }

// retryAfter formats a wait as whole seconds, at least 1.
func retryAfter(d time.Duration) string { return strconv.FormatInt(waitSeconds(d), 10) }
