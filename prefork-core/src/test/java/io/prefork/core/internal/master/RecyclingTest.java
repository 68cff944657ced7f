package io.prefork.core.internal.master;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RecyclingTest {
  @Test
  void limitsAreSpreadByTheJitter() {
    Random random = new Random(42);
    Recycling r = new Recycling(1000, 100, bound -> (long) (random.nextDouble() * bound));
    Set<Long> limits = new HashSet<>();
    for (int i = 0; i < 50; i++) {
      long limit = r.limitForNewChild();
      assertTrue(limit >= 1000 && limit <= 1100, "limit " + limit);
      limits.add(limit);
    }
    assertTrue(limits.size() > 10, "children spawned together do not recycle together: " + limits);
  }

  @Test
  void dueAtTheLimit() {
    Recycling r = new Recycling(1000, 0, bound -> 0);
    long limit = r.limitForNewChild();
    assertEquals(1000, limit);
    assertFalse(r.due(999, limit));
    assertTrue(r.due(1000, limit));
  }

  @Test
  void offWhenMaxCallsIsZero() {
    Recycling r = new Recycling(0, 10, bound -> fail("no random number needed"));
    assertFalse(r.enabled());
    assertEquals(0, r.limitForNewChild());
    assertFalse(r.due(Long.MAX_VALUE, 0));
  }
}
