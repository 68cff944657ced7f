package io.prefork.core;

import static io.prefork.core.ServerLifecycleTest.waitUntil;
import static org.junit.jupiter.api.Assertions.*;

import io.prefork.shm.SlotState;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The status page in a real headless Chromium: the DOM after its scripts ran (the scoreboard has
 * one cell per slot in the pool's states, the legend every state, the refresh script swapped the
 * content in), and a screenshot kept as {@code target/status-page.png}.
 *
 * <p>Chromium is found as {@code $PREFORK_CHROMIUM}, or {@code chromium}, {@code chromium-browser}
 * or {@code google-chrome} on the PATH ({@code .ci/browser} installs Debian's {@code chromium}).
 * Without it the test is skipped, or fails when {@code CI=true}.
 */
class StatusPageBrowserTest {
  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();

  /** The longest one Chromium run may take before it is killed and the test fails. */
  static final long CHROMIUM_SECONDS = 60;

  private static final Pattern CELL =
      Pattern.compile(
          "<span class=\"cell c-(\\w+)\" data-slot=\"(\\d+)\" data-state=\"(\\w+)\" title=\"([^\"]*)\"");
  private static final Pattern LEGEND = Pattern.compile("<li data-state=\"(\\w+)\">");

  @Test
  void theScoreboardInARealBrowser() throws Exception {
    Path chromium = chromium();
    // 3 children of 2 threads at most, 2 started: 6 slots, 4 in use.
    PreforkServer server =
        cleanup.start(
            cleanup
                .builder(TestJob.class)
                .minChildren(2)
                .maxChildren(3)
                .threadsPerChild(2)
                .minSpare(0)
                .maxSpare(8)
                .httpEndpoint("127.0.0.1", 0)
                .jmx(false));
    waitUntil(() -> server.status().count(SlotState.IDLE) == 4, "four workers idle");
    String url = "http://127.0.0.1:" + server.httpEndpointPort() + "/status";
    try (Client busy = new Client(server.port())) {
      busy.write("hold"); // one worker serves this until it is closed
      waitUntil(() -> server.status().count(SlotState.BUSY) == 1, "one worker busy");
      Thread.sleep(2_500); // a few seconds of history for the sparklines

      String dom =
          run(
              chromium,
              "dom",
              "--virtual-time-budget=5000", // lets the 2 s refresh run (twice) before the dump
              "--dump-dom",
              url);
      assertTrue(dom.contains("<div id=\"scoreboard\" data-slots=\"6\">"), dom);
      Map<Integer, String> cells = new TreeMap<>();
      Matcher m = CELL.matcher(dom);
      while (m.find()) {
        assertEquals(m.group(1).toUpperCase(java.util.Locale.ROOT), m.group(3), m.group());
        assertNull(cells.put(Integer.parseInt(m.group(2)), m.group(3)), "slot twice: " + m.group());
      }
      assertEquals(List.of(0, 1, 2, 3, 4, 5), List.copyOf(cells.keySet()), dom);
      assertEquals(1, cells.values().stream().filter("BUSY"::equals).count(), cells.toString());
      assertEquals(3, cells.values().stream().filter("IDLE"::equals).count(), cells.toString());
      assertEquals("OPEN", cells.get(4), cells.toString());
      assertEquals("OPEN", cells.get(5), cells.toString());
      List<String> legend = new ArrayList<>();
      m = LEGEND.matcher(dom);
      while (m.find()) {
        legend.add(m.group(1));
      }
      assertEquals(
          List.of("IDLE", "BUSY", "PARKED", "STARTING", "FINISHING", "EXITING", "OPEN"), legend);
      Matcher refreshes = Pattern.compile("<html [^>]*data-refreshes=\"(\\d+)\"").matcher(dom);
      assertTrue(refreshes.find(), "the refresh script ran:\n" + dom.substring(0, 300));
      assertTrue(Integer.parseInt(refreshes.group(1)) >= 1, refreshes.group());
      assertTrue(dom.contains("id=\"live-text\">live · updated "), "refreshed, not stale");
      assertTrue(dom.contains("<span id=\"ready\" class=\"badge ok\""), "ready badge");

      Path png = Path.of("target", "status-page.png").toAbsolutePath();
      Files.createDirectories(png.getParent());
      Files.deleteIfExists(png);
      run(chromium, "screenshot", "--screenshot=" + png, "--window-size=1200,900", url);
      byte[] image = Files.readAllBytes(png);
      assertTrue(image.length > 10_000, "a screenshot of " + image.length + " bytes");
      assertEquals(0x89, image[0] & 0xff, "a PNG");
      assertEquals("PNG", new String(image, 1, 3, StandardCharsets.US_ASCII), "a PNG");
    }
  }

  /** Chromium, or a skip (a failure when CI=true) saying how to get it. */
  static Path chromium() {
    String configured = System.getenv("PREFORK_CHROMIUM");
    List<String> names =
        configured != null && !configured.isBlank()
            ? List.of(configured)
            : List.of("chromium", "chromium-browser", "google-chrome");
    for (String name : names) {
      Path direct = Path.of(name);
      if (direct.isAbsolute() && Files.isExecutable(direct)) {
        return direct;
      }
      for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
        Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
        if (Files.isExecutable(candidate)) {
          return candidate;
        }
      }
    }
    String message =
        "no Chromium ("
            + String.join(", ", names)
            + " on the PATH, or $PREFORK_CHROMIUM): the status page's browser test needs it;"
            + " install it with .ci/browser (apt-get install -y chromium)";
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      fail(message);
    }
    Assumptions.abort(message);
    throw new AssertionError("unreachable");
  }

  /**
   * Runs headless Chromium once with a profile of its own, bounded to {@link #CHROMIUM_SECONDS}; it
   * and every process it started are killed afterwards, whatever happened. Returns its output.
   */
  static String run(Path chromium, String what, String... args) throws Exception {
    Path profile = Files.createTempDirectory("prefork-chromium");
    Path log = Path.of("target", "chromium-" + what + ".log").toAbsolutePath();
    Files.createDirectories(log.getParent());
    Path out = Files.createTempFile("prefork-chromium", ".out");
    List<String> command =
        new ArrayList<>(
            List.of(
                chromium.toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--no-first-run",
                "--no-default-browser-check",
                "--hide-scrollbars",
                "--user-data-dir=" + profile));
    command.addAll(List.of(args));
    Process p =
        new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(log.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .start();
    // Its processes as seen while it runs: once it exits, its helpers are no longer its
    // descendants, but they must not outlive the test either.
    java.util.Set<ProcessHandle> seen = new java.util.LinkedHashSet<>();
    seen.add(p.toHandle());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CHROMIUM_SECONDS);
    try {
      while (!p.waitFor(50, TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(seen::add);
        if (System.nanoTime() - deadline > 0) {
          fail(
              "chromium ("
                  + what
                  + ") did not finish within "
                  + CHROMIUM_SECONDS
                  + " s; see "
                  + log);
        }
      }
      assertEquals(0, p.exitValue(), "chromium (" + what + ") failed; see " + log);
      return Files.readString(out, StandardCharsets.UTF_8);
    } finally {
      p.descendants().forEach(seen::add);
      seen.forEach(ProcessHandle::destroyForcibly);
      long gone = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (seen.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() - gone < 0) {
        Thread.sleep(20);
      }
      Files.deleteIfExists(out);
      delete(profile);
    }
  }

  private static void delete(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
  }
}
