package registry

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/plinthai/plinth/internal/platform/problem"
)

// Sentinels of the registry. Each wraps a kind of package problem, so
// transports map them to status codes without knowing them.
var (
	// ErrModelNotFound means no model has the name.
	ErrModelNotFound = fmt.Errorf("model not found: %w", problem.ErrNotFound)
	// ErrVersionNotFound means the model has no such version.
	ErrVersionNotFound = fmt.Errorf("version not found: %w", problem.ErrNotFound)
	// ErrAliasNotFound means the model has no such alias.
	ErrAliasNotFound = fmt.Errorf("alias not found: %w", problem.ErrNotFound)
	// ErrArtifactNotFound means no artifact has the checksum.
	ErrArtifactNotFound = fmt.Errorf("artifact not found: %w", problem.ErrNotFound)
	// ErrModelExists means a model with the name exists already.
	ErrModelExists = fmt.Errorf("model exists: %w", problem.ErrConflict)
	// ErrAliasMoved means the alias is not at the revision the caller named.
	ErrAliasMoved = fmt.Errorf("alias is not at the expected revision: %w", problem.ErrPrecondition)
	// ErrJobNotFound means no job has the id.
	ErrJobNotFound = fmt.Errorf("job not found: %w", problem.ErrNotFound)
	// ErrJobFinished means the job is succeeded, failed or cancelled and
	// takes no more updates; a worker that gets it stops working on the job.
	ErrJobFinished = fmt.Errorf("job is finished: %w", problem.ErrConflict)
	// ErrGateNotPassed means champion cannot move to a version without a
	// passed, current gate record; the message names the failed checks.
	ErrGateNotPassed = fmt.Errorf("validation gate not passed: %w", problem.ErrConflict)
	// ErrForceNotAllowed means a forced champion move lacks the admin scope.
	ErrForceNotAllowed = fmt.Errorf("forcing champion needs the admin scope: %w", problem.ErrForbidden)
)

// nameRE is the shape of model and alias names: lowercase, digits, dot,
// dash and underscore, starting with a letter or digit, at most 63 bytes.
var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

func checkName(field, v string) error {
	if !nameRE.MatchString(v) {
		return problem.Field(field, "%q must match [a-z0-9][a-z0-9._-]{0,62}", v)
	}
	return nil
}

func checkVersion(field string, v int64) error {
	if v <= 0 {
		return problem.Field(field, "must be a positive version number, got %d", v)
	}
	return nil
}

func checkSHA(field, v string) error {
	if len(v) != 64 || strings.Trim(v, "0123456789abcdef") != "" {
		return problem.Field(field, "must be 64 lowercase hex digits")
	}
	return nil
}

// Limits on free-form fields, so one request cannot bloat the database.
const (
	maxDescription = 4096
	maxMapEntries  = 256
	maxKeyLen      = 128
	maxValueLen    = 4096
)

func checkText(field, v string, max int) error {
	if len(v) > max {
		return problem.Field(field, "longer than %d bytes", max)
	}
	return nil
}

func checkTags(field string, m map[string]string) error {
	if len(m) > maxMapEntries {
		return problem.Field(field, "more than %d entries", maxMapEntries)
	}
	for k, v := range m {
		if k == "" || len(k) > maxKeyLen {
			return problem.Field(field+"."+k, "key must be 1 to %d bytes", maxKeyLen)
		}
		if len(v) > maxValueLen {
			return problem.Field(field+"."+k, "value longer than %d bytes", maxValueLen)
		}
	}
	return nil
}

func checkMetrics(field string, m map[string]float64) error {
	if len(m) > maxMapEntries {
		return problem.Field(field, "more than %d entries", maxMapEntries)
	}
	for k := range m {
		if k == "" || len(k) > maxKeyLen {
			return problem.Field(field+"."+k, "key must be 1 to %d bytes", maxKeyLen)
		}
	}
	return nil
}

// parseIfMatch reads an If-Match value: "" (none), or a revision with or
// without quotes. It returns -1 for none.
func parseIfMatch(v string) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "*" {
		return -1, nil
	}
	n, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(v, "W/"), `"`), 10, 64)
	if err != nil || n < 0 {
		return 0, problem.Field("if_match", "%q is not an alias revision", v)
	}
	return n, nil
}
