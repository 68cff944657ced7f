package io.prefork.core.internal.ops;

import io.prefork.core.PreforkException;
import io.prefork.core.internal.os.Libc;
import io.prefork.core.internal.os.OsException;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Daemon mode without fork: the launching JVM starts its own command line again as the daemon,
 * relays the daemon's output (to its own standard error) until the daemon says it is ready, prints
 * the ready line on standard output, and exits. The daemon leaves the launcher's session and
 * directory, and once ready sends its output to the log file.
 */
public final class Daemon {
  /** Set in the daemon's environment: this JVM is the daemon, not the launcher. */
  static final String ENVIRONMENT = "PREFORK_DAEMON";

  /** The line that tells the launcher the daemon is ready; the rest of it is shown to the user. */
  static final String READY = "prefork-daemon-ready: ";

  private Daemon() {}

  public static boolean inDaemon() {
    return "1".equals(System.getenv(ENVIRONMENT));
  }

  /**
   * In the launcher: starts the daemon, relays its output, and exits this JVM with status 0 once
   * the daemon is ready.
   *
   * @throws PreforkException with the daemon's exit status if it stops before it is ready
   */
  public static void launch() {
    List<String> command = currentCommandLine();
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().put(ENVIRONMENT, "1");
    pb.redirectInput(new File("/dev/null"));
    pb.redirectErrorStream(true);
    Process daemon;
    try {
      daemon = pb.start();
    } catch (IOException e) {
      throw new PreforkException(
          "cannot start the daemon (" + command.get(0) + "): " + e.getMessage(), e);
    }
    try (BufferedReader out =
        new BufferedReader(
            new InputStreamReader(daemon.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        if (line.startsWith(READY)) {
          System.out.println(line.substring(READY.length()));
          System.out.flush();
          System.exit(0);
        }
        System.err.println(line); // the daemon's log, until it is ready: stdout is the ready line
      }
    } catch (IOException e) {
      // the daemon closed its output: look at how it ended
    }
    try {
      if (daemon.waitFor(10, TimeUnit.SECONDS)) {
        throw new PreforkException(
            "the daemon (pid "
                + daemon.pid()
                + ") stopped with exit status "
                + daemon.exitValue()
                + " before it was ready; its output above says why");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    daemon.destroyForcibly();
    throw new PreforkException(
        "the daemon (pid " + daemon.pid() + ") closed its output without getting ready; killed it");
  }

  /** In the daemon, before anything else: a new session, and no hold on the launch directory. */
  public static void detach() {
    Libc.setsid();
    Libc.chdir("/");
  }

  /** In the daemon, once ready: tell the launcher, then move stdout and stderr to the log. */
  public static void ready(String summary, Path logFile) {
    System.out.println(READY + summary);
    System.out.flush();
    System.err.flush();
    String target = logFile == null ? "/dev/null" : logFile.toString();
    int fd;
    try {
      fd = Libc.open(target, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_APPEND | Libc.O_CLOEXEC, 0640);
    } catch (OsException e) {
      throw new PreforkException("cannot open log file " + target + ": " + e.getMessage(), e);
    }
    try {
      Libc.dup2(fd, 1); // dup2 clears close-on-exec on 1 and 2
      Libc.dup2(fd, 2);
    } finally {
      Libc.close(fd);
    }
  }

  /**
   * This JVM's own command line, read whole from {@code /proc/self/cmdline}. Not {@code
   * ProcessHandle.Info.arguments()}: the JDK reads one page of it, and a longer command line (a
   * long class path) comes back without arguments, or cut short when a NUL happens to end the page.
   */
  private static List<String> currentCommandLine() {
    try {
      String raw =
          new String(
              java.nio.file.Files.readAllBytes(Path.of("/proc/self/cmdline")),
              StandardCharsets.UTF_8);
      List<String> argv = List.of(raw.split("\0", -1)); // "argv0\0arg1\0...argN\0"
      List<String> command = new ArrayList<>();
      command.add(
          ProcessHandle.current()
              .info()
              .command()
              .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
      command.addAll(argv.subList(1, argv.size() - 1));
      return command;
    } catch (IOException | RuntimeException e) {
      throw new PreforkException(
          "cannot read this JVM's command line to relaunch it as a daemon: " + e, e);
    }
  }
}
