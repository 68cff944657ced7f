package io.prefork.core;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Runs test work on threads of its own, one per task. Not on the common pool: with one core to
 * spare it has a parallelism of 1, and on JDK 25 CompletableFuture then runs async tasks one after
 * the other (JDK 17 started a thread per task), so "three requests at once" became three in a row.
 */
public final class Background {
  /** A new daemon thread per task, so a stuck task cannot keep the test JVM alive. */
  public static final Executor THREAD_PER_TASK =
      task -> {
        Thread thread = new Thread(task, "test-background");
        thread.setDaemon(true);
        thread.start();
      };

  private Background() {}

  /** {@link CompletableFuture#supplyAsync}, on a thread of its own. */
  public static <T> CompletableFuture<T> supply(Supplier<T> work) {
    return CompletableFuture.supplyAsync(work, THREAD_PER_TASK);
  }

  /** {@link CompletableFuture#runAsync}, on a thread of its own. */
  public static CompletableFuture<Void> run(Runnable work) {
    return CompletableFuture.runAsync(work, THREAD_PER_TASK);
  }
}
