package io.prefork.core.internal.child;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.core.Background;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A connection's streams on its descriptor, on real loopback sockets. */
@Timeout(30)
class SocketFdStreamsTest {
  private ServerSocketChannel server;
  private Socket client;
  private SocketChannel accepted;
  private AcceptedConnection connection;

  @BeforeEach
  void connect() throws IOException {
    server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    client = new Socket(InetAddress.getLoopbackAddress(), server.socket().getLocalPort());
    client.setSoTimeout(10_000);
    accepted = server.accept();
    connection = new AcceptedConnection(accepted, 10_000, () -> false);
  }

  @AfterEach
  void close() throws IOException {
    connection.close();
    client.close();
    server.close();
  }

  @Test
  void theChildrensJvmOptionsGiveTheDirectPath() {
    // The test JVM runs with the children's --add-exports (the surefire argLine): without them
    // the streams would silently fall back to the channel's, and this test says so.
    assertNotNull(
        connection.fdStreams(),
        "no direct streams: is --add-exports java.base/sun.nio.ch=ALL-UNNAMED missing?");
  }

  @Test
  void largeWritesGoOutWholeAndLargeReadsReturnWhatCame() throws Exception {
    byte[] sent = new byte[300_000]; // more than a few pieces of MOST_PER_CALL
    new Random(7).nextBytes(sent);
    CompletableFuture<byte[]> received =
        Background.supply(() -> io(() -> client.getInputStream().readNBytes(sent.length)));
    connection.output().write(sent);
    assertArrayEquals(sent, received.get(10, TimeUnit.SECONDS));

    CompletableFuture<Void> sending =
        Background.run(
            () ->
                io(
                    () -> {
                      client.getOutputStream().write(sent);
                      return null;
                    }));
    InputStream in = connection.input();
    byte[] back = new byte[sent.length];
    int have = 0;
    while (have < back.length) {
      int n = in.read(back, have, back.length - have);
      assertTrue(n > 0 && n <= SocketFdStreams.MOST_PER_CALL, "read " + n);
      have += n;
    }
    sending.get(10, TimeUnit.SECONDS);
    assertArrayEquals(sent, back);
    assertEquals(0, in.available());
  }

  @Test
  void nothingReachesTheDescriptorAfterClose() throws IOException {
    InputStream in = connection.input();
    OutputStream out = connection.output();
    connection.close();
    assertFalse(accepted.isOpen());
    assertThrows(SocketException.class, in::read);
    assertThrows(SocketException.class, () -> out.write(new byte[] {1}));
    assertEquals(-1, client.getInputStream().read(), "the client sees the end of the stream");
  }

  @Test
  void closingEitherStreamClosesTheConnection() throws IOException {
    connection.input().close();
    assertFalse(accepted.isOpen());
    assertEquals(-1, client.getInputStream().read());
    assertThrows(SocketException.class, () -> connection.output().write(1));
  }

  @Test
  void theChannelStaysOpenUntilTheLastCallLeavesWhoeverCloses() throws Exception {
    // A call registered but not yet in its system call: closing, even from two threads at once,
    // must not free the descriptor's number under it (the next accept would reuse it).
    SocketFdStreams streams = connection.fdStreams();
    assertTrue(streams.enter());
    CompletableFuture<Void> other = Background.run(connection::close);
    connection.close();
    other.get(10, TimeUnit.SECONDS);
    assertTrue(accepted.isOpen(), "closed while a call was in progress");
    streams.leave();
    assertFalse(accepted.isOpen(), "the last call to leave closes the channel");
    assertThrows(SocketException.class, () -> connection.input().read());
  }

  @Test
  void closeEndsAReadBlockedInAnotherThread() throws Exception {
    CompletableFuture<Integer> reader = readInAnotherThread(connection.input());
    awaitInSystemCall(READER, READ);
    connection.close();
    assertEquals(-1, reader.get(10, TimeUnit.SECONDS));
    assertFalse(accepted.isOpen());
  }

  @Test
  void closeEndsAWriteBlockedInAnotherThreadWithASocketException() throws Exception {
    OutputStream out = connection.output();
    CompletableFuture<Void> writer = writeInAnotherThread(out, 256 << 20);
    awaitInSystemCall(WRITER, WRITE); // the client reads nothing: the buffers fill, it blocks
    connection.close();
    ExecutionException failed =
        assertThrows(ExecutionException.class, () -> writer.get(10, TimeUnit.SECONDS));
    assertInstanceOf(SocketException.class, failed.getCause().getCause(), failed.toString());
    assertFalse(accepted.isOpen());
  }

  @Test
  void aResetIsASocketExceptionAsOnTheChannel() throws Exception {
    client.setSoLinger(true, 0);
    client.close(); // sends RST
    IOException e = assertThrows(IOException.class, () -> connection.input().read(new byte[8]));
    assertInstanceOf(SocketException.class, e);
    // Told by the kernel's state, not by the message (which follows the locale).
    assertInstanceOf(ClientGone.Failure.class, e);
    assertTrue(ClientGone.causedBy(e), "the client went away: " + e);
  }

  @Test
  void aWriteToAClientThatResetIsTheClientGoneToo() throws Exception {
    client.setSoLinger(true, 0);
    client.close(); // sends RST
    awaitReset();
    IOException e = assertThrows(IOException.class, () -> connection.output().write(new byte[8]));
    assertTrue(ClientGone.causedBy(e), "the client went away: " + e);
  }

  @Test
  void onTheChannelsOwnStreamsAResetIsTheClientGoneToo() throws Exception {
    connection.channel(); // the JDK's streams from now on: its message, "Connection reset"
    client.setSoLinger(true, 0);
    client.close();
    IOException e = assertThrows(IOException.class, () -> connection.input().read(new byte[8]));
    assertTrue(ClientGone.causedBy(e), "the client went away: " + e);
  }

  @Test
  void aTimeoutOrAFailureOfTheJobIsNotTheClientGone() throws Exception {
    AcceptedConnection timed = new AcceptedConnection(accepted, 100, () -> false);
    CompletableFuture<Integer> reader = readInAnotherThread(timed.input());
    awaitCallInProgress(timed);
    timed.expireIfOverdue(System.nanoTime() + 1_000_000_000L);
    ExecutionException expired =
        assertThrows(ExecutionException.class, () -> reader.get(10, TimeUnit.SECONDS));
    assertFalse(ClientGone.causedBy(expired), expired.toString());
    assertFalse(ClientGone.causedBy(new IllegalStateException("the job's own bug")));
    assertFalse(ClientGone.causedBy(new SocketException("Socket closed")));
    IOException a = new IOException("a");
    IOException b = new IOException("b", a);
    a.initCause(b); // a loop of causes ends the look, not the worker
    assertFalse(ClientGone.causedBy(a));
  }

  /** Until the RST has arrived: the server's end of the connection is closed. */
  private void awaitReset() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (connection.fdStreams().tcpState() != SocketFdStreams.TCP_CLOSE) {
      assertTrue(System.nanoTime() < deadline, "no reset within 10 s");
      Thread.sleep(10);
    }
  }

  @Test
  void afterTheDeadlineCutTheInputReadsReturnEndOfStreamEvenIfBytesCame() throws Exception {
    BooleanSupplier notStopping = () -> false;
    AcceptedConnection timed = new AcceptedConnection(accepted, 100, notStopping);
    InputStream in = timed.input();
    CompletableFuture<Integer> reader = readInAnotherThread(in);
    awaitCallInProgress(timed);
    timed.expireIfOverdue(System.nanoTime() + 1_000_000_000L); // what the watch thread does
    ExecutionException expired =
        assertThrows(ExecutionException.class, () -> reader.get(10, TimeUnit.SECONDS));
    assertInstanceOf(SocketTimeoutException.class, expired.getCause().getCause());
    client.getOutputStream().write("late".getBytes());
    timed.output().write('x'); // a write restarts the deadline: the read is not a timeout
    assertEquals(-1, in.read(), "the cut input ends, as the channel's does");
  }

  @Test
  void aJobThatAsksForTheChannelCanCloseItToEndAReadInAnotherThread() throws Exception {
    // The JDK idiom: close the channel to stop a reader thread. On the descriptor that read would
    // not wake; once asked for, the channel carries the streams, and it does.
    client.getOutputStream().write('a');
    InputStream in = connection.input();
    assertEquals('a', in.read()); // read on the descriptor, before the job asked for the channel
    SocketChannel channel = connection.channel();
    assertFalse(connection.streamsOnDescriptor());
    CompletableFuture<Integer> reader = readInAnotherThread(in);
    awaitInSystemCall(READER, READ, POLL); // the channel's stream: read(2), or poll(2) then read
    channel.close();
    ExecutionException ended =
        assertThrows(ExecutionException.class, () -> reader.get(10, TimeUnit.SECONDS));
    assertInstanceOf(IOException.class, ended.getCause().getCause());
    assertEquals(-1, client.getInputStream().read(), "the client sees the end of the stream");
  }

  @Test
  void askingForTheChannelWhileAnotherThreadReadsTheStreamIsRefused() throws Exception {
    CompletableFuture<Integer> reader = readInAnotherThread(connection.input());
    awaitCallInProgress();
    IllegalStateException refused =
        assertThrows(IllegalStateException.class, () -> connection.channel());
    assertTrue(refused.getMessage().contains("before handing the streams"), refused.getMessage());
    client.getOutputStream().write('b'); // the refusal changed nothing: the read goes on
    assertEquals('b', reader.get(10, TimeUnit.SECONDS));
    assertNotNull(connection.channel()); // and once it returned, the channel may be had
    assertFalse(connection.streamsOnDescriptor());
  }

  @Test
  void aWriteTheClientNeverReadsTimesOutAndFreesTheWriter() throws Exception {
    AcceptedConnection timed = new AcceptedConnection(accepted, 10_000, 300, () -> false);
    CompletableFuture<Void> writer = writeInAnotherThread(timed.output(), 256 << 20);
    awaitInSystemCall(WRITER, WRITE);
    long blockedAt = System.nanoTime();
    try (Watcher watch = new Watcher(timed)) {
      ExecutionException failed =
          assertThrows(ExecutionException.class, () -> writer.get(10, TimeUnit.SECONDS));
      long millis = (System.nanoTime() - blockedAt) / 1_000_000;
      assertInstanceOf(
          SocketTimeoutException.class, failed.getCause().getCause(), failed.toString());
      assertTrue(
          failed.getCause().getCause().getMessage().contains("write timeout of 300 ms"),
          failed.toString());
      assertTrue(millis < 5_000, "cut after " + millis + " ms");
    }
    assertTrue(accepted.isOpen(), "the worker closes the connection, not the deadline");
    assertThrows(SocketTimeoutException.class, () -> timed.output().write(1), "and stays cut");
  }

  @Test
  void aSlowClientThatKeepsReadingIsNotCutHoweverLongTheWriteTakes() throws Exception {
    AcceptedConnection timed = new AcceptedConnection(accepted, 10_000, 500, () -> false);
    int size = 32 << 20; // far more than the socket buffers: the write lasts as long as the reading
    long started = System.nanoTime();
    CompletableFuture<Void> writer = writeInAnotherThread(timed.output(), size);
    long received = 0;
    try (Watcher watch = new Watcher(timed)) {
      InputStream in = client.getInputStream();
      byte[] buf = new byte[64 * 1024];
      while (received < size) {
        int n = in.read(buf);
        assertTrue(n > 0, "the stream ended after " + received + " bytes");
        received += n;
        Thread.sleep(2); // a slow reader: never stalls for anything near the write timeout
      }
      writer.get(10, TimeUnit.SECONDS);
    }
    long millis = (System.nanoTime() - started) / 1_000_000;
    assertEquals(size, received);
    assertTrue(millis > 500, "the write took " + millis + " ms: longer than the write timeout");
  }

  /** The child's watch thread, as ChildRuntime runs it: every 20 ms here. */
  private static final class Watcher implements AutoCloseable {
    private final Thread thread;
    private volatile boolean running = true;

    Watcher(AcceptedConnection watched) {
      thread =
          new Thread(
              () -> {
                while (running) {
                  watched.expireIfOverdue(System.nanoTime());
                  try {
                    Thread.sleep(20);
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              },
              "fdt-watch");
      thread.setDaemon(true);
      thread.start();
    }

    @Override
    public void close() {
      running = false;
      try {
        thread.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // Linux x86-64 system call numbers, as /proc/PID/task/TID/syscall shows them.
  private static final String READ = "0";
  private static final String WRITE = "1";
  private static final String POLL = "7";
  private static final String READER = "fdt-reader";
  private static final String WRITER = "fdt-writer";

  private static void awaitInSystemCall(String thread, String... syscalls) throws Exception {
    BlockedThreads.await(thread, 1, syscalls);
  }

  /** Writes {@code total} bytes in 1 MiB pieces in a thread named {@link #WRITER}. */
  private static CompletableFuture<Void> writeInAnotherThread(OutputStream out, int total) {
    return BlockedThreads.inThread(
        WRITER,
        () -> {
          byte[] chunk = new byte[1 << 20];
          for (int left = total; left > 0; left -= chunk.length) {
            out.write(chunk, 0, Math.min(left, chunk.length));
          }
          return null;
        });
  }

  private void awaitCallInProgress() throws InterruptedException {
    awaitCallInProgress(connection);
  }

  private static void awaitCallInProgress(AcceptedConnection c) throws InterruptedException {
    long giveUp = System.nanoTime() + 10_000_000_000L;
    while (c.fdStreams().callsInProgress() == 0) {
      assertTrue(System.nanoTime() < giveUp, "the other thread never started its call");
      Thread.sleep(1);
    }
  }

  /** Reads one byte in a thread named {@link #READER}; the future fails with its exception. */
  private static CompletableFuture<Integer> readInAnotherThread(InputStream in) {
    return BlockedThreads.inThread(READER, in::read);
  }

  private static <T> T io(BlockedThreads.IoCall<T> call) {
    try {
      return call.call();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
