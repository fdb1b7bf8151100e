#!/usr/bin/env bash
# Run a command against PostgreSQL. If DATABASE_URL is set, use it as it is. Otherwise install PostgreSQL
# (Debian package) when missing, start a throwaway cluster on 127.0.0.1 in a temporary directory, export
# DATABASE_URL for the command, and stop and delete the cluster afterwards, whatever the command did.
set -euo pipefail

if [[ -n "${DATABASE_URL:-}" ]]; then
  exec "$@"
fi

pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [[ -x "$dir/initdb" ]] && { echo "$dir"; return 0; }
  done
  return 1
}

if ! BIN=$(pg_bin); then
  echo "with-postgres: installing PostgreSQL (Debian package)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
  BIN=$(pg_bin)
fi

# PostgreSQL refuses to run as root; run the cluster as the 'postgres' system user when we are root.
RUN_AS=()
if [[ $(id -u) -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || useradd --system --home /var/lib/postgresql postgres
  RUN_AS=(runuser -u postgres --)
fi

DATA=$(mktemp -d /tmp/civicgrid-pg.XXXXXX)
chmod 700 "$DATA"
[[ ${#RUN_AS[@]} -gt 0 ]] && chown postgres "$DATA"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

cleanup() {
  "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DATA/db" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DATA"
}
trap cleanup EXIT

"${RUN_AS[@]}" "$BIN/initdb" -D "$DATA/db" -U civicgrid --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DATA/db" -l "$DATA/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null
"${RUN_AS[@]}" "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U civicgrid civicgrid

export DATABASE_URL="postgresql://civicgrid@127.0.0.1:$PORT/civicgrid"
echo "with-postgres: PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2
"$@"
