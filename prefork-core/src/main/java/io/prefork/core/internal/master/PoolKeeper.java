package io.prefork.core.internal.master;

import static io.prefork.core.internal.master.MasterContext.children;
import static io.prefork.core.internal.master.MasterContext.seconds;

import io.prefork.core.PreforkException;
import io.prefork.core.internal.os.CpuBusy;
import io.prefork.core.internal.os.CpuTimes;
import io.prefork.shm.ExitRequest;
import io.prefork.shm.PoolDecision;
import io.prefork.shm.SlotState;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's work on every tick while it runs, each step a policy applied to the pool: children
 * become ready (or are killed past the start timeout), the {@link Watchdog} finds hung workers,
 * every leaving child's {@link ExitDeadline} is kept, {@link Recycling} marks children, the {@link
 * Replacements} of a restart or recycling swap them without losing capacity, and the {@link
 * PoolPolicy} grows or shrinks the pool.
 */
final class PoolKeeper {
  private static final Logger log = LoggerFactory.getLogger("io.prefork.master");

  /** After asking a child for a thread dump, how long it gets to write it before the kill. */
  static final long DUMP_GRACE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);

  private final MasterContext m;
  private final MasterPhases phases;
  private final PoolPolicy policy;
  private final Recycling recycling;
  private final Watchdog watchdog;
  private final ExitDeadline exitDeadline;
  private boolean backoffLogged;

  /** A shortage held back for busy cores is logged at most this often. */
  private static final long HELD_LOG_INTERVAL_NANOS =
      java.util.concurrent.TimeUnit.MINUTES.toNanos(1);

  private final CpuBusy cpu;

  /**
   * Marked children retired before a replacement could start (the pool was full): the next
   * replacements take their place with no warm child serving for them, so without a slow start.
   */
  private int retiredAhead;

  private long callsLastTick = -1;

  /** Whether the children accepted a connection since the last tick. */
  private boolean accepting;

  /** When the children last accepted a connection or had one in hand (0: never). */
  private long servingAtNanos;

  /** A pool that accepted nothing for this long has no clients for a slow start to spare. */
  static final long SERVING_WITHIN_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);

  private long heldLoggedAtNanos;

  PoolKeeper(MasterContext m, MasterPhases phases, Watchdog watchdog) {
    this.m = m;
    this.phases = phases;
    this.watchdog = watchdog;
    ServerConfig config = m.config;
    this.policy =
        new PoolPolicy(
            config.maxChildren(),
            config.threadsPerChild(),
            config.minSpare(),
            config.maxSpare(),
            config.childIdleTimeout().toNanos(),
            PoolPolicy.SHORTAGE_NANOS,
            m.clock);
    this.recycling =
        new Recycling(
            config.maxCallsPerChild(),
            config.recycleJitter(),
            bound -> ThreadLocalRandom.current().nextLong(bound));
    this.exitDeadline =
        new ExitDeadline(config.gracefulTimeout().toNanos(), DUMP_GRACE_NANOS, m.clock);
    this.cpu = new CpuBusy(CpuTimes::machine, m.clock::nanoTime);
  }

  /** One tick of a running (not stopping) master. */
  void tick() {
    long calls = m.pool.allCalls();
    if (callsLastTick >= 0 && calls != callsLastTick || anyBusy()) {
      servingAtNanos = m.clock.nanoTime(); // serving: new connections, or long ones in hand
    }
    accepting = calls != callsLastTick;
    callsLastTick = calls;
    watchReadiness();
    watchdog();
    enforceExitDeadlines();
    markRecycling();
    replace();
    keepSpares();
  }

  private boolean anyBusy() {
    for (ChildProcess c : m.pool.all()) {
      if (m.pool.count(c, SlotState.BUSY) > 0) {
        return true;
      }
    }
    return false;
  }

  /** Marks children ready once all their workers accept; replacements become capacity. */
  void watchReadiness() {
    long now = m.clock.nanoTime();
    for (ChildProcess c : m.pool.all()) {
      if (!c.ready
          && !c.leaving()
          && m.ready.isDone()
          && now - c.spawnedAtNanos > m.config.startTimeout().toNanos()) {
        // Hung in its job's open() (or its JVM's start): it would hold its slots forever. The
        // first start has its own deadline (awaitReady).
        log.warn(
            "{} is not accepting {} s after its spawn (startTimeout): killing it",
            c,
            m.config.startTimeout().toSeconds());
        m.pool.kill(c, ExitCause.START_TIMEOUT);
        if (phases.ofNewGeneration(c)) {
          phases.abortRestart(c + " of the new generation did not accept within the start timeout");
        }
        continue;
      }
      if (!c.ready && !c.killed() && m.pool.allSlotsAccepting(c)) {
        c.ready = true;
        c.readyAtNanos = now;
        long startup = c.readyAtNanos - c.spawnedAtNanos;
        log.debug("{} accepting after {} ms", c, startup / 1_000_000);
        m.events.childReady(c, startup);
        m.launcher.childReady(c.pid);
      }
      if (c.ready
          && c.replacement
          && !c.replacementCounted
          && !c.leaving()
          && now - c.readyAtNanos >= c.slowStartNanos) {
        c.replacementCounted = true;
        if (c.slowStartNanos > 0) {
          log.info("{}: slow start over, it takes its full share", c);
        }
        m.replacements.becameReady();
      }
      if (c.ready && m.backoff.childServing(c.spawnedAtNanos)) {
        log.info("{} has served for 10 s: the crash loop is over", c);
        m.table.spawnBackoffUntil(0);
      }
    }
    if (!m.ready.isDone() && m.pool.readyCount() >= m.config.minChildren()) {
      m.table.masterState(phases.readyState());
      log.info(
          "ready: {} accepting on {} (master pid {})",
          children(m.pool.readyCount()),
          m.socket,
          ProcessHandle.current().pid());
      m.ready.complete(null);
      m.events.ready(m.publisher.view(m.replacements.generation()));
    }
  }

  /**
   * A worker busy on one connection past the job timeout: its child stops accepting and a
   * replacement starts at once, so capacity holds; its healthy siblings finish their connections
   * (the exit deadline cuts that short once only hung ones are left), then come the thread dump and
   * the kill.
   */
  void watchdog() {
    if (!watchdog.enabled()) {
      return;
    }
    for (ChildProcess c : List.copyOf(m.pool.all())) {
      if (c.hung
          && !c.leaving()
          && m.clock.nanoTime() - c.dumpRequestedAtNanos >= DUMP_GRACE_NANOS) {
        // Its dump had its second (asked to exit at once, the child could be gone before the
        // JVM printed it): now it stops accepting and its other workers finish.
        m.pool.askToExit(c, ExitRequest.RETIRE);
      }
      if (c.killed() || c.hung) {
        continue;
      }
      for (int slot : m.pool.slotsOf(c)) {
        if (!watchdog.hung(slot, m.table.state(slot) == SlotState.BUSY, m.table.calls(slot))) {
          continue;
        }
        c.hung = true;
        boolean replace = !c.leaving();
        log.warn(
            "watchdog: slot {} (pid {}) has been busy on one connection for {} s, more than the"
                + " job timeout of {} s; its thread dump goes to {}; {} stops accepting in 1 s{},"
                + " its other workers finish their connections, then it is killed",
            slot,
            c.pid,
            seconds(watchdog.busyNanos(slot)),
            seconds(watchdog.limitNanos()),
            m.output.describe(c.index, c.pid),
            c,
            replace ? " and a replacement starts" : "");
        // The dump first, while the stack still shows where it hangs; it stops accepting a
        // second later (above), when the dump is written.
        m.pool.askForThreadDump(c);
        if (replace) {
          spawn(false, 0);
        }
        break;
      }
    }
  }

  /** Children asked to exit get the graceful timeout, then a thread dump, then the kill. */
  void enforceExitDeadlines() {
    for (ChildProcess c : m.pool.all()) {
      if (c.killed() || c.exitRequest == ExitRequest.NONE) {
        continue;
      }
      switch (exitDeadline.step(c.exitAskedAtNanos, c.dumpRequestedAtNanos, onlyHungBusy(c))) {
        case WAIT -> {}
        case DUMP -> {
          if (!c.hung) {
            log.warn(
                "{} was asked to exit ({}) {} s ago and still has {} busy worker(s)"
                    + " (gracefulTimeout): its thread dump goes to {}; killing it in 1 s",
                c,
                c.exitRequest.name().toLowerCase(java.util.Locale.ROOT),
                seconds(m.clock.nanoTime() - c.exitAskedAtNanos),
                m.pool.count(c, SlotState.BUSY),
                m.output.describe(c.index, c.pid));
          }
          m.pool.askForThreadDump(c);
        }
        case KILL -> {
          log.warn("{} killed: {}", c, c.hung ? "hung worker" : "past its exit deadline");
          m.pool.kill(c, c.hung ? ExitCause.WATCHDOG : ExitCause.EXIT_TIMEOUT);
        }
      }
    }
  }

  /** A hung child none of whose workers is busy but on its hung connection: nothing to wait for. */
  private boolean onlyHungBusy(ChildProcess c) {
    if (!c.hung) {
      return false;
    }
    for (int slot : m.pool.slotsOf(c)) {
      if (m.table.state(slot) == SlotState.BUSY
          && watchdog.busyNanos(slot) <= watchdog.limitNanos()) {
        return false;
      }
    }
    return true;
  }

  /** Children that served their call limit are marked for replacement. */
  private void markRecycling() {
    if (!recycling.enabled()) {
      return;
    }
    for (ChildProcess c : m.pool.all()) {
      if (c.leaving() || c.replaceFor != ExitRequest.NONE) {
        continue;
      }
      long calls = m.pool.calls(c);
      if (recycling.due(calls, c.callLimit)) {
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
    for (ChildProcess c : m.pool.all()) {
      if (c.leaving()) {
        if (c.exitRequest == ExitRequest.RESTART || c.exitRequest == ExitRequest.RECYCLE) {
          retiring++;
        }
      } else if (c.replaceFor != ExitRequest.NONE) {
        marked.add(c);
      }
    }
    if (marked.isEmpty()) {
      if (m.replacements.starting() > 0) {
        // A marked child left by itself (a crash): its replacement is one more child now.
        m.pool.forgetReplacements();
      }
      m.replacements.clear();
      retiredAhead = 0;
      return;
    }
    // Idle ones first: they leave at once; busy ones finish their connection first.
    marked.sort(
        Comparator.comparing((ChildProcess c) -> !m.pool.isIdle(c))
            .thenComparingLong(c -> c.spawnedAtNanos));
    while (!marked.isEmpty() && m.replacements.takeReady()) {
      ChildProcess old = marked.remove(0);
      m.pool.askToExit(old, old.replaceFor);
      retiring++;
    }
    // A slow start spares clients the cold JVM while the cores have no time for its warm-up: the
    // cores busy (not only with the children's own start), and the pool serving.
    boolean serving =
        servingAtNanos != 0 && m.clock.nanoTime() - servingAtNanos < SERVING_WITHIN_NANOS;
    boolean coresBusy = cpu.fraction() >= CpuBusy.SATURATED && serving;
    long slowStart = coresBusy ? m.config.slowStart().toNanos() : 0;
    int children = m.pool.liveCount() - m.replacements.starting();
    int wanted =
        m.replacements.toSpawn(marked.size(), Replacements.parallelism(coresBusy, children));
    while (wanted > 0 && !m.backoff.backingOff()) {
      boolean inPlaceOfARetired = retiredAhead > 0;
      if (!spawn(true, inPlaceOfARetired ? 0 : slowStart)) {
        break;
      }
      if (inPlaceOfARetired) {
        retiredAhead--;
      }
      m.replacements.spawned();
      wanted--;
    }
    if (!marked.isEmpty()
        && m.replacements.starting() == 0
        && retiring == 0
        && !m.pool.hasFreeIndex()) {
      ChildProcess old = marked.get(0);
      log.debug("the pool is full: retiring {} before its replacement starts", old);
      m.pool.askToExit(old, old.replaceFor);
      retiredAhead++;
    }
  }

  /** Applies the pool policy: grows with demand, gives capacity back once it stayed unneeded. */
  private void keepSpares() {
    PoolPolicy.Decision d =
        policy.decide(
            new PoolPolicy.Sample(
                m.pool.liveCount(),
                // A replacement in its slow start is capacity on its way, as a starting child is:
                // its parked threads are no surplus to retire a child for. (Its threads count
                // twice in the policy's "available" meanwhile; a shortage under busy cores, the
                // only time there is a slow start, does not grow the pool anyway.)
                m.pool.startingCount() + m.pool.slowStartingCount(),
                m.pool.idleWorkers(),
                m.publisher.readQueue(),
                phases.floor(),
                cpu.fraction(),
                accepting));
    if (d.held()) {
      long now = m.clock.nanoTime();
      if (heldLoggedAtNanos == 0 || now - heldLoggedAtNanos >= HELD_LOG_INTERVAL_NANOS) {
        heldLoggedAtNanos = now;
        log.info("pool {}: no spawn while they are (logged at most once a minute)", d.reason());
      }
    }
    if (!d.changes()) {
      return;
    }
    if (d.spawn() > 0 && m.backoff.backingOff()) {
      if (!backoffLogged) {
        backoffLogged = true;
        log.info(
            "crash-loop backoff: no spawn before {} ms from now", m.backoff.remainingNanos() / 1e6);
      }
      return;
    }
    int spawned = 0;
    while (spawned < d.spawn() && spawn(false, 0)) {
      spawned++;
    }
    ChildProcess victim = d.retire() ? m.pool.pickToRetire() : null;
    if (victim != null) {
      m.pool.askToExit(victim, ExitRequest.RETIRE);
    }
    if (spawned > 0 || victim != null) {
      m.table.poolDecision(
          new PoolDecision(
              spawned > 0 ? PoolDecision.Kind.GREW : PoolDecision.Kind.RETIRED,
              spawned > 0 ? spawned : 1,
              d.idleWorkers(),
              d.queued(),
              d.surplusNanos() / 1_000_000,
              System.currentTimeMillis()));
      log.info(
          "pool {}: {} {}, {} in the pool",
          d.reason(),
          spawned > 0 ? "spawned" : "retiring",
          spawned > 0 ? children(spawned) : victim,
          children(m.pool.liveCount()));
    }
  }

  private boolean spawn(boolean replacement, long slowStartNanos) {
    ChildProcess child;
    try {
      child =
          m.pool.spawn(
              m.replacements.generation(),
              recycling.limitForNewChild(),
              replacement,
              slowStartNanos);
    } catch (PreforkException e) {
      log.error("cannot spawn a child: {}", e.getMessage());
      m.backoff.spawnFailed();
      return false;
    }
    if (child == null) {
      return false;
    }
    m.events.spawned(child);
    log.info(
        "spawned {}{}",
        child,
        !replacement
            ? ""
            : slowStartNanos == 0
                ? " as a replacement"
                : " as a replacement with a slow start of "
                    + seconds(slowStartNanos)
                    + " s (the cores are busy: it takes connections gradually)");
    return true;
  }
}
