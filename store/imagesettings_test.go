package store_test

import (
	"errors"
	"testing"

	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

func TestImageSettings(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	set, err := st.Settings().Images()
	if err != nil || set.Fetch() != store.ImageFetchOff {
		t.Fatalf("default = %+v (%s), %v; want off", set, set.Fetch(), err)
	}
	for _, tc := range []struct {
		mode string
		ok   bool
	}{{"", true}, {"off", true}, {"public", true}, {"any", true}, {"on", false}, {"PUBLIC", false}} {
		err := st.Settings().PutImages(store.ImageSettings{URLFetch: tc.mode})
		var se *store.SettingError
		if tc.ok != (err == nil) || (!tc.ok && (!errors.As(err, &se) || se.Field != "image_url_fetch")) {
			t.Errorf("PutImages(%q) = %v, want ok=%v", tc.mode, err, tc.ok)
		}
	}
	if set, _ := st.Settings().Images(); set.Fetch() != store.ImageFetchAny {
		t.Errorf("stored %+v, want the last valid mode (any)", set)
	}
}
