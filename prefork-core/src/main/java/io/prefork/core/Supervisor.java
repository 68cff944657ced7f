package io.prefork.core;

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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master: one thread that spawns, reaps and replaces children, grows the pool, takes commands
 * and keeps the table's header fresh. Everything that changes the pool happens on this thread;
 * other threads (API calls, signal handlers) only queue commands for it.
 */
final class Supervisor {
  private static final Logger log = LoggerFactory.getLogger("io.prefork.master");

  /** How often the master looks at its children and the command word. */
  static final long TICK_MILLIS = 50;

  /** While stopping, the master reaps more often so it is gone soon after its last child. */
  static final long STOPPING_TICK_MILLIS = 5;

  /** New children starting at once during a restart: child JVMs compete for the same cores. */
  static final int RESTART_PARALLELISM = 2;

  /** Spawns per tick when refilling the pool, so one tick stays short. */
  static final int MAX_SPAWNS_PER_TICK = 8;

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
  private final ChildProcess[] byIndex;
  private final Map<Integer, ChildProcess> byPid = new LinkedHashMap<>();
  private final LinkedBlockingQueue<Command> requests = new LinkedBlockingQueue<>();
  private final CompletableFuture<Void> ready = new CompletableFuture<>();
  private final CountDownLatch terminated = new CountDownLatch(1);
  private final Thread thread;

  private final java.util.function.Consumer<Command> signalSink = this::request;
  private final Thread shutdownHook = new Thread(this::onJvmExit, "prefork-shutdown");

  private Phase phase = Phase.RUNNING;
  private long generation = 1;
  private int target;
  private long stopDeadlineNanos;
  private int restartReadyUnpaired;
  private boolean cleanedUp;

  private Supervisor(ServerConfig config, ListenSocket socket, MasterTable table) {
    this.config = config;
    this.socket = socket;
    this.table = table;
    this.launcher = new ChildLauncher(config, socket.fd());
    this.byIndex = new ChildProcess[config.maxChildren()];
    this.target = config.minChildren();
    this.thread = new Thread(this::run, "prefork-master-" + ShmKeys.toHex(config.shmKey()));
  }

  /** Binds, creates the table, starts the master thread and waits until the pool is ready. */
  static Supervisor start(ServerConfig config) {
    ListenSocket socket = ListenSocket.bind(config.bindAddress(), config.port(), config.backlog());
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
    Supervisor s = new Supervisor(config, socket, table);
    table.generation(s.generation);
    log.info(
        "master pid {} listening on {} (shm key {}, job {}, children {}..{}, {} thread(s) each)",
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
    s.installShutdownHook();
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

  private void installShutdownHook() {
    Runtime.getRuntime().addShutdownHook(shutdownHook);
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
      if (!terminated.await(
          Math.min(config.gracefulTimeout().toMillis(), 5_000), TimeUnit.MILLISECONDS)) {
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

  int port() {
    return socket.port();
  }

  InetAddress address() {
    return socket.address();
  }

  boolean isTerminated() {
    return terminated.getCount() == 0;
  }

  boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    return terminated.await(timeout, unit);
  }

  /** Queues a command for the master thread (from the API or a signal handler). */
  void request(Command command) {
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
          if (System.nanoTime() - stopDeadlineNanos > 0) {
            killAll(phase == Phase.STOPPING ? "graceful timeout passed" : "force-down");
          }
        } else {
          watchReadiness();
          if (phase == Phase.RESTARTING) {
            restartStep();
          }
          managePool();
        }
        publishListenQueue();
        Command next =
            requests.poll(stopping() ? STOPPING_TICK_MILLIS : TICK_MILLIS, TimeUnit.MILLISECONDS);
        while (next != null) {
          handle(next);
          next = requests.poll();
        }
      }
      log.info(
          "master stopped: all children gone, shm key {} removed", ShmKeys.toHex(config.shmKey()));
    } catch (Throwable t) {
      log.error("the master thread failed; killing its children and removing the table", t);
      ready.completeExceptionally(new PreforkException("the master failed: " + t, t));
    } finally {
      cleanUp();
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
      case ADD_CHILD -> resize(+1);
      case REMOVE_CHILD -> resize(-1);
      case NONE -> {}
    }
  }

  private void waitDown() {
    if (stopping()) {
      return;
    }
    log.info("wait-down: {} children finish their connections, then exit", byPid.size());
    phase = Phase.STOPPING;
    table.masterState(MasterState.STOPPING);
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
    log.info("force-down: killing {} children now", byPid.size());
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
    restartReadyUnpaired = 0;
    table.masterState(MasterState.RESTARTING);
    log.info(
        "restart: replacing {} children by generation {}; the socket stays open",
        liveCount(),
        generation);
  }

  private void resize(int delta) {
    if (stopping()) {
      return;
    }
    int wanted = Math.max(config.minChildren(), Math.min(config.maxChildren(), target + delta));
    if (wanted == target) {
      log.info(
          "pool stays at {} children (bounds {}..{})",
          target,
          config.minChildren(),
          config.maxChildren());
      return;
    }
    target = wanted;
    log.info("pool target is now {} children", target);
    if (delta < 0) {
      retireSurplus();
    }
  }

  /** Retires idle children beyond the target, newest first. */
  private void retireSurplus() {
    List<ChildProcess> live = live();
    live.sort(Comparator.comparingLong((ChildProcess c) -> c.spawnedAtNanos).reversed());
    for (ChildProcess child : live) {
      if (liveCount() <= target) {
        return;
      }
      askToExit(child, ExitRequest.RETIRE);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Children

  private void reap() {
    int[] status = new int[1];
    for (ChildProcess child : List.copyOf(byPid.values())) {
      int r = Posix.get().waitpid(child.pid, status, Posix.WNOHANG);
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
    byIndex[child.index] = null;
    long now = System.currentTimeMillis();
    for (int slot : slotsOf(child)) {
      table.release(slot, now);
    }
    if (child.leaving() || stopping()) {
      log.info(
          "{} exited ({}): {}",
          child,
          child.killed ? "killed" : child.exitRequest.name().toLowerCase(),
          exit);
      return;
    }
    table.countCrash();
    if (!ready.isDone()
        && (exit.exitCode() == ExitStatus.JOB_FAILED
            || exit.exitCode() == ExitStatus.CHILD_FAILED)) {
      ready.completeExceptionally(
          new PreforkException(
              child
                  + " could not start job "
                  + config.jobClassName()
                  + ": "
                  + exit
                  + "; the child's error output above says why"));
      forceDown();
      return;
    }
    log.warn("{} died: {}; respawning", child, exit);
  }

  private void managePool() {
    int live = liveCount();
    int budget = MAX_SPAWNS_PER_TICK;
    while (live < target && budget-- > 0 && spawn()) {
      live++;
    }
    if (live < config.maxChildren()
        && startingCount() == 0
        && idleWorkers() == 0
        && live >= target) {
      target = live + 1;
      log.info("all {} children are busy: growing the pool to {}", live, target);
      spawn();
    }
  }

  /** One step of a rolling restart: a ready new child lets one old child retire. */
  private void restartStep() {
    List<ChildProcess> old = new ArrayList<>();
    int retiring = 0;
    int newStarting = 0;
    for (ChildProcess c : byPid.values()) {
      if (c.generation < generation) {
        if (!c.leaving()) {
          old.add(c);
        } else if (c.exitRequest == ExitRequest.RESTART) {
          retiring++;
        }
      } else if (!c.ready && !c.leaving()) {
        newStarting++;
      }
    }
    // Idle ones first: they leave at once; busy ones finish their connection first.
    old.sort(
        Comparator.comparing((ChildProcess c) -> !isIdle(c))
            .thenComparingLong(c -> c.spawnedAtNanos));
    while (restartReadyUnpaired > 0 && !old.isEmpty()) {
      askToExit(old.remove(0), ExitRequest.RESTART);
      restartReadyUnpaired--;
      retiring++;
    }
    if (old.isEmpty()) {
      if (retiring == 0 && oldGenerationCount() == 0) {
        phase = Phase.RUNNING;
        restartReadyUnpaired = 0;
        table.masterState(MasterState.RUNNING);
        table.countRestart();
        log.info("restart complete: {} children in generation {}", liveCount(), generation);
      }
      return;
    }
    int toSpawn = old.size() - newStarting;
    while (toSpawn > 0 && newStarting < RESTART_PARALLELISM && spawn()) {
      newStarting++;
      toSpawn--;
    }
    if (toSpawn > 0 && newStarting == 0 && retiring == 0 && freeIndex() < 0) {
      // The pool is full: make room by retiring one old child; the others keep accepting.
      askToExit(old.get(0), ExitRequest.RESTART);
    }
  }

  /**
   * Marks children ready once all their workers accept; pairs new ones with old during a restart.
   */
  private void watchReadiness() {
    int readyCount = 0;
    for (ChildProcess c : byPid.values()) {
      if (!c.ready && allSlotsAccepting(c)) {
        c.ready = true;
        c.readyAtNanos = System.nanoTime();
        log.debug("{} accepting after {} ms", c, (c.readyAtNanos - c.spawnedAtNanos) / 1_000_000);
        if (phase == Phase.RESTARTING && c.generation == generation) {
          restartReadyUnpaired++;
        }
      }
      if (c.ready) {
        readyCount++;
      }
    }
    if (!ready.isDone() && readyCount >= config.minChildren()) {
      table.masterState(phase == Phase.RESTARTING ? MasterState.RESTARTING : MasterState.RUNNING);
      log.info(
          "ready: {} children accepting on {} (master pid {})",
          readyCount,
          socket,
          ProcessHandle.current().pid());
      ready.complete(null);
    }
  }

  private boolean spawn() {
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
    try {
      pid = launcher.spawn(index, generation);
    } catch (PreforkException e) {
      for (int slot : slots) {
        table.release(slot, now);
      }
      log.error("cannot spawn a child: {}", e.getMessage());
      return false;
    }
    for (int slot : slots) {
      table.pid(slot, pid);
    }
    ChildProcess child = new ChildProcess(pid, index, generation, System.nanoTime());
    byIndex[index] = child;
    byPid.put(pid, child);
    table.countSpawn();
    log.info("spawned {}", child);
    return true;
  }

  private void askToExit(ChildProcess child, ExitRequest reason) {
    if (child.leaving()) {
      return;
    }
    child.exitRequest = reason;
    for (int slot : slotsOf(child)) {
      table.requestExit(slot, reason);
    }
    // The signal wakes a child blocked in accept; the request in the table says why.
    Posix.get().kill(child.pid, Posix.SIGTERM);
    log.debug("asked {} to exit ({})", child, reason);
  }

  private void killAll(String why) {
    for (ChildProcess child : byPid.values()) {
      if (!child.killed) {
        child.killed = true;
        // Only pids this master spawned: never a pid read from shared memory.
        Posix.get().kill(child.pid, Posix.SIGKILL);
      }
    }
    log.debug("killed all children: {}", why);
  }

  private void publishListenQueue() {
    int[] queue = socket.acceptQueue();
    if (queue != null) {
      table.listenQueue(queue[0], queue[1]);
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
      if (!byPid.isEmpty()) {
        killAll("master stopping");
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
        table.close();
      } finally {
        socket.close();
        ready.completeExceptionally(new PreforkException("the server stopped before it was ready"));
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

  // ---------------------------------------------------------------------------------------------
  // Reading the pool

  private List<ChildProcess> live() {
    List<ChildProcess> live = new ArrayList<>();
    for (ChildProcess c : byPid.values()) {
      if (!c.leaving()) {
        live.add(c);
      }
    }
    return live;
  }

  private int liveCount() {
    int n = 0;
    for (ChildProcess c : byPid.values()) {
      if (!c.leaving()) {
        n++;
      }
    }
    return n;
  }

  private int startingCount() {
    int n = 0;
    for (ChildProcess c : byPid.values()) {
      if (!c.ready && !c.leaving()) {
        n++;
      }
    }
    return n;
  }

  private int oldGenerationCount() {
    int n = 0;
    for (ChildProcess c : byPid.values()) {
      if (c.generation < generation) {
        n++;
      }
    }
    return n;
  }

  /** Idle workers in children that still count as capacity. */
  private int idleWorkers() {
    int idle = 0;
    for (ChildProcess c : byPid.values()) {
      if (c.leaving()) {
        continue;
      }
      for (int slot : slotsOf(c)) {
        if (table.state(slot) == SlotState.IDLE) {
          idle++;
        }
      }
    }
    return idle;
  }

  private boolean isIdle(ChildProcess c) {
    for (int slot : slotsOf(c)) {
      if (table.state(slot) != SlotState.IDLE) {
        return false;
      }
    }
    return true;
  }

  private boolean allSlotsAccepting(ChildProcess c) {
    for (int slot : slotsOf(c)) {
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

  private List<Integer> slotsOf(ChildProcess child) {
    return slotsOf(child.index);
  }

  private List<Integer> slotsOf(int index) {
    int workers = config.threadsPerChild();
    List<Integer> slots = new ArrayList<>(workers);
    for (int w = 0; w < workers; w++) {
      slots.add(index * workers + w);
    }
    return slots;
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
