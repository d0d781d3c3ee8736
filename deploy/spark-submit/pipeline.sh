#!/usr/bin/env bash
# Lethe pipeline on a Spark cluster, one spark-submit per stage:
#   pipeline.sh --workdir DIR [--config FILE] [--set key=value ...] [--overwrite]
# Runs prepare, train, failures, fisher, identify, repair and report in order with the same arguments and
# stops at the first stage whose spark-submit exits non-zero, naming it. Settings come from the environment
# (see common.sh, or -h). LETHE_FROM=STAGE starts at that stage (e.g. after fixing a failed one).
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

pipeline_usage() {
  cat <<USAGE
usage: $(basename "$0") --workdir DIR [--config FILE] [--set key=value ...] [--overwrite]

Runs the Lethe stages in order, one spark-submit each: ${LETHE_STAGES[*]}
Every argument goes to every stage (like the pipeline stage of bin/lethe). Use --set identify.method=NAME and
--set repair.method=NAME (with --set repair.ranking=NAME matching identify.method) rather than --method,
which only identify and repair accept.
Stops at the first stage that fails and exits with its exit code.
  LETHE_FROM=STAGE   start at STAGE instead of prepare (earlier outputs must be in the workdir)
All other settings: see '$(dirname "$0")/prepare.sh -h'.
USAGE
}

if lethe_wants_help "$@"; then
  pipeline_usage
  exit 0
fi
for arg in "$@"; do
  if [[ "$arg" == "--method" ]]; then
    lethe_die "--method is accepted only by identify and repair; use --set identify.method=... and" \
      "--set repair.method=... with pipeline.sh"
  fi
done

from="${LETHE_FROM:-prepare}"
lethe_main_class "$from" > /dev/null || lethe_die "LETHE_FROM: unknown stage '$from'"
started=0
for stage in "${LETHE_STAGES[@]}"; do
  if [[ "$stage" == "$from" ]]; then
    started=1
  fi
  if [[ "$started" == "0" ]]; then
    continue
  fi
  echo "lethe pipeline: == $stage" >&2
  start_s="$SECONDS"
  rc=0
  "$LETHE_DEPLOY_DIR/$stage.sh" "$@" || rc=$?
  if [[ "$rc" != "0" ]]; then
    echo "lethe pipeline: stage '$stage' failed with exit code $rc after $((SECONDS - start_s)) s;" \
      "later stages not run (rerun from it with LETHE_FROM=$stage)" >&2
    exit "$rc"
  fi
  echo "lethe pipeline: $stage done in $((SECONDS - start_s)) s" >&2
done
echo "lethe pipeline: all stages from $from done" >&2
