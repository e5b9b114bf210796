package auth

import (
	"context"
	"testing"
)

// holder is a context that keeps its principal itself, as the edge's does.
type holder struct {
	context.Context
	p Principal
}

func (h *holder) Value(key any) any {
	if _, ok := key.(ContextKey); ok {
		return &h.p
	}
	return h.Context.Value(key)
}

func TestFrom(t *testing.T) {
	type other struct{}
	bg := context.Background()
	alice := Principal{Subject: "alice", Scopes: []string{"predict"}}
	for _, tt := range []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"none", bg, Anonymous},
		{"WithPrincipal", WithPrincipal(bg, alice), "alice"},
		{"WithPrincipal, empty subject", WithPrincipal(bg, Principal{}), Anonymous},
		{"holder", &holder{Context: bg, p: alice}, "alice"},
		{"holder under a derived context", context.WithValue(&holder{Context: bg, p: alice}, other{}, 1), "alice"},
		{"holder, empty subject", &holder{Context: bg}, Anonymous},
	} {
		if got := From(tt.ctx).Subject; got != tt.want {
			t.Errorf("%s: From = %q, want %q", tt.name, got, tt.want)
		}
	}
	if !HasScope(&holder{Context: bg, p: alice}, "predict") || HasScope(bg, "predict") {
		t.Error("HasScope does not read the principal's scopes")
	}
}
