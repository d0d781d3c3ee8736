#!/usr/bin/env bash
# Shared settings and functions for the Lethe spark-submit scripts. Sourced by prepare.sh, train.sh, ...;
# not meant to be run on its own. Every setting below is an environment variable with a default, so
#   MASTER=yarn EXECUTOR_MEMORY=6g ./deploy/spark-submit/train.sh --workdir hdfs:///lethe/run1
# overrides it for one call. See deploy/README.md for why the memory and backend settings are what they are.
#
# Written for Spark 3.5.x (Scala 2.12). Checked with `bash -n` and shellcheck and by dry runs
# (LETHE_DRY_RUN=1); not run against a real cluster.

set -euo pipefail

LETHE_DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LETHE_ROOT="$(cd "$LETHE_DEPLOY_DIR/../.." && pwd)"

# --- what to submit ------------------------------------------------------------------------------------------
# LETHE_GPU=1 picks the CUDA build (mvn -Pcuda package) and backend; see "GPU executors" in deploy/README.md.
LETHE_GPU="${LETHE_GPU:-0}"
if [[ "$LETHE_GPU" == "1" ]]; then
  LETHE_JAR="${LETHE_JAR:-$LETHE_ROOT/spark-jobs/target/lethe-spark-jobs-0.1.0-SNAPSHOT-cuda.jar}"
else
  LETHE_JAR="${LETHE_JAR:-$LETHE_ROOT/spark-jobs/target/lethe-spark-jobs-0.1.0-SNAPSHOT.jar}"
fi
if [[ -n "${SPARK_HOME:-}" ]]; then
  SPARK_SUBMIT="${SPARK_SUBMIT:-$SPARK_HOME/bin/spark-submit}"
else
  SPARK_SUBMIT="${SPARK_SUBMIT:-spark-submit}"
fi

# --- where ---------------------------------------------------------------------------------------------------
# yarn | spark://host:7077 | k8s://https://host:443 | local[N] (client mode only)
MASTER="${MASTER:-yarn}"
# Standalone (spark://) defaults to client mode: in standalone cluster mode Spark 3.5's spark-submit exits 0 even
# when the driver FAILED (measured with StandaloneClusterTest), so pipeline.sh could not stop at a failed stage.
if [[ "$MASTER" == local* || "$MASTER" == spark://* ]]; then
  DEPLOY_MODE="${DEPLOY_MODE:-client}"
else
  DEPLOY_MODE="${DEPLOY_MODE:-cluster}"
fi
LETHE_APP_NAME="${LETHE_APP_NAME:-lethe}"

# --- resources -----------------------------------------------------------------------------------------------
# The driver trains the model itself unless train.distributed / repair.finetune.distributed = true, so it gets
# a real heap and several cores; executors run one single-threaded ND4J task per core.
DRIVER_MEMORY="${DRIVER_MEMORY:-6g}"
DRIVER_CORES="${DRIVER_CORES:-4}"
DRIVER_MEMORY_OVERHEAD="${DRIVER_MEMORY_OVERHEAD:-5g}"
EXECUTOR_MEMORY="${EXECUTOR_MEMORY:-4g}"
EXECUTOR_MEMORY_OVERHEAD="${EXECUTOR_MEMORY_OVERHEAD:-5g}"
EXECUTOR_CORES="${EXECUTOR_CORES:-4}"
# Empty: let the cluster manager / dynamic allocation decide.
NUM_EXECUTORS="${NUM_EXECUTORS:-}"

# ND4J allocates its arrays off the JVM heap through JavaCPP. maxbytes caps those allocations; maxphysicalbytes
# caps the whole process (heap + off-heap + JVM overhead). Keep
#   heap + maxbytes <= maxphysicalbytes <= heap + memoryOverhead
# so that JavaCPP raises OutOfMemoryError (with a message naming these properties) before YARN or Kubernetes
# kill the container without one.
ND4J_MAXBYTES="${ND4J_MAXBYTES:-4G}"
ND4J_MAXPHYSICALBYTES="${ND4J_MAXPHYSICALBYTES:-8G}"
DRIVER_ND4J_MAXBYTES="${DRIVER_ND4J_MAXBYTES:-4G}"
DRIVER_ND4J_MAXPHYSICALBYTES="${DRIVER_ND4J_MAXPHYSICALBYTES:-10G}"

# ND4J backend priority (higher wins). Matters only when both backends are on the classpath: the CPU jar holds
# only nd4j-native and the -cuda jar only nd4j-cuda-11.6. Set explicitly so the choice is visible in the UI.
if [[ "$LETHE_GPU" == "1" ]]; then
  BACKEND_PRIORITY_CPU="${BACKEND_PRIORITY_CPU:-0}"
  BACKEND_PRIORITY_GPU="${BACKEND_PRIORITY_GPU:-100}"
else
  BACKEND_PRIORITY_CPU="${BACKEND_PRIORITY_CPU:-100}"
  BACKEND_PRIORITY_GPU="${BACKEND_PRIORITY_GPU:-0}"
fi
# GPU executors: GPUs per executor and per task, and the discovery script YARN / standalone need
# (Spark ships one as examples/src/main/scripts/getGpusResources.sh).
EXECUTOR_GPUS="${EXECUTOR_GPUS:-1}"
TASK_GPUS="${TASK_GPUS:-1}"
GPU_DISCOVERY_SCRIPT="${GPU_DISCOVERY_SCRIPT:-}"

# Spark's JDK 17 module options (org.apache.spark.launcher.JavaModuleOptions); the same list as lethe.jvm.opens in
# the root pom.xml (DeployFilesTest keeps them equal).
LETHE_JDK17_OPENS="-XX:+IgnoreUnrecognizedVMOptions --add-opens=java.base/java.lang=ALL-UNNAMED \
--add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED \
--add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED \
--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED \
--add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED \
--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
--add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED \
--add-opens=java.base/sun.util.calendar=ALL-UNNAMED --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED \
-Djdk.reflect.useDirectMethodHandle=false"

# --- pass-through --------------------------------------------------------------------------------------------
# Extra spark-submit options, split on whitespace (values with spaces: use LETHE_PROPERTIES_FILE instead),
# e.g. LETHE_SPARK_SUBMIT_ARGS="--queue batch --conf spark.kubernetes.container.image=repo/spark:3.5.3"
LETHE_SPARK_SUBMIT_ARGS="${LETHE_SPARK_SUBMIT_ARGS:-}"
# A Spark properties file (replaces conf/spark-defaults.conf for this submission, as --properties-file does).
LETHE_PROPERTIES_FILE="${LETHE_PROPERTIES_FILE:-}"
# LETHE_DRY_RUN=1 prints the spark-submit command instead of running it.
LETHE_DRY_RUN="${LETHE_DRY_RUN:-0}"

# Stages in pipeline order, and their main classes.
# shellcheck disable=SC2034  # used by pipeline.sh
LETHE_STAGES=(prepare train failures fisher identify repair report)

lethe_main_class() {
  case "$1" in
    prepare) echo "dev.lethe.spark.PrepareJob" ;;
    train) echo "dev.lethe.spark.TrainJob" ;;
    failures) echo "dev.lethe.spark.FailuresJob" ;;
    fisher) echo "dev.lethe.spark.FisherJob" ;;
    identify) echo "dev.lethe.spark.IdentifyJob" ;;
    repair) echo "dev.lethe.spark.RepairJob" ;;
    report) echo "dev.lethe.spark.ReportJob" ;;
    pipeline) echo "dev.lethe.spark.PipelineJob" ;;
    *) echo "lethe: unknown stage '$1'" >&2; return 2 ;;
  esac
}

lethe_usage() {
  local stage="$1"
  cat <<USAGE
usage: $(basename "$0") --workdir DIR [--config FILE] [--set key=value ...] [--method NAME] [--overwrite]

Submits Lethe stage '$stage' ($(lethe_main_class "$stage")) with spark-submit. Every argument is passed to
the application unchanged:
  --workdir DIR     stage inputs and outputs; any Hadoop path the driver and executors can all reach
                    (hdfs://, s3a://, ...). A file:/ path only works with a shared file system or local[N].
  --config FILE     HOCON file layered over conf/reference.conf (also read through Hadoop: put it on hdfs://
                    or s3a:// in cluster mode)
  --set key=value   override one config key (repeatable), e.g. --set train.max-epochs=10
  --method NAME     identify: identify.method; repair: repair.method
  --overwrite       replace this stage's existing outputs
Application exit codes: 0 ok, 2 bad input or config, 1 internal error (exact in client mode; in cluster mode
spark-submit only reports success or failure).

Environment (defaults in brackets):
  MASTER [yarn]  DEPLOY_MODE [cluster; client for local[N] and spark://]  SPARK_HOME / SPARK_SUBMIT [spark-submit]
  LETHE_JAR [spark-jobs/target/lethe-spark-jobs-0.1.0-SNAPSHOT.jar; -cuda.jar with LETHE_GPU=1]
  DRIVER_MEMORY [6g] DRIVER_CORES [4] DRIVER_MEMORY_OVERHEAD [5g]
  EXECUTOR_MEMORY [4g] EXECUTOR_MEMORY_OVERHEAD [5g] EXECUTOR_CORES [4] NUM_EXECUTORS [cluster decides]
  ND4J_MAXBYTES [4G] ND4J_MAXPHYSICALBYTES [8G] DRIVER_ND4J_MAXBYTES [4G] DRIVER_ND4J_MAXPHYSICALBYTES [10G]
  LETHE_GPU [0]  EXECUTOR_GPUS [1] TASK_GPUS [1] GPU_DISCOVERY_SCRIPT []
  BACKEND_PRIORITY_CPU / BACKEND_PRIORITY_GPU [100/0; 0/100 with LETHE_GPU=1]
  LETHE_SPARK_SUBMIT_ARGS [] extra spark-submit options   LETHE_PROPERTIES_FILE [] --properties-file
  LETHE_DRY_RUN [0] 1 = print the command instead of running it
USAGE
}

lethe_die() {
  echo "lethe: $*" >&2
  exit 2
}

# True when the first application argument asks for help.
lethe_wants_help() {
  [[ $# -gt 0 && ( "$1" == "-h" || "$1" == "--help" ) ]]
}

lethe_check() {
  local a
  [[ "$DEPLOY_MODE" == "client" || "$DEPLOY_MODE" == "cluster" ]] \
    || lethe_die "DEPLOY_MODE must be client or cluster, not '$DEPLOY_MODE'"
  if [[ "$MASTER" == local* && "$DEPLOY_MODE" == "cluster" ]]; then
    lethe_die "MASTER=$MASTER runs only in client mode (set DEPLOY_MODE=client)"
  fi
  # A local jar must exist; a remote one (hdfs://, s3a://, local:// inside an image) is left to spark-submit.
  if [[ "$LETHE_JAR" != *://* ]]; then
    [[ -f "${LETHE_JAR#file:}" ]] || lethe_die "application jar not found: $LETHE_JAR
  build it with: mvn -DskipTests -pl spark-jobs -am package$([[ "$LETHE_GPU" == "1" ]] && echo " -Pcuda")"
  fi
  for a in "$@"; do
    if [[ "$a" == "--master" ]]; then
      lethe_die "do not pass --master to the application under spark-submit; set MASTER instead"
    fi
  done
}

# Builds the spark-submit command for main class $1 and application arguments $2..., into LETHE_CMD.
lethe_build_cmd() {
  local main_class="$1"
  shift
  local stage_name="${LETHE_STAGE_NAME:-stage}"
  local executor_java="-Dorg.bytedeco.javacpp.maxbytes=$ND4J_MAXBYTES"
  executor_java+=" -Dorg.bytedeco.javacpp.maxphysicalbytes=$ND4J_MAXPHYSICALBYTES"
  local driver_java="-Dorg.bytedeco.javacpp.maxbytes=$DRIVER_ND4J_MAXBYTES"
  driver_java+=" -Dorg.bytedeco.javacpp.maxphysicalbytes=$DRIVER_ND4J_MAXPHYSICALBYTES"
  # JDK 17: Spark adds its --add-opens list to the spark-submit JVM (client mode) and to executors, but not to a
  # driver JVM that a standalone worker launches in cluster mode (measured: IllegalAccessError on
  # sun.nio.ch.DirectBuffer in StorageUtils). Give the driver the list itself; repeats are harmless.
  driver_java+=" $LETHE_JDK17_OPENS"

  # Executors get one OpenMP thread per task (OMP_NUM_THREADS=1): their parallelism comes from task slots.
  LETHE_CMD=("$SPARK_SUBMIT")
  if [[ -n "$LETHE_PROPERTIES_FILE" ]]; then
    LETHE_CMD+=(--properties-file "$LETHE_PROPERTIES_FILE")
  fi
  LETHE_CMD+=(
    --master "$MASTER"
    --deploy-mode "$DEPLOY_MODE"
    --name "$LETHE_APP_NAME-$stage_name"
    --class "$main_class"
    --driver-memory "$DRIVER_MEMORY"
    --executor-memory "$EXECUTOR_MEMORY"
    --conf "spark.driver.cores=$DRIVER_CORES"
    --conf "spark.executor.cores=$EXECUTOR_CORES"
    --conf "spark.driver.memoryOverhead=$DRIVER_MEMORY_OVERHEAD"
    --conf "spark.executor.memoryOverhead=$EXECUTOR_MEMORY_OVERHEAD"
    --conf "spark.driver.extraJavaOptions=$driver_java"
    --conf "spark.executor.extraJavaOptions=$executor_java"
    --conf "spark.executorEnv.OMP_NUM_THREADS=1"
    --conf "spark.executorEnv.BACKEND_PRIORITY_CPU=$BACKEND_PRIORITY_CPU"
    --conf "spark.executorEnv.BACKEND_PRIORITY_GPU=$BACKEND_PRIORITY_GPU"
  )
  if [[ -n "$NUM_EXECUTORS" ]]; then
    LETHE_CMD+=(--num-executors "$NUM_EXECUTORS")
  fi

  # Driver environment. The driver trains on its own cores, so its OpenMP pool matches DRIVER_CORES.
  local driver_env=(
    "OMP_NUM_THREADS=$DRIVER_CORES"
    "BACKEND_PRIORITY_CPU=$BACKEND_PRIORITY_CPU"
    "BACKEND_PRIORITY_GPU=$BACKEND_PRIORITY_GPU"
  )
  local kv
  if [[ "$DEPLOY_MODE" == "client" ]]; then
    # The driver is the spark-submit JVM: it inherits this shell's environment.
    for kv in "${driver_env[@]}"; do
      export "${kv?}"
    done
  elif [[ "$MASTER" == yarn* ]]; then
    for kv in "${driver_env[@]}"; do
      LETHE_CMD+=(--conf "spark.yarn.appMasterEnv.$kv")
    done
  elif [[ "$MASTER" == k8s://* ]]; then
    for kv in "${driver_env[@]}"; do
      LETHE_CMD+=(--conf "spark.kubernetes.driverEnv.$kv")
    done
  else
    # Standalone cluster mode has no driver-environment setting: the driver inherits the worker's environment
    # (conf/spark-env.sh on the worker hosts). Make spark-submit wait for the driver; it still exits 0 when the
    # driver failed (Spark 3.5), so the outcome is only in the driver's log.
    echo "lethe: note: standalone cluster mode: set OMP_NUM_THREADS / BACKEND_PRIORITY_* for the driver in" \
      "the workers' conf/spark-env.sh; spark-submit exits 0 even if the stage fails (check the driver log," \
      "or use DEPLOY_MODE=client)" >&2
    LETHE_CMD+=(--conf "spark.standalone.submit.waitAppCompletion=true")
  fi

  if [[ "$LETHE_GPU" == "1" ]]; then
    LETHE_CMD+=(
      --conf "spark.executor.resource.gpu.amount=$EXECUTOR_GPUS"
      --conf "spark.task.resource.gpu.amount=$TASK_GPUS"
    )
    if [[ -n "$GPU_DISCOVERY_SCRIPT" ]]; then
      LETHE_CMD+=(--conf "spark.executor.resource.gpu.discoveryScript=$GPU_DISCOVERY_SCRIPT")
    fi
    if [[ "$MASTER" == k8s://* ]]; then
      LETHE_CMD+=(--conf "spark.executor.resource.gpu.vendor=nvidia.com")
    fi
  fi

  if [[ -n "$LETHE_SPARK_SUBMIT_ARGS" ]]; then
    local extra=()
    read -r -a extra <<< "$LETHE_SPARK_SUBMIT_ARGS"
    LETHE_CMD+=("${extra[@]}")
  fi

  LETHE_CMD+=("$LETHE_JAR" "$@")
}

lethe_print_cmd() {
  local word
  printf '%s' "+"
  for word in "${LETHE_CMD[@]}"; do
    printf ' %q' "$word"
  done
  printf '\n'
}

# Entry point of the per-stage scripts: lethe_stage_main STAGE "$@". Replaces the shell with spark-submit.
lethe_stage_main() {
  local stage="$1"
  shift
  if lethe_wants_help "$@"; then
    lethe_usage "$stage"
    exit 0
  fi
  local main_class
  main_class="$(lethe_main_class "$stage")"
  lethe_check "$@"
  LETHE_STAGE_NAME="$stage" lethe_build_cmd "$main_class" "$@"
  if [[ "$LETHE_DRY_RUN" == "1" ]]; then
    lethe_print_cmd
    exit 0
  fi
  exec "${LETHE_CMD[@]}"
}
