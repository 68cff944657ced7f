package io.prefork.core.internal.master;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/** The level a child's output line is relayed at in the master's log. */
class ChildOutputTest {
  @Test
  void aChildsOwnLevelIsKeptAndAStackTraceFollowsItsLine() {
    Level warn =
        ChildOutput.levelOf(
            "12:00:01.234 [prefork-worker-0] WARN io.prefork.child - job failed", Level.INFO);
    assertEquals(Level.WARN, warn);
    assertEquals(Level.WARN, ChildOutput.levelOf("\tat com.example.Job.handle(Job.java:12)", warn));
    assertEquals(Level.WARN, ChildOutput.levelOf("Caused by: java.io.IOException: x", warn));
    assertEquals(
        Level.ERROR,
        ChildOutput.levelOf("12:00:01 [main] ERROR com.example - database gone", Level.INFO));
    assertEquals(
        Level.ERROR,
        ChildOutput.levelOf("Exception in thread \"main\" java.lang.Error: x", Level.INFO));
    assertEquals(
        Level.INFO, ChildOutput.levelOf("Full thread dump OpenJDK 64-Bit Server VM", Level.WARN));
    assertEquals(
        Level.INFO, ChildOutput.levelOf("x.WARN.y and more words without a level", Level.INFO));
  }
}
