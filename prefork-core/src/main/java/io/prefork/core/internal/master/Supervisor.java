package io.prefork.core.internal.master;

import io.prefork.core.PreforkException;
import io.prefork.core.ServerStatus;
import io.prefork.core.internal.ops.MasterSignals;
import io.prefork.shm.Command;
import io.prefork.shm.MasterTable;
import io.prefork.shm.ShmException;
import io.prefork.shm.ShmKeys;
import io.prefork.shm.StatusTableException;
import io.prefork.shm.TableSpec;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master: one thread that ticks, takes commands, and applies the pool's policies to its
 * mechanics ({@link ChildPool}): readiness and the start timeout, the {@link Watchdog}, every
 * leaving child's {@link ExitDeadline}, {@link Recycling}, the {@link Replacements} of a restart,
 * the {@link PoolPolicy}, the {@link CrashBackoff}, and what an exit means ({@link
 * ExitClassifier}). Everything that changes the pool happens on this thread; other threads (API
 * calls, signal handlers) only queue commands for it. Every timer reads one monotonic clock.
 *
 * <p>Replacing a child (restart, recycling) never lowers capacity: a replacement is spawned first,
 * and the old child is asked to exit only once its replacement accepts. Only when the pool is full
 * is one old child retired first, one at a time, while the others keep accepting.
 */
public final class Supervisor {
  private static final Logger log = LoggerFactory.getLogger("io.prefork.master");

  /** How often the master looks at its children and the command word. */
  static final long TICK_MILLIS = 50;

  /**
   * Between ticks the master looks at the table's command word this often, so a wait-down or
   * force-down from a controller takes effect within this time rather than within a tick.
   */
  static final long COMMAND_POLL_MILLIS = 5;

  /** While stopping, the master reaps more often so it is gone soon after its last child. */
  static final long STOPPING_TICK_MILLIS = 5;

  private final MasterContext m;
  private final MasterPhases phases;
  private final PoolKeeper keeper;
  private final ExitHandling exits;
  private final LinkedBlockingQueue<Command> requests = new LinkedBlockingQueue<>();
  private final CountDownLatch terminated = new CountDownLatch(1);
  private final Thread thread;
  private final Consumer<Command> signalSink = this::request;
  private final Thread shutdownHook = new Thread(this::onJvmExit, "prefork-shutdown");
  private final Object tableLock = new Object();
  private boolean cleanedUp;
  private boolean tableClosed;

  private Supervisor(
      ServerConfig config, ListenSocket socket, MasterTable table, ServerEvents events) {
    this.m = new MasterContext(config, socket, table, events, MonotonicClock.SYSTEM);
    this.phases = new MasterPhases(m);
    Watchdog watchdog =
        new Watchdog(
            config.jobTimeout().toNanos(),
            config.maxChildren() * config.threadsPerChild(),
            m.clock);
    this.keeper = new PoolKeeper(m, phases, watchdog);
    this.exits = new ExitHandling(m, phases, watchdog);
    this.thread = new Thread(this::run, "prefork-master-" + ShmKeys.toHex(config.shmKey()));
  }

  /**
   * Binds, creates the table, starts the master thread and waits until the pool is ready. Nothing
   * is left behind if it fails: the socket and the table go with the exception.
   */
  public static Supervisor start(ServerConfig config, List<ServerEvents> observers) {
    ListenSocket socket = SocketActivation.open(config); // systemd's socket, or bind as configured
    MasterTable table;
    try {
      table = MasterTable.create(config.shmKey(), spec(config, socket));
    } catch (StatusTableException | ShmException e) {
      socket.close();
      throw new PreforkException("cannot start: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      socket.close();
      throw e;
    }
    Supervisor s;
    try {
      s = new Supervisor(config, socket, table, ServerEvents.all(observers));
      table.generation(s.m.replacements.generation());
    } catch (RuntimeException | Error e) {
      table.close();
      socket.close();
      throw e;
    }
    log.info(
        "master pid {} bound {} (shm key {}, job {}, children {}..{}, {} thread(s) each{})",
        ProcessHandle.current().pid(),
        socket,
        ShmKeys.toHex(config.shmKey()),
        config.jobClassName(),
        config.minChildren(),
        config.maxChildren(),
        config.threadsPerChild(),
        deferral(socket));
    if (config.handleSignals()) {
      MasterSignals.register(s.signalSink);
    }
    Runtime.getRuntime().addShutdownHook(s.shutdownHook);
    s.thread.start(); // from here on the thread owns the cleanup
    s.awaitReady();
    return s;
  }

  /**
   * The socket's accept deferral as the kernel reports it (rounded up to its SYN-ACK schedule, or
   * set by systemd's {@code DeferAcceptSec=}), for the start line; empty when off.
   */
  private static String deferral(ListenSocket socket) {
    int seconds;
    try {
      seconds = socket.deferAcceptSeconds();
    } catch (RuntimeException e) {
      return ""; // only for the log line
    }
    return seconds == 0 ? "" : ", accept deferred until the client sends, up to " + seconds + " s";
  }

  private static TableSpec spec(ServerConfig config, ListenSocket socket) {
    return new TableSpec(
        config.maxChildren(),
        config.minChildren(),
        config.threadsPerChild(),
        socket.address(),
        socket.port(),
        config.backlog());
  }

  /**
   * The JVM exits (System.exit, or a signal the master does not handle): stop gracefully but
   * briefly, so no child outlives us and the table is not left behind.
   */
  private void onJvmExit() {
    if (isTerminated()) {
      return;
    }
    log.info("the JVM is exiting: stopping the prefork server");
    request(Command.WAIT_DOWN);
    try {
      long millis =
          Math.min(m.config.drainDelay().plus(m.config.gracefulTimeout()).toMillis(), 5_000);
      if (!terminated.await(millis, TimeUnit.MILLISECONDS)) {
        request(Command.FORCE_DOWN);
        terminated.await(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void awaitReady() {
    try {
      m.ready.get(m.config.startTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      request(Command.FORCE_DOWN);
      awaitQuietly();
      throw new PreforkException(
          "the children were not accepting within the start timeout of "
              + m.config.startTimeout().toSeconds()
              + " s: see the children's output above; raise startTimeout if the job is slow to"
              + " open");
    } catch (ExecutionException e) {
      awaitQuietly();
      throw (PreforkException) e.getCause();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      request(Command.FORCE_DOWN);
      awaitQuietly();
      throw new PreforkException("interrupted while starting", e);
    }
  }

  private void awaitQuietly() {
    try {
      terminated.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public int port() {
    return m.socket.port();
  }

  public InetAddress address() {
    return m.socket.address();
  }

  public boolean isTerminated() {
    return terminated.getCount() == 0;
  }

  /** {@return why the master stopped on its own (a job that cannot start), or null} */
  public String failure() {
    return m.failure;
  }

  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    return terminated.await(timeout, unit);
  }

  /** {@return the status as the table shows it now} */
  public ServerStatus status() {
    synchronized (tableLock) {
      if (tableClosed) {
        throw new IllegalStateException("the server has stopped");
      }
      return TableStatus.of(m.table.snapshot());
    }
  }

  /** Queues a command for the master thread (from the API or a signal handler). */
  public void request(Command command) {
    requests.add(command);
  }

  // ---------------------------------------------------------------------------------------------
  // The master thread

  private void run() {
    try {
      while (true) {
        m.table.heartbeat(System.currentTimeMillis()); // a stamp for other processes: wall clock
        takeCommandFromTable();
        for (ChildPool.Reaped r : m.pool.reap()) {
          exits.exited(r.child(), r.exit());
        }
        if (phases.stopping()) {
          if (m.pool.isEmpty()) {
            break;
          }
          phases.drainTick();
          keeper.enforceExitDeadlines();
        } else {
          keeper.tick();
          phases.finishRestart();
        }
        m.publisher.publish(m.replacements.generation());
        awaitCommands(phases.stopping() ? STOPPING_TICK_MILLIS : TICK_MILLIS);
      }
      log.info(
          "master stopped: all children gone, shm key {} removed",
          ShmKeys.toHex(m.config.shmKey()));
    } catch (Throwable t) {
      log.error("the master thread failed; killing its children and removing the table", t);
      m.fail("the master failed: " + t);
    } finally {
      cleanUp();
    }
  }

  private boolean takeCommandFromTable() {
    Command fromTable = m.table.takeCommand();
    if (fromTable == Command.NONE) {
      return false;
    }
    log.info("command {} from the status table", fromTable);
    phases.handle(fromTable);
    return true;
  }

  /**
   * Waits out the rest of a tick, but takes commands as they come: from this JVM at once, from the
   * table (a controller, another process) within {@link #COMMAND_POLL_MILLIS}. A command ends the
   * wait, so the next tick (reaping, spawning) follows it at once.
   */
  private void awaitCommands(long tickMillis) throws InterruptedException {
    long deadline = m.clock.nanoTime() + TimeUnit.MILLISECONDS.toNanos(tickMillis);
    while (true) {
      long left = deadline - m.clock.nanoTime();
      Command next =
          requests.poll(
              Math.max(0, Math.min(left, TimeUnit.MILLISECONDS.toNanos(COMMAND_POLL_MILLIS))),
              TimeUnit.NANOSECONDS);
      if (next != null) {
        while (next != null) {
          phases.handle(next);
          next = requests.poll();
        }
        return;
      }
      if (left <= 0 || takeCommandFromTable()) {
        return;
      }
    }
  }

  private void cleanUp() {
    synchronized (this) {
      if (cleanedUp) {
        return;
      }
      cleanedUp = true;
    }
    try {
      if (!m.pool.isEmpty()) {
        m.pool.killAll(ExitCause.KILLED);
        long deadline = m.clock.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!m.pool.isEmpty() && m.clock.nanoTime() - deadline < 0) {
          m.pool.reap();
          sleep(5);
        }
      }
    } catch (Throwable t) {
      log.error("error while killing children", t);
    } finally {
      try {
        m.launcher.close();
        m.output.close();
        m.socket.close();
        // Before the table goes: a controller waiting for it to go sees everything else done.
        m.events.stopped();
      } finally {
        try {
          // Under the lock: a status() reading the mapping must not see it unmapped mid-read.
          synchronized (tableLock) {
            tableClosed = true;
            m.table.close();
          }
        } finally {
          m.ready.completeExceptionally(
              new PreforkException(
                  "the server stopped before it was ready: a wait-down or force-down (a signal,"
                      + " a controller, or the JVM exiting) arrived while the children were"
                      + " starting"));
          MasterSignals.unregister(signalSink);
          try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
          } catch (IllegalStateException e) {
            // The JVM is already shutting down: the hook is running or done.
          }
          terminated.countDown();
        }
      }
    }
  }

  /** "1 child", "3 children". */
  static String children(int n) {
    return n == 1 ? "1 child" : n + " children";
  }

  private static String seconds(long nanos) {
    return String.format(java.util.Locale.ROOT, "%.1f", nanos / 1e9);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
