package io.prefork.shm.testing;

import io.prefork.shm.ShmSegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Hands out shm keys that no segment uses yet, and removes whatever segment sits at those keys
 * after each test, passed or failed. Register it with {@code @RegisterExtension}.
 */
public final class ShmKeysExtension implements AfterEachCallback {
  /** Test keys live in 0x7e000000..0x7effffff, away from the examples' 0x6905. */
  private static final int PREFIX = 0x7e00_0000;

  private final List<Integer> keys = new ArrayList<>();

  /** A key with no segment at it, removed again after the test. */
  public synchronized int newKey() {
    while (true) {
      int key = PREFIX | ThreadLocalRandom.current().nextInt(1, 0x0100_0000);
      if (!keys.contains(key) && ShmSegment.stat(key).isEmpty()) {
        keys.add(key);
        return key;
      }
    }
  }

  @Override
  public synchronized void afterEach(ExtensionContext context) {
    for (int key : keys) {
      try {
        ShmSegment.remove(key);
      } catch (RuntimeException e) {
        System.err.println("could not remove test segment at key " + key + ": " + e);
      }
    }
    keys.clear();
  }
}
