package io.prefork.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.prefork.shm.ShmKeys;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs the built jar as a user would: {@code java -jar prefork-examples.jar ...}, with no JVM flags
 * (the manifest must carry them). Every process started here is killed, descendants first, by
 * {@link #close()}.
 */
final class Cli implements AutoCloseable {
  private static final Pattern READY =
      Pattern.compile(
          "^prefork listening on \\S+ \\(port (\\d+)\\), master pid (\\d+), shm key .*");

  private final List<Process> processes = new ArrayList<>();

  /** The shaded jar, made by {@code package} before the *IT tests run. */
  static Path jar() {
    Path jar =
        Path.of(System.getProperty("prefork.examples.jar", "target/prefork-examples.jar"))
            .toAbsolutePath();
    assertTrue(Files.isRegularFile(jar), jar + " is missing: run mvn package first");
    return jar;
  }

  /** The sample {@code logging.properties} shipped with the example daemon. */
  static Path sampleLogConfig() {
    Path file =
        Path.of(System.getProperty("prefork.examples.logging", "src/main/dist/logging.properties"))
            .toAbsolutePath();
    assertTrue(Files.isRegularFile(file), file + " is missing");
    return file;
  }

  /** What a finished command did. */
  record Result(int exitCode, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
    }
  }

  /** A running {@code serve}, after its ready line; {@code out}: its later lines of output. */
  record Serve(
      Process process,
      int port,
      long masterPid,
      Path errFile,
      java.util.concurrent.BlockingQueue<String> out) {
    /** Its next line of output after the ready line, waiting up to 10 s. */
    String nextLine() throws InterruptedException {
      String line = out.poll(10, TimeUnit.SECONDS);
      assertTrue(line != null, "no further line from serve within 10 s");
      return line;
    }

    /** The server's log so far (its standard error and its children's). */
    String log() {
      try {
        return Files.readString(errFile);
      } catch (IOException e) {
        return "(no log: " + e + ")";
      }
    }
  }

  /** Runs the jar with these arguments to its end (at most 30 s). */
  Result run(String... args) throws IOException, InterruptedException {
    Path out = Files.createTempFile("prefork-cli", ".out");
    Path err = Files.createTempFile("prefork-cli", ".err");
    try {
      Process p =
          start(
              new ProcessBuilder(command(args))
                  .redirectOutput(out.toFile())
                  .redirectError(err.toFile()));
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        kill(p);
        fail("java -jar ... " + String.join(" ", args) + " did not end within 30 s");
      }
      return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  /** {@code ctl --shm-key KEY args...}. */
  Result ctl(int key, String... args) throws IOException, InterruptedException {
    List<String> all = new ArrayList<>(List.of("ctl", "--shm-key", ShmKeys.toHex(key)));
    all.addAll(List.of(args));
    return run(all.toArray(String[]::new));
  }

  /** A command started in the background, its output going to files. */
  record Running(Process process, Path outFile, Path errFile) {
    /** Its standard output so far. */
    String out() throws IOException {
      return Files.readString(outFile);
    }

    /** Its standard error so far. */
    String err() throws IOException {
      return Files.readString(errFile);
    }
  }

  /**
   * Starts {@code ctl --shm-key KEY args...} in the background; close() kills it if still there.
   */
  Running startCtl(int key, String... args) throws IOException {
    List<String> all = new ArrayList<>(List.of("ctl", "--shm-key", ShmKeys.toHex(key)));
    all.addAll(List.of(args));
    Path out = Files.createTempFile("prefork-ctl", ".out");
    Path err = Files.createTempFile("prefork-ctl", ".err");
    out.toFile().deleteOnExit();
    err.toFile().deleteOnExit();
    Process p =
        start(
            new ProcessBuilder(command(all.toArray(String[]::new)))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile()));
    return new Running(p, out, err);
  }

  /**
   * Starts {@code serve --bind 127.0.0.1 --port 0 --min 2 --max 3 --threads 1 --child-jvm-preset
   * lean --shm-key KEY} and then the {@code extra} arguments (the key in hex, so cleanup finds the
   * process by its command line) and waits for its ready line.
   */
  Serve serve(int key, String... extra) throws Exception {
    Path err = Files.createTempFile("prefork-serve", ".err");
    err.toFile().deleteOnExit();
    List<String> args =
        new ArrayList<>(
            List.of(
                "serve",
                "--bind",
                "127.0.0.1",
                "--port",
                "0",
                "--min",
                "2",
                "--max",
                "3",
                "--threads",
                "1",
                "--child-jvm-preset",
                "lean",
                "--shm-key",
                ShmKeys.toHex(key)));
    args.addAll(List.of(extra));
    Process p =
        start(new ProcessBuilder(command(args.toArray(String[]::new))).redirectError(err.toFile()));
    CompletableFuture<Matcher> ready = new CompletableFuture<>();
    java.util.concurrent.BlockingQueue<String> later =
        new java.util.concurrent.LinkedBlockingQueue<>();
    Thread reader =
        new Thread(
            () -> {
              // Reads to the end, so the server never blocks on a full pipe.
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                  Matcher m = READY.matcher(line);
                  if (ready.isDone()) {
                    later.add(line);
                  } else if (m.matches()) {
                    ready.complete(m);
                  } else {
                    ready.completeExceptionally(new AssertionError("not the ready line: " + line));
                  }
                }
              } catch (IOException e) {
                // the process is gone
              }
              ready.completeExceptionally(new AssertionError("serve ended its output"));
            },
            "serve-stdout");
    reader.setDaemon(true);
    reader.start();
    try {
      Matcher m = ready.get(30, TimeUnit.SECONDS);
      return new Serve(p, Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)), err, later);
    } catch (ExecutionException | TimeoutException e) {
      throw new AssertionError(
          "serve did not print its ready line: "
              + (e instanceof TimeoutException ? "timeout" : e.getCause().getMessage())
              + "\n--- its log:\n"
              + Files.readString(err),
          e);
    }
  }

  /** Waits until the process ends; false if it did not within the timeout. */
  static boolean awaitExit(Process p, Duration timeout) throws InterruptedException {
    return p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private synchronized Process start(ProcessBuilder pb) throws IOException {
    Process p = pb.start();
    processes.add(p);
    return p;
  }

  /**
   * The home directory of every command run here: serve keeps its class-data archive in
   * ~/.cache/prefork by default, which must not be the user's during tests. Removed at exit.
   */
  private static final Path HOME = temporaryHome();

  private static Path temporaryHome() {
    try {
      Path home = Files.createTempDirectory("prefork-it-home");
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try (var files = Files.walk(home)) {
                      files
                          .sorted(java.util.Comparator.reverseOrder())
                          .forEach(p -> p.toFile().delete());
                    } catch (IOException e) {
                      // a leftover temporary directory
                    }
                  }));
      return home;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static List<String> command(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Duser.home=" + HOME);
    cmd.add("-jar");
    cmd.add(jar().toString());
    cmd.addAll(List.of(args));
    return cmd;
  }

  private static void kill(Process p) {
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
  }

  /** Kills whatever is still running, children first, and waits for it. */
  @Override
  public synchronized void close() {
    for (Process p : processes) {
      kill(p);
    }
    try {
      for (Process p : processes) {
        p.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    processes.clear();
  }
}
