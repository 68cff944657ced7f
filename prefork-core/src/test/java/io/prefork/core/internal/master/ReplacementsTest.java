package io.prefork.core.internal.master;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class ReplacementsTest {
  private final Replacements r = new Replacements();

  @Test
  void atMostTwoStartAtOnce() {
    assertEquals(2, r.toSpawn(8, Replacements.PARALLELISM));
    r.spawned();
    r.spawned();
    assertEquals(
        0,
        r.toSpawn(8, Replacements.PARALLELISM),
        "two JVMs starting compete enough for the cores");
    r.becameReady();
    assertEquals(1, r.toSpawn(7, Replacements.PARALLELISM));
  }

  @Test
  void withBusyCoresOneReplacementWarmsAtATimeInAPoolOfFewerThanEight() {
    assertEquals(1, Replacements.parallelism(true, 2));
    assertEquals(1, Replacements.parallelism(true, 7));
    assertEquals(2, Replacements.parallelism(true, 8), "one for every four children");
    assertEquals(2, Replacements.parallelism(true, 64), "never more than with idle cores");
    assertEquals(2, Replacements.parallelism(false, 2));
    r.spawned();
    assertEquals(0, r.toSpawn(2, Replacements.parallelism(true, 3)), "the first still ramps");
    r.becameReady();
    assertTrue(r.takeReady());
    assertEquals(1, r.toSpawn(1, Replacements.parallelism(true, 3)), "then the next");
  }

  @Test
  void eachReadyReplacementLetsOneMarkedChildGo() {
    r.spawned();
    assertFalse(r.takeReady(), "not before it accepts");
    r.becameReady();
    assertTrue(r.takeReady());
    assertFalse(r.takeReady(), "one for one");
  }

  @Test
  void neverMoreThanTheMarkedNeed() {
    r.spawned();
    assertEquals(0, r.toSpawn(1, Replacements.PARALLELISM), "one marked, one on its way");
    r.diedStarting();
    assertEquals(1, r.toSpawn(1, Replacements.PARALLELISM), "it died: spawn again");
  }

  @Test
  void generationsCountUpAndAnAbortForgetsTheReplacements() {
    assertEquals(1, r.generation());
    assertEquals(2, r.nextGeneration());
    r.spawned();
    r.becameReady();
    r.clear();
    assertFalse(r.takeReady());
    assertEquals(0, r.starting());
    assertEquals(2, r.generation());
  }
}
