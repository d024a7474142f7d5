#!/usr/bin/env bash
# Refresh the front-end libraries served by the dashboard from the npm registry (no CDN at run time).
# Usage: scripts/vendor-web.sh  — then review and commit bots/web/static/vendor/.
set -euo pipefail
HTMX=htmx.org@2.0.11 LEAFLET=leaflet@1.9.4 CHART=chart.js@4.6.1 SWAGGER=swagger-ui-dist@5.35.0
out="$(cd "$(dirname "$0")/.." && pwd)/bots/web/static/vendor"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "$HTMX" "$LEAFLET" "$CHART" "$SWAGGER" >/dev/null
for f in *.tgz; do mkdir -p "${f%.tgz}"; tar xzf "$f" -C "${f%.tgz}"; done
mkdir -p "$out/images"
cp htmx.org-*/package/dist/htmx.min.js "$out/"
cp leaflet-*/package/dist/leaflet.js leaflet-*/package/dist/leaflet.css "$out/"
cp leaflet-*/package/dist/images/* "$out/images/"
cp chart.js-*/package/dist/chart.umd.min.js "$out/"
cp swagger-ui-dist-*/package/swagger-ui-bundle.js swagger-ui-dist-*/package/swagger-ui.css "$out/"  # /docs
cp swagger-ui-dist-*/package/NOTICE "$out/NOTICE.swagger-ui-dist"
for p in htmx.org leaflet chart.js swagger-ui-dist; do cp $p-*/package/LICENSE* "$out/LICENSE.$p" 2>/dev/null || true; done
echo "vendored $HTMX $LEAFLET $CHART $SWAGGER into $out"
