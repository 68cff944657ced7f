package io.prefork.bench.soak;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The soak run's load (benchmarks/soak/soak.sh): a mix of well-behaved and abusive clients against
 * two prefork servers on 127.0.0.1, one running the {@code hello} job and one the {@code wait} job
 * (a server runs one job). A thread per connection, every one bounded by {@code --seconds}:
 *
 * <ul>
 *   <li>{@code hello} ({@code --hello N}, on the hello server) and {@code wait} ({@code --wait N},
 *       on the wait server): closed loop, one {@code GET} per connection, the complete answer read
 *       ({@code HTTP/1.0 200}, body {@code hello\n}). Anything else is a failure, each one written
 *       to {@code failures.tsv} with its start and end (epoch ms), so that soak.sh can tell the
 *       ones in flight on a child it killed;
 *   <li>{@code slow} ({@code --slow N}): a request of {@value #SLOW_REQUEST_BYTES} bytes, one byte
 *       every {@code --slow-interval-ms} (100): longer than the server's read timeout, which must
 *       cut it;
 *   <li>{@code silent} ({@code --silent N}): connects and sends nothing; the read timeout cuts it;
 *   <li>{@code garbage} ({@code --garbage N}): 1 to 8192 random bytes, then reads what comes;
 *   <li>{@code never-read} ({@code --never-read N}): a valid request, then the socket is held open
 *       for {@code --hold-ms} (15000) without reading, and closed.
 * </ul>
 *
 * Abusive threads alternate between the two servers (even index: hello, odd: wait). Their outcomes
 * are counted by kind (cut by the server, answered, reset...), never as errors.
 *
 * <p>Writes to {@code --out DIR}: {@code load.tsv} (one line per kind and outcome), {@code
 * load.json} (the same), {@code failures.tsv} (every failed well-behaved request), {@code
 * timeline.tsv} (per second: answers and failures of each kind).
 *
 * <pre>
 * java -cp benchmarks.jar io.prefork.bench.soak.SoakLoad --hello-port 19480 --wait-port 19481 \
 *     --seconds 600 --out DIR [--hello 20 --wait 50 --slow 4 --silent 4 --garbage 2 --never-read 2]
 * </pre>
 */
public final class SoakLoad {
  static final int SLOW_REQUEST_BYTES = 200;
  private static final int MAX_FAILURE_LINES = 200_000;
  private static final byte[] EXPECTED_BODY = "\r\n\r\nhello\n".getBytes(StandardCharsets.US_ASCII);

  private SoakLoad() {}

  /** The options. */
  record Options(
      int helloPort,
      int waitPort,
      int seconds,
      int hello,
      int waitConns,
      int slow,
      int silent,
      int garbage,
      int neverRead,
      int slowIntervalMillis,
      int holdMillis,
      int timeoutMillis,
      Path out) {

    static Options parse(String[] args) {
      int helloPort = 0;
      int waitPort = 0;
      int seconds = 60;
      int hello = 20;
      int waitConns = 50;
      int slow = 4;
      int silent = 4;
      int garbage = 2;
      int neverRead = 2;
      int slowInterval = 100;
      int hold = 15_000;
      int timeout = 30_000;
      Path out = null;
      for (int i = 0; i < args.length; i++) {
        String v = i + 1 < args.length ? args[i + 1] : null;
        if (v == null) {
          throw new IllegalArgumentException(args[i] + " needs a value");
        }
        switch (args[i]) {
          case "--hello-port" -> helloPort = Integer.parseInt(v);
          case "--wait-port" -> waitPort = Integer.parseInt(v);
          case "--seconds" -> seconds = Integer.parseInt(v);
          case "--hello" -> hello = Integer.parseInt(v);
          case "--wait" -> waitConns = Integer.parseInt(v);
          case "--slow" -> slow = Integer.parseInt(v);
          case "--silent" -> silent = Integer.parseInt(v);
          case "--garbage" -> garbage = Integer.parseInt(v);
          case "--never-read" -> neverRead = Integer.parseInt(v);
          case "--slow-interval-ms" -> slowInterval = Integer.parseInt(v);
          case "--hold-ms" -> hold = Integer.parseInt(v);
          case "--timeout-ms" -> timeout = Integer.parseInt(v);
          case "--out" -> out = Path.of(v);
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
        i++;
      }
      if (helloPort <= 0 || waitPort <= 0 || out == null) {
        throw new IllegalArgumentException("needs --hello-port N --wait-port N --out DIR");
      }
      if (seconds < 1 || seconds > 3_600) {
        throw new IllegalArgumentException("--seconds is 1..3600");
      }
      int all = hello + waitConns + slow + silent + garbage + neverRead;
      if (Math.min(Math.min(hello, waitConns), Math.min(Math.min(slow, silent), garbage)) < 0
          || neverRead < 0
          || all > 1_000) {
        throw new IllegalArgumentException("connections per kind are >= 0, at most 1000 in all");
      }
      if (slowInterval < 1 || hold < 0 || timeout < 1_000) {
        throw new IllegalArgumentException(
            "--slow-interval-ms >= 1, --hold-ms >= 0, --timeout-ms >= 1000");
      }
      return new Options(
          helloPort,
          waitPort,
          seconds,
          hello,
          waitConns,
          slow,
          silent,
          garbage,
          neverRead,
          slowInterval,
          hold,
          timeout,
          out);
    }
  }

  /** The kinds of client, in report order. */
  enum Kind {
    HELLO("hello", true),
    WAIT("wait", true),
    SLOW("slow", false),
    SILENT("silent", false),
    GARBAGE("garbage", false),
    NEVER_READ("never-read", false);

    final String label;
    final boolean wellBehaved;

    Kind(String label, boolean wellBehaved) {
      this.label = label;
      this.wellBehaved = wellBehaved;
    }
  }

  /**
   * Latencies in microseconds, 16 buckets per power of two (about 4 % resolution), one per thread
   * (no sharing while the load runs), merged at the end.
   */
  static final class Histogram {
    private static final int SUB = 16;
    final long[] counts = new long[64 * SUB];
    long total;
    long max;

    static int index(long micros) {
      long v = Math.max(0, micros);
      if (v < SUB) {
        return (int) v;
      }
      int msb = 63 - Long.numberOfLeadingZeros(v); // >= 4
      int sub = (int) ((v >>> (msb - 4)) & (SUB - 1));
      return (msb - 3) * SUB + sub;
    }

    /** The largest value of a bucket. */
    static long upper(int index) {
      if (index < SUB) {
        return index;
      }
      int msb = index / SUB + 3;
      long sub = index % SUB;
      return ((SUB + sub + 1) << (msb - 4)) - 1;
    }

    void add(long micros) {
      counts[index(micros)]++;
      total++;
      max = Math.max(max, micros);
    }

    void merge(Histogram other) {
      for (int i = 0; i < counts.length; i++) {
        counts[i] += other.counts[i];
      }
      total += other.total;
      max = Math.max(max, other.max);
    }

    /** Nearest-rank percentile (a bucket's upper bound, capped at the maximum), or -1 for none. */
    long percentile(double p) {
      if (total == 0) {
        return -1;
      }
      long rank = Math.max(1, (long) Math.ceil(p * total));
      long seen = 0;
      for (int i = 0; i < counts.length; i++) {
        seen += counts[i];
        if (seen >= rank) {
          return Math.min(upper(i), max);
        }
      }
      return max;
    }
  }

  /** What one thread saw: outcome counts and a latency histogram per outcome. */
  static final class Tally {
    final Map<String, Long> outcomes = new TreeMap<>();
    final Map<String, Histogram> latencies = new TreeMap<>();

    void add(String outcome, long micros) {
      outcomes.merge(outcome, 1L, Long::sum);
      latencies.computeIfAbsent(outcome, k -> new Histogram()).add(micros);
    }

    void merge(Tally other) {
      other.outcomes.forEach((k, v) -> outcomes.merge(k, v, Long::sum));
      other.latencies.forEach(
          (k, v) -> latencies.computeIfAbsent(k, x -> new Histogram()).merge(v));
    }
  }

  /** One failed well-behaved request. */
  record Failure(
      Kind kind,
      String server,
      long startMillis,
      long endMillis,
      String outcome,
      int bytes,
      String message) {}

  /** The state every thread shares. */
  static final class Shared {
    final Options options;
    final long startNanos;
    final long endNanos;
    final long startMillis;
    final AtomicLongArray[] okPerSecond = new AtomicLongArray[Kind.values().length];
    final AtomicLongArray[] badPerSecond = new AtomicLongArray[Kind.values().length];
    final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Failure> notes = new ConcurrentLinkedQueue<>();
    final AtomicInteger failureCount = new AtomicInteger();
    final ConcurrentLinkedQueue<Socket> open = new ConcurrentLinkedQueue<>();
    volatile boolean over;

    Shared(Options options) {
      this.options = options;
      this.startMillis = System.currentTimeMillis();
      this.startNanos = System.nanoTime();
      this.endNanos = startNanos + options.seconds() * 1_000_000_000L;
      for (int i = 0; i < okPerSecond.length; i++) {
        okPerSecond[i] = new AtomicLongArray(options.seconds() + 120);
        badPerSecond[i] = new AtomicLongArray(options.seconds() + 120);
      }
    }

    boolean running() {
      return !over && System.nanoTime() - endNanos < 0;
    }

    void perSecond(Kind kind, boolean good) {
      int s = (int) ((System.nanoTime() - startNanos) / 1_000_000_000L);
      AtomicLongArray a = (good ? okPerSecond : badPerSecond)[kind.ordinal()];
      if (s >= 0 && s < a.length()) {
        a.incrementAndGet(s);
      }
    }

    /** An abusive client's outcome that the server should not have given it. */
    void noted(Failure f) {
      if (notes.size() < 10_000) {
        notes.add(f);
      }
    }

    void failed(Failure f) {
      if (failureCount.incrementAndGet() <= MAX_FAILURE_LINES) {
        failures.add(f);
      }
    }
  }

  /** One client thread: its kind, its server and what it saw. */
  static final class Client implements Runnable {
    final Kind kind;
    final int index;
    final String server;
    final InetSocketAddress target;
    final Shared shared;
    final Tally tally = new Tally();
    final SplittableRandom random;
    final byte[] buffer = new byte[16_384];

    Client(
        Kind kind, int index, String server, InetSocketAddress target, Shared shared, long seed) {
      this.kind = kind;
      this.index = index;
      this.server = server;
      this.target = target;
      this.shared = shared;
      this.random = new SplittableRandom(seed);
    }

    @Override
    public void run() {
      // Spread the abusive clients' starts over their first second.
      if (!kind.wellBehaved) {
        pause(random.nextInt(1_000));
      }
      while (shared.running()) {
        long begin = System.nanoTime();
        long beginMillis = System.currentTimeMillis();
        Result r;
        try {
          r =
              switch (kind) {
                case HELLO, WAIT -> wellBehaved();
                case SLOW -> slow();
                case SILENT -> silent();
                case GARBAGE -> garbage();
                case NEVER_READ -> neverRead();
              };
        } catch (RuntimeException e) {
          r = new Result("client-error", 0, e.toString());
        }
        long micros = (System.nanoTime() - begin) / 1_000;
        if (r == null) {
          break; // the soak ended while this connection was open: not counted
        }
        tally.add(r.outcome(), micros);
        boolean good = !kind.wellBehaved || r.outcome().equals("ok");
        shared.perSecond(kind, good);
        if (kind.wellBehaved && !good) {
          shared.failed(
              new Failure(
                  kind,
                  server,
                  beginMillis,
                  System.currentTimeMillis(),
                  r.outcome(),
                  r.bytes(),
                  r.message()));
          pause(1); // no busy loop against a refusing server
        } else if (!kind.wellBehaved) {
          if (surprising(r.outcome())) {
            shared.noted(
                new Failure(
                    kind,
                    server,
                    beginMillis,
                    System.currentTimeMillis(),
                    r.outcome(),
                    r.bytes(),
                    r.message()));
          }
          pause(50 + random.nextInt(100));
        }
      }
    }

    record Result(String outcome, int bytes, String message) {}

    private Socket open() throws IOException {
      Socket s = new Socket();
      shared.open.add(s);
      s.setTcpNoDelay(true);
      s.setSoTimeout(shared.options.timeoutMillis());
      s.connect(target, shared.options.timeoutMillis());
      return s;
    }

    private void close(Socket s) {
      if (s != null) {
        shared.open.remove(s);
        try {
          s.close();
        } catch (IOException e) {
          // closing
        }
      }
    }

    private byte[] request() {
      return ("GET /"
              + kind.label
              + " HTTP/1.0\r\nHost: 127.0.0.1:"
              + target.getPort()
              + "\r\nUser-Agent: SoakLoad\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII);
    }

    /** Reads to the end of input; the count of bytes kept at the start of the buffer. */
    private int readAll(InputStream in) throws IOException {
      int have = 0;
      int n;
      while ((n = in.read(buffer, have, buffer.length - have)) > 0) {
        have += n;
        if (have == buffer.length) {
          have = 64; // an answer this long is wrong anyway; keep its start
        }
      }
      return have;
    }

    private String printable(int have) {
      return have <= 0
          ? ""
          : new String(buffer, 0, Math.min(have, 60), StandardCharsets.ISO_8859_1)
              .replaceAll("[^\\x20-\\x7e]", ".");
    }

    /** Outcomes of abusive clients that are not what the server should do to them. */
    private boolean surprising(String outcome) {
      return switch (kind) {
        case SLOW, SILENT -> !outcome.equals("cut") && !outcome.equals("cut-early");
        case GARBAGE -> outcome.equals("other-answer") || outcome.startsWith("client");
        case NEVER_READ -> !outcome.equals("answered-unread");
        default -> false;
      };
    }

    private boolean complete(int have) {
      if (have < 12 + EXPECTED_BODY.length
          || buffer[0] != 'H'
          || buffer[9] != '2'
          || buffer[10] != '0'
          || buffer[11] != '0') {
        return false;
      }
      for (int i = 0; i < EXPECTED_BODY.length; i++) {
        if (buffer[have - EXPECTED_BODY.length + i] != EXPECTED_BODY[i]) {
          return false;
        }
      }
      return true;
    }

    private Result wellBehaved() {
      Socket s = null;
      int have = 0;
      try {
        s = open();
        OutputStream out = s.getOutputStream();
        out.write(request());
        out.flush();
        have = readAll(s.getInputStream());
        if (complete(have)) {
          return new Result("ok", have, "");
        }
        return new Result(
            have == 0 ? "eof-empty" : "incomplete",
            have,
            new String(buffer, 0, Math.min(have, 40), StandardCharsets.ISO_8859_1)
                .replaceAll("[^\\x20-\\x7e]", "."));
      } catch (IOException e) {
        return new Result(classify(e, s), have, String.valueOf(e.getMessage()));
      } finally {
        close(s);
      }
    }

    private Result slow() {
      Socket s = null;
      long t0 = System.nanoTime();
      try {
        s = open();
        byte[] pad = new byte[SLOW_REQUEST_BYTES];
        byte[] head = ("GET /slow HTTP/1.0\r\nX-Pad: ").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(head, 0, pad, 0, head.length);
        Arrays.fill(pad, head.length, pad.length - 4, (byte) 'a');
        pad[pad.length - 4] = '\r';
        pad[pad.length - 3] = '\n';
        pad[pad.length - 2] = '\r';
        pad[pad.length - 1] = '\n';
        OutputStream out = s.getOutputStream();
        for (byte b : pad) {
          if (!shared.running()) {
            return null;
          }
          out.write(b);
          out.flush();
          pause(shared.options.slowIntervalMillis());
        }
        int have = readAll(s.getInputStream());
        return new Result(
            complete(have) ? "answered" : have == 0 ? "cut" : "incomplete", have, printable(have));
      } catch (IOException e) {
        if (!shared.running()) {
          return null;
        }
        String c = classify(e, s);
        // A write that fails: the server closed this connection (its read timeout, or a kill).
        return new Result(c.equals("reset") || c.equals("broken-pipe") ? cut(t0) : c, 0, "");
      } finally {
        close(s);
      }
    }

    private String cut(long t0) {
      double seconds = (System.nanoTime() - t0) / 1e9;
      return seconds >= 9.5 ? "cut" : "cut-early";
    }

    private Result silent() {
      Socket s = null;
      long t0 = System.nanoTime();
      try {
        s = open();
        int n = s.getInputStream().read(buffer);
        return new Result(n < 0 ? cut(t0) : "answered", Math.max(n, 0), printable(n));
      } catch (IOException e) {
        if (!shared.running()) {
          return null;
        }
        String c = classify(e, s);
        return new Result(c.equals("reset") ? cut(t0) : c, 0, "");
      } finally {
        close(s);
      }
    }

    private Result garbage() {
      Socket s = null;
      long t0 = System.nanoTime();
      try {
        s = open();
        byte[] junk = new byte[1 + random.nextInt(8_192)];
        random.nextBytes(junk);
        s.getOutputStream().write(junk);
        s.getOutputStream().flush();
        int have = readAll(s.getInputStream());
        if (have > 0) {
          return new Result(buffer[0] == 'H' ? "answered" : "other-answer", have, printable(have));
        }
        return new Result(cut(t0), 0, "");
      } catch (IOException e) {
        if (!shared.running()) {
          return null;
        }
        // More than the 4 KiB a job reads: it answers and closes with bytes unread, which the
        // kernel turns into a reset, often before the answer is read.
        return new Result(classify(e, s), 0, "");
      } finally {
        close(s);
      }
    }

    private Result neverRead() {
      Socket s = null;
      try {
        s = open();
        s.getOutputStream().write(request());
        s.getOutputStream().flush();
        long until = System.nanoTime() + shared.options.holdMillis() * 1_000_000L;
        while (System.nanoTime() - until < 0) {
          if (!shared.running()) {
            return null;
          }
          pause(100);
        }
        // Not read: only looked at. Bytes waiting = the server answered into the void.
        return new Result(
            s.getInputStream().available() > 0 ? "answered-unread" : "no-answer", 0, "");
      } catch (IOException e) {
        if (!shared.running()) {
          return null;
        }
        return new Result(classify(e, s), 0, "");
      } finally {
        close(s);
      }
    }

    private static String classify(IOException e, Socket s) {
      String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
      if (e instanceof ConnectException) {
        return m.contains("timed out") ? "connect-timeout" : "refused";
      }
      if (e instanceof SocketTimeoutException) {
        return s != null && s.isConnected() ? "timeout" : "connect-timeout";
      }
      if (e instanceof SocketException) {
        if (m.contains("reset")) {
          return "reset";
        }
        if (m.contains("broken pipe")) {
          return "broken-pipe";
        }
        if (m.contains("socket closed")) {
          return "closed-by-client";
        }
      }
      return "io-error";
    }

    private static void pause(long millis) {
      try {
        Thread.sleep(millis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  public static void main(String[] args) throws Exception {
    Options o;
    try {
      o = Options.parse(args);
    } catch (RuntimeException e) {
      System.err.println("SoakLoad: " + e.getMessage());
      System.exit(2);
      return;
    }
    InetAddress loopback = InetAddress.getByName("127.0.0.1");
    InetSocketAddress hello = new InetSocketAddress(loopback, o.helloPort());
    InetSocketAddress wait = new InetSocketAddress(loopback, o.waitPort());
    Files.createDirectories(o.out());
    Shared shared = new Shared(o);
    List<Client> clients = new ArrayList<>();
    long seed = 0x50a4L;
    int[] counts = {o.hello(), o.waitConns(), o.slow(), o.silent(), o.garbage(), o.neverRead()};
    for (Kind kind : Kind.values()) {
      for (int i = 0; i < counts[kind.ordinal()]; i++) {
        boolean toHello =
            switch (kind) {
              case HELLO -> true;
              case WAIT -> false;
              default -> i % 2 == 0;
            };
        clients.add(
            new Client(
                kind, i, toHello ? "hello" : "wait", toHello ? hello : wait, shared, seed++));
      }
    }
    List<Thread> threads = new ArrayList<>();
    for (Client c : clients) {
      Thread t = new Thread(c, c.kind.label + "-" + c.index);
      t.setDaemon(true);
      threads.add(t);
    }
    System.out.printf(
        Locale.ROOT,
        "SoakLoad: %d s, hello %d + wait %d connections, slow %d, silent %d, garbage %d, never-read"
            + " %d; start %d%n",
        o.seconds(),
        o.hello(),
        o.waitConns(),
        o.slow(),
        o.silent(),
        o.garbage(),
        o.neverRead(),
        shared.startMillis);
    threads.forEach(Thread::start);
    Thread progress = new Thread(() -> progress(shared, clients), "progress");
    progress.setDaemon(true);
    progress.start();

    // Bounded: until the end, then well-behaved requests in flight finish (within their
    // timeout); abusive connections still open are closed.
    while (shared.running()) {
      Thread.sleep(200);
    }
    shared.over = true;
    long joinUntil = System.nanoTime() + (o.timeoutMillis() + 5_000L) * 1_000_000L;
    for (int i = 0; i < threads.size(); i++) {
      Thread t = threads.get(i);
      if (!clients.get(i).kind.wellBehaved) {
        continue;
      }
      t.join(Math.max(1, (joinUntil - System.nanoTime()) / 1_000_000));
    }
    for (Socket s : shared.open) {
      try {
        s.close();
      } catch (IOException e) {
        // closing
      }
    }
    for (Thread t : threads) {
      t.join(Math.max(1, (joinUntil - System.nanoTime()) / 1_000_000));
    }
    long stillRunning = threads.stream().filter(Thread::isAlive).count();
    write(o, shared, clients, stillRunning);
  }

  private static void progress(Shared shared, List<Client> clients) {
    int last = 0;
    while (shared.running()) {
      try {
        Thread.sleep(10_000);
      } catch (InterruptedException e) {
        return;
      }
      int now = (int) ((System.nanoTime() - shared.startNanos) / 1_000_000_000L);
      StringBuilder b = new StringBuilder("SoakLoad: ").append(now).append(" s");
      for (Kind k : Kind.values()) {
        long ok = 0;
        long bad = 0;
        for (int s = last; s < now && s < shared.okPerSecond[k.ordinal()].length(); s++) {
          ok += shared.okPerSecond[k.ordinal()].get(s);
          bad += shared.badPerSecond[k.ordinal()].get(s);
        }
        b.append(", ").append(k.label).append(' ').append(ok);
        if (k.wellBehaved) {
          b.append('/').append(bad).append(" failed");
        }
      }
      last = now;
      System.out.println(b);
    }
  }

  private static void writeFailures(Path file, List<Failure> failures) throws IOException {
    failures.sort((a, b) -> Long.compare(a.endMillis(), b.endMillis()));
    try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(file, StandardCharsets.UTF_8))) {
      w.println("kind\tserver\tstart_ms\tend_ms\toutcome\tbytes\tmessage");
      for (Failure f : failures) {
        w.println(
            f.kind().label
                + "\t"
                + f.server()
                + "\t"
                + f.startMillis()
                + "\t"
                + f.endMillis()
                + "\t"
                + f.outcome()
                + "\t"
                + f.bytes()
                + "\t"
                + f.message().replace('\t', ' ').replace('\n', ' '));
      }
    }
  }

  private static String ms(long micros) {
    return micros < 0 ? "" : String.format(Locale.ROOT, "%.3f", micros / 1_000.0);
  }

  private static void write(Options o, Shared shared, List<Client> clients, long stillRunning)
      throws IOException {
    Map<Kind, Tally> byKind = new TreeMap<>();
    Map<Kind, Integer> threadsByKind = new TreeMap<>();
    for (Client c : clients) {
      byKind.computeIfAbsent(c.kind, k -> new Tally()).merge(c.tally);
      threadsByKind.merge(c.kind, 1, Integer::sum);
    }
    StringBuilder tsv =
        new StringBuilder(
            "kind\twell_behaved\tconnections\toutcome\tcount\tp50_ms\tp99_ms\tmax_ms\n");
    StringBuilder json =
        new StringBuilder("{\"startMillis\":")
            .append(shared.startMillis)
            .append(",\"seconds\":")
            .append(o.seconds())
            .append(",\"threadsStillRunning\":")
            .append(stillRunning)
            .append(",\"failuresRecorded\":")
            .append(Math.min(shared.failureCount.get(), MAX_FAILURE_LINES))
            .append(",\"kinds\":[");
    boolean firstKind = true;
    for (Kind k : Kind.values()) {
      Tally t = byKind.getOrDefault(k, new Tally());
      if (!firstKind) {
        json.append(',');
      }
      firstKind = false;
      json.append("{\"kind\":\"")
          .append(k.label)
          .append("\",\"wellBehaved\":")
          .append(k.wellBehaved)
          .append(",\"connections\":")
          .append(threadsByKind.getOrDefault(k, 0))
          .append(",\"outcomes\":{");
      boolean firstOutcome = true;
      for (Map.Entry<String, Long> e : t.outcomes.entrySet()) {
        Histogram h = t.latencies.get(e.getKey());
        tsv.append(k.label)
            .append('\t')
            .append(k.wellBehaved)
            .append('\t')
            .append(threadsByKind.getOrDefault(k, 0))
            .append('\t')
            .append(e.getKey())
            .append('\t')
            .append(e.getValue())
            .append('\t')
            .append(ms(h.percentile(0.5)))
            .append('\t')
            .append(ms(h.percentile(0.99)))
            .append('\t')
            .append(ms(h.max))
            .append('\n');
        if (!firstOutcome) {
          json.append(',');
        }
        firstOutcome = false;
        json.append('"')
            .append(e.getKey())
            .append("\":{\"count\":")
            .append(e.getValue())
            .append(",\"p50Ms\":")
            .append(ms(h.percentile(0.5)))
            .append(",\"p99Ms\":")
            .append(ms(h.percentile(0.99)))
            .append(",\"maxMs\":")
            .append(ms(h.max))
            .append('}');
      }
      json.append("}}");
    }
    json.append("]}\n");
    Files.writeString(o.out().resolve("load.tsv"), tsv);
    Files.writeString(o.out().resolve("load.json"), json);

    writeFailures(o.out().resolve("failures.tsv"), new ArrayList<>(shared.failures));
    writeFailures(o.out().resolve("abusive-notes.tsv"), new ArrayList<>(shared.notes));
    try (PrintWriter w =
        new PrintWriter(
            Files.newBufferedWriter(o.out().resolve("timeline.tsv"), StandardCharsets.UTF_8))) {
      StringBuilder head = new StringBuilder("second\tepoch_ms");
      for (Kind k : Kind.values()) {
        head.append('\t')
            .append(k.label)
            .append(k.wellBehaved ? "_ok\t" + k.label + "_failed" : "_done");
      }
      w.println(head);
      int seconds = o.seconds() + (int) Math.min(60, o.timeoutMillis() / 1_000 + 5);
      for (int s = 0; s < seconds && s < shared.okPerSecond[0].length(); s++) {
        StringBuilder line =
            new StringBuilder().append(s).append('\t').append(shared.startMillis + s * 1_000L);
        for (Kind k : Kind.values()) {
          line.append('\t')
              .append(
                  shared.okPerSecond[k.ordinal()].get(s)
                      + (k.wellBehaved ? 0 : shared.badPerSecond[k.ordinal()].get(s)));
          if (k.wellBehaved) {
            line.append('\t').append(shared.badPerSecond[k.ordinal()].get(s));
          }
        }
        w.println(line);
      }
    }
    System.out.print(tsv);
    System.out.printf(
        Locale.ROOT,
        "SoakLoad: done; %d failed well-behaved requests%s%n",
        shared.failureCount.get(),
        stillRunning > 0 ? "; " + stillRunning + " threads still running at the end" : "");
  }
}
