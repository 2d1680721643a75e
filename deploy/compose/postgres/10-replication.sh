#!/bin/bash
# Runs once, when the primary's data directory is first made (/docker-entrypoint-initdb.d).
# The image may source this file instead of running it, so it neither exits nor sets shell options.
if [ -n "${REPLICATION_PASSWORD:-}" ]; then
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
        -v password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL
    echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
else
    echo "REPLICATION_PASSWORD is empty: no replication role (the replica profile needs one)"
fi
