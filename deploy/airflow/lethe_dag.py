"""Lethe on Airflow: one SparkSubmitOperator per stage, prepare >> train >> ... >> report.

Manual trigger only (no schedule). Every stage gets the same application arguments, rendered at run time from
the DAG params (override them with `airflow dags trigger lethe --conf '{...}'` or the "Trigger DAG w/ config" form):

    workdir          Hadoop path for all stage inputs and outputs (required; hdfs://, s3a://, ...)
    jar              the shaded application jar, where spark-submit can read it
    config           optional HOCON file layered over reference.conf (--config), on a path the driver can read
    identify_method  identify.method (also used as repair.ranking, so repair reads what identify wrote)
    repair_method    repair.method
    sets             extra "key=value" config overrides (--set), applied last, so they win
    overwrite        pass --overwrite to every stage

Needs apache-airflow-providers-apache-spark and a Spark connection (`spark_default`, see README.md). Written for
Airflow 2.x (>= 2.4) with a fallback import for Airflow 3; checked with py_compile only, not on a scheduler.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

try:  # Airflow 3
    from airflow.sdk import DAG, Param
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.models.param import Param

STAGES = ["prepare", "train", "failures", "fisher", "identify", "repair", "report"]
MAIN_CLASSES = {
    "prepare": "dev.lethe.spark.PrepareJob",
    "train": "dev.lethe.spark.TrainJob",
    "failures": "dev.lethe.spark.FailuresJob",
    "fisher": "dev.lethe.spark.FisherJob",
    "identify": "dev.lethe.spark.IdentifyJob",
    "repair": "dev.lethe.spark.RepairJob",
    "report": "dev.lethe.spark.ReportJob",
}
IDENTIFY_METHODS = ["ewc-influence", "linear-cg", "linear-lissa", "random", "oracle", "loss", "tracin",
                    "self-influence", "confident-learning", "puma", "knn-shapley", "tmc-shapley"]
REPAIR_METHODS = ["ewc-deletion", "newton-removal", "finetune", "finetune-fq", "finetune-combined", "puma",
                  "align"]

SPARK_CONN_ID = "spark_default"

# Memory and ND4J settings (deploy/README.md explains them). ND4J keeps its arrays off the JVM heap, so the
# container must leave room beyond the heap: heap + maxbytes <= maxphysicalbytes <= heap + memoryOverhead.
# Spark's JDK 17 module options (the list of deploy/spark-submit/common.sh and the root pom's lethe.jvm.opens).
JDK17_OPENS = (
    "-XX:+IgnoreUnrecognizedVMOptions --add-opens=java.base/java.lang=ALL-UNNAMED"
    " --add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED"
    " --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED"
    " --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED"
    " --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED"
    " --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED"
    " --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED"
    " --add-opens=java.base/sun.util.calendar=ALL-UNNAMED --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED"
    " -Djdk.reflect.useDirectMethodHandle=false"
)
EXECUTOR_MEMORY = "4g"
DRIVER_MEMORY = "6g"
SPARK_CONF = {
    "spark.executor.cores": "4",
    "spark.driver.cores": "4",
    "spark.executor.memoryOverhead": "5g",
    "spark.driver.memoryOverhead": "5g",
    "spark.executor.extraJavaOptions": (
        "-Dorg.bytedeco.javacpp.maxbytes=4G -Dorg.bytedeco.javacpp.maxphysicalbytes=8G"
    ),
    # JDK 17: a driver that a standalone worker launches (cluster deploy mode) gets no --add-opens from Spark.
    "spark.driver.extraJavaOptions": (
        "-Dorg.bytedeco.javacpp.maxbytes=4G -Dorg.bytedeco.javacpp.maxphysicalbytes=10G "
        + JDK17_OPENS
    ),
    # One OpenMP thread per task: executor parallelism comes from Spark's task slots.
    "spark.executorEnv.OMP_NUM_THREADS": "1",
    # Higher wins; only matters when both ND4J backends are on the classpath (see deploy/README.md for GPUs).
    "spark.executorEnv.BACKEND_PRIORITY_CPU": "100",
    "spark.executorEnv.BACKEND_PRIORITY_GPU": "0",
}
# Driver environment. The hook sends these as spark.yarn.appMasterEnv.* (YARN) or spark.kubernetes.driverEnv.*
# (Kubernetes), or sets them on the spark-submit process in client mode. It refuses env_vars in standalone
# cluster mode: there, remove this and set them in the workers' conf/spark-env.sh.
DRIVER_ENV = {
    "OMP_NUM_THREADS": "4",  # the driver trains the model on its own cores
    "BACKEND_PRIORITY_CPU": "100",
    "BACKEND_PRIORITY_GPU": "0",
}


# Arguments every stage gets; Airflow renders the templates from the run's params.
BASE_ARGS = [
    "--workdir", "{{ params.workdir }}",
    "--set", "identify.method={{ params.identify_method }}",
    "--set", "repair.method={{ params.repair_method }}",
    # repair reads rankings/<repair.ranking>.parquet, which identify wrote under its method's name
    "--set", "repair.ranking={{ params.identify_method }}",
]


def optional_args(params) -> list[str]:
    """--config, extra --set overrides and --overwrite: present only when the params ask for them."""
    if not str(params.get("workdir") or "").strip():
        raise ValueError("param 'workdir' is required, e.g. --conf '{\"workdir\": \"hdfs:///lethe/run1\"}'")
    args: list[str] = []
    config = str(params.get("config") or "").strip()
    if config:
        args += ["--config", config]
    for kv in params.get("sets") or []:
        kv = str(kv).strip()
        if "=" not in kv:
            raise ValueError(f"param 'sets': expected key=value, got {kv!r}")
        args += ["--set", kv]
    if params.get("overwrite"):
        args.append("--overwrite")
    return args


class LetheStageOperator(SparkSubmitOperator):
    """SparkSubmitOperator that appends the optional arguments at run time.

    A templated list cannot drop an element, so flags that are present or absent per run are added here.
    """

    def execute(self, context):
        rendered = getattr(self, "application_args", None) or getattr(self, "_application_args", None) or []
        args = list(rendered) + optional_args(context["params"])
        self.application_args = args  # apache-spark provider >= 4.8
        self._application_args = args  # older providers
        return super().execute(context)


default_args = {
    "owner": "lethe",
    "retries": 1,
    "retry_delay": timedelta(minutes=5),
}

with DAG(
    dag_id="lethe",
    description="Lethe: find the training examples behind a classifier's failures and repair the model",
    start_date=datetime(2024, 1, 1),
    schedule=None,
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    tags=["lethe", "spark"],
    params={
        "workdir": Param("", type="string", description="Hadoop path for stage inputs and outputs (required)"),
        "jar": Param(
            "hdfs:///apps/lethe/lethe-spark-jobs-0.1.0-SNAPSHOT.jar",
            type="string",
            description="Application jar, on a path spark-submit can read",
        ),
        "config": Param("", type="string", description="Optional HOCON config file (--config)"),
        "identify_method": Param("ewc-influence", enum=IDENTIFY_METHODS),
        "repair_method": Param("ewc-deletion", enum=REPAIR_METHODS),
        "sets": Param([], type="array", items={"type": "string"}, description="key=value overrides (--set)"),
        "overwrite": Param(False, type="boolean", description="Replace existing stage outputs"),
    },
) as dag:
    t = {
        stage: LetheStageOperator(
            task_id=stage,
            conn_id=SPARK_CONN_ID,
            application="{{ params.jar }}",
            java_class=MAIN_CLASSES[stage],
            application_args=list(BASE_ARGS),
            name=f"lethe-{stage}",
            conf=SPARK_CONF,
            env_vars=DRIVER_ENV,
            executor_memory=EXECUTOR_MEMORY,
            driver_memory=DRIVER_MEMORY,
            verbose=False,
        )
        for stage in STAGES
    }
    t["prepare"] >> t["train"] >> t["failures"] >> t["fisher"] >> t["identify"] >> t["repair"] >> t["report"]
