package io.prefork.core.internal.child;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        CompletableFuture.supplyAsync(
            () -> io(() -> client.getInputStream().readNBytes(sent.length)));
    connection.output().write(sent);
    assertArrayEquals(sent, received.get(10, TimeUnit.SECONDS));

    CompletableFuture<Void> sending =
        CompletableFuture.runAsync(
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
    CompletableFuture<Void> other = CompletableFuture.runAsync(connection::close);
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
    awaitCallInProgress();
    Thread.sleep(50); // most likely in read(2) by now; if not, it starts on a shut socket
    connection.close();
    assertEquals(-1, reader.get(10, TimeUnit.SECONDS));
    assertFalse(accepted.isOpen());
  }

  @Test
  void closeEndsAWriteBlockedInAnotherThreadWithASocketException() throws Exception {
    OutputStream out = connection.output();
    CompletableFuture<Void> writer =
        CompletableFuture.runAsync(
            () ->
                io(
                    () -> {
                      byte[] chunk = new byte[1 << 20];
                      for (int i = 0;
                          i < 256;
                          i++) { // far more than the socket buffers hold: it blocks
                        out.write(chunk);
                      }
                      return null;
                    }));
    awaitCallInProgress();
    Thread.sleep(200); // the client reads nothing: the buffers fill and the write blocks
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
    Thread.sleep(200);
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

  /** Reads one byte in another thread; the future fails with the read's exception. */
  private static CompletableFuture<Integer> readInAnotherThread(InputStream in) {
    return CompletableFuture.supplyAsync(() -> io(in::read));
  }

  private interface IoCall<T> {
    T call() throws IOException;
  }

  private static <T> T io(IoCall<T> call) {
    try {
      return call.call();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
