package io.prefork.core.internal.master;

import io.prefork.core.PreforkException;
import io.prefork.core.internal.os.Posix;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An AppCDS archive of the classes a child loads before its first accept, built once and mapped by
 * every later child: the child JVM's start-up is mostly class loading, and sharing it cut spawn to
 * first accept from about 200 to 130 ms and the child's PSS by 3 MB (docs/performance.md).
 *
 * <p>The first child is spawned with {@code -XX:DumpLoadedClassList}; once it accepts, a background
 * {@code java -Xshare:dump} with the children's own options and class path writes the archive, and
 * children spawned after that get {@code -XX:SharedArchiveFile}. A JVM silently ignores an archive
 * that does not match its JDK or class path, and then runs without any class data sharing at all,
 * so the archive's name is a hash of everything it depends on (the JDK, each class path entry's
 * size and time, the options): a new jar or JDK builds a new archive rather than reusing a stale
 * one. An archive is only used if this user owns it and nobody else can write it.
 */
public final class ChildClassData {
  private static final Logger log = LoggerFactory.getLogger("io.prefork.master");

  /** Archives kept in the directory: each new jar or JDK makes one; older ones are removed. */
  static final int ARCHIVES_KEPT = 4;

  /** The longest a dump may take before it is given up. */
  private static final long DUMP_TIMEOUT_SECONDS = 120;

  private enum State {
    /** No archive yet: the next child records its classes. */
    NEEDS_TRAINING,
    /** A child is recording its classes. */
    TRAINING,
    /** The archive is being written. */
    BUILDING,
    /** The archive exists and is used. */
    READY,
    /** It could not be built; children start without it. */
    FAILED
  }

  private final Path javaExecutable;
  private final List<String> jvmOptions;
  private final String classPath;
  private final Path archive;
  private final Path classList;
  private State state;
  private int traineePid;
  private Thread builder;
  private Process dump;
  private boolean closed;

  private ChildClassData(
      Path javaExecutable, List<String> jvmOptions, String classPath, Path archive) {
    this.javaExecutable = javaExecutable;
    this.jvmOptions = jvmOptions;
    this.classPath = classPath;
    this.archive = archive;
    this.classList = archive.resolveSibling(archive.getFileName() + ".classlist");
    this.state = trusted(archive) ? State.READY : State.NEEDS_TRAINING;
  }

  /**
   * The archive for children of this JDK, class path and options, in {@code directory}.
   *
   * @param jvmOptions the children's JVM options, as {@link ChildLauncher} passes them
   */
  static ChildClassData in(Path directory, Path java, List<String> jvmOptions, String classPath) {
    return new ChildClassData(
        java,
        jvmOptions,
        classPath,
        directory.resolve("prefork-child-" + hash(java, jvmOptions, classPath) + ".jsa"));
  }

  /** The archive's path (it may not exist yet). */
  Path archive() {
    return archive;
  }

  /**
   * The AOT cache for the same JDK, class path and options, next to the archive.
   *
   * @param masterPid names the file the trainee writes before it becomes the cache
   */
  ChildAotCache aotCache(long masterPid) {
    String name = archive.getFileName().toString().replaceFirst("\\.jsa$", "");
    return new ChildAotCache(
        archive.resolveSibling(name + ".aot"),
        archive.resolveSibling(name + ".aot." + masterPid + ".tmp"));
  }

  /**
   * The options for the child about to be spawned: the archive if it is ready, the class list if
   * this child is to record it, or none.
   */
  synchronized List<String> optionsForNextChild() {
    if (state == State.READY) {
      if (trusted(archive)) {
        return List.of("-XX:SharedArchiveFile=" + archive, "-Xshare:auto");
      }
      log.warn(
          "the children's class-data archive {} is gone or not trusted any more; rebuilding it",
          archive);
      state = State.NEEDS_TRAINING;
    }
    if (state == State.NEEDS_TRAINING) {
      state = State.TRAINING;
      traineePid = 0;
      return List.of("-XX:DumpLoadedClassList=" + classList);
    }
    return List.of();
  }

  /** The child just spawned with {@link #optionsForNextChild()}'s options has this pid. */
  synchronized void spawned(int pid) {
    if (state == State.TRAINING && traineePid == 0) {
      traineePid = pid;
    }
  }

  /** The spawn with the last options failed: the next child records the classes instead. */
  synchronized void spawnFailed() {
    if (state == State.TRAINING && traineePid == 0) {
      state = State.NEEDS_TRAINING;
    }
  }

  /** A child accepts: if it recorded its classes, the archive is built from them now. */
  synchronized void childReady(int pid) {
    if (state != State.TRAINING || pid != traineePid) {
      return;
    }
    if (closed) {
      return;
    }
    state = State.BUILDING;
    builder = new Thread(this::build, "prefork-class-data");
    builder.setDaemon(true);
    builder.start();
  }

  /**
   * The master stops: a dump still running is killed (it would outlive the master), and its
   * temporary files go; the next start builds the archive again.
   */
  void close() {
    Thread running;
    synchronized (this) {
      closed = true;
      running = builder;
      if (dump != null) {
        dump.destroyForcibly();
      }
    }
    if (running != null) {
      try {
        running.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** A child is gone: if it was recording the classes and never accepted, the next one will. */
  synchronized void childGone(int pid) {
    if (state == State.TRAINING && pid == traineePid) {
      state = State.NEEDS_TRAINING;
    }
  }

  private void build() {
    Path list = null;
    Path partial = null;
    try {
      Path directory = archive.getParent();
      // Only complete lines: the trainee is still running and appending to its list.
      byte[] recorded = Files.readAllBytes(classList);
      // Gone before the archive appears; the trainee writes on into the unlinked file.
      deleteQuietly(classList);
      int end = recorded.length;
      while (end > 0 && recorded[end - 1] != '\n') {
        end--;
      }
      list = Files.createTempFile(directory, "prefork-child-", ".classlist");
      Files.write(list, Arrays.copyOf(recorded, end));
      partial = Files.createTempFile(directory, "prefork-child-", ".jsa.tmp");
      Files.delete(partial); // the JVM creates it; the name is ours
      List<String> command = new ArrayList<>();
      command.add(javaExecutable.toString());
      command.add("-Xshare:dump");
      command.addAll(jvmOptions);
      command.add("-XX:SharedClassListFile=" + list);
      command.add("-XX:SharedArchiveFile=" + partial);
      command.add("-cp");
      command.add(classPath);
      long started = System.nanoTime();
      Process dump;
      synchronized (this) {
        if (closed) {
          return;
        }
        dump = new ProcessBuilder(command).redirectErrorStream(true).start();
        this.dump = dump;
      }
      byte[] output = dump.getInputStream().readAllBytes();
      if (!dump.waitFor(DUMP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        dump.destroyForcibly();
        throw new IOException("java -Xshare:dump took more than " + DUMP_TIMEOUT_SECONDS + " s");
      }
      deleteQuietly(list); // before the archive appears: nothing else is left once it is there
      synchronized (this) {
        if (closed) {
          return; // killed by close(): the finally block removes what it left
        }
      }
      if (dump.exitValue() != 0 || !Files.isRegularFile(partial)) {
        throw new IOException(
            "java -Xshare:dump exited with status "
                + dump.exitValue()
                + ": "
                + lastLines(new String(output, StandardCharsets.UTF_8)));
      }
      try {
        Files.move(
            partial, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(partial, archive, StandardCopyOption.REPLACE_EXISTING);
      }
      synchronized (this) {
        state = State.READY;
      }
      pruneOlderArchives();
      log.info(
          "children's class-data archive {} built in {} ms ({} KB): children spawned from now on"
              + " map it",
          archive,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started),
          Files.size(archive) / 1024);
    } catch (IOException | RuntimeException e) {
      synchronized (this) {
        state = State.FAILED;
      }
      log.warn(
          "could not build the children's class-data archive {}: {}; children start without it",
          archive,
          e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      synchronized (this) {
        state = State.FAILED;
      }
    } finally {
      deleteQuietly(list);
      deleteQuietly(partial);
      deleteQuietly(classList);
    }
  }

  /**
   * Keeps the {@link #ARCHIVES_KEPT} newest archives and AOT caches of the directory (this one and
   * its cache among them): every deployment of a new jar builds an archive of about 13 MB, and on
   * JDK 25 a cache of about 17. Another server's archive removed here is rebuilt by that server
   * when it next needs it.
   */
  private void pruneOlderArchives() {
    Path ownCache = aotCache(0).cache();
    try (var files = Files.list(archive.getParent())) {
      List<Path> archives =
          files
              .filter(
                  p -> p.getFileName().toString().matches("prefork-child-[0-9a-f]{16}\\.(jsa|aot)"))
              .filter(p -> !p.equals(archive) && !p.equals(ownCache) && trusted(p))
              .sorted(
                  Comparator.comparing(
                          (Path p) -> {
                            try {
                              return Files.getLastModifiedTime(p).toMillis();
                            } catch (IOException e) {
                              return 0L;
                            }
                          })
                      .reversed())
              .toList();
      for (Path old :
          archives.subList(Math.min(archives.size(), ARCHIVES_KEPT - 1), archives.size())) {
        deleteQuietly(old);
        log.info("removed an older class-data archive, {}", old);
      }
    } catch (IOException | RuntimeException e) {
      log.debug("could not prune older class-data archives: {}", e.toString());
    }
  }

  /** Ours, a regular file, and writable by nobody else: a CDS archive is code the child runs. */
  public static boolean trusted(Path file) {
    try {
      if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
        return false;
      }
      int uid = (Integer) Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS);
      int mode = (Integer) Files.getAttribute(file, "unix:mode", LinkOption.NOFOLLOW_LINKS);
      return uid == Posix.geteuid() && (mode & 0022) == 0;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static String hash(Path java, List<String> jvmOptions, String classPath) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      StringBuilder inputs = new StringBuilder();
      inputs.append(identity(java.toRealPath())).append('\n');
      // The JDK's own class library: an update of the JDK replaces it.
      inputs
          .append(identity(java.toRealPath().getParent().getParent().resolve("lib/modules")))
          .append('\n');
      for (String option : jvmOptions) {
        inputs.append(option).append('\n');
      }
      for (String entry : classPath.split(File.pathSeparator)) {
        inputs.append(identity(Path.of(entry))).append('\n');
      }
      byte[] digest = sha.digest(inputs.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException | IOException e) {
      throw new PreforkException("cannot name the children's class-data archive: " + e, e);
    }
  }

  /** A file by path, size and modification time; a directory by path alone. */
  private static String identity(Path p) throws IOException {
    if (!Files.isRegularFile(p)) {
      return p.toAbsolutePath().toString();
    }
    return p.toAbsolutePath() + " " + Files.size(p) + " " + Files.getLastModifiedTime(p).toMillis();
  }

  private static String lastLines(String output) {
    String[] lines = output.strip().split("\n");
    return String.join(" | ", List.of(lines).subList(Math.max(0, lines.length - 3), lines.length));
  }

  private static void deleteQuietly(Path p) {
    if (p != null) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException e) {
        // a leftover temporary file; nothing else depends on it
      }
    }
  }
}
