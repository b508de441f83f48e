# Sourced by scripts/dev and scripts/test: make sure .venv exists and holds the package with EXTRAS.
# Needs only python3 (>= 3.11) and pip. Usage: ensure_venv "<extras>" ["<other stamp that also satisfies>"]

ensure_venv() {
    local extras="$1" also="${2:-}"
    local python="${PYTHON:-python3}"
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "Dynastore needs Python 3.11 or newer as '$python' (set PYTHON=/path/to/python3.11)" >&2
        exit 1
    fi
    if [ ! -x .venv/bin/python ]; then
        echo "== creating .venv with $python" >&2
        if ! "$python" -m venv .venv 2>/dev/null; then
            # Debian/Ubuntu without python3-venv: fall back to virtualenv from PyPI.
            rm -rf .venv
            "$python" -m pip install --quiet --user virtualenv >&2 || "$python" -m pip install --quiet --user --break-system-packages virtualenv >&2
            "$python" -m virtualenv --quiet .venv
        fi
    fi
    local hash
    hash="$(.venv/bin/python -c 'import hashlib;print(hashlib.sha256(open("pyproject.toml","rb").read()).hexdigest()[:16])')"
    if [ -f ".venv/.installed-$extras-$hash" ] || { [ -n "$also" ] && [ -f ".venv/.installed-$also-$hash" ]; }; then
        return 0
    fi
    echo "== installing dynastore-assets[$extras] into .venv (the first run takes a few minutes)" >&2
    if ! { .venv/bin/python -m pip install --quiet --upgrade pip \
           && .venv/bin/python -m pip install --quiet -e ".[$extras]"; } > .venv/pip-install.log 2>&1; then
        tail -n 40 .venv/pip-install.log >&2
        echo "pip install failed; the full log is .venv/pip-install.log" >&2
        exit 1
    fi
    touch ".venv/.installed-$extras-$hash"
}
