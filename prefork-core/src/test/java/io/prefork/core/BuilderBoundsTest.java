package io.prefork.core;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Every duration and count is bounded by {@code build()}, with a message that names the value and
 * what is expected, so nothing overflows later (a read timeout of Long.MAX_VALUE ms made every read
 * time out at once; a huge start timeout threw inside start(), with the master thread running).
 */
class BuilderBoundsTest {
  private static PreforkServer.Builder valid() {
    // The pool of the old defaults, 16 children of one thread: the counts below are about it.
    return PreforkServer.builder()
        .shmKey(0x7c0cb001)
        .job(TestJob.class)
        .threadsPerChild(1)
        .maxChildren(16);
  }

  private static String refused(UnaryOperator<PreforkServer.Builder> change) {
    return assertThrows(IllegalArgumentException.class, () -> change.apply(valid()).build())
        .getMessage();
  }

  private static void accepted(UnaryOperator<PreforkServer.Builder> change) {
    assertDoesNotThrow(() -> change.apply(valid()).build());
  }

  @Test
  void aSlowStartIsZeroOrAtMostTenMinutes() {
    accepted(b -> b.slowStart(Duration.ZERO));
    accepted(b -> b.slowStart(Duration.ofMinutes(10)));
    assertEquals(
        "slowStart (PT11M) must be at most PT10M: a restart under load waits for each"
            + " replacement's slow start",
        refused(b -> b.slowStart(Duration.ofMinutes(11))));
    assertEquals(
        "slowStart (PT-1S) must be positive, or zero for none",
        refused(b -> b.slowStart(Duration.ofSeconds(-1))));
  }

  @Test
  void aDeferAcceptIsZeroOrAtMostAMinute() {
    accepted(b -> b.deferAccept(Duration.ZERO));
    accepted(b -> b.deferAccept(Duration.ofSeconds(60)));
    assertEquals(
        "deferAccept (PT1M1S) must be at most PT1M: a client silent for longer is the read"
            + " timeout's business, once it is accepted",
        refused(b -> b.deferAccept(Duration.ofSeconds(61))));
    assertEquals(
        "deferAccept (PT-1S) must be positive, or zero to accept every connection at once",
        refused(b -> b.deferAccept(Duration.ofSeconds(-1))));
    assertEquals(
        "deferAccept is null: give a duration, or zero to accept every connection at once",
        refused(b -> b.deferAccept(null)));
  }

  @Test
  void timeoutsAreAtLeastAMillisecondAndAtMostADay() {
    assertEquals(
        "readTimeout (PT2562047788015H12M55.807S) must be at most 24 hours: a longer one is a"
            + " mistake (or an overflow) rather than a timeout",
        refused(b -> b.readTimeout(Duration.ofMillis(Long.MAX_VALUE))));
    assertEquals(
        "readTimeout (PT0.0000001S) must be at least 1 ms: it is kept in milliseconds",
        refused(b -> b.readTimeout(Duration.ofNanos(100))));
    assertEquals("readTimeout (PT0S) must be positive", refused(b -> b.readTimeout(Duration.ZERO)));
    assertEquals(
        "readTimeout (PT-1S) must be positive",
        refused(b -> b.readTimeout(Duration.ofSeconds(-1))));
    assertEquals("readTimeout is null: give a duration", refused(b -> b.readTimeout(null)));
    assertTrue(
        refused(b -> b.writeTimeout(Duration.ofHours(25))).startsWith("writeTimeout (PT25H) must"));
    assertTrue(
        refused(b -> b.writeTimeout(Duration.ofNanos(999_999)))
            .startsWith("writeTimeout (PT0.000999999S) must be at least 1 ms"));
    assertTrue(
        refused(b -> b.gracefulTimeout(Duration.ofDays(2)))
            .startsWith("gracefulTimeout (PT48H) must be at most 24 hours"));
    assertTrue(
        refused(b -> b.startTimeout(Duration.ofSeconds(Long.MAX_VALUE)))
            .startsWith("startTimeout (PT2562047788015215H30M7S) must be at most 24 hours"));
    for (Duration ok : new Duration[] {Duration.ofMillis(1), Duration.ofHours(24)}) {
      accepted(
          b ->
              b.readTimeout(ok)
                  .writeTimeout(ok)
                  .gracefulTimeout(ok)
                  .startTimeout(ok)
                  .jobTimeout(ok));
    }
  }

  @Test
  void theWatchdogTimeoutMayAlsoBeZeroForOff() {
    accepted(b -> b.jobTimeout(Duration.ZERO));
    assertEquals(
        "jobTimeout (PT-0.001S) must be positive, or zero for no watchdog",
        refused(b -> b.jobTimeout(Duration.ofMillis(-1))));
    assertEquals(
        "jobTimeout (PT0.0005S) must be at least 1 ms: it is kept in milliseconds, or zero for no"
            + " watchdog",
        refused(b -> b.jobTimeout(Duration.ofNanos(500_000))));
    assertTrue(
        refused(b -> b.jobTimeout(Duration.ofDays(365)))
            .startsWith("jobTimeout (PT8760H) must be at most 24 hours, or zero for no watchdog"));
    assertEquals(
        "jobTimeout is null: give a duration, or zero for no watchdog",
        refused(b -> b.jobTimeout(null)));
  }

  @Test
  void countsAreBounded() {
    assertEquals(
        "backlog (0) must be within 1..65535 (the kernel caps it at net.core.somaxconn anyway)",
        refused(b -> b.backlog(0)));
    assertTrue(
        refused(b -> b.backlog(65_536)).startsWith("backlog (65536) must be within 1..65535"));
    accepted(b -> b.backlog(65_535));
    assertEquals(
        "threadsPerChild (1025) must be within 1..1024", refused(b -> b.threadsPerChild(1025)));
    assertEquals("threadsPerChild (0) must be within 1..1024", refused(b -> b.threadsPerChild(0)));
    assertEquals(
        "minThreadsPerChild (9) must be within 1..threadsPerChild (8): raise threadsPerChild or"
            + " lower minThreadsPerChild",
        refused(b -> b.threadsPerChild(8).minThreadsPerChild(9)));
    assertTrue(
        refused(b -> b.minThreadsPerChild(0)).startsWith("minThreadsPerChild (0) must be within"));
    accepted(b -> b.threadsPerChild(8).minThreadsPerChild(8));
    accepted(b -> b.threadsPerChild(3)); // the default minimum, 8, comes down to 3
    assertEquals("minChildren (0) must be >= 1", refused(b -> b.minChildren(0)));
    assertEquals(
        "maxChildren * threadsPerChild (65600) must be <= 65536",
        refused(b -> b.maxChildren(65_600)));
    assertEquals(
        "minSpare (17) must be at most maxChildren * threadsPerChild (16), the most workers the"
            + " pool can have: more idle ones can never be kept",
        refused(b -> b.minSpare(17).maxSpare(18)));
    accepted(b -> b.minSpare(16).maxSpare(17));
    assertEquals("minSpare (-1) must be >= 0", refused(b -> b.minSpare(-1)));
    assertEquals(
        "maxCallsPerChild (9223372036854775807) must be within 0..1000000000000 (0: never"
            + " recycle)",
        refused(b -> b.maxCallsPerChild(Long.MAX_VALUE)));
    assertEquals(
        "maxCallsPerChild (-1) must be within 0..1000000000000 (0: never recycle)",
        refused(b -> b.maxCallsPerChild(-1)));
    accepted(b -> b.maxCallsPerChild(1_000_000_000_000L));
    assertEquals(
        "recycleJitter (9223372036854775807) must be within 0..1000000000000",
        refused(b -> b.maxCallsPerChild(100).recycleJitter(Long.MAX_VALUE)));
    assertEquals("port (-1) must be within 0..65535", refused(b -> b.port(-1)));
    assertEquals(
        "httpEndpoint port (65536) must be within 0..65535, or -1 for no endpoint",
        refused(b -> b.httpEndpoint("127.0.0.1", 65_536)));
  }

  @Test
  void presetsAndMemoryAreChecked() {
    assertEquals(
        "childJvmPreset 'fast' does not exist: choose standard (the default) or lean",
        refused(b -> b.childJvmPreset("fast")));
    accepted(b -> b.childJvmPreset("lean"));
    String big = refused(b -> b.maxChildren(4_000).childJvmOptions(List.of("-Xmx8g")));
    assertTrue(
        big.startsWith(
            "the pool cannot fit in memory: maxChildren (4000) x (heap 8192 MB from -Xmx8g"),
        big);
    assertTrue(big.endsWith("lower maxChildren or the children's -Xmx"), big);
    assertEquals(
        "childJvmOptions has -Xmxlots: not a heap size (e.g. -Xmx512m)",
        refused(b -> b.childJvmOptions(List.of("-Xmxlots"))));
    assertEquals(
        "maxChildren (1) must be >= minChildren (2)",
        refused(b -> b.minChildren(2).maxChildren(1)));
  }
}
