package io.prefork.shm.testing;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts Java main classes in new JVMs with this JVM's class path and flags, and kills them (and
 * their descendants) after each test, passed or failed. Register it with {@code RegisterExtension}.
 */
public final class JavaProcesses implements AfterEachCallback {
  private final List<Process> processes = new ArrayList<>();

  /** The command line that runs {@code mainClass} in a JVM like this one. */
  public static List<String> command(String mainClass, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("--add-")
          || arg.startsWith("--enable-native-access")
          || arg.startsWith("--sun-misc-unsafe-memory-access")) {
        cmd.add(arg);
      }
    }
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-Xmx64m");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass);
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** Starts {@code mainClass} with its output on this JVM's output and error streams. */
  public synchronized Process start(Class<?> mainClass, String... args) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command(mainClass.getName(), args));
    pb.redirectOutput(ProcessBuilder.Redirect.INHERIT);
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    return track(pb.start());
  }

  /** Starts a process and keeps it for cleanup. */
  public synchronized Process start(ProcessBuilder pb) throws IOException {
    return track(pb.start());
  }

  /** Keeps a process started elsewhere for cleanup. */
  public synchronized Process track(Process p) {
    processes.add(p);
    return p;
  }

  /** The directory of the JVM running the tests, for files the processes share. */
  public static File workDir() {
    return new File(System.getProperty("user.dir"));
  }

  @Override
  public synchronized void afterEach(ExtensionContext context) throws InterruptedException {
    for (Process p : processes) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    for (Process p : processes) {
      p.waitFor(10, TimeUnit.SECONDS);
    }
    processes.clear();
  }
}
