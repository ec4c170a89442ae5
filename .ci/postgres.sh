#!/usr/bin/env bash
# A throw-away PostgreSQL server on 127.0.0.1 for the store's PostgreSQL tests.
#
# Idempotent: run it any number of times; it reuses (and restarts if needed) a private cluster
# in $BC_TUI_PG_DIR (default: $TMPDIR/bc-tui-postgres), never the machine's system clusters.
# Installs Debian's `postgresql` package first when no PostgreSQL binaries are found and it runs
# as root with apt. On success the LAST line of stdout is
#     export BC_TUI_TEST_POSTGRES_URL=postgresql://bc_tui:…@127.0.0.1:PORT/bc_tui_test
# for the caller to eval. When it cannot provide a server it says why on stderr and exits 0
# without that line, and the PostgreSQL tests are skipped.
set -uo pipefail

BASE=${BC_TUI_PG_DIR:-${TMPDIR:-/tmp}/bc-tui-postgres}
FIRST_PORT=${BC_TUI_PG_PORT:-54329}
DB_NAME=bc_tui_test
DB_USER=bc_tui
DB_PASSWORD=bc_tui_test
DATA="$BASE/data"

say() { echo "postgres.sh: $*" >&2; }
give_up() {
  say "$*; the PostgreSQL store tests will be skipped."
  exit 0
}

# The newest PostgreSQL server binaries on this machine (Debian keeps them off PATH).
find_bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/psql" ]; then
      echo "$dir"
      return 0
    fi
  done
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null && command -v psql >/dev/null; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return 0
  fi
  return 1
}

install_postgresql() {
  [ "$(id -u)" = 0 ] || give_up "no PostgreSQL binaries found and not root, so cannot install them"
  command -v apt-get >/dev/null || give_up "no PostgreSQL binaries found and no apt-get to install them"
  say "installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q postgresql >/dev/null 2>&1; then
    apt-get update -q >/dev/null 2>&1 || give_up "apt-get update failed (no network?)"
    apt-get install -y -q postgresql >/dev/null 2>&1 || give_up "apt-get install postgresql failed"
  fi
}

# PostgreSQL refuses to run as root: as root, run the server as the `postgres` user.
RUN_AS=""
as_owner() {
  if [ -z "$RUN_AS" ]; then
    "$@"
  elif command -v runuser >/dev/null; then
    runuser -u "$RUN_AS" -- "$@"
  else
    su -s /bin/sh "$RUN_AS" -c "$(printf '%q ' "$@")"
  fi
}

BINDIR=$(find_bindir) || { install_postgresql; BINDIR=$(find_bindir) || give_up "PostgreSQL was installed but its binaries were not found"; }
MAJOR=$("$BINDIR/pg_ctl" --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)*.*/\1/')

if [ "$(id -u)" = 0 ]; then
  if ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres 2>/dev/null \
      || give_up "running as root and cannot create the postgres user to own the server"
  fi
  RUN_AS=postgres
fi

mkdir -p "$BASE" || give_up "cannot create $BASE"
[ -n "$RUN_AS" ] && chown "$RUN_AS" "$BASE"
chmod 700 "$BASE"

# A cluster left by another PostgreSQL major version cannot be started: it is throw-away, redo it.
if [ -f "$DATA/PG_VERSION" ] && [ "$(cat "$DATA/PG_VERSION")" != "$MAJOR" ]; then
  as_owner "$BINDIR/pg_ctl" -D "$DATA" -m immediate stop >/dev/null 2>&1
  rm -rf "$DATA"
fi

if [ ! -f "$DATA/PG_VERSION" ]; then
  rm -rf "$DATA"
  as_owner "$BINDIR/initdb" -D "$DATA" --username=postgres --auth-local=trust \
    --auth-host=scram-sha-256 --encoding=UTF8 --no-sync >"$BASE/initdb.log" 2>&1 \
    || give_up "initdb failed: $(tail -n 3 "$BASE/initdb.log" | tr '\n' ' ')"
fi

running_port() { [ -f "$BASE/port" ] && cat "$BASE/port"; }

if as_owner "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1 && [ -n "$(running_port)" ] \
  && "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$(running_port)"; then
  PORT=$(running_port)
else
  as_owner "$BINDIR/pg_ctl" -D "$DATA" -m fast stop >/dev/null 2>&1
  PORT=""
  # Another server may hold a port: try a few.
  for candidate in $(seq "$FIRST_PORT" $((FIRST_PORT + 4))); do
    "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$candidate" >/dev/null 2>&1
    [ $? -eq 2 ] || continue # 2 = nothing answers on that port
    if as_owner "$BINDIR/pg_ctl" -D "$DATA" -l "$BASE/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $candidate -k $BASE -c fsync=off -c synchronous_commit=off" \
      start >/dev/null 2>&1; then
      PORT=$candidate
      break
    fi
  done
  [ -n "$PORT" ] || give_up "the PostgreSQL server did not start: $(tail -n 3 "$BASE/server.log" 2>/dev/null | tr '\n' ' ')"
  echo "$PORT" >"$BASE/port"
fi

# Local (socket) connections are trusted, so any OS user may set up the role and database.
psql_admin() { "$BINDIR/psql" -X -q -h "$BASE" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }
if [ "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'")" != 1 ]; then
  psql_admin -c "CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASSWORD'" || give_up "cannot create the role $DB_USER"
fi
if [ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != 1 ]; then
  psql_admin -c "CREATE DATABASE $DB_NAME OWNER $DB_USER" || give_up "cannot create the database $DB_NAME"
fi

# Prove the URL works the way the tests will use it: TCP on loopback with a password.
PGPASSWORD=$DB_PASSWORD "$BINDIR/psql" -X -q -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d "$DB_NAME" \
  -tAc "SELECT 1" >/dev/null 2>&1 || give_up "cannot log in to $DB_NAME on 127.0.0.1:$PORT as $DB_USER"

say "PostgreSQL $MAJOR is running on 127.0.0.1:$PORT (data in $DATA)"
echo "export BC_TUI_TEST_POSTGRES_URL=postgresql://$DB_USER:$DB_PASSWORD@127.0.0.1:$PORT/$DB_NAME"
