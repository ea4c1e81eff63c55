#!/usr/bin/env bash
# What the test suite needs from the operating system, installed by `make test` (and so by CI).
#
#   python3-venv        the project's own virtualenv (.venv)
#   openssh-server      the SFTP tests run a real sshd on 127.0.0.1
#   chromium            the web page's browser tests drive Debian's Chromium (Playwright never downloads one)
#   fonts-dejavu-core   so Chromium renders the page's text (screenshots, layout checks)
#   systemd             systemd-analyze verifies the units in deploy/ (containers often lack it)
#
# Missing packages are installed with apt-get when running as root (CI runs `bash .ci/run` as root, no stdin);
# otherwise one line names the exact command to run and the suite runs anyway (the tests that need a missing
# package fail naming it) — except without python3-venv, when nothing can run and the script fails.
#
# SYSTEM_ROOT (tests only) prefixes every checked path; SYSTEM_PACKAGES_AS_ROOT=0 acts as a non-root user.
set -euo pipefail

root="${SYSTEM_ROOT:-}"
python="${PYTHON:-python3}"
missing=()
if [ -n "$root" ]; then
    compgen -G "$root/usr/lib/python3*/ensurepip" >/dev/null || missing+=(python3-venv)
else
    # Debian's python3 has the venv module but not ensurepip until python3-venv is installed
    "$python" -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
fi
[ -x "$root/usr/bin/chromium" ] || missing+=(chromium)
[ -e "$root/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf" ] || missing+=(fonts-dejavu-core)
[ -x "$root/usr/sbin/sshd" ] || missing+=(openssh-server)
[ -x "$root/usr/bin/systemd-analyze" ] || missing+=(systemd)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

as_root="${SYSTEM_PACKAGES_AS_ROOT:-$([ "$(id -u)" -eq 0 ] && echo 1 || echo 0)}"
command="sudo apt-get update && sudo apt-get install -y ${missing[*]}"
if [ "$as_root" != 1 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "Faltan paquetes del sistema para las pruebas / missing system packages for the tests; run: $command" >&2
    case " ${missing[*]} " in *" python3-venv "*) exit 1 ;; esac
    exit 0
fi
echo "Instalando / installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null
apt-get install -y -qq "${missing[@]}" </dev/null
