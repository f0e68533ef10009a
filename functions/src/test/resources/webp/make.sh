#!/bin/sh
# Makes the tiny WebP files the tests read (TwelveMonkeys reads WebP but cannot write it): libwebp's tools, from
# Debian's `webp` package (apt-get install webp), run on two of the committed 20 × 20 shapes PNGs.
#   lossy.webp     VP8  (simple lossy)         of a circle
#   lossless.webp  VP8L (simple lossless)      of a square: decodes to the PNG's exact pixels
#   extended.webp  VP8X + VP8 + EXIF           the lossy circle with an (empty) EXIF chunk, so the extended header
#   animated.webp  VP8X + ANIM + 2 × ANMF      two frames: refused by the gateway (415)
# Run from anywhere: sh functions/src/test/resources/webp/make.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
shapes="$here/../../../../../engine/src/test/resources/shapes"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cwebp -quiet -q 90 -metadata none "$shapes/01-circle.png" -o "$here/lossy.webp"
cwebp -quiet -lossless -exact -metadata none "$shapes/02-square.png" -o "$here/lossless.webp"
# A minimal little-endian TIFF header with an empty IFD: enough for webpmux to add an EXIF chunk (and so VP8X).
printf 'II*\000\010\000\000\000\000\000\000\000\000\000' > "$tmp/exif"
webpmux -set exif "$tmp/exif" "$here/lossy.webp" -o "$here/extended.webp"
img2webp -loop 0 -lossless "$shapes/01-circle.png" -d 100 "$shapes/02-square.png" -o "$here/animated.webp" >/dev/null
ls -l "$here"/*.webp
