#!/usr/bin/env bash
# Refreshes the vendored htmx from its npm package (htmx.org): the minified
# script the console embeds, and HTMX.txt beside it with the version and the
# script's sha256. Run it with the version to vendor:
#   console/static/refresh-htmx.sh 2.0.11
set -euo pipefail
cd "$(dirname "$0")"
version=${1:?usage: refresh-htmx.sh VERSION (e.g. 2.0.11)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "htmx.org@$version" >/dev/null && tar -xzf htmx.org-"$version".tgz)
cp "$work/package/dist/htmx.min.js" htmx.min.js
sum=$(sha256sum htmx.min.js | cut -d' ' -f1)
cat > HTMX.txt <<TXT
htmx.min.js is htmx $version, from the npm package htmx.org@$version (dist/htmx.min.js), BSD Zero-Clause License.
sha256 $sum
Refresh it with: console/static/refresh-htmx.sh VERSION
TXT
echo "htmx $version vendored: sha256 $sum"
