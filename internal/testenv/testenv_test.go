package testenv

import "testing"

func TestRequireAll(t *testing.T) {
	t.Setenv(RequireAllVar, "1")
	if !RequireAll() {
		t.Fatal("RequireAll is false with the variable set to 1")
	}
	t.Setenv(RequireAllVar, "")
	if RequireAll() {
		t.Fatal("RequireAll is true with the variable empty")
	}
}

func TestNeedPresent(t *testing.T) {
	t.Setenv(RequireAllVar, "1")
	Need(t, true, "always there") // must neither skip nor fail
}
