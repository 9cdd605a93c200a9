#!/usr/bin/env bash
# One set-up for every entry point (make demo, make test, CI): system packages if missing, .venv,
# the project and its test tools. Safe to run again: each step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_MAJOR="${PG_MAJOR:-15}"
APT_PACKAGES=(
  "postgresql-${PG_MAJOR}" "postgresql-${PG_MAJOR}-postgis-3" "postgresql-contrib"
  chromium chromium-driver gdal-bin fonts-noto-cjk python3-venv poppler-utils
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "==> 安装系统软件包 installing system packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "==> 创建虚拟环境 creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.zhengtu-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "==> 安装 Python 依赖 installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  echo "$want" > "$stamp"
fi
echo "==> 环境就绪 set-up complete"
