package io.prefork.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A connection's streams on its descriptor, on real loopback sockets. */
@Timeout(30) // a close that waits for a call that never ends must fail the test, not hang it
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
        SocketFdStreams.of(accepted, () -> {}),
        "no direct streams: is --add-exports java.base/sun.nio.ch=ALL-UNNAMED missing?");
  }

  @Test
  void largeWritesGoOutWholeAndLargeReadsReturnWhatCame() throws Exception {
    byte[] sent = new byte[300_000]; // more than a few pieces of MOST_PER_CALL
    new Random(7).nextBytes(sent);
    CompletableFuture<byte[]> received =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return client.getInputStream().readNBytes(sent.length);
              } catch (IOException e) {
                throw new RuntimeException(e);
              }
            });
    connection.output().write(sent);
    assertArrayEquals(sent, received.get(10, TimeUnit.SECONDS));

    client.getOutputStream().write(sent);
    InputStream in = connection.input();
    byte[] back = new byte[sent.length];
    int have = 0;
    while (have < back.length) {
      int n = in.read(back, have, back.length - have);
      assertTrue(n > 0 && n <= SocketFdStreams.MOST_PER_CALL, "read " + n);
      have += n;
    }
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
  void closeWakesAReadBlockedInAnotherThread() throws Exception {
    CompletableFuture<Integer> blocked = readInAnotherThread(connection.input());
    Thread.sleep(200); // let it block in read(2); if it has not yet, it fails to start instead
    connection.close();
    int n = blocked.get(10, TimeUnit.SECONDS);
    assertTrue(n == -1 || n == -2, "the read got " + n);
    assertFalse(accepted.isOpen());
  }

  @Test
  void aJobThatAsksForTheChannelCanCloseItToEndAReadInAnotherThread() throws Exception {
    // The JDK idiom: close the channel to stop a reader thread. On the descriptor that read would
    // not wake; once asked for, the channel carries the streams, and it does.
    client.getOutputStream().write('a');
    InputStream in = connection.input();
    assertEquals('a', in.read()); // read on the descriptor, before the job asked for the channel
    SocketChannel channel = connection.channel();
    CompletableFuture<Integer> reader = readInAnotherThread(in);
    Thread.sleep(200);
    channel.close();
    int n = reader.get(10, TimeUnit.SECONDS);
    assertTrue(n == -1 || n == -2, "the read got " + n);
    assertEquals(-1, client.getInputStream().read(), "the client sees the end of the stream");
  }

  @Test
  void askingForTheChannelWhileAnotherThreadReadsTheStreamIsRefused() throws Exception {
    CompletableFuture<Integer> reader = readInAnotherThread(connection.input());
    Thread.sleep(500); // let it block in read(2)
    IllegalStateException refused =
        assertThrows(IllegalStateException.class, () -> connection.channel());
    assertTrue(refused.getMessage().contains("before handing the streams"), refused.getMessage());
    client.getOutputStream().write('b'); // the refusal changed nothing: the read goes on
    assertEquals('b', reader.get(10, TimeUnit.SECONDS));
    assertNotNull(connection.channel()); // and once it returned, the channel may be had
  }

  private static CompletableFuture<Integer> readInAnotherThread(InputStream in) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return in.read();
          } catch (IOException e) {
            return -2;
          }
        });
  }
}
