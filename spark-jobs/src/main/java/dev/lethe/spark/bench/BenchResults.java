package dev.lethe.spark.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The measurements of one bench run, in long format: kept in memory for summary.md and the plots, and appended to
 * results.csv as they are recorded (each row flushed at once, so a suite that dies keeps what it measured). The file
 * is created with the first row.
 */
public final class BenchResults implements AutoCloseable {
  public static final String FILE = "results.csv";
  public static final String HEADER = "suite,experiment,setting,seed,method,metric,value,unit";

  /** One measurement. */
  public record Row(String suite, String experiment, String setting, long seed, String method, String metric,
      double value, String unit) {
    public Row {
      Objects.requireNonNull(experiment);
      Objects.requireNonNull(setting);
      Objects.requireNonNull(method);
      Objects.requireNonNull(metric);
      Objects.requireNonNull(unit);
    }

    String csv() {
      return String.join(",", field(suite), field(experiment), field(setting), Long.toString(seed), field(method),
          field(metric), Double.toString(value), field(unit));
    }

    private static String field(String s) {
      return s.contains(",") || s.contains("\"") || s.contains("\n") ? '"' + s.replace("\"", "\"\"") + '"' : s;
    }
  }

  /** Mean, sample standard deviation (0 for a single value) and count of a metric over seeds. */
  public record Stat(double mean, double std, int n) {
    static Stat of(List<Double> values) {
      int n = values.size();
      if (n == 0) {
        return new Stat(Double.NaN, Double.NaN, 0);
      }
      double mean = values.stream().mapToDouble(Double::doubleValue).sum() / n;
      double ss = values.stream().mapToDouble(v -> (v - mean) * (v - mean)).sum();
      return new Stat(mean, n > 1 ? Math.sqrt(ss / (n - 1)) : 0, n);
    }
  }

  private final String suite;
  private final FileSystem fs;
  private final Path file;
  private final List<Row> rows = new ArrayList<>();
  private FSDataOutputStream out;

  BenchResults(String suite, FileSystem fs, Path file) {
    this.suite = suite;
    this.fs = fs;
    this.file = file;
  }

  /** Records one measurement and appends it to results.csv. */
  public synchronized void add(String experiment, String setting, long seed, String method, String metric,
      double value, String unit) {
    Row r = new Row(suite, experiment, setting, seed, method, metric, value, unit);
    rows.add(r);
    try {
      if (out == null) {
        out = fs.create(file, false);
        out.write((HEADER + "\n").getBytes(StandardCharsets.UTF_8));
      }
      out.write((r.csv() + "\n").getBytes(StandardCharsets.UTF_8));
      out.hflush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to " + file, e);
    }
  }

  public synchronized List<Row> rows() {
    return List.copyOf(rows);
  }

  /** The rows of one experiment and setting (null: any setting) that pass {@code filter}. */
  public List<Row> select(String experiment, String setting, Predicate<Row> filter) {
    return rows().stream().filter(r -> r.experiment().equals(experiment)
        && (setting == null || r.setting().equals(setting)) && filter.test(r)).toList();
  }

  /** A metric of a method over seeds (null setting: over every setting). */
  public Stat stat(String experiment, String setting, String method, String metric) {
    return Stat.of(select(experiment, setting, r -> r.method().equals(method) && r.metric().equals(metric))
        .stream().map(Row::value).toList());
  }

  /** The distinct values of a column among the rows of an experiment, in order of first appearance. */
  public List<String> distinct(String experiment, String setting, java.util.function.Function<Row, String> column) {
    LinkedHashSet<String> s = new LinkedHashSet<>();
    select(experiment, setting, r -> true).forEach(r -> s.add(column.apply(r)));
    return new ArrayList<>(s);
  }

  @Override
  public synchronized void close() {
    if (out != null) {
      try {
        out.close();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot close " + file, e);
      } finally {
        out = null;
      }
    }
  }
}
