#!/usr/bin/env bash
# Lethe stage 'identify' on a Spark cluster: identify.sh --workdir DIR [--config FILE] [--set k=v ...] [--method NAME] [--overwrite]
# Settings (master, memory, ND4J) come from the environment; see common.sh or run with -h.
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
lethe_stage_main identify "$@"
