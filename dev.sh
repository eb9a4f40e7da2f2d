#!/usr/bin/env bash
# Set-up and entry points of the project.
#   ./dev.sh main    set everything up, then run the main job: the leakage study (add --quick for the short grid)
#   ./dev.sh test    set everything up, then run all tests
#   ./dev.sh setup   set up only: system packages (as root), the virtual environment, offline PlatformIO
set -euo pipefail
cd "$(dirname "$0")"

# clang and libclang-rt-dev (libFuzzer's runtime, for clang's default version) build the firmware fuzz targets
APT_PACKAGES="qemu-system-arm gcc-arm-none-eabi libnewlib-arm-none-eabi gcc libc6-dev clang libclang-rt-dev"
PYTHON="${PYTHON:-python3}"
VENV=.venv

have_libfuzzer() {
  command -v clang >/dev/null && [ -f "$(clang -print-file-name="libclang_rt.fuzzer-$(uname -m).a")" ]
}

need_apt() {
  command -v qemu-system-arm >/dev/null && command -v arm-none-eabi-gcc >/dev/null \
    && [ -d /usr/lib/arm-none-eabi/newlib ] && command -v gcc >/dev/null && have_libfuzzer && return 1
  return 0
}

setup_system() {
  # Debian's own python3 needs python3-venv for "python3 -m venv".
  if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
    APT_PACKAGES="$APT_PACKAGES python3-venv"
    FORCE_APT=1
  fi
  if need_apt || [ -n "${FORCE_APT:-}" ]; then
    if [ "$(id -u)" -eq 0 ]; then
      echo "installing $APT_PACKAGES" >&2
      DEBIAN_FRONTEND=noninteractive apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $APT_PACKAGES >/dev/null
    else
      echo "edgeleak: missing system packages; run: sudo apt-get install --no-install-recommends $APT_PACKAGES" >&2
      exit 1
    fi
  fi
}

setup_python() {
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || {
    echo "edgeleak: needs Python 3.11 (set PYTHON=python3.11)" >&2; exit 1; }
  local stamp="$VENV/.installed"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[test]'
    touch "$stamp"
  fi
  "$VENV/bin/python" -m edgeleak.firmware.pio_offline >/dev/null
}

setup() { setup_system; setup_python; }

case "${1:-}" in
  setup) setup ;;
  main)
    setup
    shift
    exec "$VENV/bin/edgeleak" study --out out/study "$@"
    ;;
  test)
    setup
    shift
    exec "$VENV/bin/python" -m pytest -q "$@"
    ;;
  *)
    echo "usage: ./dev.sh main | test | setup" >&2
    exit 2
    ;;
esac
