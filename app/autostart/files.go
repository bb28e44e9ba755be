package autostart

import (
	"bytes"
	"encoding/xml"
	"strings"
)

// launchAgent is the plist launchd reads from ~/Library/LaunchAgents at login.
// RunAtLoad starts the program once per login; there is no KeepAlive, so Quit in
// the menu stays quit. LimitLoadToSessionType Aqua keeps it out of SSH sessions,
// where there is no menu bar.
func launchAgent(exe string, args []string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + Label + `</string>
	<key>ProgramArguments</key>
	<array>
`)
	for _, a := range append([]string{exe}, args...) {
		b.WriteString("\t\t<string>")
		xml.EscapeText(&b, []byte(a)) // writes to a bytes.Buffer: cannot fail
		b.WriteString("</string>\n")
	}
	b.WriteString(`	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>ProcessType</key>
	<string>Interactive</string>
	<key>LimitLoadToSessionType</key>
	<string>Aqua</string>
</dict>
</plist>
`)
	return b.Bytes()
}

// desktopEntry is the XDG autostart file (Desktop Entry Specification,
// "Autostart of applications during startup") that session managers run at login.
func desktopEntry(exe string, args []string) []byte {
	quoted := make([]string, 0, 1+len(args))
	for _, a := range append([]string{exe}, args...) {
		quoted = append(quoted, execArg(a))
	}
	return []byte(`[Desktop Entry]
Type=Application
Name=MLX Manager
Comment=Local LLM manager: web UI, OpenAI-compatible API and menu-bar icon
Exec=` + strings.Join(quoted, " ") + `
Terminal=false
NoDisplay=true
X-GNOME-Autostart-enabled=true
`)
}

// execArg quotes one argument of an Exec key. The spec's rules apply in two
// layers: an argument with a reserved character is put in double quotes with
// `"`, "`", `$` and `\` backslash-escaped; then the whole value, being a string,
// has each `\` escaped again. A `%` starts a field code, so a literal one is `%%`.
func execArg(a string) string {
	a = strings.ReplaceAll(a, "%", "%%")
	if a != "" && !strings.ContainsAny(a, " \"'\\><~|&;$*?#()`=") {
		return a
	}
	var q strings.Builder
	q.WriteByte('"')
	for _, r := range a {
		switch r {
		case '"', '`', '$', '\\':
			q.WriteByte('\\')
		}
		q.WriteRune(r)
	}
	q.WriteByte('"')
	// The string-value layer: a backslash is written as two. (New refuses
	// control characters, which a value could not hold.)
	return strings.ReplaceAll(q.String(), `\`, `\\`)
}
