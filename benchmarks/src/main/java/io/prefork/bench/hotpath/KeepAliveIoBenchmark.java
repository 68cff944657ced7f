package io.prefork.bench.hotpath;

import io.prefork.core.internal.child.AcceptedConnection;
import io.prefork.core.internal.child.ReadDeadline;
import io.prefork.examples.HelloKeepAliveJob;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
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
 * One request on an open (keep-alive) loopback connection, in one thread: the client writes a
 * request, the server reads it with one read and writes the response with one write, the client
 * reads the response. The three server sides differ only in the path of that read and write:
 *
 * <ul>
 *   <li>{@code connectionStreams}: a worker's {@code Connection.input()}/{@code output()} (the read
 *       deadline over streams on the socket's descriptor, {@code SocketFdStreams});
 *   <li>{@code channelSocketStreams}: the same read deadline over the channel's socket streams,
 *       what workers used before (the channel's lock, begin/end and a temporary direct buffer);
 *   <li>{@code rawChannel}: the floor in Java, {@code SocketChannel.read/write} on reused direct
 *       buffers and nothing else.
 * </ul>
 *
 * The client's side is the same in all three, so the differences are the server path's.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-exports=java.base/sun.nio.ch=ALL-UNNAMED", "-XX:+UseSerialGC"})
public class KeepAliveIoBenchmark {
  private static final byte[] REQUEST =
      "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] RESPONSE = HelloKeepAliveJob.keepAliveResponse();

  private ServerSocketChannel server;
  private final Pair streams = new Pair();
  private final Pair socketStreams = new Pair();
  private final Pair raw = new Pair();
  private InputStream streamsIn;
  private OutputStream streamsOut;
  private InputStream socketIn;
  private OutputStream socketOut;
  private final byte[] buffer = new byte[4096];
  private final ByteBuffer serverBuffer = ByteBuffer.allocateDirect(4096);
  private final ByteBuffer response = ByteBuffer.allocateDirect(RESPONSE.length);

  /** A client and the server's end of one connection. */
  private static final class Pair {
    SocketChannel client;
    SocketChannel server;
    final ByteBuffer request = ByteBuffer.allocateDirect(REQUEST.length);
    final ByteBuffer answer = ByteBuffer.allocateDirect(RESPONSE.length);

    void open(ServerSocketChannel listener) throws IOException {
      client = SocketChannel.open(listener.getLocalAddress());
      server = listener.accept();
      request.put(REQUEST);
    }

    void send() throws IOException {
      request.rewind();
      client.write(request);
    }

    int receive() throws IOException {
      answer.clear();
      while (answer.hasRemaining()) {
        if (client.read(answer) < 0) {
          throw new IOException("closed");
        }
      }
      return answer.position();
    }

    void close() throws IOException {
      client.close();
      server.close();
    }
  }

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    streams.open(server);
    socketStreams.open(server);
    raw.open(server);
    AcceptedConnection connection = new AcceptedConnection(streams.server, 60_000, () -> false);
    if (!connection.streamsOnDescriptor()) {
      throw new IllegalStateException("no streams on the descriptor: --add-exports missing?");
    }
    streamsIn = connection.input();
    streamsOut = connection.output();
    ReadDeadline deadline = new ReadDeadline(socketStreams.server.socket(), 60_000, () -> false);
    socketIn = deadline.input(socketStreams.server.socket().getInputStream());
    socketOut = deadline.output(socketStreams.server.socket().getOutputStream());
    response.put(RESPONSE);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    streams.close();
    socketStreams.close();
    raw.close();
    server.close();
  }

  /** A worker's path: the read deadline over streams on the descriptor. */
  @Benchmark
  public int connectionStreams() throws IOException {
    return serveOne(streams, streamsIn, streamsOut);
  }

  /** The path before: the read deadline over the channel's socket streams. */
  @Benchmark
  public int channelSocketStreams() throws IOException {
    return serveOne(socketStreams, socketIn, socketOut);
  }

  /** The floor: the channel and direct buffers. */
  @Benchmark
  public int rawChannel() throws IOException {
    raw.send();
    serverBuffer.clear();
    raw.server.read(serverBuffer);
    response.rewind();
    raw.server.write(response);
    return raw.receive();
  }

  private int serveOne(Pair pair, InputStream in, OutputStream out) throws IOException {
    pair.send();
    in.read(buffer, 0, buffer.length); // the whole request: it is in the socket's buffer
    out.write(RESPONSE);
    return pair.receive();
  }
}
