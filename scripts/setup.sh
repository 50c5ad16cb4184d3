#!/usr/bin/env bash
# Install everything Unisono needs on a fresh Debian machine (run as root, or with sudo available):
# the Debian packages (speech synthesizers, the GM soundfont, recorded sound-effect data) and the
# Python package with its extras. Idempotent: a second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts   # speech
  fluidsynth libfluidsynth3 fluid-soundfont-gm                                     # music
  wesnoth-1.16-data hedgewars-data supertux-data hydrogen-drumkits                 # real clips
  libsndfile1 sox ffmpeg                                                           # audio tools
  default-jre-headless                                              # caption metrics (pycocoevalcap)
  chromium chromium-driver                                          # web UI browser test (Selenium)
)

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[setup] installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
echo "[setup] installing the unisono Python package"
# torch is pinned in pyproject.toml (torch==2.13.0, the local CPU build).
PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip install -q --disable-pip-version-check -e ".[dev,eval,serve]"
# Metric packages whose declared dependencies are wrong for this setup (aisfx lists the PyPI
# `argparse`, resemblyzer the source-only `webrtcvad`): their real dependencies are in [eval].
PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip install -q --disable-pip-version-check --no-deps \
  aisfx==0.1.2 resemblyzer==0.1.4
# librosa's numba kernels, compiled once here: processes that compile them at once can corrupt
# the cache and crash later processes (scripts/warm_numba_cache.py says how).
"$PYTHON" scripts/warm_numba_cache.py
"$PYTHON" -c "import unisono, torch; print('[setup] unisono', unisono.__version__, '| torch', torch.__version__)"
