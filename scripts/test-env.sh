#!/usr/bin/env bash
# Makes this machine ready for `npm test`: the Debian packages the interop
# tests drive (Prosody and ejabberd as third-party servers, slixmpp as a
# third-party client, nginx as a reverse proxy, Chromium for the browser
# tests) and the local services the storage and router tests use for real
# (PostgreSQL, NATS). Idempotent and quick when all is in place.
set -euo pipefail

need=()
command -v prosody >/dev/null 2>&1 || need+=(prosody)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v ejabberdctl >/dev/null 2>&1 || need+=(ejabberd)
command -v nginx >/dev/null 2>&1 || need+=(nginx)
/usr/bin/python3 -c 'import slixmpp' >/dev/null 2>&1 || need+=(python3-slixmpp)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test-env: missing Debian packages: ${need[*]} (install them as root: apt-get install -y ${need[*]})" >&2
    exit 1
  fi
  echo "test-env: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # policy-rc.d keeps the packages' own services from starting on the default ports.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 5432 && command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "test-env: starting PostgreSQL" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if ! port_open 4222 && [ -x /usr/sbin/nats-server ]; then
  echo "test-env: starting NATS" >&2
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log || true
  for _ in $(seq 50); do port_open 4222 && break; sleep 0.1; done
fi
exit 0
