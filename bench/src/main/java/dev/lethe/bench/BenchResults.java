package dev.lethe.bench;

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
  /** The previous results.csv, kept when a resumed suite rewrites it. */
  public static final String PREVIOUS = "results.previous.csv";

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
    this.fs = unchecksummed(fs, file);
    this.file = file;
  }

  /**
   * The file system to write and read results.csv with: on a checksummed local file system its raw file system,
   * because the local checksum file goes wrong when a file is flushed row by row (hflush of partial chunks), and a
   * resumed suite reads the file back; any stale checksum file of {@code file} is removed.
   */
  private static FileSystem unchecksummed(FileSystem fs, Path file) {
    if (fs instanceof org.apache.hadoop.fs.ChecksumFileSystem c) {
      try {
        c.getRawFileSystem().delete(c.getChecksumFile(file), false);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot remove the checksum file of " + file, e);
      }
    }
    return raw(fs);
  }

  /** A checksummed local file system's raw file system; any other file system itself. */
  private static FileSystem raw(FileSystem fs) {
    return fs instanceof org.apache.hadoop.fs.ChecksumFileSystem c ? c.getRawFileSystem() : fs;
  }

  /** Creates results.csv with its header ({@code replace}: over an existing file). */
  private void create(boolean replace) throws IOException {
    out = fs.create(file, replace);
    out.write((HEADER + "\n").getBytes(StandardCharsets.UTF_8));
  }

  /** Appends a row (the caller flushes). */
  private void write(Row r) throws IOException {
    out.write((r.csv() + "\n").getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Results that start from {@code earlier} (the rows a resumed suite keeps): results.csv is rewritten at once with
   * them, after the previous file is copied to {@value #PREVIOUS}.
   */
  BenchResults(String suite, FileSystem fs, Path file, List<Row> earlier) {
    this(suite, fs, file);
    try {
      if (this.fs.exists(file)) {
        org.apache.hadoop.fs.FileUtil.copy(this.fs, file, this.fs, new Path(file.getParent(), PREVIOUS), false, true,
            this.fs.getConf());
      }
      create(true);
      for (Row r : earlier) {
        rows.add(r);
        write(r);
      }
      out.hflush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot rewrite " + file, e);
    }
  }

  /** Reads a results.csv written by this class; malformed content is bad input naming the file. */
  static List<Row> read(FileSystem fs, Path file) {
    List<Row> rows = new ArrayList<>();
    String text;
    try (var in = raw(fs).open(file)) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    String[] lines = text.split("\n", -1);
    if (!lines[0].equals(HEADER)) {
      throw dev.lethe.LetheInputException.of("%s: not a bench results file (its first line is not '%s')", file,
          HEADER);
    }
    // every row ends with a newline, so the last element is "" or a row cut off by a crash mid-write: never a row
    for (int i = 1; i < lines.length - 1; i++) {
      List<String> f = fields(lines[i]);
      try {
        if (f.size() != 8) {
          throw new IllegalArgumentException(f.size() + " fields, expected 8");
        }
        rows.add(new Row(f.get(0), f.get(1), f.get(2), Long.parseLong(f.get(3)), f.get(4), f.get(5),
            Double.parseDouble(f.get(6)), f.get(7)));
      } catch (IllegalArgumentException e) {
        throw dev.lethe.LetheInputException.of("%s line %d: malformed row (%s): %s", file, i + 1, e.getMessage(),
            lines[i]);
      }
    }
    return rows;
  }

  /** The fields of one CSV line as {@link Row#csv} writes it (RFC 4180 quoting). */
  static List<String> fields(String line) {
    List<String> f = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
          cur.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          cur.append(c);
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        f.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    f.add(cur.toString());
    return f;
  }

  /** Records one measurement and appends it to results.csv. */
  public synchronized void add(String experiment, String setting, long seed, String method, String metric,
      double value, String unit) {
    Row r = new Row(suite, experiment, setting, seed, method, metric, value, unit);
    rows.add(r);
    try {
      if (out == null) {
        create(false);
      }
      write(r);
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
