package store_test

import (
	"errors"
	"testing"

	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

func TestLocalModelValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, path string
		field      string // "" when valid
	}{
		{"local/m", "/srv/models/m", ""},
		{"m", "/srv/models/m", "name"},
		{"local/", "/srv/models/m", "name"},
		{"local/a/b", "/srv/models/m", "name"},
		{`local/a\b`, "/srv/models/m", "name"},
		{"org/m", "/srv/models/m", "name"},
		{"local/m", "models/m", "path"},
		{"local/m", "/srv/models/../m", "path"},
		{"local/m", "", "path"},
	} {
		t.Run(tc.name+" "+tc.path, func(t *testing.T) {
			err := store.LocalModel{Name: tc.name, Path: tc.path}.Validate()
			var se *store.SettingError
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("Validate: %v, want valid", err)
			case tc.field != "" && (!errors.As(err, &se) || se.Field != tc.field):
				t.Errorf("Validate: %v, want a SettingError on %s", err, tc.field)
			}
		})
	}
}

// TestLocalModels registers, lists and removes folders; names are unique.
func TestLocalModels(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	lm := st.LocalModels()
	if _, err := lm.Add(store.LocalModel{Name: "local/b", Path: "/srv/b", AddedBy: "u1"}); err != nil {
		t.Fatal(err)
	}
	a, err := lm.Add(store.LocalModel{Name: "local/a", Path: "/srv/a"})
	if err != nil || a.AddedAt.IsZero() {
		t.Fatalf("Add = %+v, %v", a, err)
	}
	if _, err := lm.Add(store.LocalModel{Name: "local/a", Path: "/srv/other"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("adding a name twice: %v, want ErrConflict", err)
	}
	if _, err := lm.Add(store.LocalModel{Name: "local/c", Path: "rel"}); err == nil {
		t.Error("Add of an invalid record: no error")
	}
	list, err := lm.List()
	if err != nil || len(list) != 2 || list[0].Name != "local/a" || list[1].Path != "/srv/b" || list[1].AddedBy != "u1" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if err := lm.Remove("local/a"); err != nil {
		t.Fatal(err)
	}
	if err := lm.Remove("local/a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("removing twice: %v, want ErrNotFound", err)
	}
	if list, _ := lm.List(); len(list) != 1 || list[0].Name != "local/b" {
		t.Errorf("List after Remove = %+v", list)
	}
}
