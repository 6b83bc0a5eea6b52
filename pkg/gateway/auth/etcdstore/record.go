package etcdstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
)

// IDLen is the length of a key's ID: the first hex digits of its SHA-256,
// enough to name it in logs, /status and `micro-gw apikey list`.
const IDLen = 12

// Record is the JSON value stored for one API key.
type Record struct {
	// Application is the calling application's name (required).
	Application string `json:"application"`
	// KeyType is auth.Production or auth.Sandbox (required).
	KeyType string `json:"keyType"`
	// APIs are the API titles the key may call; empty: every API.
	APIs []string `json:"apis,omitempty"`
	// Expires is when the key stops working, RFC 3339; empty: never.
	Expires string `json:"expires,omitempty"`
	// Tier is the application's throttling tier; optional.
	Tier string `json:"tier,omitempty"`
}

// Hash returns the hex SHA-256 of key: the name under which it is stored.
func Hash(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:])
}

// KeyID returns the short ID of a key's hex hash.
func KeyID(hash string) string { return hash[:min(IDLen, len(hash))] }

// ParseRecord decodes and checks a record. Errors say what is wrong
// without quoting the value.
func ParseRecord(value []byte) (Record, time.Time, error) {
	var r Record
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, time.Time{}, fmt.Errorf("not an API key record (JSON with application, keyType, apis, expires, tier): %v", err)
	}
	if dec.More() {
		return r, time.Time{}, errors.New("not an API key record: more than one JSON value")
	}
	exp, err := r.Check()
	return r, exp, err
}

// Check checks a record's fields and returns its expiry (zero: never).
func (r Record) Check() (time.Time, error) {
	if strings.TrimSpace(r.Application) == "" {
		return time.Time{}, errors.New("the application is empty; give the application's name")
	}
	if r.KeyType != auth.Production && r.KeyType != auth.Sandbox {
		return time.Time{}, fmt.Errorf("keyType %q is neither %s nor %s", r.KeyType, auth.Production, auth.Sandbox)
	}
	for i, a := range r.APIs {
		if strings.TrimSpace(a) == "" {
			return time.Time{}, fmt.Errorf("apis[%d] is empty; list API titles, or none for every API", i)
		}
	}
	if r.Expires == "" {
		return time.Time{}, nil
	}
	exp, err := time.Parse(time.RFC3339, r.Expires)
	if err != nil {
		return time.Time{}, fmt.Errorf("expires %q is not an RFC 3339 time like 2027-01-31T00:00:00Z", r.Expires)
	}
	return exp, nil
}

// parseHash reads the hex SHA-256 at the end of an etcd key.
func parseHash(hexHash string) ([32]byte, error) {
	var h [32]byte
	if len(hexHash) != 2*len(h) || strings.ToLower(hexHash) != hexHash {
		return h, fmt.Errorf("the key's name is not a lower-case hex SHA-256 (64 digits) after the prefix")
	}
	if _, err := hex.Decode(h[:], []byte(hexHash)); err != nil {
		return h, fmt.Errorf("the key's name is not a lower-case hex SHA-256 (64 digits) after the prefix")
	}
	return h, nil
}

// principal builds the shared, read-only principal of a key.
func (r Record) principal(hexHash string, exp time.Time) *auth.Principal {
	return &auth.Principal{
		Subject:     r.Application,
		ID:          KeyID(hexHash),
		KeyType:     r.KeyType,
		Application: auth.Application{Name: r.Application, Tier: r.Tier},
		Expires:     exp,
		APIs:        r.APIs,
	}
}
