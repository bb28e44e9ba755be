#!/usr/bin/env bash
# tray-xvfb.sh: the menu-bar icon end to end on Linux, without a desktop.
#
# Builds mlx-manager with -tags tray, starts a virtual X server (Xvfb), a private
# D-Bus session bus, a StatusNotifierItem host that draws icons
# (gtk-sni-tray-standalone, with status-notifier-watcher), and
# `mlx-manager serve` with one tiny model in its models dir. First it checks
# that, with no host on the bus yet, the daemon logs one line and serves. Then,
# acting as the host would, it:
#   1. finds the icon registered with org.kde.StatusNotifierWatcher and reads its
#      tooltip (which must carry the server's address);
#   2. reads the menu over com.canonical.dbusmenu and clicks the model's item
#      (com.canonical.dbusmenu.Event "clicked"), as a user's click does;
#   3. waits for the pool to load it: the daemon logs "model loaded" and the
#      item turns checked;
#   4. takes a screenshot of the X screen with the icon in the host's bar, and
#      one with the menu open (clicked with xdotool);
#   5. clicks Quit in the menu and checks that the daemon stops gracefully.
#
# Needs (Debian): xvfb dbus haskell-status-notifier-item-utils
# haskell-gtk-sni-tray-utils libglib2.0-bin imagemagick xdotool, and the tiny
# model in ../shared/models/stories260K.
#   apt-get install -y xvfb dbus haskell-status-notifier-item-utils \
#     haskell-gtk-sni-tray-utils libglib2.0-bin imagemagick xdotool
# Usage: scripts/tray-xvfb.sh [OUTDIR]   (screenshots and logs go to OUTDIR,
# by default a new temporary directory). Exit status 0 means every step passed.
set -euo pipefail

cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
OUT=${1:-$(mktemp -d /tmp/tray-xvfb.XXXXXX)}
mkdir -p "$OUT"
MODEL_SRC=${MODEL_SRC:-../shared/models/stories260K}
MODEL=test/stories260K

for tool in curl Xvfb dbus-daemon status-notifier-watcher gtk-sni-tray-standalone gdbus import xdotool; do
  command -v "$tool" >/dev/null || { echo "tray-xvfb: $tool is not installed (see the header of $0)"; exit 2; }
done
[ -f "$MODEL_SRC/config.json" ] || { echo "tray-xvfb: no model at $MODEL_SRC"; exit 2; }

step() { echo "tray-xvfb: $*"; }
fail() { echo "tray-xvfb: FAIL: $*"; echo "--- daemon log"; cat "$OUT/daemon.log" 2>/dev/null || true; exit 1; }

pids=()
cleanup() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[$i]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# waitfor TRIES CMD...: run CMD every 0.2 s until it succeeds.
waitfor() {
  local n=$1; shift
  for ((i = 0; i < n; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}

step "building with -tags tray"
go build -tags tray -o "$OUT/mlx-manager" .

step "models dir with $MODEL in the Hugging Face cache layout"
commit=0123456789abcdef0123456789abcdef01234567
snap="$OUT/models/models--test--stories260K/snapshots/$commit"
mkdir -p "$snap" "$OUT/models/models--test--stories260K/refs"
cp "$MODEL_SRC"/* "$snap/"
echo -n "$commit" > "$OUT/models/models--test--stories260K/refs/main"

# A display number nobody uses.
for d in $(seq 90 120); do [ -e "/tmp/.X11-unix/X$d" ] || [ -e "/tmp/.X$d-lock" ] || { DNUM=$d; break; }; done
export DISPLAY=":$DNUM"
step "Xvfb on $DISPLAY"
Xvfb "$DISPLAY" -screen 0 640x360x24 -nolisten tcp >"$OUT/xvfb.log" 2>&1 &
pids+=($!)
waitfor 50 xdotool getdisplaygeometry || fail "Xvfb did not start"

step "session bus"
exec {busfd}< <(exec dbus-daemon --session --nofork --nopidfile --print-address=1)
pids+=($!)
read -r -u "$busfd" DBUS_SESSION_BUS_ADDRESS || fail "dbus-daemon printed no address"
export DBUS_SESSION_BUS_ADDRESS
unset WAYLAND_DISPLAY

step "without a tray host the daemon logs one line and serves"
"$OUT/mlx-manager" serve --addr 127.0.0.1:0 --data-dir "$OUT/data0" --models-dir "$OUT/models" --no-open \
  >"$OUT/nohost.out" 2>"$OUT/nohost.log" &
nohost=$!
pids+=($nohost)
waitfor 150 grep -q "listening on" "$OUT/nohost.out" || fail "the daemon did not start without a host"
[ "$(grep -c "no menu-bar icon" "$OUT/nohost.log")" = 1 ] || fail "want one 'no menu-bar icon' line: $(cat "$OUT/nohost.log")"
curl -fsS "$(grep -o 'http://[0-9.:]*' "$OUT/nohost.out" | head -1)/health" >/dev/null || fail "the daemon does not serve without a host"
kill -INT "$nohost"
wait "$nohost" || fail "the daemon without a host exited with status $?"
step "$(grep -o 'msg="no menu-bar icon[^"]*" reason="[^"]*"' "$OUT/nohost.log")"

# The watcher first: gtk-sni-tray-standalone --watcher sometimes asks its own
# watcher for items before it is up, and exits.
step "StatusNotifierWatcher"
status-notifier-watcher >"$OUT/watcher.log" 2>&1 &
pids+=($!)
has_watcher() {
  gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.NameHasOwner org.kde.StatusNotifierWatcher | grep -q true
}
waitfor 100 has_watcher || fail "no StatusNotifierWatcher on the bus"
step "tray host (gtk-sni-tray-standalone)"
gtk-sni-tray-standalone --top --end --size 32 --color '#3b4252' >"$OUT/host.log" 2>&1 &
host=$!
pids+=($host)

step "mlx-manager serve"
"$OUT/mlx-manager" serve --addr 127.0.0.1:0 --data-dir "$OUT/data" --models-dir "$OUT/models" --no-open \
  >"$OUT/daemon.out" 2>"$OUT/daemon.log" &
daemon=$!
pids+=($daemon)
waitfor 150 grep -q "listening on" "$OUT/daemon.out" || fail "the daemon did not start"
url=$(grep -o 'http://[0-9.:]*' "$OUT/daemon.out" | head -1)
grep -q "no menu-bar icon" "$OUT/daemon.log" && fail "the daemon found no tray host"

registered() {
  gdbus call --session --dest org.kde.StatusNotifierWatcher --object-path /StatusNotifierWatcher \
    --method org.freedesktop.DBus.Properties.Get org.kde.StatusNotifierWatcher RegisteredStatusNotifierItems
}
is_registered() { registered | grep -q "'"; }
waitfor 100 is_registered || fail "the icon never registered"
# An entry is a bus name, with the object path after it unless it is the default.
entry=$(registered | grep -o "'[^']*'" | head -1 | tr -d "'")
dest=${entry%%/*}
path=/StatusNotifierItem
[ "$entry" != "$dest" ] && path=/${entry#*/}
step "icon registered by $dest at $path"

tooltip() {
  gdbus call --session --dest "$dest" --object-path "$path" \
    --method org.freedesktop.DBus.Properties.Get org.kde.StatusNotifierItem ToolTip
}
has_url() { tooltip | grep -qF "$url"; }
waitfor 50 has_url || fail "the tooltip does not carry $url: $(tooltip)"
step "tooltip carries $url"

menu="$path/menu"
layout() {
  gdbus call --session --dest "$dest" --object-path "$menu" --method com.canonical.dbusmenu.GetLayout 0 'int32 -1' '@as []'
}
# item_id LABEL: the id of the visible item whose label starts with LABEL.
item_id() {
  layout | grep -oP "\(\K[0-9]+(?=, \{[^}]*'label': <'\Q$1\E)" | head -1
}
# item_props ID: the property dict of item ID.
item_props() {
  layout | grep -oP "\($1, \{\K[^}]*"
}
model_listed() { [ -n "$(item_id "$MODEL")" ]; }
waitfor 100 model_listed || fail "no menu item for $MODEL: $(layout)"
id=$(item_id "$MODEL")
item_props "$id" | grep -q "'toggle-state': <0>" || fail "$MODEL is checked before any load: $(item_props "$id")"
import -window root "$OUT/tray-idle.png"

step "clicking $MODEL (item $id) through com.canonical.dbusmenu.Event"
gdbus call --session --dest "$dest" --object-path "$menu" --method com.canonical.dbusmenu.Event \
  "$id" clicked '<"">' 0 >/dev/null
waitfor 150 grep -q "model loaded.*model=$MODEL" "$OUT/daemon.log" || fail "the pool did not load $MODEL"
step "the pool loaded it: $(grep -o "model loaded.*model=$MODEL[^ ]*" "$OUT/daemon.log" | head -1)"
model_checked() { item_props "$id" | grep -q "'toggle-state': <1>"; }
waitfor 50 model_checked || fail "the menu item did not turn checked: $(item_props "$id")"
step "the menu shows it checked"

step "screenshots"
kill -0 "$host" 2>/dev/null || fail "the tray host exited: $(cat "$OUT/host.log")"
sleep 1 # the host redraws the new icon
import -window root "$OUT/tray-loaded.png"
# The host's bar is along the top edge, its icons at the end: open the menu.
read -r W H < <(xdotool getdisplaygeometry)
xdotool mousemove $((W - 16)) 16 click 1 || true
sleep 1
import -window root "$OUT/tray-menu.png"
xdotool key Escape || true

step "clicking Quit"
quit=$(item_id "Quit MLX Manager")
[ -n "$quit" ] || fail "no Quit item"
gdbus call --session --dest "$dest" --object-path "$menu" --method com.canonical.dbusmenu.Event \
  "$quit" clicked '<"">' 0 >/dev/null
for ((i = 0; i < 150; i++)); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.2; done
kill -0 "$daemon" 2>/dev/null && fail "the daemon still runs after Quit"
wait "$daemon" || fail "the daemon exited with status $?"
grep -q "quit from the menu bar" "$OUT/daemon.log" || fail "the daemon did not log the Quit"
grep -q "msg=stopped" "$OUT/daemon.log" || fail "the daemon did not stop gracefully"
step "the daemon drained, unloaded and stopped"
echo "tray-xvfb: PASS (screenshots and logs in $OUT)"
