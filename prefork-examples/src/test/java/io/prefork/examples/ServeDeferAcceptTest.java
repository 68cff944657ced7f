package io.prefork.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * {@code serve --defer-accept}: on for the built-in jobs, whose clients speak first; off for a
 * class.
 */
class ServeDeferAcceptTest {
  @Test
  void theBuiltInJobsDeferAndAClassOfTheUsersDoesNot() {
    Duration on = Duration.ofSeconds(BuiltInJobs.DEFER_ACCEPT_SECONDS);
    for (String job : new String[] {"hello", "hello-ka", "echo", "wait", "cpu"}) {
      assertEquals(on, BuiltInJobs.deferAccept(job, null), job);
    }
    assertEquals(on, BuiltInJobs.deferAccept(HelloHttpJob.class.getName(), null), "by class");
    // A job of the user's may speak first (a greeting): its clients would wait in silence.
    assertEquals(Duration.ZERO, BuiltInJobs.deferAccept("com.example.SmtpJob", null));
  }

  @Test
  void anExplicitValueWinsAndIsBounded() {
    assertEquals(
        "--defer-accept (4.0E-4) must be at least 0.001 seconds: it is kept in milliseconds",
        assertThrows(IllegalArgumentException.class, () -> BuiltInJobs.deferAccept("hello", 0.0004))
            .getMessage(),
        "not silently 0 (off)");
    assertEquals(Duration.ZERO, BuiltInJobs.deferAccept("hello", 0.0));
    assertEquals(Duration.ofSeconds(3), BuiltInJobs.deferAccept("com.example.HttpJob", 3.0));
    assertEquals(
        "--defer-accept (61.0) must be at most 60 seconds: a client silent for longer is"
            + " --read-timeout's business, once it is accepted; 0 turns it off",
        assertThrows(IllegalArgumentException.class, () -> BuiltInJobs.deferAccept("hello", 61.0))
            .getMessage());
    assertEquals(
        "--defer-accept (-1.0) must be 0 (none) or a positive number of seconds",
        assertThrows(IllegalArgumentException.class, () -> BuiltInJobs.deferAccept("hello", -1.0))
            .getMessage());
  }
}
