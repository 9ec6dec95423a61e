#!/usr/bin/env bash
# Build sftpdrop, set up a local instance in ./demo (config, database, host key,
# upload and spool folders), add a demo relation and user, print how to log in,
# and run the daemon and the ingest watcher in the foreground (Ctrl-C stops both).
set -euo pipefail
cd "$(dirname "$0")"
top=$(pwd)
port=${SFTPDROP_DEMO_PORT:-2222}
if [ "$(id -u)" = 0 ]; then bash .ci/deps; fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTEST_CLOCK=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
admin="$top/build/admin/sftpdrop-admin"
conf="$top/demo/sftpdrop.conf"
if [ ! -f "$conf" ]; then
	"$admin" init --dir "$top/demo" --listen "127.0.0.1:$port"
	"$admin" -c "$conf" relation add 123456 --name "Demo relatie"
	"$admin" -c "$conf" user add 123456 demo --name "D. Emo" \
		--email demo@example.org > "$top/demo/demo-user.txt"
	chmod 600 "$top/demo/demo-user.txt"
fi
port=$(sed -n 's/^listen = .*:\([0-9]*\)$/\1/p' "$conf" | head -1)
cat <<MSG

sftpdrop demo instance: $conf
Demo account (also in demo/demo-user.txt, shown once when created):
$(cat "$top/demo/demo-user.txt")

Log in with OpenSSH: the one-time password, the activation code, then choose
your own password and set up two-step verification (the key is shown; use an
authenticator app or: oathtool --totp -b KEY):
    sftp -P $port 123456.demo@127.0.0.1
Uploads land in demo/upload/123456/ and, once complete, in demo/spool/123456/;
list them with:
    $admin -c $conf uploads

Starting sftpdropd and sftpdrop-ingest in the foreground (Ctrl-C stops both)...
MSG
"$top/build/ingest/sftpdrop-ingest" -c "$conf" -f &
ingest=$!
trap 'kill $ingest 2>/dev/null; wait $ingest 2>/dev/null' EXIT
"$top/build/server/sftpdropd" -c "$conf" -f
