package io.prefork.examples;

import java.time.Duration;
import java.util.Map;

/**
 * {@code serve}'s built-in jobs, by their short names. Their clients all speak first, so {@code
 * serve} defers accepting for them unless told otherwise.
 */
final class BuiltInJobs {
  /** --defer-accept for the built-in jobs. */
  static final int DEFER_ACCEPT_SECONDS = 10;

  private static final Map<String, String> CLASS_BY_NAME =
      Map.of(
          "hello", HelloHttpJob.class.getName(),
          "hello-ka", HelloKeepAliveJob.class.getName(),
          "echo", EchoJob.class.getName(),
          "wait", WaitJob.class.getName(),
          "cpu", CpuJob.class.getName());

  private BuiltInJobs() {}

  /** {@return the job's class name: a built-in job's by its short name, else {@code job} itself} */
  static String className(String job) {
    return CLASS_BY_NAME.getOrDefault(job, job);
  }

  /**
   * --defer-accept as given, else on for a built-in job (by short name or class) and off for a
   * class of the user's, whose server may speak first.
   */
  static Duration deferAccept(String job, Double seconds) {
    if (seconds == null) {
      return CLASS_BY_NAME.containsValue(className(job))
          ? Duration.ofSeconds(DEFER_ACCEPT_SECONDS)
          : Duration.ZERO;
    }
    if (seconds > 60) {
      throw new IllegalArgumentException(
          "--defer-accept ("
              + seconds
              + ") must be at most 60 seconds: a client silent for longer is --read-timeout's"
              + " business, once it is accepted; 0 turns it off");
    }
    return CliSeconds.orNone("--defer-accept", seconds);
  }
}
