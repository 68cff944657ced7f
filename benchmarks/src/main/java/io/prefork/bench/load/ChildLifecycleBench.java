package io.prefork.bench.load;

import io.prefork.core.ControlHandle;
import io.prefork.shm.SlotSnapshot;
import io.prefork.shm.SlotState;
import io.prefork.shm.TableReader;
import io.prefork.shm.TableSnapshot;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Measures prefork's child JVMs from the outside, on the example daemon ({@code serve}, started as
 * a separate process exactly as a user would):
 *
 * <ol>
 *   <li><b>start-up</b>: {@code --children} children added one at a time (each after the previous
 *       one accepts), so each starts on a quiet machine. Spawn to first accept is read from the
 *       status table: the slot's spawn time (written by the master just before {@code
 *       posix_spawnp}) to the time the child marked it IDLE, just before its first {@code accept}.
 *       RSS and PSS of each idle child from {@code /proc/PID/smaps_rollup}.
 *   <li><b>burst</b>: a daemon started with {@code --children} children at once: time until all
 *       accept.
 *   <li><b>wait-down / force-down</b> of {@code --down} idle children: from the moment the command
 *       is posted (as {@code ctl wdown}/{@code fdown} does) until the last child and the master are
 *       gone.
 * </ol>
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.prefork.bench.load.ChildLifecycleBench \
 *     [--java PATH] [--children 20] [--down 50] [--rounds 3] [--threads 1] \
 *     [--child-jvm-option OPT]... [--skip startup,burst,down]
 * </pre>
 *
 * The daemon runs {@code --java} (default: this JVM's) with the example jar. Timings are printed,
 * never asserted.
 */
public final class ChildLifecycleBench {
  private static final Path EXAMPLES_JAR = Path.of("prefork-examples/target/prefork-examples.jar");

  private final String java;
  private final Path jar;
  private final List<String> childOptions;
  private final int threads;

  /** serve's --class-data-dir: "none" (default) or the directory of the children's archive. */
  private static String classDataDir = "none";

  private ChildLifecycleBench(String java, Path jar, List<String> childOptions, int threads) {
    this.java = java;
    this.jar = jar;
    this.childOptions = childOptions;
    this.threads = threads;
  }

  public static void main(String[] args) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Path jar = EXAMPLES_JAR;
    int children = 20;
    int down = 50;
    int rounds = 3;
    int threads = 1;
    List<String> skip = new ArrayList<>();
    List<String> childOptions = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--java" -> java = args[++i];
        case "--jar" -> jar = Path.of(args[++i]);
        case "--children" -> children = Integer.parseInt(args[++i]);
        case "--down" -> down = Integer.parseInt(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--threads" -> threads = Integer.parseInt(args[++i]);
        case "--child-jvm-option" -> childOptions.add(args[++i]);
        case "--class-data-dir" -> classDataDir = args[++i];
        case "--skip" -> skip.addAll(Arrays.asList(args[++i].split(",")));
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          jar.toAbsolutePath() + " is missing: run mvn -B -DskipTests package in the project");
    }
    ChildLifecycleBench bench = new ChildLifecycleBench(java, jar, childOptions, threads);
    System.out.println("java: " + java + " " + version(java));
    System.out.println("child JVM options (after the library's): " + childOptions);
    System.out.println("serve --class-data-dir " + classDataDir);
    if (!skip.contains("startup")) {
      bench.startup(children);
    }
    if (!skip.contains("burst")) {
      bench.burst(children);
    }
    if (!skip.contains("down")) {
      for (int r = 1; r <= rounds; r++) {
        bench.down(down, false, r);
        bench.down(down, true, r);
      }
    }
  }

  /** Children one at a time: spawn to first accept, RSS, PSS. */
  private void startup(int children) throws Exception {
    try (Daemon d = start(1, children, 0, children * threads + 1)) {
      Map<Integer, Long> startup = new HashMap<>();
      awaitIdle(d, 1, 120_000);
      record(d, startup);
      for (int i = 1; i < children; i++) {
        try (ControlHandle c = ControlHandle.attach(d.key)) {
          c.addChild();
        }
        awaitIdle(d, i + 1, 120_000);
        record(d, startup);
      }
      Thread.sleep(3000); // let the last one settle (its first GC, JIT threads idle)
      long[] ms = startup.values().stream().mapToLong(Long::longValue).sorted().toArray();
      List<long[]> mem = new ArrayList<>();
      for (int pid : startup.keySet()) {
        mem.add(memory(pid));
      }
      long[] rss = mem.stream().mapToLong(m -> m[0]).sorted().toArray();
      long[] pss = mem.stream().mapToLong(m -> m[1]).sorted().toArray();
      System.out.printf(
          "start-up, %d children one at a time: spawn to first accept min %d / median %d / max %d"
              + " ms; idle RSS median %.1f MB (max %.1f); PSS median %.1f MB (max %.1f)%n",
          ms.length,
          ms[0],
          ms[ms.length / 2],
          ms[ms.length - 1],
          rss[rss.length / 2] / 1024.0,
          rss[rss.length - 1] / 1024.0,
          pss[pss.length / 2] / 1024.0,
          pss[pss.length - 1] / 1024.0);
      System.out.println("  each (ms): " + Arrays.toString(ms));
    }
  }

  /** All children at once: how long until every one accepts. */
  private void burst(int children) throws Exception {
    long t0 = System.nanoTime();
    try (Daemon d = start(children, children, 0, children * threads + 1)) {
      long ready = (System.nanoTime() - t0) / 1_000_000;
      Map<Integer, Long> startup = new HashMap<>();
      record(d, startup);
      long[] ms = startup.values().stream().mapToLong(Long::longValue).sorted().toArray();
      long total = 0;
      for (int pid : startup.keySet()) {
        total += memory(pid)[0];
      }
      System.out.printf(
          "burst, %d children at once: daemon ready after %d ms; each spawn to first accept"
              + " median %d / max %d ms; total children RSS %.0f MB%n",
          children, ready, ms[ms.length / 2], ms[ms.length - 1], total / 1024.0);
    }
  }

  /** Wait-down or force-down of idle children, until the last process is gone. */
  private void down(int children, boolean force, int round) throws Exception {
    Daemon d = start(children, children, 0, children * threads + 1);
    try {
      awaitIdle(d, children, 300_000);
      Thread.sleep(500);
      List<ProcessHandle> all = new ArrayList<>();
      for (SlotSnapshot s : snapshot(d).usedSlots()) {
        ProcessHandle.of(s.pid()).ifPresent(all::add);
      }
      long t0 = System.nanoTime();
      try (ControlHandle c = ControlHandle.attach(d.key)) {
        if (force) {
          c.forceDown();
        } else {
          c.waitDown();
        }
      }
      long taken = System.nanoTime();
      long lastChild = 0;
      for (ProcessHandle p : all) {
        while (p.isAlive()) {
          Thread.sleep(1);
        }
        lastChild = System.nanoTime();
      }
      d.process.waitFor(30, TimeUnit.SECONDS);
      long master = System.nanoTime();
      System.out.printf(
          "%s of %d idle children (round %d): taken by the master after %.0f ms, last child gone"
              + " after %.0f ms, master gone after %.0f ms%n",
          force ? "force-down" : "wait-down",
          all.size(),
          round,
          (taken - t0) / 1e6,
          (lastChild - t0) / 1e6,
          (master - t0) / 1e6);
    } finally {
      d.close();
    }
  }

  private void record(Daemon d, Map<Integer, Long> startup) throws IOException {
    for (SlotSnapshot s : snapshot(d).usedSlots()) {
      if (s.state() == SlotState.IDLE && s.workerIndex() == threads - 1) {
        startup.putIfAbsent(s.pid(), s.stateSinceMillis() - s.startedAtMillis());
      }
    }
  }

  private static TableSnapshot snapshot(Daemon d) {
    try (TableReader t = TableReader.attach(d.key)) {
      return t.snapshot();
    }
  }

  private void awaitIdle(Daemon d, int children, long timeoutMillis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (System.currentTimeMillis() < deadline) {
      if (snapshot(d).count(SlotState.IDLE) >= (long) children * threads) {
        return;
      }
      Thread.sleep(2);
    }
    throw new IllegalStateException("children not idle within " + timeoutMillis + " ms");
  }

  /** RSS and PSS in kB. */
  private static long[] memory(int pid) throws IOException {
    long rss = 0;
    long pss = 0;
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/smaps_rollup"))) {
      String[] f = line.trim().split("\\s+");
      if (f[0].equals("Rss:")) {
        rss = Long.parseLong(f[1]);
      } else if (f[0].equals("Pss:")) {
        pss = Long.parseLong(f[1]);
      }
    }
    return new long[] {rss, pss};
  }

  private Daemon start(int min, int max, int minSpare, int maxSpare) throws Exception {
    int key = 0x7d00_0000 | ThreadLocalRandom.current().nextInt(1, 0x0100_0000);
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.add("-jar");
    cmd.add(jar.toString());
    cmd.addAll(
        List.of(
            "serve",
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--shm-key",
            Integer.toString(key),
            "--min",
            Integer.toString(min),
            "--max",
            Integer.toString(max),
            "--threads",
            Integer.toString(threads),
            // Every thread accepts from the start: the bench waits for all of them to be IDLE.
            "--min-threads",
            Integer.toString(threads),
            "--min-spare",
            Integer.toString(minSpare),
            "--max-spare",
            Integer.toString(maxSpare)));
    cmd.add("--class-data-dir");
    cmd.add(classDataDir);
    for (String o : childOptions) {
      cmd.add("--child-jvm-option=" + o);
    }
    Process p =
        new ProcessBuilder(cmd)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .redirectInput(ProcessBuilder.Redirect.PIPE)
            .start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine(); // the ready line, once minChildren accept
    if (line == null || !line.startsWith("prefork listening")) {
      p.destroyForcibly();
      throw new IllegalStateException("the daemon did not start: " + line);
    }
    return new Daemon(p, key);
  }

  private static String version(String java) {
    try {
      Process p = new ProcessBuilder(java, "-version").redirectErrorStream(true).start();
      String first =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))
              .readLine();
      p.waitFor();
      return "(" + first + ")";
    } catch (IOException | InterruptedException e) {
      return "";
    }
  }

  /** The daemon process; closing it stops it (wait-down) and waits. */
  private record Daemon(Process process, int key) implements AutoCloseable {
    @Override
    public void close() throws InterruptedException {
      if (process.isAlive()) {
        process.destroy(); // SIGTERM: the daemon's wait-down, which also removes its table
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          process.waitFor();
        }
      }
    }
  }
}
