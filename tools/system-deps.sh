#!/usr/bin/env bash
# Make sure the Debian packages the browser and QR tests (and the handwriting pad) use are present.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
# tests/test_deploy.py checks the systemd units and nginx examples with the real tools.
command -v systemd-analyze >/dev/null || need+=(systemd)
[ -x /usr/sbin/nginx ] || need+=(nginx)
# The hub rasterises uploaded PDFs into page images (content/pictures.py).
command -v pdftoppm >/dev/null && command -v pdfinfo >/dev/null || need+=(poppler-utils)
# The on-screen keyboard's handwriting pad: Zinnia and its Simplified Chinese model.
compgen -G "/usr/lib/*/libzinnia.so.0" >/dev/null || compgen -G "/usr/lib/libzinnia.so.0" >/dev/null \
  || need+=(libzinnia0)
[ -f /usr/share/tegaki/models/zinnia/handwriting-zh_CN.model ] || need+=(tegaki-zinnia-simplified-chinese)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing ${need[*]} ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "Missing: ${need[*]}. Install them first, e.g.: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
