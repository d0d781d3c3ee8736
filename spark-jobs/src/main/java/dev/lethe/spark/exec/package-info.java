/**
 * Executor-side plumbing shared by the distributed stages: networks as broadcastable bytes, ND4J's thread count
 * per task, and progress reporting of per-row passes.
 */
package dev.lethe.spark.exec;
