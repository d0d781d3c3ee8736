// Databricks notebook source
// MAGIC %md
// MAGIC # Lethe pipeline (notebook)
// MAGIC
// MAGIC Runs the Lethe stages on this cluster's Spark session through the same entry point as the jar job:
// MAGIC `dev.lethe.spark.StageRunner.run(stage, args, console)`, which returns the stage's exit code
// MAGIC (0 ok, 2 bad input or config, 1 internal error). A non-zero code stops the notebook with an exception.
// MAGIC
// MAGIC Cluster requirements (see `deploy/databricks/README.md`): Databricks Runtime 16.4 LTS (Scala 2.12),
// MAGIC dedicated (single user) access mode, the application jar attached as a cluster library, x86_64 nodes.
// MAGIC Not for serverless or standard/shared compute: Lethe uses RDD APIs.

// COMMAND ----------

dbutils.widgets.text("workdir", "dbfs:/FileStore/lethe/runs/run1", "workdir")
dbutils.widgets.text("config", "", "config file (optional)")
dbutils.widgets.dropdown("identify_method", "ewc-influence",
  Seq("ewc-influence", "linear-cg", "linear-lissa", "random", "oracle", "loss", "tracin", "self-influence",
    "confident-learning", "puma", "knn-shapley", "tmc-shapley"), "identify.method")
dbutils.widgets.dropdown("repair_method", "ewc-deletion",
  Seq("ewc-deletion", "newton-removal", "finetune", "finetune-fq", "finetune-combined", "puma", "align"),
  "repair.method")
dbutils.widgets.text("sets", "", "--set key=value; key=value")
dbutils.widgets.dropdown("overwrite", "false", Seq("false", "true"), "overwrite")
dbutils.widgets.text("stages", "prepare,train,failures,fisher,identify,repair,report", "stages")

// COMMAND ----------

val workdir = dbutils.widgets.get("workdir").trim
require(workdir.nonEmpty, "set the workdir widget, e.g. dbfs:/FileStore/lethe/runs/run1")
val identifyMethod = dbutils.widgets.get("identify_method")

val stageArgs: Array[String] = (
  Seq("--workdir", workdir) ++
    Option(dbutils.widgets.get("config").trim).filter(_.nonEmpty).toSeq.flatMap(f => Seq("--config", f)) ++
    Seq("--set", s"identify.method=$identifyMethod",
      "--set", s"repair.method=${dbutils.widgets.get("repair_method")}",
      // repair reads rankings/<repair.ranking>.parquet, written by identify under its method's name
      "--set", s"repair.ranking=$identifyMethod") ++
    dbutils.widgets.get("sets").split(";").map(_.trim).filter(_.nonEmpty).toSeq.flatMap(kv => Seq("--set", kv)) ++
    (if (dbutils.widgets.get("overwrite") == "true") Seq("--overwrite") else Seq.empty)
).toArray

val stages = dbutils.widgets.get("stages").split(",").map(_.trim).filter(_.nonEmpty).toSeq
println(s"lethe: stages ${stages.mkString(" -> ")} with arguments ${stageArgs.mkString(" ")}")

// COMMAND ----------

// Summaries go to scala.Console's streams, which is what the notebook shows as this cell's output
// (dev.lethe.spark.cli.Console.system() would use System.out / System.err).
val console = new dev.lethe.spark.cli.Console(scala.Console.out, scala.Console.err)

def runStage(stage: String): Unit = {
  println(s"== $stage")
  val t0 = System.nanoTime()
  val code = dev.lethe.spark.StageRunner.run(stage, stageArgs, console)
  val seconds = (System.nanoTime() - t0) / 1e9
  if (code != 0) {
    val meaning = if (code == 2) "bad input or config" else "internal error"
    throw new IllegalStateException(
      f"lethe stage $stage failed with exit code $code ($meaning) after $seconds%.1f s; the message is above")
  }
  println(f"$stage done in $seconds%.1f s")
}

stages.foreach(runStage)
println(s"lethe: done -> $workdir")
