#!/usr/bin/env bash
# The demo job: write the synthetic MARS-layout data (once), train CONFIG on
# it and evaluate the final checkpoint, printing CMC / mAP.
# Usage: bash tools/run_demo.sh [CONFIG] [train.py args...]
set -euo pipefail
cd "$(dirname "$0")/.."

CONFIG=${1:-configs/dcct/dcct_demo.py}
DATA_ROOT=${DATA_ROOT:-data/demo/MARS}
WORK_DIR=${WORK_DIR:-work_dirs/$(basename "$CONFIG" .py)}

start=$(date +%s)
if [ ! -f "$DATA_ROOT/info/tracks_test_info.mat" ]; then
    python tools/misc/make_synthetic_mars.py "$DATA_ROOT"
fi
python tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "${@:2}"
CHECKPOINT=$(cat "$WORK_DIR/last_checkpoint")
python tools/test.py "$CONFIG" "$CHECKPOINT" --work-dir "$WORK_DIR" \
    --out "$WORK_DIR/test_metrics.json" --out-item metrics
echo "Demo finished in $(( $(date +%s) - start )) s; metrics of $CHECKPOINT:"
python -c "import json,sys; m=json.load(open(sys.argv[1])); print('  '.join(f'{k}: {v:.2f}' for k, v in m.items() if isinstance(v, (int, float))))" "$WORK_DIR/test_metrics.json"
