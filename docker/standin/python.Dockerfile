# Stand-in for python:3.11-slim-bookworm, for machines that reach Debian's packages but no image
# registry (docker/ci.sh builds it FROM a debootstrap'ed bookworm minbase). Debian's python3 is
# 3.11; like the official image it has `python` on the PATH, a working `python -m venv`, LANG
# C.UTF-8, and nothing else. The machine's CA bundle goes in so that pip reaches the package
# index through whatever TLS the machine's network uses.
FROM exposure-standin/debian:bookworm
ENV LANG=C.UTF-8
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
    && ln -s /usr/bin/python3 /usr/local/bin/python
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
