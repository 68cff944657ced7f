package io.prefork.core.internal.master;

import io.prefork.core.internal.protocol.ExitStatus;

/**
 * Says what a child's exit means, without acting on it: the master logs, counts and reacts to the
 * verdict. It remembers one thing, the deaths before the server was ever ready.
 */
public final class ExitClassifier {
  /** Children dying before accepting, before the first ready, that make start() fail at once. */
  static final int START_DEATHS_TO_FAIL = 3;

  /** What the master does about an exit. */
  public enum Outcome {
    /** It was asked to go, or killed on purpose: nothing more. */
    EXPECTED,
    /** It exited 0 by itself after serving: replaced, with a warning. */
    UNASKED_EXIT,
    /** A crash: counted, replaced (the crash backoff decides when). */
    CRASH,
    /** A child of the new generation died before accepting: the restart is aborted. */
    ABORT_RESTART,
    /** The job cannot start at all: the server stops with this reason. */
    FAIL_SERVER
  }

  /**
   * The facts of one exit.
   *
   * @param exit how it ended
   * @param killCause why the master killed it, or null
   * @param askedToExit whether the master had asked it to exit
   * @param stopping whether the server is stopping
   * @param childReady whether it ever accepted
   * @param newGenerationInRestart whether a restart is going on and it belongs to the new
   *     generation
   * @param serverReady whether the server was ever ready
   * @param readyChildren ready children left, not counting it
   */
  public record Facts(
      ExitStatus exit,
      ExitCause killCause,
      boolean askedToExit,
      boolean stopping,
      boolean childReady,
      boolean newGenerationInRestart,
      boolean serverReady,
      int readyChildren) {}

  /**
   * The verdict.
   *
   * @param cause why it is gone, as counted
   * @param outcome what the master does
   * @param why for FAIL_SERVER, the start of the reason (the caller adds the child's last words)
   */
  public record Verdict(ExitCause cause, Outcome outcome, String why) {}

  private int startDeaths;

  /**
   * @param f the facts of the exit
   * @return what it means
   */
  public Verdict classify(Facts f) {
    ExitCause cause;
    if (f.killCause() != null) {
      cause = f.killCause();
    } else if (f.askedToExit() || f.stopping()) {
      cause = ExitCause.REQUESTED;
    } else if (!f.exit().signaled() && f.exit().exitCode() == 0 && f.childReady()) {
      cause = ExitCause.EXITED;
    } else {
      cause = ExitCause.CRASHED;
    }
    if (cause == ExitCause.EXITED) {
      return new Verdict(cause, Outcome.UNASKED_EXIT, "");
    }
    if (cause != ExitCause.CRASHED && cause != ExitCause.START_TIMEOUT) {
      return new Verdict(cause, Outcome.EXPECTED, "");
    }
    if (!f.childReady() && f.newGenerationInRestart()) {
      // A broken deploy or a bad JVM option: keep the old generation serving rather than
      // crash-looping replacements, as a failed graceful restart should.
      return new Verdict(cause, Outcome.ABORT_RESTART, "");
    }
    int code = f.exit().exitCode();
    if (!f.childReady() && (code == ExitStatus.JOB_FAILED || code == ExitStatus.CHILD_FAILED)) {
      if (!f.serverReady()) {
        return new Verdict(cause, Outcome.FAIL_SERVER, "could not start");
      }
      if (code == ExitStatus.JOB_FAILED && f.readyChildren() == 0) {
        return new Verdict(cause, Outcome.FAIL_SERVER, "could not start; no child is serving");
      }
    }
    if (!f.serverReady()
        && !f.childReady()
        && ++startDeaths >= START_DEATHS_TO_FAIL
        && f.readyChildren() == 0) {
      // Again and again, before the server ever was ready: a broken JVM option or class path.
      // Say so now rather than after the start timeout.
      return new Verdict(
          cause,
          Outcome.FAIL_SERVER,
          startDeaths + " children died before accepting and none is serving");
    }
    return new Verdict(cause, Outcome.CRASH, "");
  }
}
