#!/usr/bin/env bash
# The kiosk screen: Chromium in kiosk mode on the local kiosk, or on one board.
# Run by kiosk-browser.service (a user unit that restarts it whenever it dies).
#
#   kiosk-browser [URL]
#   KIOSK_URL=...          the full address to show (default http://127.0.0.1:8080/)
#   KIOSK_BOARD=<board>    show the board /display/<board> of the local kiosk instead
#   KIOSK_BASE=...         the local kiosk's base address (default http://127.0.0.1:8080)
#   KIOSK_CHROMIUM=...     the browser (default: chromium from PATH)
#   KIOSK_BROWSER_FLAGS=.. extra flags, split on spaces (e.g. --force-device-scale-factor=1.5)
#   KIOSK_WAIT=600         seconds to wait for the server before giving up (systemd retries)
#   KIOSK_DEVTOOLS_PORT=9222  DevTools port for remote view (screenshots, reload), bound to
#                          127.0.0.1 only; a second screen on the same machine needs another
#                          port, listed in the terminal's screen_ports setting; 0 turns it off
set -euo pipefail

base=${KIOSK_BASE:-http://127.0.0.1:8080}
base=${base%/}
if [ $# -gt 0 ]; then
  url=$1
elif [ -n "${KIOSK_URL:-}" ]; then
  url=$KIOSK_URL
elif [ -n "${KIOSK_BOARD:-}" ]; then
  if [[ ! $KIOSK_BOARD =~ ^[A-Za-z0-9_-]+$ ]]; then
    echo "kiosk-browser: KIOSK_BOARD must be a board name (letters, digits, - and _): $KIOSK_BOARD" >&2
    exit 2
  fi
  url="$base/display/$KIOSK_BOARD"
else
  url="$base/"
fi
case $url in
  http://*|https://*) ;;
  *) echo "kiosk-browser: not an http(s) address: $url" >&2; exit 2 ;;
esac

chromium=${KIOSK_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$chromium" ] || [ ! -x "$chromium" ]; then
  echo "kiosk-browser: Chromium not found (apt-get install chromium)" >&2
  exit 1
fi

# Wait until the server answers, so the screen never shows a browser error page
# after a power cut (the browser is usually faster to start than the server).
hostport=${url#*://}
hostport=${hostport%%/*}
host=${hostport%:*}
port=${hostport##*:}
if [ "$host" = "$hostport" ]; then
  case $url in https://*) port=443 ;; *) port=80 ;; esac
fi
waited=0
until (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
  if [ "$waited" -ge "${KIOSK_WAIT:-600}" ]; then
    echo "kiosk-browser: $host:$port not answering after ${waited}s" >&2
    exit 1
  fi
  [ $((waited % 30)) -eq 0 ] && echo "kiosk-browser: waiting for $host:$port ..." >&2
  sleep 1
  waited=$((waited + 1))
done

# No screen saver or power saving on a public screen (X11 only; harmless elsewhere).
if [ -n "${DISPLAY:-}" ] && command -v xset >/dev/null; then
  xset s off s noblank -dpms 2>/dev/null || true
fi

# A fresh profile on every start: nothing a resident did survives a restart, and
# there is never a "Chromium didn't shut down correctly" bubble to dismiss.
profile="${XDG_RUNTIME_DIR:-/tmp}/kiosk-browser-profile-$(id -u)"
rm -rf "$profile"
mkdir -m 700 "$profile"

flags=(
  --kiosk
  --user-data-dir="$profile"
  --incognito
  --no-first-run
  --no-default-browser-check
  # no crash bubbles or error dialogs
  --noerrdialogs
  --disable-session-crashed-bubble
  --hide-crash-restore-bubble
  --disable-infobars
  # no translate bar (the pages are Chinese and say so)
  --disable-translate
  --disable-features=Translate,TranslateUI,TouchpadOverscrollHistoryNavigation
  # no pinch zoom, no swipe-back navigation on the touchscreen
  --disable-pinch
  --overscroll-history-navigation=0
  # no background networking: updates, sync, component downloads, metrics
  --disable-background-networking
  --disable-component-update
  --disable-sync
  --disable-default-apps
  --disable-extensions
  --metrics-recording-only
  --check-for-update-interval=31536000
  --password-store=basic
)
# Remote view: the terminal's sync round takes screenshots and reloads the screen through the
# DevTools protocol. Chromium listens on the loopback interface only (never the network).
devtools=${KIOSK_DEVTOOLS_PORT:-9222}
if [[ ! $devtools =~ ^[0-9]+$ ]]; then
  echo "kiosk-browser: KIOSK_DEVTOOLS_PORT must be a port number: $devtools" >&2
  exit 2
fi
if [ "$devtools" != 0 ]; then
  flags+=(--remote-debugging-address=127.0.0.1 --remote-debugging-port="$devtools")
fi
# shellcheck disable=SC2206  # extra flags are split on spaces on purpose
extra=(${KIOSK_BROWSER_FLAGS:-})
echo "kiosk-browser: showing $url" >&2
exec "$chromium" "${flags[@]}" "${extra[@]}" "$url"
