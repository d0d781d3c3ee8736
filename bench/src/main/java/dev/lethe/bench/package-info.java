/**
 * The benchmark harness, a Maven module of its own that the application jar does not carry: {@code ./bin/lethe bench}
 * puts its jar on the class path, where the product's {@code bench} command finds {@link dev.lethe.bench.BenchJob}
 * through {@link dev.lethe.spark.BenchCommand}. Benchmark suites that run the pipeline's own stage
 * bodies in this JVM, one workdir per experiment run, and report what they measured. {@link
 * dev.lethe.bench.BenchContext} is the API a suite uses (run a stage with overrides and time it, record a
 * measurement into results.csv); {@link dev.lethe.bench.QualitySuite} runs the paper's protocol (quick and
 * paper suites: identification curves, fine-tuning sweep, repair trade-off, timing, {@link
 * dev.lethe.bench.Roofline}); {@link dev.lethe.bench.ScaleSuite} the scaling suite; {@code BackendSuite} the generic DL4J backend
 * against the CNN fast path; {@link
 * dev.lethe.bench.BenchSummary} and {@link dev.lethe.bench.BenchCharts} turn the recorded {@link
 * dev.lethe.bench.BenchResults} into summary.md and PNG plots; {@link dev.lethe.bench.GemmRate} and {@link
 * dev.lethe.bench.Flops} give the roofline's GEMM rate and a network's forward FLOPs.
 */
package dev.lethe.bench;
