package store_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

func TestResponsesPutGetDelete(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock()
	st := storetest.OpenDir(t, t.TempDir(), store.Options{Now: clock.Now})
	id := st.NewResponseID()
	in := store.StoredResponse{ID: id, OwnerID: "u1", Response: json.RawMessage(`{"id":"` + id + `"}`), History: json.RawMessage(`[]`)}
	if err := st.Responses().Put(in); err != nil {
		t.Fatal(err)
	}
	got, err := st.Responses().Get(id)
	if err != nil || got.OwnerID != "u1" || string(got.Response) != string(in.Response) || !got.Created.Equal(clock.Now()) {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if err := st.Responses().Delete(id); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Responses().Get(id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if err := st.Responses().Delete(id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
}

// TestResponsesRetention checks both limits: age (an expired response is gone
// at once, and trimmed by the next Put) and count (the oldest go first).
func TestResponsesRetention(t *testing.T) {
	t.Parallel()
	clock := storetest.NewClock()
	st := storetest.OpenDir(t, t.TempDir(), store.Options{Now: clock.Now})
	st.SetMaxResponses(3)
	put := func() string {
		t.Helper()
		id := st.NewResponseID()
		if err := st.Responses().Put(store.StoredResponse{ID: id, Response: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
		return id
	}
	old := put()
	clock.Advance(store.ResponseRetention)
	if _, err := st.Responses().Get(old); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired response: %v", err)
	}
	ids := []string{put(), put(), put()}
	if recs, err := st.Responses().Count(); err != nil || recs != 3 {
		t.Fatalf("after the expired one was trimmed: %d responses, %v", recs, err)
	}
	ids = append(ids, put())
	if _, err := st.Responses().Get(ids[0]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("oldest over the cap: %v", err)
	}
	for _, id := range ids[1:] {
		if _, err := st.Responses().Get(id); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
}
