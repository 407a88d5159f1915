#!/usr/bin/env bash
# Runs the web image's nginx configuration with this machine's nginx, as an
# unprivileged user, on a loopback port, and checks what the image would
# serve: /healthz, index.html without caching, hashed assets cached for a
# year, and index.html for unknown paths. The image's paths (/tmp,
# /usr/share/urna-web, port 8080) are moved into a temporary folder first.
# Usage: check_web_nginx.sh NGINX_CONF; exits 0 when every check passes.
set -uo pipefail

conf="$1"
nginx_bin="${URNA_NGINX:-/usr/sbin/nginx}"
work="$(mktemp -d)"
nginx_pid=""

cleanup() {
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "$*" >&2
  exit 1
}

[ -x "$nginx_bin" ] || fail "nginx not found at $nginx_bin: install Debian's nginx-light or set URNA_NGINX"

# A free loopback port below the ephemeral range.
port=""
for candidate in $(seq 18480 18499); do
  if ! ss -Hltn "sport = :$candidate" | grep -q .; then
    port="$candidate"
    break
  fi
done
[ -n "$port" ] || fail "no free port in 18480-18499 for the nginx check"

mkdir -p "$work/tmp" "$work/site/assets"
printf '<!doctype html><title>urna</title>\n' > "$work/site/index.html"
printf 'console.log("urna")\n' > "$work/site/assets/index-abc123.js"

# Every replacement must hit, or the check would run a different file.
sed -e "s#/tmp/#$work/tmp/#g" -e "s#listen 8080;#listen 127.0.0.1:$port;#" \
  -e "s#root /usr/share/urna-web;#root $work/site;#" "$conf" > "$work/nginx.conf"
for expected in "pid $work/tmp/nginx.pid;" "listen 127.0.0.1:$port;" "root $work/site;"; do
  grep -qF "$expected" "$work/nginx.conf" || fail "$conf changed: could not set '$expected' for the test"
done

# As root nginx could write anywhere, so run it as the unprivileged user
# nobody, as the image runs it as UID 10001.
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  chown -R nobody "$work"
  chmod 755 "$work"
  run_as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi
"${run_as[@]}" "$nginx_bin" -e stderr -c "$work/nginx.conf" -g 'daemon off;' 2> "$work/nginx.log" &
nginx_pid=$!

for _ in $(seq 50); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
  kill -0 "$nginx_pid" 2>/dev/null || fail "nginx exited: $(cat "$work/nginx.log")"
  sleep 0.1
done

base="http://127.0.0.1:$port"
[ "$(curl -fsS "$base/healthz")" = "ok" ] || fail "/healthz did not return ok"
curl -fsS -D "$work/index.h" "$base/" | grep -q '<title>urna</title>' || fail "/ did not return index.html"
grep -qi '^cache-control: no-cache' "$work/index.h" || fail "/ lacks Cache-Control: no-cache"
grep -qi '^x-content-type-options: nosniff' "$work/index.h" || fail "/ lacks X-Content-Type-Options: nosniff"
curl -fsS -D "$work/asset.h" -o /dev/null "$base/assets/index-abc123.js" || fail "/assets/index-abc123.js failed"
grep -qi '^cache-control: public, max-age=31536000, immutable' "$work/asset.h" || fail "assets lack the one-year immutable Cache-Control"
grep -qi '^content-type: application/javascript' "$work/asset.h" || fail "assets are not served as application/javascript"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/assets/missing.js")" = 404 ] || fail "a missing asset did not return 404"
curl -fsS "$base/registros" | grep -q '<title>urna</title>' || fail "an unknown path did not fall back to index.html"
exit 0
