#!/usr/bin/env bash
# Makes the demo's sample video, engine/src/main/resources/demo/shapes-sample.mp4: 3 s of circles, then 1 s of
# squares (4 fps, 64 × 64, H.264) drawn and encoded by the tests' ShapeVideos with JCodec's encoder. Needs only
# JCodec from the local Maven repository (the engine's test class path), not a build of the engine.
#   engine/src/test/sh/make-demo-video.sh [output.mp4]
set -euo pipefail
cd "$(dirname "$0")/../../.."   # engine/
out="${1:-src/main/resources/demo/shapes-sample.mp4}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mvn -o -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$tmp/cp.txt" >/dev/null
cp="$(cat "$tmp/cp.txt")"
javac -d "$tmp/classes" -cp "$cp" src/test/java/io/inferium/engine/ShapeVideos.java
java -cp "$tmp/classes:$cp" io.inferium.engine.ShapeVideos "$out"
