package io.prefork.core.internal.master;

import static org.junit.jupiter.api.Assertions.*;

import io.prefork.core.internal.master.ExitClassifier.Facts;
import io.prefork.core.internal.master.ExitClassifier.Outcome;
import io.prefork.core.internal.protocol.ExitStatus;
import org.junit.jupiter.api.Test;

class ExitClassifierTest {
  private static final ExitStatus SIGKILLED = new ExitStatus(-1, 9);
  private static final ExitStatus CLEAN = new ExitStatus(0, 0);
  private final ExitClassifier classifier = new ExitClassifier();

  /** A ready child of a ready server, nobody asked, no restart, 3 others ready. */
  private static Facts serving(ExitStatus exit) {
    return new Facts(exit, null, false, false, true, false, true, 3);
  }

  @Test
  void askedOrKilledOnPurposeIsExpected() {
    assertEquals(
        Outcome.EXPECTED,
        classifier.classify(new Facts(CLEAN, null, true, false, true, false, true, 3)).outcome());
    var killed =
        classifier.classify(
            new Facts(SIGKILLED, ExitCause.WATCHDOG, true, false, true, false, true, 3));
    assertEquals(ExitCause.WATCHDOG, killed.cause());
    assertEquals(Outcome.EXPECTED, killed.outcome());
    var stopping =
        classifier.classify(new Facts(SIGKILLED, null, false, true, true, false, true, 3));
    assertEquals(ExitCause.REQUESTED, stopping.cause());
  }

  @Test
  void anUnaskedCleanExitIsNotACrash() {
    var v = classifier.classify(serving(CLEAN));
    assertEquals(ExitCause.EXITED, v.cause());
    assertEquals(Outcome.UNASKED_EXIT, v.outcome());
  }

  @Test
  void aSignalOrAnErrorCodeIsACrash() {
    assertEquals(Outcome.CRASH, classifier.classify(serving(SIGKILLED)).outcome());
    assertEquals(ExitCause.CRASHED, classifier.classify(serving(new ExitStatus(1, 0))).cause());
  }

  @Test
  void theNewGenerationDyingBeforeAcceptingAbortsTheRestart() {
    var v = classifier.classify(new Facts(SIGKILLED, null, false, false, false, true, true, 2));
    assertEquals(Outcome.ABORT_RESTART, v.outcome());
  }

  @Test
  void aJobThatCannotStartStopsTheServerBeforeItIsReady() {
    var v =
        classifier.classify(
            new Facts(
                new ExitStatus(ExitStatus.JOB_FAILED, 0),
                null,
                false,
                false,
                false,
                false,
                false,
                0));
    assertEquals(Outcome.FAIL_SERVER, v.outcome());
    assertTrue(v.why().startsWith("could not start"));
    var later =
        classifier.classify(
            new Facts(
                new ExitStatus(ExitStatus.JOB_FAILED, 0),
                null,
                false,
                false,
                false,
                false,
                true,
                2));
    assertEquals(Outcome.CRASH, later.outcome(), "others still serve: a crash, with backoff");
  }

  @Test
  void threeDeathsBeforeTheFirstReadyFailTheStart() {
    Facts dying = new Facts(SIGKILLED, null, false, false, false, false, false, 0);
    assertEquals(Outcome.CRASH, classifier.classify(dying).outcome());
    assertEquals(Outcome.CRASH, classifier.classify(dying).outcome());
    var third = classifier.classify(dying);
    assertEquals(Outcome.FAIL_SERVER, third.outcome());
    assertTrue(third.why().startsWith("3 children died before accepting"), third.why());
  }
}
