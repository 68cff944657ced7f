package io.prefork.bench.load;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;

/**
 * A closed-loop HTTP load client that keeps a timeline: what wrk cannot give (it reports totals
 * only). Each of {@code --conns} threads opens a connection, sends one {@code GET / HTTP/1.1} with
 * {@code Connection: close}, reads the response to the end, closes, and starts over at once; every
 * request's completion time and latency (from before the connect to the end of the response, so the
 * connect and the accept queue are included) are kept, and printed per second: completed requests,
 * errors, p50 / p99 / max latency (exact, from the sorted latencies of that second). Loopback only.
 *
 * <p>Once a second it also samples the server: with {@code --server-pid} its child processes,
 * threads and resident memory (from {@code /proc}); with {@code --shm-key} prefork's status table
 * through the public {@code ControlHandle} (children, spawns and retirements in that second, busy
 * workers, the listen queue) - the counters {@code ctl status --json} prints, read in this process
 * instead of starting a JVM per sample. With {@code --restart-at S} it sends prefork a restart
 * (what {@code ctl restart} sends) S seconds into the load.
 *
 * <p>The run, all bounded: {@code --prelude} seconds of unrecorded load (with {@code
 * --prelude-conns} connections; it warms the server and this client), {@code --idle} seconds
 * without load (recorded, negative seconds), {@code --duration} seconds of load at {@code --conns}
 * (second 0 is its start: all threads begin together), {@code --tail} seconds without load
 * (recorded: the pool shrinking back). Without {@code --idle} the prelude runs on the load's own
 * threads and goes straight into the load. Before all that, {@code --client-warm-up S} runs the
 * same loop for S seconds against a {@link ClientWarmUp} server inside this JVM: the client's JIT
 * is warm, the server under test still cold.
 *
 * <pre>
 * java -cp benchmarks.jar io.prefork.bench.load.TimelineLoad --port 19100 --conns 200 \
 *     --duration 20 --prelude 1 --prelude-conns 4 --idle 3 --tail 8 --server-pid 1234 \
 *     [--shm-key 0x7e5f0001] [--restart-at 5] --out timeline.tsv
 * </pre>
 *
 * The last line on standard output is a summary of the load seconds, tab-separated: {@code TOTAL
 * req/s p50-ms p99-ms errors note}, the note being {@code key=value} pairs ({@code steady}, {@code
 * after}, {@code after_pct}, {@code dip_pct}, {@code after10_pct} with a restart; {@code plateau},
 * {@code ramp_s}, {@code peak_children} with an idle phase).
 */
public final class TimelineLoad {
  private static final int ERROR = -1;

  private TimelineLoad() {}

  /** The options; seconds are whole seconds. */
  record Options(
      String host,
      int port,
      int conns,
      int duration,
      int prelude,
      int preludeConns,
      int idle,
      int tail,
      int restartAt,
      Integer shmKey,
      long serverPid,
      int timeoutMillis,
      int clientWarmUp,
      Path out) {

    static Options parse(String[] args) {
      String host = "127.0.0.1";
      int port = 0;
      int conns = 50;
      int duration = 10;
      int prelude = 0;
      int preludeConns = -1;
      int idle = 0;
      int tail = 0;
      int restartAt = -1;
      Integer shmKey = null;
      long serverPid = 0;
      int timeoutMillis = 10_000;
      int clientWarmUp = 0;
      Path out = null;
      for (int i = 0; i < args.length; i++) {
        String v = i + 1 < args.length ? args[i + 1] : null;
        switch (args[i]) {
          case "--host" -> host = v;
          case "--port" -> port = Integer.parseInt(v);
          case "--conns" -> conns = Integer.parseInt(v);
          case "--duration" -> duration = Integer.parseInt(v);
          case "--prelude" -> prelude = Integer.parseInt(v);
          case "--prelude-conns" -> preludeConns = Integer.parseInt(v);
          case "--idle" -> idle = Integer.parseInt(v);
          case "--tail" -> tail = Integer.parseInt(v);
          case "--restart-at" -> restartAt = Integer.parseInt(v);
          case "--shm-key" -> shmKey = Integer.decode(v);
          case "--server-pid" -> serverPid = Long.parseLong(v);
          case "--timeout-ms" -> timeoutMillis = Integer.parseInt(v);
          case "--client-warm-up" -> clientWarmUp = Integer.parseInt(v);
          case "--out" -> out = Path.of(v);
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
        i++;
      }
      if (port <= 0
          || conns < 1
          || duration < 1
          || prelude < 0
          || idle < 0
          || tail < 0
          || clientWarmUp < 0) {
        throw new IllegalArgumentException(
            "needs --port N; --conns and --duration >= 1; --prelude, --idle, --tail,"
                + " --client-warm-up >= 0");
      }
      if (duration + prelude + idle + tail + clientWarmUp > 600) {
        throw new IllegalArgumentException("a run is bounded to 600 s in all");
      }
      if (restartAt >= duration) {
        throw new IllegalArgumentException("--restart-at must be within --duration");
      }
      if (restartAt >= 0 && shmKey == null) {
        throw new IllegalArgumentException("--restart-at needs --shm-key");
      }
      if (idle == 0 && preludeConns > 0 && preludeConns != conns) {
        throw new IllegalArgumentException(
            "--prelude-conns differs from --conns only with --idle > 0");
      }
      return new Options(
          host,
          port,
          conns,
          duration,
          prelude,
          preludeConns > 0 ? preludeConns : conns,
          idle,
          tail,
          restartAt,
          shmKey,
          serverPid,
          timeoutMillis,
          clientWarmUp,
          out);
    }
  }

  /** One thread's requests: completion time (µs from second 0) and latency (µs, or ERROR). */
  static final class Recorder {
    int[] ends = new int[4096];
    int[] latencies = new int[4096];
    int size;

    void add(int endMicros, int latencyMicros) {
      if (size == ends.length) {
        ends = Arrays.copyOf(ends, size * 2);
        latencies = Arrays.copyOf(latencies, size * 2);
      }
      ends[size] = endMicros;
      latencies[size] = latencyMicros;
      size++;
    }
  }

  /** The server's state at one tick. */
  record Sample(long children, long threads, double rssMb, ShmSampler.State shm) {}

  public static void main(String[] args) throws Exception {
    Options o;
    try {
      o = Options.parse(args);
    } catch (RuntimeException e) {
      System.err.println("TimelineLoad: " + e.getMessage());
      System.exit(2);
      return;
    }
    InetAddress address = InetAddress.getByName(o.host());
    if (!address.isLoopbackAddress()) {
      System.err.println("TimelineLoad: loopback only, not " + address);
      System.exit(2);
    }
    InetSocketAddress target = new InetSocketAddress(address, o.port());
    byte[] request =
        ("GET / HTTP/1.1\r\nHost: "
                + o.host()
                + ":"
                + o.port()
                + "\r\nUser-Agent: TimelineLoad\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    ShmSampler shm = o.shmKey() != null ? ShmSampler.attach(o.shmKey()) : null;
    if (o.clientWarmUp() > 0) {
      warmUpClient(o, request);
    }

    long start = System.nanoTime();
    long t0 = start + seconds(o.prelude() + o.idle()); // second 0: the load starts
    long loadEnd = t0 + seconds(o.duration());
    List<Thread> threads = new ArrayList<>();
    List<Recorder> recorders = new ArrayList<>();
    CountDownLatch go = new CountDownLatch(1);
    boolean separatePrelude = o.idle() > 0 && o.prelude() > 0;
    if (separatePrelude) {
      long preludeEnd = start + seconds(o.prelude());
      for (int i = 0; i < o.preludeConns(); i++) {
        Thread t =
            new Thread(
                () -> loop(target, request, o.timeoutMillis(), start, preludeEnd, t0, null, null),
                "prelude-" + i);
        t.setDaemon(true);
        t.start();
        threads.add(t);
      }
    }
    // With an idle phase all load threads begin together at second 0; without, they begin at
    // once and run the prelude, recording from second 0 on.
    long mainStart = o.idle() > 0 ? t0 : start;
    CountDownLatch latch = o.idle() > 0 ? go : null;
    for (int i = 0; i < o.conns(); i++) {
      Recorder r = new Recorder();
      recorders.add(r);
      Thread t =
          new Thread(
              () -> loop(target, request, o.timeoutMillis(), mainStart, loadEnd, t0, r, latch),
              "load-" + i);
      t.setDaemon(true);
      t.start();
      threads.add(t);
    }

    // Ticks -idle .. duration + tail: the state at the start of each recorded second, and one more.
    int first = -o.idle();
    int last = o.duration() + o.tail();
    Sample[] samples = new Sample[last - first + 1];
    String[] events = new String[last - first + 1];
    for (int k = first; k <= last; k++) {
      sleepUntil(t0 + seconds(k));
      samples[k - first] = sample(o.serverPid(), shm); // before the load threads are let go
      if (k == 0) {
        go.countDown();
      }
      if (o.restartAt() >= 0 && k == o.restartAt()) {
        try {
          shm.restart();
          events[k - first] = "restart";
        } catch (RuntimeException e) {
          events[k - first] = "restart-failed";
          System.err.println("TimelineLoad: restart failed: " + e.getMessage());
        }
      }
    }
    go.countDown();
    for (Thread t : threads) {
      t.join(o.timeoutMillis() + 2_000L); // a request still out ends within its timeout
    }
    if (shm != null) {
      shm.close();
    }
    report(o, recorders, samples, events, first, last);
  }

  /**
   * The client's own warm-up: {@code --client-warm-up} seconds of the same loop, on as many
   * threads, against a {@link ClientWarmUp} server in this JVM, so the timeline that follows is the
   * server's warm-up and not this client's. The server under test sees none of it.
   */
  private static void warmUpClient(Options o, byte[] request) throws Exception {
    try (ClientWarmUp server = ClientWarmUp.start(8)) {
      long from = System.nanoTime();
      long until = from + seconds(o.clientWarmUp());
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < o.conns(); i++) {
        Recorder discarded = new Recorder(); // the same branches as the measured loop
        Thread t =
            new Thread(
                () ->
                    loop(
                        server.address(),
                        request,
                        o.timeoutMillis(),
                        from,
                        until,
                        from,
                        discarded,
                        null),
                "warm-up-" + i);
        t.setDaemon(true);
        t.start();
        threads.add(t);
      }
      for (Thread t : threads) {
        t.join(seconds(o.clientWarmUp()) / 1_000_000 + o.timeoutMillis() + 2_000L);
      }
    }
  }

  private static void loop(
      InetSocketAddress target,
      byte[] request,
      int timeoutMillis,
      long from,
      long until,
      long t0,
      Recorder recorder,
      CountDownLatch go) {
    try {
      if (go != null) {
        go.await();
      } else {
        sleepUntil(from);
      }
    } catch (InterruptedException e) {
      return;
    }
    byte[] buffer = new byte[8192];
    while (true) {
      long begin = System.nanoTime();
      if (begin - until >= 0) {
        return;
      }
      boolean ok = request(target, request, timeoutMillis, buffer);
      long end = System.nanoTime();
      if (recorder != null && end - t0 >= 0 && end - until < 0) {
        recorder.add((int) ((end - t0) / 1_000), ok ? (int) ((end - begin) / 1_000) : ERROR);
      }
      if (!ok) {
        try {
          Thread.sleep(1); // no busy loop against a refusing server
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  /** One request on a new connection; true for a complete 200 response. */
  private static boolean request(
      InetSocketAddress target, byte[] request, int timeoutMillis, byte[] buffer) {
    try (Socket s = new Socket()) {
      s.setTcpNoDelay(true);
      s.setSoTimeout(timeoutMillis);
      s.connect(target, timeoutMillis);
      OutputStream out = s.getOutputStream();
      out.write(request);
      out.flush();
      InputStream in = s.getInputStream();
      int have = 0;
      int n;
      while ((n = in.read(buffer, have, buffer.length - have)) > 0) {
        have += n;
        if (have == buffer.length) {
          have = 12; // keep the status line's start; the rest is not looked at
        }
      }
      // "HTTP/1.x 200"
      return have >= 12
          && buffer[0] == 'H'
          && buffer[5] == '1'
          && buffer[9] == '2'
          && buffer[10] == '0'
          && buffer[11] == '0';
    } catch (IOException e) {
      return false;
    }
  }

  private static Sample sample(long pid, ShmSampler shm) {
    long children = -1;
    long threads = -1;
    double rss = -1;
    if (pid > 0) {
      children = ProcessHandle.of(pid).map(h -> h.children().count()).orElse(-1L);
      threads = procStatus(pid, "Threads:");
      long kb = Math.max(0, procStatus(pid, "VmRSS:"));
      kb +=
          ProcessHandle.of(pid)
              .map(
                  h ->
                      h.descendants()
                          .mapToLong(d -> Math.max(0, procStatus(d.pid(), "VmRSS:")))
                          .sum())
              .orElse(0L);
      rss = kb / 1024.0;
    }
    return new Sample(children, threads, rss, shm != null ? shm.state() : null);
  }

  /** A number field of /proc/PID/status ("VmRSS:" in kB), or -1. */
  private static long procStatus(long pid, String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone meanwhile
    }
    return -1;
  }

  private static void report(
      Options o, List<Recorder> recorders, Sample[] samples, String[] events, int first, int last)
      throws IOException {
    int seconds = last - first;
    long[] completed = new long[seconds];
    long[] errors = new long[seconds];
    int[][] lat = new int[seconds][];
    int[] fill = new int[seconds];
    for (Recorder r : recorders) {
      for (int i = 0; i < r.size; i++) {
        int s = r.ends[i] / 1_000_000 - first;
        if (s < 0 || s >= seconds) {
          continue;
        }
        if (r.latencies[i] == ERROR) {
          errors[s]++;
        } else {
          completed[s]++;
        }
      }
    }
    for (int s = 0; s < seconds; s++) {
      lat[s] = new int[(int) completed[s]];
    }
    int allSize = 0;
    for (Recorder r : recorders) {
      for (int i = 0; i < r.size; i++) {
        int s = r.ends[i] / 1_000_000 - first;
        if (s < 0 || s >= seconds || r.latencies[i] == ERROR) {
          continue;
        }
        lat[s][fill[s]++] = r.latencies[i];
      }
    }
    long loadCompleted = 0;
    long loadErrors = 0;
    for (int s = -first; s < -first + o.duration(); s++) {
      loadCompleted += completed[s];
      loadErrors += errors[s];
    }
    int[] all = new int[(int) loadCompleted];
    for (int s = -first; s < -first + o.duration(); s++) {
      System.arraycopy(lat[s], 0, all, allSize, lat[s].length);
      allSize += lat[s].length;
    }
    Arrays.sort(all);

    StringBuilder tsv = new StringBuilder();
    tsv.append("# TimelineLoad port=")
        .append(o.port())
        .append(" conns=")
        .append(o.conns())
        .append(" duration=")
        .append(o.duration())
        .append(" prelude=")
        .append(o.prelude())
        .append('x')
        .append(o.preludeConns())
        .append(" idle=")
        .append(o.idle())
        .append(" tail=")
        .append(o.tail())
        .append(" restart_at=")
        .append(o.restartAt())
        .append('\n');
    tsv.append(
        "second\treq\terrors\tp50_ms\tp99_ms\tmax_ms\tchildren\tthreads\trss_mb\tspawns\tretired"
            + "\tbusy\tqueue\tevent\n");
    long peakChildren = -1;
    for (int s = 0; s < seconds; s++) {
      int[] l = lat[s];
      Arrays.sort(l);
      Sample end = samples[s + 1];
      Sample begin = samples[s];
      String spawns = "";
      String retired = "";
      String busy = "";
      String queue = "";
      long children = end.children();
      if (end.shm() != null && begin.shm() != null) {
        spawns = Long.toString(end.shm().spawns() - begin.shm().spawns());
        retired = Long.toString(end.shm().retired() - begin.shm().retired());
        busy = Long.toString(end.shm().busy());
        queue = Long.toString(end.shm().queue());
        children = end.shm().children();
      }
      if (s + first >= 0 && s + first < o.duration()) {
        peakChildren = Math.max(peakChildren, children);
      }
      tsv.append(s + first)
          .append('\t')
          .append(completed[s])
          .append('\t')
          .append(errors[s])
          .append('\t')
          .append(ms(percentile(l, 0.50)))
          .append('\t')
          .append(ms(percentile(l, 0.99)))
          .append('\t')
          .append(ms(l.length == 0 ? -1 : l[l.length - 1]))
          .append('\t')
          .append(children)
          .append('\t')
          .append(end.threads())
          .append('\t')
          .append(String.format(Locale.ROOT, "%.1f", end.rssMb()))
          .append('\t')
          .append(spawns)
          .append('\t')
          .append(retired)
          .append('\t')
          .append(busy)
          .append('\t')
          .append(queue)
          .append('\t')
          .append(events[s] != null ? events[s] : "")
          .append('\n');
    }
    if (o.out() != null) {
      Files.writeString(o.out(), tsv);
    }
    System.out.print(tsv);

    List<String> note = new ArrayList<>();
    if (o.restartAt() >= 0) {
      int before = Math.min(5, o.restartAt());
      int after = Math.min(5, o.duration() - o.restartAt());
      double steady = mean(completed, -first + o.restartAt() - before, before);
      double following = mean(completed, -first + o.restartAt(), after);
      double dip = Double.MAX_VALUE;
      for (int s = o.restartAt(); s < o.duration(); s++) {
        dip = Math.min(dip, completed[s - first]);
      }
      note.add(String.format(Locale.ROOT, "steady=%.0f", steady));
      note.add(String.format(Locale.ROOT, "after=%.0f", following));
      note.add(String.format(Locale.ROOT, "after_pct=%.1f", 100 * following / steady));
      note.add(String.format(Locale.ROOT, "dip_pct=%.1f", 100 * dip / steady));
      // The 5 s right after a restart mostly see the old children still serving while the new
      // ones start; the 10 s after it see the whole dip.
      int after10 = Math.min(10, o.duration() - o.restartAt());
      double following10 = mean(completed, -first + o.restartAt(), after10);
      note.add(String.format(Locale.ROOT, "after10_pct=%.1f", 100 * following10 / steady));
    }
    if (o.idle() > 0) {
      int n = Math.min(5, o.duration());
      long[] lastSeconds =
          Arrays.copyOfRange(completed, -first + o.duration() - n, -first + o.duration());
      Arrays.sort(lastSeconds);
      double plateau = lastSeconds[n / 2];
      int ramp = -1;
      for (int s = 0; s < o.duration(); s++) {
        if (completed[s - first] >= 0.9 * plateau) {
          ramp = s;
          break;
        }
      }
      note.add(String.format(Locale.ROOT, "plateau=%.0f", plateau));
      note.add("ramp_s=" + ramp);
      if (peakChildren >= 0) {
        note.add("peak_children=" + peakChildren);
      }
    }
    try (PrintWriter w = new PrintWriter(System.out, true, StandardCharsets.UTF_8)) {
      w.printf(
          Locale.ROOT,
          "TOTAL\t%.1f\t%s\t%s\t%d\t%s%n",
          loadCompleted / (double) o.duration(),
          ms(percentile(all, 0.50)),
          ms(percentile(all, 0.99)),
          loadErrors,
          note.isEmpty() ? "-" : String.join(",", note));
    }
  }

  private static double mean(long[] values, int from, int count) {
    if (count <= 0) {
      return 0;
    }
    long sum = 0;
    for (int i = from; i < from + count; i++) {
      sum += values[i];
    }
    return sum / (double) count;
  }

  /** Nearest-rank percentile of sorted values, or -1 for none. */
  static int percentile(int[] sorted, double p) {
    if (sorted.length == 0) {
      return -1;
    }
    int rank = (int) Math.ceil(p * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  private static String ms(int micros) {
    return micros < 0 ? "" : String.format(Locale.ROOT, "%.3f", micros / 1_000.0);
  }

  private static long seconds(int s) {
    return s * 1_000_000_000L;
  }

  private static void sleepUntil(long nanoTime) throws InterruptedException {
    long wait;
    while ((wait = nanoTime - System.nanoTime()) > 0) {
      Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
    }
  }

  /**
   * prefork's status table through the public {@code ControlHandle}; a class of its own so that the
   * shm libraries load only when it is used.
   */
  static final class ShmSampler implements AutoCloseable {
    /** Counters at one tick; {@code retired} = exited children that did not crash. */
    record State(long children, long spawns, long retired, long busy, long queue) {}

    private final io.prefork.core.ControlHandle handle;

    private ShmSampler(io.prefork.core.ControlHandle handle) {
      this.handle = handle;
    }

    static ShmSampler attach(int key) throws InterruptedException {
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (true) {
        try {
          return new ShmSampler(io.prefork.core.ControlHandle.attach(key));
        } catch (RuntimeException e) {
          if (System.nanoTime() - deadline > 0) {
            throw e;
          }
          Thread.sleep(100);
        }
      }
    }

    State state() {
      try {
        io.prefork.core.ServerStatus s = handle.status();
        long children = s.children();
        return new State(
            children,
            s.spawns(),
            s.spawns() - s.crashes() - children,
            s.count(io.prefork.shm.SlotState.BUSY),
            s.listenQueue());
      } catch (RuntimeException e) {
        return null; // the master is gone or stopping
      }
    }

    void restart() {
      handle.restart();
    }

    @Override
    public void close() {
      handle.close();
    }
  }
}
