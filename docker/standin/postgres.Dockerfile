# Stand-in for the official postgres image (Debian bookworm's PostgreSQL 15), for machines that
# reach Debian's packages but no image registry (docker/ci.sh). The entrypoint honours what
# compose.yaml relies on: POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, the data directory
# /var/lib/postgresql/data (a volume), `pg_isready` on the PATH, and running as `postgres`.
FROM exposure-standin/debian:bookworm
ENV LANG=C.UTF-8 \
    PGDATA=/var/lib/postgresql/data
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
    && ln -s /usr/lib/postgresql/15/bin/* /usr/local/bin/ \
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
