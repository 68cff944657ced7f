package io.prefork.core.internal.master;

import io.prefork.core.ChildMain;
import io.prefork.core.PreforkException;
import io.prefork.core.internal.os.Posix;
import io.prefork.core.internal.os.PosixSpawn;
import io.prefork.core.internal.protocol.ChildArguments;
import io.prefork.shm.ShmKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spawns child JVMs with {@code posix_spawnp} ({@link PosixSpawn}): the master's {@code java} and
 * class path, lean JVM flags, and exactly one inherited descriptor: the listening socket, as the
 * child's standard input (where {@link System#inheritedChannel()} finds it); stdout and stderr are
 * a pipe to the master.
 */
public final class ChildLauncher {
  private static final Logger log = LoggerFactory.getLogger("io.prefork.master");

  /**
   * What chronicle-bytes needs to run without logging errors; sun.nio.ch, opened, also gives the
   * workers their sockets' descriptors ({@link SocketFdStreams}) and a listening channel each
   * ({@code AcceptChannels}).
   */
  static final List<String> CHRONICLE_JVM_OPTIONS =
      List.of(
          "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
          "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
          "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED");

  private final ServerConfig config;
  private final int listenFd;
  private final List<String> jvmOptions;
  private final List<String> environment;
  private final ChildClassData classData;

  /** On JDK 25 and later, where the class-data archive is on; null otherwise. */
  private final ChildAotCache aotCache;

  ChildLauncher(ServerConfig config, int listenFd) {
    this.config = config;
    this.listenFd = listenFd;
    this.jvmOptions = jvmOptions(config);
    this.environment = environment();
    this.classData = classData(config, jvmOptions);
    this.aotCache =
        classData != null
                && javaFeatureVersion(config.javaExecutable()) >= ChildAotCache.MIN_FEATURE_VERSION
            ? classData.aotCache(ProcessHandle.current().pid())
            : null;
  }

  private static ChildClassData classData(ServerConfig config, List<String> jvmOptions) {
    if (config.childClassDataDirectory() == null) {
      return null;
    }
    if (config.childJvmOptions().stream()
        .anyMatch(
            o ->
                o.startsWith("-Xshare")
                    || o.contains("SharedArchiveFile")
                    || o.contains("AOTCache"))) {
      log.info("children's JVM options choose their own class-data sharing: no archive of ours");
      return null;
    }
    for (String entry : config.childClassPath().split(java.io.File.pathSeparator)) {
      if (Files.isDirectory(Path.of(entry))) {
        // The JVM refuses to archive classes from a directory on the class path.
        log.warn(
            "children's class-data archive: off, the class path has a directory ({}); it needs"
                + " jars only, as a packaged application has",
            entry);
        return null;
      }
    }
    return ChildClassData.in(
        config.childClassDataDirectory(),
        config.javaExecutable(),
        jvmOptions,
        config.childClassPath());
  }

  /** A child is accepting (for the class-data archive its classes may be recorded for). */
  void childReady(int pid) {
    if (classData != null) {
      classData.childReady(pid);
    }
  }

  /** A child is gone (for the AOT cache it may have written as it exited). */
  void childGone(int pid) {
    if (classData != null) {
      classData.childGone(pid);
    }
    if (aotCache != null) {
      aotCache.childGone(pid);
    }
  }

  /** The master stops: nothing it started may outlive it. */
  void close() {
    if (classData != null) {
      classData.close();
    }
    if (aotCache != null) {
      aotCache.close();
    }
  }

  /** The next child's class-data options: the AOT cache's where it has some, else the archive's. */
  private List<String> classDataOptions() {
    if (classData == null) {
      return List.of();
    }
    List<String> archive = classData.optionsForNextChild();
    if (aotCache == null) {
      return archive;
    }
    boolean recordsClassList = archive.stream().anyMatch(o -> o.contains("DumpLoadedClassList"));
    List<String> aot = aotCache.optionsForNextChild(recordsClassList);
    return aot != null ? aot : archive;
  }

  /**
   * The JVM options of every child: the preset's, the compiler priority's, chronicle's, then the
   * user's (which win).
   */
  static List<String> jvmOptions(ServerConfig config) {
    ChildJvmPreset preset = ChildJvmPreset.byName(config.childJvmPreset());
    List<String> options =
        new ArrayList<>(preset.options(config.childHeapBytes(), config.childJvmOptions()));
    options.addAll(
        CompilerPriority.options(Posix.geteuid() == 0, preset, config.childJvmOptions()));
    options.addAll(CHRONICLE_JVM_OPTIONS);
    int feature = javaFeatureVersion(config.javaExecutable());
    if (feature >= 22) {
      options.add("--enable-native-access=ALL-UNNAMED");
    }
    if (feature >= 23) {
      options.add("--sun-misc-unsafe-memory-access=allow");
    }
    options.addAll(config.childJvmOptions());
    return List.copyOf(options);
  }

  /** The full command line of one child. */
  List<String> command(
      int childIndex, long generation, long slowStartMillis, List<String> classDataOptions) {
    List<String> cmd = new ArrayList<>();
    cmd.add(config.javaExecutable().toString());
    cmd.addAll(jvmOptions);
    cmd.addAll(classDataOptions);
    cmd.add("-cp");
    cmd.add(config.childClassPath());
    cmd.add(ChildMain.class.getName());
    cmd.addAll(
        new ChildArguments(
                config.shmKey(),
                childIndex,
                config.threadsPerChild(),
                generation,
                ProcessHandle.current().pid(),
                config.readTimeout().toMillis(),
                config.jobClassName(),
                config.writeTimeout().toMillis(),
                config.minThreadsPerChild(),
                config.warmUpConnections(),
                config.warmUpTimeout().toMillis(),
                slowStartMillis)
            .toList());
    return cmd;
  }

  /**
   * Spawns one child, its standard output and error on {@code outputFd}.
   *
   * @return its pid
   * @throws PreforkException naming errno when posix_spawnp fails
   */
  int spawn(int childIndex, long generation, long slowStartMillis, int outputFd) {
    List<String> argv = command(childIndex, generation, slowStartMillis, classDataOptions());
    try {
      int pid =
          PosixSpawn.spawn(
              argv, environment, new int[] {listenFd, outputFd, outputFd}, new int[] {0, 1, 2});
      if (classData != null) {
        classData.spawned(pid);
      }
      if (aotCache != null) {
        aotCache.spawned(pid);
      }
      return pid;
    } catch (PreforkException e) {
      if (classData != null) {
        classData.spawnFailed();
      }
      if (aotCache != null) {
        aotCache.spawnFailed();
      }
      throw new PreforkException(
          "cannot start child "
              + childIndex
              + " of shm key "
              + ShmKeys.toHex(config.shmKey())
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private static List<String> environment() {
    List<String> env = new ArrayList<>();
    for (Map.Entry<String, String> e : System.getenv().entrySet()) {
      if (SocketActivation.SYSTEMD_ENVIRONMENT.contains(e.getKey())) {
        continue; // systemd's sockets and notifications are the master's, not the children's
      }
      env.add(e.getKey() + "=" + e.getValue());
    }
    return List.copyOf(env);
  }

  /** The feature version (17, 21, 25...) of the JDK a {@code java} executable belongs to. */
  static int javaFeatureVersion(Path java) {
    Path self = Path.of(System.getProperty("java.home"), "bin", "java");
    try {
      if (Files.isSameFile(java, self)) {
        return Runtime.version().feature();
      }
      Path release = java.toRealPath().getParent().getParent().resolve("release");
      for (String line : Files.readAllLines(release)) {
        if (line.startsWith("JAVA_VERSION=")) {
          String v = line.substring("JAVA_VERSION=".length()).replace("\"", "");
          return Runtime.Version.parse(v).feature();
        }
      }
    } catch (IOException | RuntimeException e) {
      // Unknown: assume the master's own version.
    }
    return Runtime.version().feature();
  }
}
