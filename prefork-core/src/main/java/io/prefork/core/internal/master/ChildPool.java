package io.prefork.core.internal.master;

import io.prefork.core.PreforkException;
import io.prefork.core.internal.os.Posix;
import io.prefork.core.internal.protocol.ExitStatus;
import io.prefork.shm.ExitRequest;
import io.prefork.shm.MasterTable;
import io.prefork.shm.SlotState;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool's mechanics: which children exist and which slots they hold, and the acts on them
 * (spawn, ask to exit, kill, reap). It decides nothing: the supervisor and its policies do. Only
 * the master thread calls it. Signals go only to pids this master spawned, never to a pid read from
 * shared memory.
 */
public final class ChildPool {
  private static final Logger log = LoggerFactory.getLogger("io.prefork.master");

  /** A reaped child and how it ended. */
  public record Reaped(ChildProcess child, ExitStatus exit) {}

  private final MasterTable table;
  private final ChildLauncher launcher;
  private final ChildOutput output;
  private final MonotonicClock clock;
  private final int threads;
  private final ChildProcess[] byIndex;
  private final Map<Integer, ChildProcess> byPid = new LinkedHashMap<>();
  private long retiredCalls;

  ChildPool(
      MasterTable table,
      ChildLauncher launcher,
      ChildOutput output,
      int maxChildren,
      int threadsPerChild,
      MonotonicClock clock) {
    this.table = table;
    this.launcher = launcher;
    this.output = output;
    this.clock = clock;
    this.threads = threadsPerChild;
    this.byIndex = new ChildProcess[maxChildren];
  }

  /** {@return every child not yet reaped, leaving ones included; do not modify} */
  Collection<ChildProcess> all() {
    return Collections.unmodifiableCollection(byPid.values());
  }

  boolean isEmpty() {
    return byPid.isEmpty();
  }

  int size() {
    return byPid.size();
  }

  /**
   * Spawns a child into a free index, its slots reserved first.
   *
   * @return the child, or null when every index is taken
   * @throws PreforkException if the spawn failed (its slots are free again)
   */
  ChildProcess spawn(long generation, long callLimit, boolean replacement, long slowStartNanos) {
    int index = freeIndex();
    if (index < 0) {
      return null;
    }
    long nowMillis = System.currentTimeMillis(); // the table's stamps are for people: wall clock
    int first = index * threads;
    for (int w = 0; w < threads; w++) {
      table.reserve(first + w, w, generation, nowMillis);
    }
    int pid;
    int[] pipe = null;
    try {
      pipe = output.newPipe();
      pid = launcher.spawn(index, generation, slowStartNanos / 1_000_000, pipe[1]);
      output.attach(pipe, index, pid);
    } catch (PreforkException e) {
      if (pipe != null) {
        output.abandon(pipe);
      }
      for (int w = 0; w < threads; w++) {
        table.release(first + w, nowMillis);
      }
      throw e;
    }
    for (int w = 0; w < threads; w++) {
      table.pid(first + w, pid);
    }
    ChildProcess child =
        new ChildProcess(
            pid, index, generation, clock.nanoTime(), callLimit, replacement, slowStartNanos);
    byIndex[index] = child;
    byPid.put(pid, child);
    table.countSpawn();
    return child;
  }

  /** Asks a child to exit for a reason: its workers finish their connections, then it exits. */
  void askToExit(ChildProcess child, ExitRequest reason) {
    if (child.leaving()) {
      return;
    }
    child.exitRequest = reason;
    child.exitAskedAtNanos = clock.nanoTime();
    for (int slot : slotsOf(child)) {
      table.requestExit(slot, reason);
    }
    // The signal wakes a child blocked in accept; the request in the table says why.
    Posix.kill(child.pid, Posix.SIGTERM);
    log.debug("asked {} to exit ({})", child, reason);
  }

  /** Asks a child for its thread dump (the JVM prints every thread's stack on SIGQUIT). */
  void askForThreadDump(ChildProcess child) {
    child.dumpRequestedAtNanos = clock.nanoTime();
    Posix.kill(child.pid, Posix.SIGQUIT);
  }

  void kill(ChildProcess child, ExitCause cause) {
    if (!child.killed()) {
      child.killCause = cause;
      Posix.kill(child.pid, Posix.SIGKILL);
    }
  }

  void killAll(ExitCause cause) {
    for (ChildProcess child : byPid.values()) {
      kill(child, cause);
    }
  }

  /**
   * Reaps the children that exited and frees their slots (their calls are kept in the total).
   *
   * @return the children reaped on this call
   */
  List<Reaped> reap() {
    List<Reaped> reaped = new ArrayList<>(0);
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
      remove(child);
      reaped.add(new Reaped(child, exit));
    }
    return reaped;
  }

  private void remove(ChildProcess child) {
    byPid.remove(child.pid);
    launcher.childGone(child.pid);
    byIndex[child.index] = null;
    long calls = calls(child);
    // Counted as retired before the slots are freed: a reader in between may count them twice
    // for a moment, but never sees the total go down.
    table.retireCalls(calls);
    retiredCalls += calls;
    long nowMillis = System.currentTimeMillis();
    for (int slot : slotsOf(child)) {
      table.release(slot, nowMillis);
    }
  }

  // Reading the pool

  /** {@return children that count as capacity (not leaving), starting ones included} */
  int liveCount() {
    int n = 0;
    for (ChildProcess c : byPid.values()) {
      if (!c.leaving()) {
        n++;
      }
    }
    return n;
  }

  /** {@return children accepting and not leaving} */
  int readyCount() {
    int n = 0;
    for (ChildProcess c : byPid.values()) {
      if (c.ready && !c.leaving()) {
        n++;
      }
    }
    return n;
  }

  /** {@return children not leaving and not yet accepting} */
  /** {@return replacements that accept but whose slow start is not over} */
  int slowStartingCount() {
    int n = 0;
    for (ChildProcess c : byPid.values()) {
      if (c.ready && c.replacement && !c.replacementCounted && !c.leaving()) {
        n++;
      }
    }
    return n;
  }

  /** Replacements in flight replace nobody any more: they become ordinary children. */
  void forgetReplacements() {
    for (ChildProcess c : byPid.values()) {
      c.replacementCounted = true;
    }
  }

  int startingCount() {
    int n = 0;
    for (ChildProcess c : byPid.values()) {
      if (!c.ready && !c.leaving()) {
        n++;
      }
    }
    return n;
  }

  /**
   * {@return idle and parked workers of ready children that are not leaving: a parked worker is
   * capacity its child starts accepting on before the pool needs another child}
   */
  int idleWorkers() {
    int idle = 0;
    for (ChildProcess c : byPid.values()) {
      if (c.ready && !c.leaving()) {
        idle += spare(c);
      }
    }
    return idle;
  }

  /** {@return the child's idle and parked workers} */
  int spare(ChildProcess c) {
    int n = 0;
    for (int slot : slotsOf(c)) {
      if (table.state(slot).isSpare()) {
        n++;
      }
    }
    return n;
  }

  int count(ChildProcess c, SlotState state) {
    int n = 0;
    for (int slot : slotsOf(c)) {
      if (table.state(slot) == state) {
        n++;
      }
    }
    return n;
  }

  boolean isIdle(ChildProcess c) {
    return spare(c) == threads;
  }

  boolean allSlotsAccepting(ChildProcess c) {
    for (int slot : slotsOf(c)) {
      if (!table.state(slot).isAccepting()) {
        return false;
      }
    }
    return true;
  }

  long calls(ChildProcess c) {
    long calls = 0;
    for (int slot : slotsOf(c)) {
      calls += table.calls(slot);
    }
    return calls;
  }

  /** {@return every call accepted since the start: exited children's and the live ones'} */
  long allCalls() {
    long calls = retiredCalls;
    for (ChildProcess c : byPid.values()) {
      calls += calls(c);
    }
    return calls;
  }

  boolean hasFreeIndex() {
    return freeIndex() >= 0;
  }

  /**
   * An idle child to retire: one marked for replacement if any (it goes anyway), else the one that
   * served least (warm children keep serving).
   */
  ChildProcess pickToRetire() {
    ChildProcess best = null;
    long bestCalls = Long.MAX_VALUE;
    for (ChildProcess c : byPid.values()) {
      if (c.leaving() || !c.ready || !isIdle(c)) {
        continue;
      }
      long calls = c.replaceFor != ExitRequest.NONE ? -1 : calls(c);
      if (calls < bestCalls) {
        best = c;
        bestCalls = calls;
      }
    }
    return best;
  }

  int[] slotsOf(ChildProcess c) {
    int[] slots = new int[threads];
    for (int w = 0; w < threads; w++) {
      slots[w] = c.index * threads + w;
    }
    return slots;
  }

  private int freeIndex() {
    for (int i = 0; i < byIndex.length; i++) {
      if (byIndex[i] == null) {
        return i;
      }
    }
    return -1;
  }
}
