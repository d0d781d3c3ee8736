#!/usr/bin/env bash
# Lethe stage 'prepare' on a Spark cluster: prepare.sh --workdir DIR [--config FILE] [--set k=v ...] [--overwrite]
# Settings (master, memory, ND4J) come from the environment; see common.sh or run with -h.
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
lethe_stage_main prepare "$@"
