package io.prefork.bench.hotpath;

import io.prefork.core.internal.child.AcceptedConnection;
import io.prefork.examples.HelloHttpJob;
import io.prefork.shm.ChildTable;
import io.prefork.shm.MasterTable;
import io.prefork.shm.ShmSegment;
import io.prefork.shm.TableSpec;
import io.prefork.shm.WorkerSlot;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A child's per-connection path on loopback, in one JVM and one thread: a client connects and sends
 * a request (the kernel completes the handshake, no accept needed), then the worker does what
 * {@code Worker.run}/{@code Worker.serve} do for each connection: mark idle, accept, mark busy
 * (count), wrap the channel in an {@code AcceptedConnection} (read deadline, streams), run {@link
 * HelloHttpJob}, close; then the client reads the response to end-of-stream and closes.
 *
 * <p>{@code rawChannel} is the floor: the same client, and a server that accepts, reads into a
 * reused direct buffer until the blank line, writes the same response and closes, with no table and
 * no wrappers. The difference is what prefork's path costs per connection. Run with {@code -prof
 * gc} for the bytes allocated per connection. It lives in {@code io.prefork.core} to reach the
 * package-private {@code AcceptedConnection}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {
      "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
      "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
      "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
      "-XX:+UseSerialGC"
    })
public class HotPathBenchmark {
  private static final byte[] REQUEST =
      "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII);
  private static final byte[] RESPONSE = HelloHttpJob.response();

  private MasterTable master;
  private ChildTable child;
  private WorkerSlot slot;
  private ServerSocketChannel server;
  private InetSocketAddress address;
  private final HelloHttpJob job = new HelloHttpJob();
  private final ByteBuffer request = ByteBuffer.wrap(REQUEST);
  private final ByteBuffer clientBuffer = ByteBuffer.allocateDirect(4096);
  private final ByteBuffer serverBuffer = ByteBuffer.allocateDirect(4096);
  private final ByteBuffer response = ByteBuffer.allocateDirect(RESPONSE.length);

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    TableSpec spec = new TableSpec(1, 1, 1, InetAddress.getLoopbackAddress(), 6905, 128);
    while (master == null) {
      int key = 0x7d00_0000 | ThreadLocalRandom.current().nextInt(1, 0x0100_0000);
      if (ShmSegment.stat(key).isEmpty()) {
        master = MasterTable.create(key, spec);
      }
    }
    child = ChildTable.attach(master.key(), 0, 1);
    ShmSegment.remove(master.key()); // nothing left behind even if the fork is killed
    slot = child.worker(0);
    server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 511);
    address = (InetSocketAddress) server.getLocalAddress();
    response.put(RESPONSE).flip();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    server.close();
    child.close();
    master.close();
  }

  /** prefork's path: table transitions, AcceptedConnection, HelloHttpJob, close. */
  @Benchmark
  public int preforkPath() throws Exception {
    SocketChannel client = connect();
    slot.markIdle(System.currentTimeMillis());
    SocketChannel channel = server.accept();
    slot.markBusy(System.currentTimeMillis());
    try (AcceptedConnection connection = new AcceptedConnection(channel, 10_000, () -> false)) {
      job.handle(connection);
    }
    return drain(client);
  }

  /** The floor: accept, read to the blank line, write, close; nothing else. */
  @Benchmark
  public int rawChannel() throws Exception {
    SocketChannel client = connect();
    try (SocketChannel channel = server.accept()) {
      serverBuffer.clear();
      int lineFeeds = 0;
      outer:
      while (channel.read(serverBuffer) > 0) {
        for (int i = 0; i < serverBuffer.position(); i++) {
          byte b = serverBuffer.get(i);
          if (b == '\n') {
            if (++lineFeeds == 2) {
              break outer;
            }
          } else if (b != '\r') {
            lineFeeds = 0;
          }
        }
      }
      response.rewind();
      channel.write(response);
    }
    return drain(client);
  }

  private SocketChannel connect() throws IOException {
    SocketChannel client = SocketChannel.open(address);
    request.rewind();
    client.write(request);
    return client;
  }

  private int drain(SocketChannel client) throws IOException {
    int total = 0;
    try (client) {
      int n;
      clientBuffer.clear();
      while ((n = client.read(clientBuffer)) >= 0) {
        total += n;
        clientBuffer.clear();
      }
    }
    return total;
  }
}
