#!/usr/bin/env bash
# Install what synthvet needs on a fresh Debian machine with Python 3.11 (run as root).
#   bash scripts/setup.sh          the package and its checkers (coqc, bubblewrap)
#   bash scripts/setup.sh --test   also what the test suite needs (chromium, Label Studio)
# Idempotent: what is already there is not installed again.
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

apt_pkgs=()
command -v coqc >/dev/null 2>&1 || apt_pkgs+=(coq)
command -v bwrap >/dev/null 2>&1 || apt_pkgs+=(bubblewrap)
if [ "$want_tests" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || apt_pkgs+=(chromium)
fi
if [ "${#apt_pkgs[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${apt_pkgs[*]} with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_pkgs[@]}" >/dev/null
  else
    echo "setup: please install ${apt_pkgs[*]} (Debian packages); the domains that need" \
         "them send their records to review until then" >&2
  fi
fi

python3 -m pip install -q --disable-pip-version-check -e ".[test]" 2>&1 | grep -v -i "warning" || true
python3 -c "import synthvet, z3, sympy, pyarrow" || { echo "setup: install failed" >&2; exit 1; }
# An editable install leaves the byte-code to the first import, which these machines do not
# write (PYTHONDONTWRITEBYTECODE): without this every run would compile synthvet again.
python3 -m compileall -q src >/dev/null

if [ "$want_tests" = 1 ] && [ -f tests/experts/label_studio.sh ]; then
  bash tests/experts/label_studio.sh install
fi
