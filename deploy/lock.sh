#!/usr/bin/env bash
# `make lock`: rewrite requirements.lock and requirements-dev.lock with the sha256 hash of every
# file the registry serves for each pinned version, so `make install` (pip --require-hashes)
# refuses a file that was swapped. The versions are the pins already in the two files: to change
# one, edit its pin and run this. uv resolves (pinned itself, in a throw-away venv) and must add
# nothing: a dependency missing from the pins makes this fail rather than slip in unreviewed.
# setuptools is left out as before: the venv brings its own and no requirement pins it.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
PYTHON=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "uv==$UV_VERSION"
# uv reads no pip configuration: give it the system's CA bundle where pip has one configured.
export SSL_CERT_FILE=${SSL_CERT_FILE:-${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}}

pins() { grep -E '^[A-Za-z]' "$1" | sed 's/ *\\$//'; }  # "name==version" lines only
names() { grep -E '^[A-Za-z]' "$1" | sed 's/==.*//' | tr 'A-Z_.' 'a-z--' | sort; }
compile() {
    "$work/venv/bin/uv" pip compile --quiet --generate-hashes --no-annotate --no-header \
        --python-version 3.11 --no-emit-package setuptools "$@"
}

pins requirements.lock >"$work/main.in"
pins requirements-dev.lock >"$work/dev.in"
compile "$work/main.in" -o "$work/main.txt"
compile "$work/main.in" "$work/dev.in" -o "$work/all.txt"

# Same packages and versions in as out (uv writes names normalised, e.g. Jinja2 -> jinja2).
norm() { pins "$1" | tr 'A-Z_.' 'a-z--' | sort; }
if ! diff <(cat "$work/main.in" "$work/dev.in" | tr 'A-Z_.' 'a-z--' | sort) \
          <(norm "$work/all.txt"); then
    echo "lock: the resolution differs from the pins (above): pin what it adds, then rerun" >&2
    exit 1
fi
# No index address in a lock file: pip and the Dockerfile use their own configured index.
if grep -E -e '--(extra-)?index-url|--find-links|://' "$work/all.txt"; then
    echo "lock: the output names an index; not written" >&2
    exit 1
fi

{
    echo "# What a deployment runs, each version with its sha256 hashes (pip --require-hashes)."
    echo "# To change a version, edit its pin and run \`make lock\` (deploy/lock.sh)."
    cat "$work/main.txt"
} >requirements.lock
{
    echo "# Installed with requirements.lock by \`make install\`: the test, lint and type tools, and the"
    echo "# lab's fitting (scikit-learn and what only it pulls in); a deployment never imports them."
    echo "# Hashed like requirements.lock; regenerate both with \`make lock\` (deploy/lock.sh)."
    # Only what requirements.lock does not already hold: pip reads the two files as one.
    awk 'NR == FNR { main[$0]; next }
         /^[A-Za-z]/ { name = tolower($0); sub(/==.*/, "", name); gsub(/[_.]/, "-", name);
                       keep = !(name in main) }
         keep' <(names "$work/main.txt") "$work/all.txt"
} >requirements-dev.lock
echo "lock: requirements.lock and requirements-dev.lock rewritten with hashes"
