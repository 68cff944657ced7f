package io.prefork.core.internal.master;

import static io.prefork.core.internal.master.MasterContext.children;

import io.prefork.shm.Command;
import io.prefork.shm.ExitRequest;
import io.prefork.shm.MasterState;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's phase (running, restarting, stopping, force-stopping) and the commands that move it:
 * wait-down, force-down, restart, one child more or less. The phase is mirrored in the table for
 * controllers.
 */
final class MasterPhases {
  private static final Logger log = LoggerFactory.getLogger("io.prefork.master");

  private enum Phase {
    RUNNING,
    RESTARTING,
    STOPPING,
    FORCE_STOPPING
  }

  private final MasterContext m;
  private Phase phase = Phase.RUNNING;

  /** The pool's floor: minChildren, raised and lowered by ADD_CHILD / REMOVE_CHILD. */
  private int floor;

  /** A wait-down's drain: readiness is withdrawn, children go once it ends (0: not draining). */
  private long drainUntilNanos;

  private boolean draining;

  MasterPhases(MasterContext m) {
    this.m = m;
    this.floor = m.config.minChildren();
  }

  boolean stopping() {
    return phase == Phase.STOPPING || phase == Phase.FORCE_STOPPING;
  }

  boolean restarting() {
    return phase == Phase.RESTARTING;
  }

  /** {@return whether a restart is going on and the child belongs to its new generation} */
  boolean ofNewGeneration(ChildProcess c) {
    return phase == Phase.RESTARTING && c.generation == m.replacements.generation();
  }

  int floor() {
    return floor;
  }

  /** The state the table shows once the pool is ready. */
  MasterState readyState() {
    return phase == Phase.RESTARTING ? MasterState.RESTARTING : MasterState.RUNNING;
  }

  void handle(Command command) {
    switch (command) {
      case WAIT_DOWN -> waitDown();
      case FORCE_DOWN -> forceDown();
      case RESTART -> restart();
      case ADD_CHILD -> addChild();
      case REMOVE_CHILD -> removeChild();
      case NONE -> {}
    }
  }

  /** Every child finishes its connections, within its exit deadline; the socket closes now. */
  private void waitDown() {
    if (stopping()) {
      return;
    }
    phase = Phase.STOPPING;
    m.table.masterState(MasterState.STOPPING);
    m.events.stopping(); // readiness goes now: a load balancer stops sending during the drain
    long drain = m.config.drainDelay().toNanos();
    if (drain > 0) {
      log.info(
          "wait-down: not ready any more; the children keep serving for the drain delay of {} s",
          m.config.drainDelay().toMillis() / 1000.0);
      draining = true;
      drainUntilNanos = m.clock.nanoTime() + drain;
      return;
    }
    releaseChildren();
  }

  /** {@return whether a wait-down's drain delay is running (the children still accept)} */
  boolean draining() {
    return draining;
  }

  /** Ends the drain once its delay passed: then the children are asked to go. */
  void drainTick() {
    if (draining && m.clock.nanoTime() - drainUntilNanos >= 0) {
      draining = false;
      releaseChildren();
    }
  }

  private void releaseChildren() {
    log.info(
        "wait-down: {} finish their connections (at most {} s), then exit",
        children(m.pool.size()),
        m.config.gracefulTimeout().toSeconds());
    for (ChildProcess child : List.copyOf(m.pool.all())) {
      m.pool.askToExit(child, ExitRequest.STOP);
    }
    m.socket.close();
  }

  void forceDown() {
    if (phase == Phase.FORCE_STOPPING) {
      return;
    }
    log.info("force-down: killing {} now", children(m.pool.size()));
    if (!stopping()) {
      m.events.stopping();
    }
    phase = Phase.FORCE_STOPPING;
    draining = false;
    m.table.masterState(MasterState.FORCE_STOPPING);
    m.pool.killAll(ExitCause.KILLED);
    m.socket.close();
  }

  private void restart() {
    if (stopping()) {
      log.info("restart ignored: the server is stopping");
      return;
    }
    long generation = m.replacements.nextGeneration();
    m.table.generation(generation);
    phase = Phase.RESTARTING;
    m.table.masterState(MasterState.RESTARTING);
    int marked = 0;
    for (ChildProcess c : m.pool.all()) {
      if (!c.leaving() && c.generation < generation) {
        c.replaceFor = ExitRequest.RESTART;
        marked++;
      }
    }
    m.events.restarting(true);
    log.info(
        "restart: replacing {} by generation {}; the socket stays open",
        children(marked),
        generation);
  }

  /** Ends a restart once no child of an older generation is left. */
  void finishRestart() {
    if (phase != Phase.RESTARTING) {
      return;
    }
    for (ChildProcess c : m.pool.all()) {
      if (c.generation < m.replacements.generation()) {
        return;
      }
    }
    phase = Phase.RUNNING;
    m.table.masterState(MasterState.RUNNING);
    m.table.countRestart();
    m.events.restarting(false);
    log.info(
        "restart complete: {} in generation {}",
        children(m.pool.liveCount()),
        m.replacements.generation());
  }

  /** Aborts a restart whose new generation cannot start: the old one keeps serving. */
  void abortRestart(String why) {
    phase = Phase.RUNNING;
    m.table.masterState(MasterState.RUNNING);
    for (ChildProcess c : m.pool.all()) {
      c.replaceFor = ExitRequest.NONE;
    }
    m.pool.forgetReplacements(); // those starting or in their slow start stay, as children
    m.replacements.clear();
    m.events.restarting(false);
    log.error("restart aborted: {}; the running children keep serving", why);
  }

  private void addChild() {
    if (stopping()) {
      return;
    }
    if (floor >= m.config.maxChildren()) {
      log.info("one child more: the pool is at maxChildren ({})", m.config.maxChildren());
      return;
    }
    floor++;
    log.info("one child more: the pool keeps at least {}", children(floor));
  }

  private void removeChild() {
    if (stopping()) {
      return;
    }
    if (floor > m.config.minChildren()) {
      floor--;
    }
    if (m.pool.liveCount() <= m.config.minChildren()) {
      log.info("one child less: the pool is at minChildren ({})", m.config.minChildren());
      return;
    }
    ChildProcess victim = m.pool.pickToRetire();
    if (victim != null) {
      log.info("one child less: retiring {}", victim);
      m.pool.askToExit(victim, ExitRequest.RETIRE);
    }
  }
}
