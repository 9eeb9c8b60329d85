#!/usr/bin/env bash
# render_svg.sh: render SVG files to PNG with headless Chromium, to look at
# flame graphs without a browser.  Not part of CI.
#
#   tools/render_svg.sh [-w WIDTH] [-h HEIGHT] file.svg...
#
# Writes file.png next to each file.svg.  The window defaults to 1200x800;
# a taller picture is cut at the window's height (pass -h to see more).
# Installs Debian's chromium with apt-get when it is missing (needs root).
set -euo pipefail

width=1200 height=800
while getopts "w:h:" opt; do
	case $opt in
		w) width=$OPTARG ;;
		h) height=$OPTARG ;;
		*) echo "usage: $0 [-w WIDTH] [-h HEIGHT] file.svg..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "usage: $0 [-w WIDTH] [-h HEIGHT] file.svg..." >&2; exit 2; }

if ! command -v chromium >/dev/null 2>&1; then
	echo "chromium not found; installing it with apt-get" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-dejavu-core >&2
fi

profile_dir=$(mktemp -d)
trap 'rm -rf "$profile_dir"' EXIT

for svg in "$@"; do
	png=${svg%.svg}.png
	# Chromium resolves the screenshot path against its own working directory.
	abs_svg=$(cd "$(dirname "$svg")" && pwd)/$(basename "$svg")
	abs_png=$(cd "$(dirname "$png")" && pwd)/$(basename "$png")
	rm -f "$abs_png"
	chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run \
		--hide-scrollbars --user-data-dir="$profile_dir" --screenshot="$abs_png" \
		--window-size="$width,$height" "file://$abs_svg" >/dev/null 2>&1 || true
	if [ -s "$abs_png" ]; then
		echo "$png"
	else
		echo "FAILED: $svg" >&2
		exit 1
	fi
done
