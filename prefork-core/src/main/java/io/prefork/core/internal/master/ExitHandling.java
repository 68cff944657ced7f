package io.prefork.core.internal.master;

import io.prefork.core.internal.protocol.ExitStatus;
import io.prefork.shm.ExitRequest;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Acts on a reaped child's exit as the {@link ExitClassifier} judges it: logs it with its reason,
 * counts crashes, feeds the {@link CrashBackoff}, aborts a restart whose new generation cannot
 * start, or stops a server whose job cannot start at all, quoting the child's last words.
 */
final class ExitHandling {
  private static final Logger log = LoggerFactory.getLogger("io.prefork.master");

  /** How long the master waits for a dead child's last output lines before naming the reason. */
  static final long LAST_WORDS_WAIT_MILLIS = 300;

  private final MasterContext m;
  private final MasterPhases phases;
  private final Watchdog watchdog;
  private final ExitClassifier classifier = new ExitClassifier();

  ExitHandling(MasterContext m, MasterPhases phases, Watchdog watchdog) {
    this.m = m;
    this.phases = phases;
    this.watchdog = watchdog;
  }

  void exited(ChildProcess child, ExitStatus exit) {
    if (child.replacement && !child.replacementCounted) {
      m.replacements.diedStarting();
    }
    for (int slot : m.pool.slotsOf(child)) {
      watchdog.forget(slot);
    }
    ExitClassifier.Verdict verdict =
        classifier.classify(
            new ExitClassifier.Facts(
                exit,
                child.killCause,
                child.exitRequest != ExitRequest.NONE,
                phases.stopping(),
                child.ready,
                phases.ofNewGeneration(child),
                m.ready.isDone(),
                m.pool.readyCount()));
    m.events.exited(child, exit, verdict.cause());
    switch (verdict.outcome()) {
      case UNASKED_EXIT ->
          log.warn(
              "{} exited on its own ({}) though nobody asked it to; replacing it", child, exit);
      case EXPECTED -> log.info("{} exited ({}): {}", child, reasonOf(child), exit);
      case ABORT_RESTART -> {
        m.table.countCrash();
        phases.abortRestart(
            child + " of the new generation died before accepting: " + exit + lastWords(child));
      }
      case FAIL_SERVER -> {
        m.table.countCrash();
        String why = failureMessage(child, exit, verdict.why());
        log.error(why);
        m.fail(why);
        phases.forceDown();
      }
      case CRASH -> {
        m.table.countCrash();
        crashed(child, exit);
      }
    }
  }

  private String failureMessage(ChildProcess child, ExitStatus exit, String why) {
    if (!why.startsWith("could not start")) {
      return why + "; the last: " + child + ": " + exit + lastWords(child);
    }
    String message =
        child + " could not start job " + m.config.jobClassName() + ": " + exit + lastWords(child);
    return why.contains("no child")
        ? message + "; no child is serving, so the server stops"
        : message;
  }

  private void crashed(ChildProcess child, ExitStatus exit) {
    long now = m.clock.nanoTime();
    long delay = m.backoff.childDied(child.ready ? now - child.readyAtNanos : -1);
    if (delay < 0) {
      log.warn("{} died: {}; replacing it", child, exit);
      return;
    }
    // The table's stamp is for people reading it: wall clock.
    m.table.spawnBackoffUntil(delay == 0 ? 0 : System.currentTimeMillis() + delay / 1_000_000);
    log.warn(
        "{} died {} ms after its start: {}; {} crash(es) in a row, next spawn in {} ms",
        child,
        (now - child.spawnedAtNanos) / 1_000_000,
        exit,
        m.backoff.crashesInARow(),
        delay / 1_000_000);
  }

  /** The child's last error line, as "; it said: ...", or "" (children's output is at INFO). */
  private String lastWords(ChildProcess child) {
    String said = m.output.lastWords(child.pid, LAST_WORDS_WAIT_MILLIS);
    return said.isEmpty() ? "; see its output above" : "; it said: " + said;
  }

  private static String reasonOf(ChildProcess child) {
    if (child.killed()) {
      return "killed: " + child.killCause.label();
    }
    return child.exitRequest.name().toLowerCase(Locale.ROOT);
  }
}
