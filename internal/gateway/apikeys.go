package gateway

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/plinthai/plinth/internal/platform/auth"
	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/platform/sqlstore"
)

// APIKeyPrefix starts every API key, so a key is recognised (and a leaked
// one found by secret scanners) at a glance: plk_<id>_<secret>.
const APIKeyPrefix = "plk_"

// Scopes known to the platform. ScopeAdmin grants every other scope.
// ScopeService marks the credential one target presents to another: it
// grants no operation by itself, and exempts its calls from rate limits
// (inference looks features up once per prediction, at the users' rate).
const (
	ScopeEventsWrite  = "events:write"
	ScopePredict      = "predict"
	ScopeFeaturesRead = "features:read"
	ScopeModelsRead   = "models:read"
	ScopeModelsWrite  = "models:write"
	ScopeAdmin        = "admin"
	ScopeService      = "service"
)

// AllScopes lists every scope.
func AllScopes() []string {
	return []string{ScopeEventsWrite, ScopePredict, ScopeFeaturesRead, ScopeModelsRead, ScopeModelsWrite, ScopeAdmin, ScopeService}
}

// rateLimited reports whether p's calls count against rate limits: all
// but those of other targets (ScopeService).
func rateLimited(p auth.Principal) bool { return !slices.Contains(p.Scopes, ScopeService) }

// ErrAPIKeyNotFound means no API key has the id.
var ErrAPIKeyNotFound = fmt.Errorf("api key not found: %w", problem.ErrNotFound)

// APIKey describes a service account's key; the secret is never stored.
type APIKey struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// CreatedAPIKey is an APIKey with its secret, returned once at creation.
type CreatedAPIKey struct {
	APIKey
	Key string `json:"key"`
}

// KeyStore keeps API keys in SQL, hashed (SHA-256 of a 256-bit random
// secret, so a fast hash is enough). It is safe for concurrent use.
type KeyStore struct {
	db *sqlstore.DB
}

// NewKeyStore returns a store over db (migrated by Migrate).
func NewKeyStore(db *sqlstore.DB) *KeyStore { return &KeyStore{db: db} }

// CheckScopes refuses unknown or repeated scopes, naming the field.
func CheckScopes(field string, scopes []string) error {
	if len(scopes) == 0 {
		return problem.Field(field, "name at least one scope")
	}
	for i, s := range scopes {
		if !slices.Contains(AllScopes(), s) {
			return problem.Field(fmt.Sprintf("%s[%d]", field, i), "unknown scope %q (known: %s)", s, strings.Join(AllScopes(), ", "))
		}
	}
	return nil
}

// Create makes a key named name with scopes, recording creator.
func (s *KeyStore) Create(ctx context.Context, name string, scopes []string, creator string) (CreatedAPIKey, error) {
	if name == "" || len(name) > 128 {
		return CreatedAPIKey{}, problem.Field("name", "must be 1 to 128 bytes")
	}
	if err := CheckScopes("scopes", scopes); err != nil {
		return CreatedAPIKey{}, err
	}
	id, secret, err := newKey()
	if err != nil {
		return CreatedAPIKey{}, err
	}
	key := APIKeyPrefix + id + "_" + secret
	now := time.Now().UTC().Truncate(time.Microsecond)
	_, err = s.db.ExecContext(ctx, `INSERT INTO gateway_api_keys (id, name, scopes, key_hash, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)`,
		id, name, strings.Join(scopes, " "), hashKey(key), now.UnixMicro(), creator)
	if err != nil {
		return CreatedAPIKey{}, fmt.Errorf("create api key: %w", err)
	}
	return CreatedAPIKey{APIKey: APIKey{ID: id, Name: name, Scopes: scopes, CreatedAt: now, CreatedBy: creator}, Key: key}, nil
}

func newKey() (id, secret string, err error) {
	var b [6 + 32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("generate api key: %w", err)
	}
	return hex.EncodeToString(b[:6]), base64.RawURLEncoding.EncodeToString(b[6:]), nil
}

func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Authenticate returns the principal of a valid, unrevoked key.
func (s *KeyStore) Authenticate(ctx context.Context, key string) (auth.Principal, error) {
	id, ok := parseAPIKey(key)
	if !ok {
		return auth.Principal{}, errors.New("malformed api key")
	}
	var hash, scopes string
	var revoked int64
	err := s.db.QueryRowContext(ctx, `SELECT key_hash, scopes, revoked_at FROM gateway_api_keys WHERE id = $1`, id).Scan(&hash, &scopes, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Principal{}, errors.New("unknown api key")
	}
	if err != nil {
		return auth.Principal{}, fmt.Errorf("look up api key: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(hash), []byte(hashKey(key))) != 1 {
		return auth.Principal{}, errors.New("unknown api key")
	}
	if revoked != 0 {
		return auth.Principal{}, errors.New("api key revoked")
	}
	return auth.Principal{Subject: apiKeySubject(id), Scopes: strings.Fields(scopes)}, nil
}

// apiKeySubject is the principal's subject of the key id.
func apiKeySubject(id string) string { return "apikey:" + id }

// parseAPIKey returns the id of a key shaped plk_<12 hex>_<43 base64url>.
func parseAPIKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, APIKeyPrefix)
	if !ok {
		return "", false
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 12 || strings.Trim(id, "0123456789abcdef") != "" || len(secret) != 43 {
		return "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(secret); err != nil {
		return "", false
	}
	return id, true
}

// List returns keys in creation order, without secrets.
func (s *KeyStore) List(ctx context.Context, includeRevoked bool) ([]APIKey, error) {
	q := `SELECT id, name, scopes, created_at, created_by, revoked_at FROM gateway_api_keys`
	if !includeRevoked {
		q += ` WHERE revoked_at = 0`
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	out := []APIKey{}
	for rows.Next() {
		var k APIKey
		var scopes string
		var created, revoked int64
		if err := rows.Scan(&k.ID, &k.Name, &scopes, &created, &k.CreatedBy, &revoked); err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		k.Scopes, k.CreatedAt = strings.Fields(scopes), time.UnixMicro(created).UTC()
		if revoked != 0 {
			t := time.UnixMicro(revoked).UTC()
			k.RevokedAt = &t
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// Count returns how many keys exist, revoked ones included.
func (s *KeyStore) Count(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM gateway_api_keys`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count api keys: %w", err)
	}
	return n, nil
}

// Revoke revokes a key at once; revoking a revoked key succeeds.
func (s *KeyStore) Revoke(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE gateway_api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at = 0`, time.Now().UnixMicro(), id)
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var one int
	if err := s.db.QueryRowContext(ctx, `SELECT 1 FROM gateway_api_keys WHERE id = $1`, id).Scan(&one); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("api key %q: %w", id, ErrAPIKeyNotFound)
		}
		return fmt.Errorf("revoke api key: %w", err)
	}
	return nil
}
