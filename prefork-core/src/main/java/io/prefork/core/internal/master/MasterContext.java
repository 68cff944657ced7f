package io.prefork.core.internal.master;

import io.prefork.core.PreforkException;
import io.prefork.shm.MasterTable;
import java.util.concurrent.CompletableFuture;

/**
 * What the master's parts share: the configuration, the socket, the table, the pool's mechanics,
 * the observers, the one clock, and the promise of readiness that start() waits on. Only the master
 * thread uses it (but for the ready future, which is thread-safe).
 */
final class MasterContext {
  final ServerConfig config;
  final ListenSocket socket;
  final MasterTable table;
  final ServerEvents events;
  final MonotonicClock clock;
  final ChildLauncher launcher;
  final ChildOutput output;
  final ChildPool pool;
  final TablePublisher publisher;
  final Replacements replacements = new Replacements();
  final CrashBackoff backoff;
  final CompletableFuture<Void> ready = new CompletableFuture<>();

  /** Why the master stopped on its own (a job that cannot start), or null. */
  volatile String failure;

  MasterContext(
      ServerConfig config,
      ListenSocket socket,
      MasterTable table,
      ServerEvents events,
      MonotonicClock clock) {
    this.config = config;
    this.socket = socket;
    this.table = table;
    this.events = events;
    this.clock = clock;
    this.launcher = new ChildLauncher(config, socket.fd());
    this.output =
        new ChildOutput(
            config.threadsPerChild(),
            config.childLogDirectory(),
            io.prefork.shm.ShmKeys.toHex(config.shmKey()));
    this.pool =
        new ChildPool(
            table, launcher, output, config.maxChildren(), config.threadsPerChild(), clock);
    this.publisher = new TablePublisher(table, socket, pool, events, clock);
    this.backoff = new CrashBackoff(clock);
  }

  /** The server is not ready and will not be: start() throws this. */
  void fail(String why) {
    failure = why;
    ready.completeExceptionally(new PreforkException(why));
  }

  /** "1 child", "3 children". */
  static String children(int n) {
    return n == 1 ? "1 child" : n + " children";
  }

  /** Nanoseconds as seconds with one decimal: "2.5". */
  static String seconds(long nanos) {
    return String.format(java.util.Locale.ROOT, "%.1f", nanos / 1e9);
  }
}
