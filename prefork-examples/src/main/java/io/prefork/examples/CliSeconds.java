package io.prefork.examples;

import java.time.Duration;

/** A command-line option in seconds (fractions allowed), as a {@link Duration} of milliseconds. */
final class CliSeconds {
  private CliSeconds() {}

  /** A positive number of seconds, at least a millisecond. */
  static Duration positive(String option, double value) {
    if (!(value > 0) || value > 1e9) {
      throw new IllegalArgumentException(
          option + " (" + value + ") must be a positive number of seconds");
    }
    long millis = Math.round(value * 1000);
    if (millis == 0) {
      throw new IllegalArgumentException(
          option + " (" + value + ") must be at least 0.001 seconds: it is kept in milliseconds");
    }
    return Duration.ofMillis(millis);
  }

  /** An option where 0 means none: 0, or a positive number of seconds. */
  static Duration orNone(String option, double value) {
    if (value == 0) {
      return Duration.ZERO;
    }
    if (!(value > 0) || value > 1e9) {
      throw new IllegalArgumentException(
          option + " (" + value + ") must be 0 (none) or a positive number of seconds");
    }
    return positive(option, value);
  }
}
