package dev.lethe.spark.io;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes one stage's staged outputs, all or nothing, without ever deleting an old output in place: an output
 * that exists is first renamed aside into the stage's staging directory ({@code _staging/<stage>-<uuid>/_replaced/}),
 * then the new output is renamed into place, and only when every output is in place are the moved-aside copies
 * deleted. A file system that refuses a rename (an immutable directory, a store whose rename copies and then fails
 * to delete) is found by checking the paths before and after each rename, never by trusting its return value alone;
 * the publication then stops and puts every old output back where it was.
 *
 * <p>What can be left behind is the staging directory only: when an old output could not be put back it stays in
 * {@code _replaced/}, and the error names that path.
 */
final class Publication {
  private static final Logger LOG = LoggerFactory.getLogger(Publication.class);
  static final String REPLACED = "_replaced";

  private final FileSystem fs;
  private final Path replaced;
  /** The replacements done so far, in order, to undo on failure. */
  private final List<Step> done = new ArrayList<>();
  /** Old outputs that could not be put back: "target (now at path)". */
  private final List<String> kept = new ArrayList<>();

  /** One published target: the new output came from {@code staged} (null: removed), the old one went to {@code old}. */
  private record Step(Path target, Path staged, Path old) {}

  Publication(FileSystem fs, Path stagingDir) {
    this.fs = fs;
    this.replaced = new Path(stagingDir, REPLACED);
  }

  /**
   * The old outputs a failed publication could not put back, each as "target (now at path)"; when there are any the
   * staging directory holds them and must not be deleted.
   */
  List<String> kept() {
    return List.copyOf(kept);
  }

  /** Replaces {@code target} (relative name {@code rel}) by {@code staged}; nothing happens when nothing was staged. */
  void replace(Path staged, Path target, String rel) throws IOException {
    if (!fs.exists(staged)) {
      return;
    }
    Path old = fs.exists(target) ? moveAside(target, rel) : null;
    try {
      moveIntoPlace(staged, target);
    } catch (IOException e) {
      if (old != null) {
        restore(old, target, e);
      }
      throw e;
    }
    done.add(new Step(target, staged, old));
  }

  /** Removes {@code target} as part of the publication (an earlier run's output this run does not replace). */
  void remove(Path target, String rel) throws IOException {
    if (fs.exists(target)) {
      done.add(new Step(target, null, moveAside(target, rel)));
    }
  }

  /** Deletes the moved-aside old outputs; a copy that cannot be deleted stays in the staging directory. */
  void finish() {
    for (Step s : done) {
      if (s.old() != null) {
        try {
          if (!fs.delete(s.old(), true) && fs.exists(s.old())) {
            LOG.warn("could not delete the replaced output {}; it stays in the staging directory", s.old());
          }
        } catch (IOException e) {
          LOG.warn("could not delete the replaced output {}; it stays in the staging directory", s.old(), e);
        }
      }
    }
  }

  /**
   * Undoes every replacement done so far, last first: the new output goes back to the staging directory and the old
   * one back into place. Failures are added to {@code cause} as suppressed exceptions.
   */
  void rollBack(IOException cause) {
    for (int i = done.size() - 1; i >= 0; i--) {
      Step s = done.get(i);
      try {
        if (s.staged() != null) {
          rename(s.target(), s.staged(), "take the new output back");
        }
        if (s.old() != null) {
          restore(s.old(), s.target(), cause);
        }
      } catch (IOException e) {
        cause.addSuppressed(e);
      }
    }
    done.clear();
  }

  /**
   * Renames the old output aside. When the rename fails, nothing of the old output may have moved; a rename that
   * copied part of it (the local file system falls back to copy-then-delete) is put back first.
   */
  private Path moveAside(Path target, String rel) throws IOException {
    Path old = new Path(replaced, rel);
    if (fs.exists(old)) {
      throw new IOException("cannot move the old output " + target + " aside: " + old + " already exists");
    }
    mkdirs(old.getParent());
    boolean renamed = fs.rename(target, old);
    if (renamed && !fs.exists(target) && fs.exists(old)) {
      return old;
    }
    IOException e = new IOException("cannot replace " + target + ": the file system refused to move it aside"
        + " (rename to " + old + " failed); the old output is unchanged");
    if (fs.exists(old)) {
      restore(old, target, e);
    }
    throw e;
  }

  /** Renames {@code staged} to {@code target}, which must not exist before and must exist after. */
  private void moveIntoPlace(Path staged, Path target) throws IOException {
    if (fs.exists(target)) {
      throw new IOException("cannot publish " + target + ": it still exists after it was moved aside");
    }
    mkdirs(target.getParent());
    boolean renamed = fs.rename(staged, target);
    if (renamed && fs.exists(target) && !fs.exists(staged)) {
      return;
    }
    IOException e = new IOException("cannot publish " + target + ": the file system refused to rename " + staged
        + " into place");
    if (fs.exists(target) && fs.exists(staged)) {
      // a copy-then-delete rename that failed half way: the copy at the target is not this stage's output
      if (!fs.delete(target, true) && fs.exists(target)) {
        e.addSuppressed(new IOException("cannot delete the partial copy at " + target));
      }
    }
    throw e;
  }

  /**
   * Puts the old output at {@code old} back at {@code target}. A target that exists (a directory a failed rename
   * emptied) gets the old files it lacks moved back in. If that fails the old output stays in the staging
   * directory, which is then kept, and {@code cause} says where it is.
   */
  private void restore(Path old, Path target, IOException cause) {
    try {
      if (fs.exists(target)) {
        merge(old, target);
        fs.delete(old, true);
      } else {
        rename(old, target, "put the old output back");
      }
    } catch (IOException e) {
      kept.add(target + " (now at " + old + ")");
      cause.addSuppressed(e);
      LOG.error("the old output {} could not be put back; its files are in {}", target, old, e);
    }
  }

  /** Moves every file of {@code from} that {@code to} lacks into {@code to}, recursively. */
  private void merge(Path from, Path to) throws IOException {
    FileStatus fromStatus = fs.getFileStatus(from);
    if (!fromStatus.isDirectory()) {
      return; // the target has the file: a copy that was never deleted is the same file
    }
    for (FileStatus child : fs.listStatus(from)) {
      Path dest = new Path(to, child.getPath().getName());
      if (fs.exists(dest)) {
        merge(child.getPath(), dest);
      } else {
        rename(child.getPath(), dest, "put the old output back");
      }
    }
  }

  private void rename(Path from, Path to, String what) throws IOException {
    if (fs.exists(to)) {
      throw new IOException("cannot " + what + ": " + to + " exists");
    }
    mkdirs(to.getParent());
    if (!fs.rename(from, to) || !fs.exists(to) || fs.exists(from)) {
      throw new IOException("cannot " + what + ": rename " + from + " -> " + to + " failed");
    }
  }

  private void mkdirs(Path dir) throws IOException {
    if (!fs.mkdirs(dir) && !fs.exists(dir)) {
      throw new IOException("cannot create directory " + dir);
    }
  }
}
