package dev.lethe.tests;

import java.io.IOException;
import java.net.URI;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;

/**
 * The local file system under the scheme {@code refusing:}, which refuses chosen operations the way a real store
 * does: an immutable directory ({@code chattr +i}), a read-only mount or a full disk. Tests run as root, whom
 * directory permissions do not stop, so the refusal is simulated here. Register it with {@link #register}; the
 * refusals are static (every instance Hadoop creates sees them) and {@link #reset} clears them.
 */
public class RefusingFileSystem extends RawLocalFileSystem {
  static final String SCHEME = "refusing";

  /** Local paths (as {@code Path.toUri().getPath()}) that cannot be renamed away or deleted. */
  static final Set<String> PINNED = ConcurrentHashMap.newKeySet();
  /**
   * Pinned paths whose rename behaves like Hadoop's local fallback under an immutable parent: the tree is copied to
   * the destination, its files are deleted, the directory itself stays, and the rename reports failure.
   */
  static final Set<String> COPY_THEN_FAIL = ConcurrentHashMap.newKeySet();
  /** Local paths that the next rename onto fails (once: a transient refusal). */
  static final Set<String> NO_RENAME_ONTO = ConcurrentHashMap.newKeySet();
  /** Local paths that no rename onto ever succeeds. */
  static final Set<String> NEVER_RENAME_ONTO = ConcurrentHashMap.newKeySet();
  /** Local paths that cannot be deleted (a rename away from them still works). */
  static final Set<String> UNDELETABLE = ConcurrentHashMap.newKeySet();
  /** Local path prefixes (plain string prefixes) where nothing can be created: a read-only or full destination. */
  static final Set<String> NO_CREATE_UNDER = ConcurrentHashMap.newKeySet();
  /** The message of the IOException a refused create throws. */
  static volatile String createError = "Read-only file system";

  /** Makes {@code refusing:} paths resolve to this class in {@code conf}. */
  static void register(Configuration conf) {
    conf.set("fs." + SCHEME + ".impl", RefusingFileSystem.class.getName());
    conf.setBoolean("fs." + SCHEME + ".impl.disable.cache", true);
  }

  /** A local path as a {@code refusing:} URI string. */
  static String uri(java.nio.file.Path local) {
    return SCHEME + "://" + local.toAbsolutePath();
  }

  static void reset() {
    PINNED.clear();
    COPY_THEN_FAIL.clear();
    NO_RENAME_ONTO.clear();
    NEVER_RENAME_ONTO.clear();
    UNDELETABLE.clear();
    NO_CREATE_UNDER.clear();
    createError = "Read-only file system";
  }

  @Override
  public URI getUri() {
    return URI.create(SCHEME + ":///");
  }

  @Override
  public String getScheme() {
    return SCHEME;
  }

  private static String local(Path p) {
    return p.toUri().getPath();
  }

  @Override
  public boolean rename(Path src, Path dst) throws IOException {
    if (NO_RENAME_ONTO.remove(local(dst))) {
      return false;
    }
    if (NEVER_RENAME_ONTO.contains(local(dst))) {
      return false;
    }
    if (COPY_THEN_FAIL.contains(local(src))) {
      FileUtil.copy(this, src, this, dst, false, getConf());
      for (FileStatus child : listStatus(src)) {
        super.delete(child.getPath(), true);
      }
      return false;
    }
    if (PINNED.contains(local(src))) {
      return false;
    }
    return super.rename(src, dst);
  }

  @Override
  public boolean delete(Path p, boolean recursive) throws IOException {
    if (PINNED.contains(local(p)) || UNDELETABLE.contains(local(p))) {
      return false;
    }
    return super.delete(p, recursive);
  }

  private static void checkCreate(Path p) throws IOException {
    String path = local(p);
    for (String prefix : NO_CREATE_UNDER) {
      if (path.startsWith(prefix)) {
        throw new IOException(path + ": " + createError);
      }
    }
  }

  @Override
  public FSDataOutputStream create(Path f, FsPermission permission, boolean overwrite, int bufferSize,
      short replication, long blockSize, Progressable progress) throws IOException {
    checkCreate(f);
    return super.create(f, permission, overwrite, bufferSize, replication, blockSize, progress);
  }

  @Override
  public FSDataOutputStream create(Path f, boolean overwrite, int bufferSize, short replication, long blockSize,
      Progressable progress) throws IOException {
    checkCreate(f);
    return super.create(f, overwrite, bufferSize, replication, blockSize, progress);
  }

  @Override
  public boolean mkdirs(Path f, FsPermission permission) throws IOException {
    if (!exists(f)) {
      checkCreate(f);
    }
    return super.mkdirs(f, permission);
  }

  @Override
  public boolean mkdirs(Path f) throws IOException {
    if (!exists(f)) {
      checkCreate(f);
    }
    return super.mkdirs(f);
  }
}
