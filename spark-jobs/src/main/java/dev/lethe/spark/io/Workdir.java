package dev.lethe.spark.io;

import dev.lethe.LetheInputException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A run's working directory on any Hadoop file system (file:/, hdfs://, s3a://, dbfs:/). Stages read their
 * inputs here and publish outputs atomically: everything is written under a private staging directory
 * ({@code _staging/<stage>-<uuid>/}) and renamed into place only when the whole stage succeeded, so a failed or
 * killed stage leaves no output that a later stage would accept.
 */
public final class Workdir {
  public static final String SUCCESS = "_SUCCESS";
  public static final String PROVENANCE_SUFFIX = ".provenance.json";
  /** Where stages write before they publish; the only thing a failed stage can leave behind. */
  public static final String STAGING = "_staging";

  private final FileSystem fs;
  private final Path root;
  private final boolean overwrite;

  private Workdir(FileSystem fs, Path root, boolean overwrite) {
    this.fs = fs;
    this.root = root;
    this.overwrite = overwrite;
  }

  public static Workdir open(String dir, Configuration hadoopConf, boolean overwrite) {
    try {
      Path p = new Path(dir);
      FileSystem fs = p.getFileSystem(hadoopConf);
      Path qualified = fs.makeQualified(p);
      if (fs.exists(qualified) && !fs.getFileStatus(qualified).isDirectory()) {
        throw LetheInputException.of("--workdir %s: exists and is not a directory", dir);
      }
      return new Workdir(fs, qualified, overwrite);
    } catch (IOException e) {
      throw new LetheInputException("--workdir " + dir + ": cannot open: " + e.getMessage(), e);
    }
  }

  public Path root() {
    return root;
  }

  public FileSystem fileSystem() {
    return fs;
  }

  public boolean overwrite() {
    return overwrite;
  }

  /** A path inside the workdir, e.g. {@code path("data/train.parquet")}. */
  public Path path(String rel) {
    return new Path(root, rel);
  }

  /**
   * Writes, checks and deletes a small file under {@code _staging/} before any work, so that a read-only or full
   * destination stops the stage at once with the file system's reason instead of after the work, when it publishes.
   * What the probe created is removed again (a workdir that did not exist does not exist afterwards), so a stage
   * that then stops on bad input has written nothing.
   */
  public void probeWritable() {
    Path staging = new Path(root, STAGING);
    Path probe = new Path(staging, ".write-probe-" + UUID.randomUUID());
    try {
      Path created = null;
      for (Path p = staging; p != null && !fs.exists(p); p = p.getParent()) {
        created = p;
      }
      try (FSDataOutputStream out = fs.create(probe, false)) {
        out.write(1);
      }
      long length = fs.getFileStatus(probe).getLen();
      fs.delete(created != null ? created : probe, true);
      if (length != 1) {
        throw new IOException("wrote 1 byte to " + probe + ", found " + length);
      }
    } catch (IOException e) {
      throw new LetheInputException("--workdir " + root + ": cannot write there: " + e.getMessage(), e);
    }
  }

  public boolean exists(String rel) {
    try {
      return fs.exists(path(rel));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Refuses to start a stage whose outputs exist, unless {@code --overwrite} was given. Checked before any work.
   */
  public void requireWritable(List<String> outputs) {
    if (overwrite) {
      return;
    }
    for (String rel : outputs) {
      if (exists(rel)) {
        throw LetheInputException.of("output %s already exists; pass --overwrite to replace it", path(rel));
      }
    }
  }

  /**
   * Checks that a stage input exists and is complete: a Parquet table (a directory) must hold Spark's
   * {@code _SUCCESS}; a file must be non-empty.
   *
   * @param producer the stage that writes it, for the hint in the error message
   */
  public void requireInput(String rel, String producer) {
    Path p = path(rel);
    try {
      FileStatus st = fs.getFileStatus(p);
      if (st.isDirectory()) {
        if (!fs.exists(new Path(p, SUCCESS))) {
          throw LetheInputException.of("input %s is incomplete (no %s marker): rerun `lethe %s`", p, SUCCESS,
              producer);
        }
      } else if (st.getLen() == 0) {
        throw LetheInputException.of("input %s is empty: rerun `lethe %s`", p, producer);
      }
    } catch (FileNotFoundException e) {
      Optional<String> former = WorkdirLayout.formerName(rel).filter(this::exists);
      if (former.isPresent()) {
        throw LetheInputException.of("input %s is missing, but %s, its name in workdirs of earlier Lethe versions, is"
            + " there: rename it to %s, or rerun `lethe %s`", p, path(former.get()), rel, producer);
      }
      throw LetheInputException.of("input %s is missing: run `lethe %s` first", p, producer);
    } catch (IOException e) {
      throw new LetheInputException("input " + p + ": cannot read: " + e.getMessage(), e);
    }
  }

  public byte[] readBytes(String rel) {
    try (InputStream in = fs.open(path(rel))) {
      return in.readAllBytes();
    } catch (FileNotFoundException e) {
      throw LetheInputException.of("input %s is missing", path(rel));
    } catch (IOException e) {
      throw new LetheInputException("input " + path(rel) + ": cannot read: " + e.getMessage(), e);
    }
  }

  /** Reads a file given by any Hadoop path (not necessarily inside the workdir). */
  public static byte[] readFile(String location, Configuration hadoopConf, String what) {
    Path p = requireFile(location, hadoopConf, what);
    try (InputStream in = p.getFileSystem(hadoopConf).open(p)) {
      return in.readAllBytes();
    } catch (FileNotFoundException e) {
      throw LetheInputException.of("%s %s: file not found", what, location);
    } catch (IOException | IllegalArgumentException e) {
      throw new LetheInputException(what + " " + location + ": cannot read: " + e.getMessage(), e);
    }
  }

  /**
   * Checks that {@code location} (any Hadoop path, named {@code what} in messages: the argument or config key)
   * exists and is a file, not a directory; for checks before any work.
   */
  public static Path requireFile(String location, Configuration hadoopConf, String what) {
    return requireExisting(location, hadoopConf, what, true);
  }

  /** Checks that {@code location} exists, as a file or a directory (a Parquet table). */
  public static Path requireExisting(String location, Configuration hadoopConf, String what, boolean fileOnly) {
    try {
      Path p = new Path(location);
      FileStatus st = p.getFileSystem(hadoopConf).getFileStatus(p);
      if (fileOnly && st.isDirectory()) {
        throw LetheInputException.of("%s %s: is a directory, expected a file", what, location);
      }
      return p;
    } catch (FileNotFoundException e) {
      throw LetheInputException.of("%s %s: file not found", what, location);
    } catch (IOException | IllegalArgumentException e) {
      throw new LetheInputException(what + " " + location + ": cannot read: " + e.getMessage(), e);
    }
  }

  /** Opens a staging area for one stage's outputs. Use with try-with-resources; call {@link Staging#commit}. */
  public Staging stage(String stageName) {
    Path dir = new Path(root, STAGING + "/" + stageName + "-" + UUID.randomUUID());
    return new Staging(dir);
  }

  /** The outputs of one stage while they are being written. */
  public final class Staging implements AutoCloseable {
    private final Path dir;
    private final List<String> outputs = new ArrayList<>();
    private final List<String> removed = new ArrayList<>();
    private boolean committed;
    /** Set when an old output could not be put back and lies in this staging directory. */
    private boolean keep;

    private Staging(Path dir) {
      this.dir = dir;
    }

    /** Where to write output {@code rel} now; it is published at {@code path(rel)} on commit. */
    public Path path(String rel) {
      if (!outputs.contains(rel)) {
        outputs.add(rel);
      }
      return new Path(dir, rel);
    }

    /** Writes a small file output (model, Fisher, JSON) in one go. */
    public void writeBytes(String rel, byte[] bytes) {
      try (FSDataOutputStream out = fs.create(path(rel), true)) {
        out.write(bytes);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + path(rel), e);
      }
    }

    /**
     * Writes file {@code name} inside the directory output {@code dirRel} (created on first use). The directory is
     * published as ONE output: on commit it replaces the whole previous directory, so no file of an earlier run
     * survives next to the new ones.
     */
    public void writeInto(String dirRel, String name, byte[] bytes) {
      if (name.contains("/")) {
        throw new IllegalArgumentException("a file name, not a path: " + name);
      }
      Path p = new Path(path(dirRel), name);
      try (FSDataOutputStream out = fs.create(p, true)) {
        out.write(bytes);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + p, e);
      }
    }

    /** Writes {@code <rel>.provenance.json} next to the output. */
    public void writeProvenance(String rel, String json) {
      Path p = new Path(dir, rel + PROVENANCE_SUFFIX);
      try (FSDataOutputStream out = fs.create(p, true)) {
        out.write(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + p, e);
      }
    }

    /**
     * Removes output {@code rel} of an earlier run when this stage publishes (an output this run does not write
     * must not outlive it). Like a replacement, it happens at {@link #commit} and is undone if the commit fails.
     */
    public void remove(String rel) {
      removed.add(rel);
    }

    /**
     * Publishes every output through a {@link Publication}: each staged path and its provenance file replace the
     * targets, provenance first so that a published output always has one; if any rename fails, every target is
     * put back as it was and the stage fails (exit 1) naming the path the file system refused. A provenance file
     * without its output is what a stage killed between the two renames leaves; it describes nothing and is
     * replaced even without --overwrite.
     */
    public void commit() {
      Publication publication = new Publication(fs, dir);
      try {
        for (String rel : outputs) {
          Path staged = new Path(dir, rel);
          if (!fs.exists(staged)) {
            throw new IllegalStateException("stage output " + rel + " was never written");
          }
          for (String name : List.of(rel, rel + PROVENANCE_SUFFIX)) {
            if (!overwrite && fs.exists(Workdir.this.path(name)) && !orphanProvenance(rel, name)) {
              throw new LetheInputException("output " + Workdir.this.path(name)
                  + " appeared while the stage ran; pass --overwrite");
            }
          }
        }
        try {
          for (String rel : outputs) {
            publication.replace(new Path(dir, rel + PROVENANCE_SUFFIX), Workdir.this.path(rel + PROVENANCE_SUFFIX),
                rel + PROVENANCE_SUFFIX);
            publication.replace(new Path(dir, rel), Workdir.this.path(rel), rel);
          }
          for (String rel : removed) {
            publication.remove(Workdir.this.path(rel), rel);
          }
        } catch (IOException e) {
          publication.rollBack(e);
          List<String> kept = publication.kept();
          keep = !kept.isEmpty();
          throw keep ? new IOException(e.getMessage() + "; could not put back the old output " + String.join(", ",
              kept), e) : e;
        }
        publication.finish();
        committed = true;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot publish the outputs of " + dir.getName() + ": " + e.getMessage(), e);
      }
    }

    /** Whether {@code name} is the provenance file of output {@code rel} and that output does not exist. */
    private boolean orphanProvenance(String rel, String name) throws IOException {
      return name.endsWith(PROVENANCE_SUFFIX) && !fs.exists(Workdir.this.path(rel));
    }

    /**
     * Removes the staging directory; after a failure nothing of this stage is published. It is kept when it holds an
     * old output that a failed commit could not put back (the commit's error names the path).
     */
    @Override
    public void close() {
      if (keep) {
        return;
      }
      try {
        fs.delete(dir, true);
        Path parent = dir.getParent();
        FileStatus[] left = fs.exists(parent) ? fs.listStatus(parent) : new FileStatus[0];
        if (left.length == 0) {
          fs.delete(parent, true);
        }
      } catch (IOException e) {
        // best effort: a leftover staging directory is never read by a stage
      }
    }

    public boolean committed() {
      return committed;
    }
  }

  /** The URI of the workdir, for provenance. */
  public URI uri() {
    return root.toUri();
  }
}
