package io.prefork.shm;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** chronicle-core reports usage through chronicle-analytics when that is on the class path. */
class NoUsageReportingTest {
  @Test
  void chronicleAnalyticsIsNotOnTheClassPath() {
    assertThrows(
        ClassNotFoundException.class,
        () -> Class.forName("net.openhft.chronicle.analytics.Analytics"));
    assertFalse(
        System.getProperty("java.class.path").contains("chronicle-analytics"),
        "chronicle-analytics is on the class path: " + System.getProperty("java.class.path"));
  }
}
