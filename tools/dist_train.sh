#!/usr/bin/env bash
# Usage: bash tools/dist_train.sh CONFIG GPUS [train.py args]
# Env: NNODES (1), NODE_RANK (0), PORT (29500), MASTER_ADDR (127.0.0.1).
# The backend follows the machine unless the config sets one (nccl with
# CUDA, gloo without); on a CPU-only machine GPUS is the number of processes.
# Paths may contain spaces.

CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
TOOLS="$(dirname "$0")"

# keep a copy of stderr to recognise a rank killed by the OOM killer, which
# torchrun reports only as "exitcode: -9"
ERR_LOG=$(mktemp "${TMPDIR:-/tmp}/dist_train.XXXXXX")
trap 'rm -f "$ERR_LOG"' EXIT

PYTHONPATH="$TOOLS/..":$PYTHONPATH \
python -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$TOOLS/train.py" \
    "$CONFIG" \
    --launcher pytorch "${@:3}" 2> >(tee "$ERR_LOG" >&2)
STATUS=$?
wait $!  # the tee of stderr

if [ "$STATUS" -ne 0 ] && grep -q 'Signal 9 (SIGKILL)' "$ERR_LOG"; then
    echo "dist_train.sh: a rank was killed with SIGKILL (exitcode -9), most" \
        "likely by the out-of-memory killer. Lower" \
        "train_dataloader.batch_size (e.g. --cfg-options" \
        "train_dataloader.batch_size=4 with a matching num_instances) or run" \
        "fewer processes per machine; README.md, 'Memory per rank', lists" \
        "what each config needs." >&2
fi
exit "$STATUS"
