package io.prefork.core.internal.master;

import io.prefork.core.PreforkException;
import io.prefork.core.ServerStatus;
import io.prefork.core.internal.ops.MasterSignals;
import io.prefork.core.internal.os.Posix;
import io.prefork.core.internal.protocol.ExitStatus;
import io.prefork.shm.Command;
import io.prefork.shm.ExitRequest;
import io.prefork.shm.MasterState;
import io.prefork.shm.MasterTable;
import io.prefork.shm.ShmException;
import io.prefork.shm.ShmKeys;
import io.prefork.shm.SlotState;
import io.prefork.shm.StatusTableException;
import io.prefork.shm.TableSpec;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master: one thread that spawns, reaps and replaces children, keeps the pool between its
 * bounds, watches for hung jobs, takes commands and keeps the table's header fresh. Everything that
 * changes the pool happens on this thread; other threads (API calls, signal handlers) only queue
 * commands for it.
 *
 * <p>Replacing a child (restart, recycling) never lowers capacity: a replacement is spawned first,
 * and the old child is asked to exit only once its replacement accepts. Only when the pool is full
 * is one old child retired first, one at a time, while the others keep accepting.
 */
public final class Supervisor {
  private static final Logger log = LoggerFactory.getLogger("io.prefork.master");

  /** Children dying before accepting, before the first ready, that make start() fail at once. */
  static final int START_DEATHS_TO_FAIL = 3;

  /** How long the master waits for a dead child's last output lines before naming the reason. */
  static final long LAST_WORDS_WAIT_MILLIS = 300;

  /** How often the master looks at its children and the command word. */
  static final long TICK_MILLIS = 50;

  /**
   * Between ticks the master looks at the table's command word this often, so a wait-down or
   * force-down from ctl takes effect within this time rather than within a tick.
   */
  static final long COMMAND_POLL_MILLIS = 5;

  /** While stopping, the master reaps more often so it is gone soon after its last child. */
  static final long STOPPING_TICK_MILLIS = 5;

  /** Replacements starting at once: child JVMs compete for the same cores. */
  static final int REPLACE_PARALLELISM = 2;

  /** The most children spawned in one tick when short of spares (httpd's is 32 per second). */
  static final int MAX_SPAWN_RATE = 8;

  /** Idle workers above maxSpare for this long retire one child (then again after as long). */
  static final long SURPLUS_RETIRE_MILLIS = 1_000;

  /**
   * A child that dies before accepting, or within this time of it, counts towards a crash loop; one
   * that served longer died of something else (a kill, a bug on one request) and is replaced at
   * once.
   */
  static final long QUICK_DEATH_MILLIS = 1_000;

  /** A child that has served this long ends a crash loop. */
  static final long CRASH_WINDOW_MILLIS = 10_000;

  /** Crash-loop backoff: first delay, doubled per crash in a row, up to the maximum. */
  static final long BACKOFF_FIRST_MILLIS = 100;

  static final long BACKOFF_MAX_MILLIS = 10_000;

  /** After asking a hung child for a thread dump, how long it gets to write it. */
  static final long DUMP_GRACE_MILLIS = 1_000;

  private enum Phase {
    RUNNING,
    RESTARTING,
    STOPPING,
    FORCE_STOPPING
  }

  private final ServerConfig config;
  private final ListenSocket socket;
  private final MasterTable table;
  private final ChildLauncher launcher;
  private final ChildOutput output;
  private final ServerEvents events;
  private final ChildProcess[] byIndex;
  private final Map<Integer, ChildProcess> byPid = new LinkedHashMap<>();
  private final LinkedBlockingQueue<Command> requests = new LinkedBlockingQueue<>();
  private final CompletableFuture<Void> ready = new CompletableFuture<>();
  private final CountDownLatch terminated = new CountDownLatch(1);
  private final Thread thread;
  private final Consumer<Command> signalSink = this::request;
  private final Thread shutdownHook = new Thread(this::onJvmExit, "prefork-shutdown");

  private Phase phase = Phase.RUNNING;
  private long generation = 1;

  /** The pool's floor: minChildren, raised and lowered by ADD_CHILD / REMOVE_CHILD. */
  private int floor;

  private long stopDeadlineNanos;
  private int replacementsStarting;
  private int replacementsReady;
  private int spawnRate = 1;
  private long surplusSinceMillis;
  private int crashesInARow;
  private int startDeaths;
  private long lastCrashMillis;
  private long backoffUntilMillis;
  private boolean backoffLogged;
  private volatile String failure;
  private boolean cleanedUp;
  private final Object tableLock = new Object();
  private boolean tableClosed;
  private long retiredCalls;
  private long rateSinceMillis;
  private long rateSinceCalls;

  private Supervisor(
      ServerConfig config, ListenSocket socket, MasterTable table, ServerEvents events) {
    this.config = config;
    this.socket = socket;
    this.table = table;
    this.events = events;
    this.launcher = new ChildLauncher(config, socket.fd());
    this.output =
        new ChildOutput(
            config.threadsPerChild(), config.childLogDirectory(), ShmKeys.toHex(config.shmKey()));
    this.byIndex = new ChildProcess[config.maxChildren()];
    this.floor = config.minChildren();
    this.thread = new Thread(this::run, "prefork-master-" + ShmKeys.toHex(config.shmKey()));
  }

  /** Binds, creates the table, starts the master thread and waits until the pool is ready. */
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
    Supervisor s = new Supervisor(config, socket, table, ServerEvents.all(observers));
    table.generation(s.generation);
    log.info(
        "master pid {} bound {} (shm key {}, job {}, children {}..{}, {} thread(s) each)",
        ProcessHandle.current().pid(),
        socket,
        ShmKeys.toHex(config.shmKey()),
        config.jobClassName(),
        config.minChildren(),
        config.maxChildren(),
        config.threadsPerChild());
    if (config.handleSignals()) {
      MasterSignals.register(s.signalSink);
    }
    Runtime.getRuntime().addShutdownHook(s.shutdownHook);
    s.thread.start();
    s.awaitReady();
    return s;
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
      long millis = Math.min(config.gracefulTimeout().toMillis(), 5_000);
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
      ready.get(config.startTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      request(Command.FORCE_DOWN);
      awaitQuietly();
      throw new PreforkException(
          "the children were not accepting within the start timeout of "
              + config.startTimeout().toSeconds()
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
    return socket.port();
  }

  public InetAddress address() {
    return socket.address();
  }

  public boolean isTerminated() {
    return terminated.getCount() == 0;
  }

  /** Why the master stopped on its own (a job that cannot start), or null. */
  public String failure() {
    return failure;
  }

  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    return terminated.await(timeout, unit);
  }

  /** The status as the table shows it now. */
  public ServerStatus status() {
    synchronized (tableLock) {
      if (tableClosed) {
        throw new IllegalStateException("the server has stopped");
      }
      return TableStatus.of(table.snapshot());
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
        long now = System.currentTimeMillis();
        table.heartbeat(now);
        Command fromTable = table.takeCommand();
        if (fromTable != Command.NONE) {
          log.info("command {} from the status table", fromTable);
          handle(fromTable);
        }
        reap();
        if (stopping()) {
          if (byPid.isEmpty()) {
            break;
          }
          watchdog();
          if (System.nanoTime() - stopDeadlineNanos > 0) {
            killAll(phase == Phase.STOPPING ? "the graceful timeout passed" : "force-down");
          }
        } else {
          watchReadiness(now);
          watchdog();
          markRecycling();
          replace();
          keepSpares(now);
          finishRestart();
        }
        publish();
        awaitCommands(stopping() ? STOPPING_TICK_MILLIS : TICK_MILLIS);
      }
      log.info(
          "master stopped: all children gone, shm key {} removed", ShmKeys.toHex(config.shmKey()));
    } catch (Throwable t) {
      log.error("the master thread failed; killing its children and removing the table", t);
      failure = "the master failed: " + t;
      ready.completeExceptionally(new PreforkException(failure, t));
    } finally {
      cleanUp();
    }
  }

  /**
   * Waits out the rest of a tick, but takes commands as they come: from this JVM at once, from the
   * table (ctl, another process) within {@link #COMMAND_POLL_MILLIS}. A command ends the wait, so
   * the next tick (reaping, spawning) follows it at once.
   */
  private void awaitCommands(long tickMillis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(tickMillis);
    while (true) {
      long left = deadline - System.nanoTime();
      Command next =
          requests.poll(
              Math.max(0, Math.min(left, TimeUnit.MILLISECONDS.toNanos(COMMAND_POLL_MILLIS))),
              TimeUnit.NANOSECONDS);
      if (next != null) {
        while (next != null) {
          handle(next);
          next = requests.poll();
        }
        return;
      }
      if (left <= 0) {
        return;
      }
      Command fromTable = table.takeCommand();
      if (fromTable != Command.NONE) {
        log.info("command {} from the status table", fromTable);
        handle(fromTable);
        return;
      }
    }
  }

  private boolean stopping() {
    return phase == Phase.STOPPING || phase == Phase.FORCE_STOPPING;
  }

  private void handle(Command command) {
    switch (command) {
      case WAIT_DOWN -> waitDown();
      case FORCE_DOWN -> forceDown();
      case RESTART -> restart();
      case ADD_CHILD -> addChild();
      case REMOVE_CHILD -> removeChild();
      case NONE -> {}
    }
  }

  private void waitDown() {
    if (stopping()) {
      return;
    }
    log.info("wait-down: {} finish their connections, then exit", children(byPid.size()));
    phase = Phase.STOPPING;
    table.masterState(MasterState.STOPPING);
    events.stopping();
    stopDeadlineNanos = System.nanoTime() + config.gracefulTimeout().toNanos();
    for (ChildProcess child : List.copyOf(byPid.values())) {
      askToExit(child, ExitRequest.STOP);
    }
    socket.close();
  }

  private void forceDown() {
    if (phase == Phase.FORCE_STOPPING) {
      return;
    }
    log.info("force-down: killing {} now", children(byPid.size()));
    if (!stopping()) {
      events.stopping();
    }
    phase = Phase.FORCE_STOPPING;
    table.masterState(MasterState.FORCE_STOPPING);
    stopDeadlineNanos = System.nanoTime();
    killAll("force-down");
    socket.close();
  }

  private void restart() {
    if (stopping()) {
      log.info("restart ignored: the server is stopping");
      return;
    }
    generation++;
    table.generation(generation);
    phase = Phase.RESTARTING;
    table.masterState(MasterState.RESTARTING);
    int marked = 0;
    for (ChildProcess c : byPid.values()) {
      if (!c.leaving() && c.generation < generation) {
        c.replaceFor = ExitRequest.RESTART;
        marked++;
      }
    }
    events.restarting(true);
    log.info(
        "restart: replacing {} by generation {}; the socket stays open",
        children(marked),
        generation);
  }

  private void finishRestart() {
    if (phase != Phase.RESTARTING) {
      return;
    }
    for (ChildProcess c : byPid.values()) {
      if (c.generation < generation) {
        return;
      }
    }
    phase = Phase.RUNNING;
    table.masterState(MasterState.RUNNING);
    table.countRestart();
    events.restarting(false);
    log.info("restart complete: {} in generation {}", children(liveCount()), generation);
  }

  /** Aborts a restart whose new generation cannot start: the old one keeps serving. */
  private void abortRestart(String why) {
    phase = Phase.RUNNING;
    table.masterState(MasterState.RUNNING);
    for (ChildProcess c : byPid.values()) {
      c.replaceFor = ExitRequest.NONE;
    }
    replacementsStarting = 0;
    replacementsReady = 0;
    events.restarting(false);
    log.error("restart aborted: {}; the running children keep serving", why);
  }

  private void addChild() {
    if (stopping()) {
      return;
    }
    if (floor >= config.maxChildren()) {
      log.info("one child more: the pool is at maxChildren ({})", config.maxChildren());
      return;
    }
    floor++;
    log.info("one child more: the pool keeps at least {}", children(floor));
  }

  private void removeChild() {
    if (stopping()) {
      return;
    }
    if (floor > config.minChildren()) {
      floor--;
    }
    if (liveCount() <= config.minChildren()) {
      log.info("one child less: the pool is at minChildren ({})", config.minChildren());
      return;
    }
    ChildProcess victim = pickToRetire();
    if (victim != null) {
      log.info("one child less: retiring {}", victim);
      askToExit(victim, ExitRequest.RETIRE);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Children coming and going

  private void reap() {
    int[] status = new int[1];
    for (ChildProcess child : List.copyOf(byPid.values())) {
      int r = Posix.waitpid(child.pid, status, Posix.WNOHANG);
      if (r == 0) {
        continue;
      }
      ExitStatus exit;
      if (r < 0) {
        // ECHILD: someone else in this JVM reaped our child (waitpid(-1)); its status is lost.
        log.warn("{} was reaped by someone else in this JVM; its exit status is unknown", child);
        exit = new ExitStatus(-1, 0);
      } else {
        exit = ExitStatus.decode(status[0]);
      }
      exited(child, exit);
    }
  }

  private void exited(ChildProcess child, ExitStatus exit) {
    byPid.remove(child.pid);
    launcher.childGone(child.pid);
    byIndex[child.index] = null;
    long now = System.currentTimeMillis();
    long calls = 0;
    for (int slot : slotsOf(child.index)) {
      calls += table.calls(slot);
    }
    // Counted as retired before the slots are freed: a reader in between may count them twice
    // for a moment, but never sees the total go down.
    table.retireCalls(calls);
    retiredCalls += calls;
    for (int slot : slotsOf(child.index)) {
      table.release(slot, now);
    }
    if (child.replacement && !child.ready) {
      replacementsStarting = Math.max(0, replacementsStarting - 1);
    }
    ExitCause cause;
    if (child.killed()) {
      cause = child.killCause;
    } else if (child.exitRequest != ExitRequest.NONE || stopping()) {
      cause = ExitCause.REQUESTED;
    } else if (!exit.signaled() && exit.exitCode() == 0 && child.ready) {
      cause = ExitCause.EXITED;
    } else {
      cause = ExitCause.CRASHED;
    }
    events.exited(child, exit, cause);
    if (cause == ExitCause.EXITED) {
      log.warn("{} exited on its own ({}) though nobody asked it to; replacing it", child, exit);
      return;
    }
    if (cause != ExitCause.CRASHED && cause != ExitCause.START_TIMEOUT) {
      log.info("{} exited ({}): {}", child, reasonOf(child), exit);
      return;
    }
    table.countCrash();
    if (!child.ready && phase == Phase.RESTARTING && child.generation == generation) {
      // The new generation can't start (a broken deploy, a bad JVM option): keep the old one
      // serving rather than crash-looping replacements, as a failed graceful restart should.
      abortRestart(
          child + " of the new generation died before accepting: " + exit + lastWords(child));
      return;
    }
    boolean startFailure =
        !child.ready
            && (exit.exitCode() == ExitStatus.JOB_FAILED
                || exit.exitCode() == ExitStatus.CHILD_FAILED);
    if (startFailure) {
      boolean jobFailed = exit.exitCode() == ExitStatus.JOB_FAILED;
      String why =
          child + " could not start job " + config.jobClassName() + ": " + exit + lastWords(child);
      if (!ready.isDone()) {
        failWith(why);
        return;
      }
      if (jobFailed && readyCount() == 0) {
        failWith(why + "; no child is serving, so the server stops");
        return;
      }
    }
    if (!ready.isDone()
        && !child.ready
        && ++startDeaths >= START_DEATHS_TO_FAIL
        && readyCount() == 0) {
      // Children that die before accepting, again and again, before the server ever was ready: a
      // broken JVM option or class path. Say so now rather than after the start timeout.
      failWith(
          startDeaths
              + " children died before accepting and none is serving; the last: "
              + child
              + ": "
              + exit
              + lastWords(child));
      return;
    }
    long lived = now - child.spawnedAtMillis;
    long served = child.ready ? (System.nanoTime() - child.readyAtNanos) / 1_000_000 : -1;
    if (served < QUICK_DEATH_MILLIS) {
      // Died before accepting, or right after: a crash loop in the making. It ends once a child
      // spawned after the last such death has served for CRASH_WINDOW_MILLIS.
      crashesInARow++;
      lastCrashMillis = now;
      long delay =
          crashesInARow <= 1
              ? 0
              : Math.min(
                  BACKOFF_MAX_MILLIS, BACKOFF_FIRST_MILLIS << Math.min(20, crashesInARow - 2));
      backoffUntilMillis = now + delay;
      table.spawnBackoffUntil(delay == 0 ? 0 : backoffUntilMillis);
      backoffLogged = false;
      log.warn(
          "{} died {} ms after its start: {}; {} crash(es) in a row, next spawn in {} ms",
          child,
          lived,
          exit,
          crashesInARow,
          delay);
    } else {
      log.warn("{} died: {}; replacing it", child, exit);
    }
  }

  /** The child's last error line, as "; it said: ...", or "" (children's output is at INFO). */
  private String lastWords(ChildProcess child) {
    String said = output.lastWords(child.pid, LAST_WORDS_WAIT_MILLIS);
    return said.isEmpty() ? "; see its output above" : "; it said: " + said;
  }

  private void failWith(String why) {
    log.error(why);
    failure = why;
    ready.completeExceptionally(new PreforkException(why));
    forceDown();
  }

  private static String reasonOf(ChildProcess child) {
    if (child.killed()) {
      return "killed: " + child.killCause.label();
    }
    return child.exitRequest.name().toLowerCase(java.util.Locale.ROOT);
  }

  /** Marks children ready once all their workers accept; replacements become capacity. */
  private void watchReadiness(long now) {
    for (ChildProcess c : byPid.values()) {
      if (!c.ready
          && !c.killed()
          && !c.leaving()
          && !stopping()
          && ready.isDone()
          && System.nanoTime() - c.spawnedAtNanos > config.startTimeout().toNanos()) {
        // Hung in its job's open() (or its JVM's start): it would hold its slots forever. The
        // first start has its own deadline (awaitReady).
        log.warn(
            "{} is not accepting {} s after its spawn (startTimeout): killing it",
            c,
            config.startTimeout().toSeconds());
        kill(c, ExitCause.START_TIMEOUT);
        if (phase == Phase.RESTARTING && c.generation == generation) {
          abortRestart(c + " of the new generation did not accept within the start timeout");
        }
        continue;
      }
      if (!c.ready && allSlotsAccepting(c)) {
        c.ready = true;
        c.readyAtNanos = System.nanoTime();
        long startup = c.readyAtNanos - c.spawnedAtNanos;
        log.debug("{} accepting after {} ms", c, startup / 1_000_000);
        events.childReady(c, startup);
        launcher.childReady(c.pid);
        if (c.replacement) {
          replacementsStarting = Math.max(0, replacementsStarting - 1);
          replacementsReady++;
        }
      }
      if (crashesInARow > 0
          && c.ready
          && c.spawnedAtMillis > lastCrashMillis
          && now - c.spawnedAtMillis >= CRASH_WINDOW_MILLIS) {
        log.info("{} has served for {} s: the crash loop is over", c, CRASH_WINDOW_MILLIS / 1000);
        crashesInARow = 0;
        backoffUntilMillis = 0;
        table.spawnBackoffUntil(0);
      }
    }
    if (!ready.isDone() && readyCount() >= config.minChildren()) {
      table.masterState(phase == Phase.RESTARTING ? MasterState.RESTARTING : MasterState.RUNNING);
      log.info(
          "ready: {} accepting on {} (master pid {})",
          children(readyCount()),
          socket,
          ProcessHandle.current().pid());
      ready.complete(null);
      events.ready(view());
    }
  }

  /** A child busy on one connection past the job timeout: a thread dump first, then a kill. */
  private void watchdog() {
    if (!config.watchdog()) {
      return;
    }
    long now = System.currentTimeMillis();
    long limit = config.jobTimeout().toMillis();
    for (ChildProcess c : byPid.values()) {
      if (c.killed()) {
        continue;
      }
      if (c.dumpRequestedAtNanos != 0) {
        if (System.nanoTime() - c.dumpRequestedAtNanos >= DUMP_GRACE_MILLIS * 1_000_000) {
          kill(c, ExitCause.WATCHDOG);
        }
        continue;
      }
      for (int slot : slotsOf(c.index)) {
        if (table.state(slot) != SlotState.BUSY) {
          continue;
        }
        long busy = now - table.stateSinceMillis(slot);
        if (busy > limit) {
          log.warn(
              "watchdog: slot {} (pid {}) has been busy on one connection for {} s, more than the"
                  + " job timeout of {} s; its thread dump goes to {}; killing and replacing it",
              slot,
              c.pid,
              String.format("%.1f", busy / 1000.0),
              String.format("%.1f", limit / 1000.0),
              output.describe(c.index, c.pid));
          c.dumpRequestedAtNanos = System.nanoTime();
          Posix.kill(c.pid, Posix.SIGQUIT);
          break;
        }
      }
    }
  }

  /** Children that served their call limit are marked for replacement. */
  private void markRecycling() {
    if (config.maxCallsPerChild() <= 0) {
      return;
    }
    for (ChildProcess c : byPid.values()) {
      if (c.leaving() || c.replaceFor != ExitRequest.NONE || c.callLimit <= 0) {
        continue;
      }
      long calls = 0;
      for (int slot : slotsOf(c.index)) {
        calls += table.calls(slot);
      }
      if (calls >= c.callLimit) {
        c.replaceFor = ExitRequest.RECYCLE;
        log.info("{} served {} connections (its limit {}): recycling it", c, calls, c.callLimit);
      }
    }
  }

  /**
   * Replaces marked children: spawns replacements, and each replacement that accepts lets one
   * marked child retire. When the pool is full, one marked child retires first.
   */
  private void replace() {
    List<ChildProcess> marked = new ArrayList<>();
    int retiring = 0;
    for (ChildProcess c : byPid.values()) {
      if (c.leaving()) {
        if (c.exitRequest == ExitRequest.RESTART || c.exitRequest == ExitRequest.RECYCLE) {
          retiring++;
        }
      } else if (c.replaceFor != ExitRequest.NONE) {
        marked.add(c);
      }
    }
    if (marked.isEmpty()) {
      replacementsReady = 0; // surplus capacity, if any, is the spare policy's business
      return;
    }
    // Idle ones first: they leave at once; busy ones finish their connection first.
    marked.sort(
        Comparator.comparing((ChildProcess c) -> !isIdle(c))
            .thenComparingLong(c -> c.spawnedAtNanos));
    while (replacementsReady > 0 && !marked.isEmpty()) {
      ChildProcess old = marked.remove(0);
      askToExit(old, old.replaceFor);
      replacementsReady--;
      retiring++;
    }
    int wanted = marked.size() - replacementsStarting - replacementsReady;
    while (wanted > 0
        && replacementsStarting < REPLACE_PARALLELISM
        && !backingOff()
        && spawn(true)) {
      replacementsStarting++;
      wanted--;
    }
    if (wanted > 0 && replacementsStarting == 0 && retiring == 0 && freeIndex() < 0) {
      ChildProcess old = marked.get(0);
      log.debug("the pool is full: retiring {} before its replacement starts", old);
      askToExit(old, old.replaceFor);
    }
  }

  /**
   * Keeps at least the floor of children and {@code minSpare} idle workers (spawning 1, 2, 4 ...
   * per tick while short), and retires one idle child per second while more than {@code maxSpare}
   * workers stay idle.
   */
  private void keepSpares(long now) {
    int live = liveCount();
    int threads = config.threadsPerChild();
    int idle = 0;
    int starting = 0;
    for (ChildProcess c : byPid.values()) {
      if (c.leaving()) {
        continue;
      }
      if (!c.ready) {
        starting += threads;
        continue;
      }
      for (int slot : slotsOf(c.index)) {
        if (table.state(slot) == SlotState.IDLE) {
          idle++;
        }
      }
    }
    int belowFloor = floor - live;
    int shortOfSpares = config.minSpare() - idle - starting;
    int toSpawn =
        Math.max(
            belowFloor,
            shortOfSpares > 0 ? Math.min(spawnRate, ceilDiv(shortOfSpares, threads)) : 0);
    toSpawn = Math.min(toSpawn, config.maxChildren() - live);
    if (toSpawn > 0 && backingOff()) {
      if (!backoffLogged) {
        backoffLogged = true;
        log.info("crash-loop backoff: no spawn before {} ms from now", backoffUntilMillis - now);
      }
      toSpawn = 0;
    }
    int spawned = 0;
    while (spawned < toSpawn && spawn(false)) {
      spawned++;
    }
    if (shortOfSpares > 0 && belowFloor <= 0 && spawned > 0) {
      log.info(
          "{} idle worker(s), fewer than minSpare {}: spawned {} child(ren), {} in the pool",
          idle,
          config.minSpare(),
          spawned,
          liveCount());
      spawnRate = Math.min(MAX_SPAWN_RATE, spawnRate * 2);
    } else if (shortOfSpares <= 0) {
      spawnRate = 1;
    }
    if (idle > config.maxSpare() && live > floor) {
      if (surplusSinceMillis == 0) {
        surplusSinceMillis = now;
      } else if (now - surplusSinceMillis >= SURPLUS_RETIRE_MILLIS) {
        ChildProcess victim = pickToRetire();
        if (victim != null) {
          log.info(
              "{} idle workers, more than maxSpare {}: retiring {}",
              idle,
              config.maxSpare(),
              victim);
          askToExit(victim, ExitRequest.RETIRE);
        }
        surplusSinceMillis = now;
      }
    } else {
      surplusSinceMillis = 0;
    }
  }

  private boolean backingOff() {
    return System.currentTimeMillis() < backoffUntilMillis;
  }

  /**
   * An idle child to retire: one marked for replacement if any (it goes anyway), else the one that
   * served least (warm children keep serving).
   */
  private ChildProcess pickToRetire() {
    ChildProcess best = null;
    long bestCalls = Long.MAX_VALUE;
    for (ChildProcess c : byPid.values()) {
      if (c.leaving() || !c.ready || !isIdle(c)) {
        continue;
      }
      long calls = c.replaceFor != ExitRequest.NONE ? -1 : 0;
      for (int slot : slotsOf(c.index)) {
        calls += c.replaceFor != ExitRequest.NONE ? 0 : table.calls(slot);
      }
      if (calls < bestCalls) {
        best = c;
        bestCalls = calls;
      }
    }
    return best;
  }

  private boolean spawn(boolean replacement) {
    int index = freeIndex();
    if (index < 0) {
      return false;
    }
    long now = System.currentTimeMillis();
    List<Integer> slots = slotsOf(index);
    for (int w = 0; w < slots.size(); w++) {
      table.reserve(slots.get(w), w, generation, now);
    }
    int pid;
    int[] pipe = null;
    try {
      pipe = output.newPipe();
      pid = launcher.spawn(index, generation, pipe[1]);
      output.attach(pipe, index, pid);
    } catch (PreforkException e) {
      if (pipe != null) {
        output.abandon(pipe);
      }
      for (int slot : slots) {
        table.release(slot, now);
      }
      log.error("cannot spawn a child: {}", e.getMessage());
      crashesInARow++;
      backoffUntilMillis = now + BACKOFF_MAX_MILLIS;
      return false;
    }
    for (int slot : slots) {
      table.pid(slot, pid);
    }
    ChildProcess child =
        new ChildProcess(pid, index, generation, System.nanoTime(), now, callLimit(), replacement);
    byIndex[index] = child;
    byPid.put(pid, child);
    table.countSpawn();
    events.spawned(child);
    log.info("spawned {}{}", child, replacement ? " as a replacement" : "");
    return true;
  }

  /** maxCallsPerChild plus a random jitter, so children do not all recycle at once. */
  private long callLimit() {
    if (config.maxCallsPerChild() <= 0) {
      return 0;
    }
    long jitter = config.recycleJitter();
    return config.maxCallsPerChild()
        + (jitter > 0 ? ThreadLocalRandom.current().nextLong(jitter + 1) : 0);
  }

  private void askToExit(ChildProcess child, ExitRequest reason) {
    if (child.leaving()) {
      return;
    }
    child.exitRequest = reason;
    for (int slot : slotsOf(child.index)) {
      table.requestExit(slot, reason);
    }
    // The signal wakes a child blocked in accept; the request in the table says why.
    Posix.kill(child.pid, Posix.SIGTERM);
    log.debug("asked {} to exit ({})", child, reason);
  }

  private void kill(ChildProcess child, ExitCause cause) {
    if (!child.killed()) {
      child.killCause = cause;
      // Only pids this master spawned: never a pid read from shared memory.
      Posix.kill(child.pid, Posix.SIGKILL);
    }
  }

  private void killAll(String why) {
    for (ChildProcess child : byPid.values()) {
      kill(child, ExitCause.KILLED);
    }
    log.debug("killed all children: {}", why);
  }

  /** How often the call rate is computed. */
  static final long RATE_INTERVAL_MILLIS = 1_000;

  private void publish() {
    int[] queue = socket.acceptQueue();
    if (queue != null) {
      table.listenQueue(queue[0], queue[1]);
    }
    long now = System.currentTimeMillis();
    if (now - rateSinceMillis >= RATE_INTERVAL_MILLIS) {
      long total = allCalls();
      if (rateSinceMillis != 0) {
        long interval = now - rateSinceMillis;
        table.callRate((total - rateSinceCalls) * 1000.0 / interval, interval);
      }
      rateSinceMillis = now;
      rateSinceCalls = total;
    }
    events.tick(view());
  }

  /** Every call accepted since the start: exited children's and the live ones'. */
  long allCalls() {
    long calls = retiredCalls;
    for (ChildProcess c : byPid.values()) {
      for (int slot : slotsOf(c.index)) {
        calls += table.calls(slot);
      }
    }
    return calls;
  }

  private ServerView view() {
    int idle = 0;
    int busy = 0;
    int starting = 0;
    for (ChildProcess c : byPid.values()) {
      if (!c.ready) {
        starting++;
      }
      for (int slot : slotsOf(c.index)) {
        SlotState s = table.state(slot);
        if (s == SlotState.IDLE) {
          idle++;
        } else if (s == SlotState.BUSY) {
          busy++;
        }
      }
    }
    return new ServerView(idle, busy, byPid.size(), starting, generation);
  }

  private void cleanUp() {
    synchronized (this) {
      if (cleanedUp) {
        return;
      }
      cleanedUp = true;
    }
    try {
      if (!byPid.isEmpty()) {
        killAll("the master is stopping");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!byPid.isEmpty() && System.nanoTime() < deadline) {
          reap();
          sleep(5);
        }
      }
    } catch (Throwable t) {
      log.error("error while killing children", t);
    } finally {
      try {
        launcher.close();
        output.close();
        socket.close();
        // Before the table goes: a controller waiting for it to go sees everything else done.
        events.stopped();
      } finally {
        try {
          // Under the lock: a status() reading the mapping must not see it unmapped mid-read.
          synchronized (tableLock) {
            tableClosed = true;
            table.close();
          }
        } finally {
          ready.completeExceptionally(
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

  // ---------------------------------------------------------------------------------------------
  // Reading the pool

  private int liveCount() {
    int n = 0;
    for (ChildProcess c : byPid.values()) {
      if (!c.leaving()) {
        n++;
      }
    }
    return n;
  }

  private int readyCount() {
    int n = 0;
    for (ChildProcess c : byPid.values()) {
      if (c.ready && !c.leaving()) {
        n++;
      }
    }
    return n;
  }

  private boolean isIdle(ChildProcess c) {
    for (int slot : slotsOf(c.index)) {
      if (table.state(slot) != SlotState.IDLE) {
        return false;
      }
    }
    return true;
  }

  private boolean allSlotsAccepting(ChildProcess c) {
    for (int slot : slotsOf(c.index)) {
      if (!table.state(slot).isAccepting()) {
        return false;
      }
    }
    return true;
  }

  private int freeIndex() {
    for (int i = 0; i < byIndex.length; i++) {
      if (byIndex[i] == null) {
        return i;
      }
    }
    return -1;
  }

  private List<Integer> slotsOf(int index) {
    int workers = config.threadsPerChild();
    List<Integer> slots = new ArrayList<>(workers);
    for (int w = 0; w < workers; w++) {
      slots.add(index * workers + w);
    }
    return slots;
  }

  /** "1 child", "3 children". */
  static String children(int n) {
    return n == 1 ? "1 child" : n + " children";
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
