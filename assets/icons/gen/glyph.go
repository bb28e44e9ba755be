package main

import "image/color"

// States are the menu-bar icon's states, in the order the tray ranks them.
var states = []string{"idle", "loaded", "busy", "downloading"}

// chip is the product's glyph: a rounded square (a model's "slot") with two pins
// on each side, so it reads as a processor at 16 pt.
func chip() shape {
	return union(
		ring(3, 3, 19, 19, 4, 1.75),
		stroke(1.25, 8, 3, 8, 1.5), stroke(1.25, 14, 3, 14, 1.5),
		stroke(19, 8, 20.75, 8, 1.5), stroke(19, 14, 20.75, 14, 1.5),
	)
}

// inner is what the slot holds in each state: nothing when idle, a block when a
// model is loaded, activity bars when busy, an arrow while downloading.
func inner(state string) shape {
	switch state {
	case "loaded":
		return roundRect(7, 7, 15, 15, 1.5)
	case "busy":
		return union(stroke(7.75, 10.5, 7.75, 14.25, 1.9), stroke(11, 7.75, 11, 14.25, 1.9), stroke(14.25, 9.5, 14.25, 14.25, 1.9))
	case "downloading":
		return union(stroke(11, 6.75, 11, 14.5, 1.75), stroke(7.75, 11.5, 11, 14.75, 1.75), stroke(14.25, 11.5, 11, 14.75, 1.75))
	}
	return func(x, y float64) bool { return false }
}

var (
	black = color.NRGBA{A: 255}
	white = color.NRGBA{R: 0xf4, G: 0xf5, B: 0xf7, A: 255}
	badge = color.NRGBA{R: 0x25, G: 0x29, B: 0x31, A: 255}

	// accents of the colored icons, one per state.
	accents = map[string]color.NRGBA{
		"idle":        white,
		"loaded":      {R: 0x32, G: 0xd1, B: 0x5f, A: 255},
		"busy":        {R: 0xff, G: 0xb3, B: 0x40, A: 255},
		"downloading": {R: 0x4d, G: 0xa3, B: 0xff, A: 255},
	}
)

// template is the macOS menu-bar icon: black and alpha only, so the system tints
// it for light and dark menu bars.
func template(state string) []layer {
	return []layer{{union(chip(), inner(state)), black}}
}

// colored is the icon for trays that draw icons as they are (Linux
// StatusNotifierItem hosts): a dark badge keeps it visible on light and dark
// panels, and the state has its own colour.
func colored(state string) []layer {
	return []layer{
		{roundRect(0.25, 0.25, 21.75, 21.75, 5), badge},
		{scaled(chip(), 0.8), white},
		{scaled(inner(state), 0.8), accents[state]},
	}
}

// app is the application icon (Finder, Dock when shown): the loaded glyph on a
// dark tile, with the margin macOS icons keep around their tile.
func app() []layer {
	return []layer{
		{roundRect(1.8, 1.8, 20.2, 20.2, 4.2), badge},
		{scaled(chip(), 0.62), white},
		{scaled(inner("loaded"), 0.62), accents["loaded"]},
	}
}

// scaled shrinks s by k around the centre of the grid.
func scaled(s shape, k float64) shape {
	const c = grid / 2
	return func(x, y float64) bool { return s(c+(x-c)/k, c+(y-c)/k) }
}
