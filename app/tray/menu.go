package tray

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine"
)

// Icon is the state the tray icon shows (assets/icons has one image per state).
type Icon string

// Icon states, from the most to the least urgent.
const (
	IconBusy        Icon = "busy"        // a model is loading or unloading, or generating
	IconDownloading Icon = "downloading" // a download is in progress
	IconLoaded      Icon = "loaded"      // at least one model is loaded
	IconIdle        Icon = "idle"
)

// Kind is how an item is drawn.
type Kind int

// Kinds of items.
const (
	KindAction    Kind = iota // a command
	KindCheck                 // a checkbox
	KindLabel                 // text only (always disabled)
	KindSeparator             // a line
)

// Item is one menu entry. ID is stable across rebuilds, so the adapter updates
// the entry in place and a click names what it hit.
type Item struct {
	ID       string
	Kind     Kind
	Title    string
	Tooltip  string
	Checked  bool
	Disabled bool
}

// Menu is everything the tray shows.
type Menu struct {
	Icon    Icon
	Title   string // beside the icon (macOS): download progress, else empty
	Tooltip string
	Items   []Item
}

// Item IDs. Models and downloads add their id after the prefix.
const (
	IDOpen         = "open"
	IDCopy         = "copy"
	IDUsers        = "users"
	IDLogin        = "login"
	IDQuit         = "quit"
	PrefixModel    = "model:"
	PrefixDownload = "download:"
)

// Op is a load or unload the menu started and waits for.
type Op string

// Ops started from the menu.
const (
	OpLoad   Op = "load"
	OpUnload Op = "unload"
)

// State is what the menu is built from.
type State struct {
	URL       string
	Models    []engine.ModelInfo
	ModelsErr string // why the models dir could not be listed
	Pool      []engine.ModelStatus
	Downloads []engine.Download
	Pending   int // accounts waiting for approval
	// LoginOffered shows the Launch at Login item, checked when LoginOn.
	LoginOffered, LoginOn bool
	Ops                   map[string]Op // by model id
}

// Build is the menu for a state. It is pure: the tray calls it after every
// change and draws only what differs.
func Build(s State) Menu {
	m := Menu{Icon: icon(s), Tooltip: tooltip(s)}
	if pct, ok := downloadPercent(s.Downloads); ok {
		m.Title = fmt.Sprintf("%d%%", pct)
	}
	m.Items = append(m.Items,
		Item{ID: IDOpen, Title: "Open Dashboard", Tooltip: s.URL},
		Item{ID: IDCopy, Title: "Copy API URL", Tooltip: s.URL + "/v1"},
		Item{ID: "sep-models", Kind: KindSeparator},
	)
	m.Items = append(m.Items, modelItems(s)...)
	if dl := downloadItems(s.Downloads); len(dl) > 0 {
		m.Items = append(m.Items, Item{ID: "sep-downloads", Kind: KindSeparator})
		m.Items = append(m.Items, dl...)
	}
	if s.Pending > 0 {
		m.Items = append(m.Items, Item{ID: "sep-users", Kind: KindSeparator},
			Item{ID: IDUsers, Title: plural(s.Pending, "user", "users") + " waiting for approval…", Tooltip: "Open the Users page"})
	}
	m.Items = append(m.Items, Item{ID: "sep-app", Kind: KindSeparator})
	if s.LoginOffered {
		m.Items = append(m.Items, Item{ID: IDLogin, Kind: KindCheck, Title: "Launch at Login", Checked: s.LoginOn})
	}
	m.Items = append(m.Items, Item{ID: IDQuit, Title: "Quit MLX Manager", Tooltip: "Finish running requests, unload the models and quit"})
	return m
}

// row is one model: in the models dir, in the pool, or both (a model deleted
// from disk while loaded still shows until it is unloaded).
type row struct {
	info   *engine.ModelInfo
	status *engine.ModelStatus
}

func modelItems(s State) []Item {
	rows := map[string]*row{}
	for i := range s.Models {
		rows[s.Models[i].ID] = &row{info: &s.Models[i]}
	}
	for i := range s.Pool {
		r := rows[s.Pool[i].ID]
		if r == nil {
			r = &row{}
			rows[s.Pool[i].ID] = r
		}
		r.status = &s.Pool[i]
	}
	ids := make([]string, 0, len(rows))
	for id := range rows {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := strings.ToLower(ids[i]), strings.ToLower(ids[j])
		return a < b || a == b && ids[i] < ids[j]
	})
	items := []Item{{ID: "models", Kind: KindLabel, Title: "Models", Disabled: true}}
	switch {
	case s.ModelsErr != "" && len(ids) == 0:
		items = append(items, Item{ID: "models-error", Kind: KindLabel, Title: "Cannot read the models folder", Tooltip: s.ModelsErr, Disabled: true})
	case len(ids) == 0:
		items = append(items, Item{ID: "models-none", Kind: KindLabel, Title: "No models yet: download one from the dashboard", Disabled: true})
	}
	for _, id := range ids {
		items = append(items, modelItem(id, rows[id], s.Ops[id]))
	}
	return items
}

func modelItem(id string, r *row, op Op) Item {
	it := Item{ID: PrefixModel + id, Kind: KindCheck, Title: id}
	var state engine.ModelState
	if r.status != nil {
		state = r.status.State
	}
	it.Checked = state == engine.StateReady
	var note string
	switch {
	case op == OpLoad || state == engine.StatePending || state == engine.StateLoading:
		note, it.Disabled, it.Tooltip = "Loading…", true, "Loading into memory"
	case op == OpUnload || state == engine.StateUnloading:
		note, it.Disabled, it.Tooltip = "Unloading…", true, "Finishing its requests, then freeing its memory"
	case state == engine.StateReady:
		it.Tooltip = "Loaded (" + sizeText(r.status.ResidentBytes) + "): click to unload"
		switch {
		case r.status.InFlight > 0:
			note = "generating"
		case r.status.Pinned:
			note = "pinned"
		}
		if r.status.Pinned {
			it.Tooltip = "Loaded and pinned (" + sizeText(r.status.ResidentBytes) + "): click to unload"
		}
	case r.info != nil && !r.info.Supported:
		note, it.Disabled, it.Tooltip = "unsupported", true, r.info.Unsupported
	default:
		it.Tooltip = "Click to load"
		if r.info != nil && r.info.SizeBytes > 0 {
			it.Tooltip = "Click to load (" + sizeText(r.info.SizeBytes) + " on disk)"
		}
	}
	if note != "" {
		it.Title += " — " + note
	}
	return it
}

// active reports whether a download is still under way (or waiting to be).
func active(p engine.Download) bool { return !p.Status.Final() }

func downloadItems(dls []engine.Download) []Item {
	var items []Item
	for _, p := range dls {
		if !active(p) {
			continue
		}
		if items == nil {
			items = []Item{{ID: "downloads", Kind: KindLabel, Title: "Downloads", Disabled: true}}
		}
		var note string
		switch {
		case p.Status == engine.DownloadPaused:
			note = "paused"
		case p.Status == engine.DownloadVerifying:
			note = "verifying"
		case p.BytesTotal > 0:
			note = fmt.Sprintf("%d%%", percent(p.BytesDone, p.BytesTotal))
		default:
			note = "starting"
		}
		items = append(items, Item{ID: PrefixDownload + p.TaskID, Title: p.Repo + " — " + note,
			Tooltip: sizeText(p.BytesDone) + " of " + sizeText(p.BytesTotal) + ": open the Models page"})
	}
	return items
}

// downloadPercent is the progress of all active downloads together.
func downloadPercent(dls []engine.Download) (int, bool) {
	var done, total int64
	n := 0
	for _, p := range dls {
		if active(p) {
			done, total, n = done+p.BytesDone, total+p.BytesTotal, n+1
		}
	}
	if n == 0 || total <= 0 {
		return 0, false
	}
	return percent(done, total), true
}

// percent rounds down, so 100% means done rather than nearly done.
func percent(done, total int64) int {
	if total <= 0 || done <= 0 {
		return 0
	}
	if done >= total {
		return 100
	}
	return int(done * 100 / total)
}

func icon(s State) Icon {
	if len(s.Ops) > 0 {
		return IconBusy
	}
	loaded := false
	for _, st := range s.Pool {
		switch {
		case st.State != engine.StateReady, st.InFlight > 0, st.Queued > 0:
			return IconBusy
		}
		loaded = true
	}
	for _, p := range s.Downloads {
		if active(p) {
			return IconDownloading
		}
	}
	if loaded {
		return IconLoaded
	}
	return IconIdle
}

func tooltip(s State) string {
	loaded, downloading := 0, 0
	for _, st := range s.Pool {
		if st.State == engine.StateReady {
			loaded++
		}
	}
	for _, p := range s.Downloads {
		if active(p) {
			downloading++
		}
	}
	lines := []string{"MLX Manager — " + s.URL}
	switch loaded {
	case 0:
		lines = append(lines, "No model loaded")
	default:
		lines = append(lines, plural(loaded, "model", "models")+" loaded")
	}
	if downloading > 0 {
		lines = append(lines, "Downloading "+plural(downloading, "model", "models"))
	}
	return strings.Join(lines, "\n")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// sizeText is a byte count for people: 1.2 GB (decimal units, as Finder shows).
func sizeText(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for q := n / unit; q >= unit; q /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
