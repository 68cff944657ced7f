package io.prefork.core.internal.master;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.core.TestJob;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * {@code deferAccept}: the master's socket holds back a client that connected but has not sent, and
 * hands it over as soon as it sends. Real sockets on 127.0.0.1; the accept queue is read as the
 * master reads it ({@code TCP_INFO}).
 */
class DeferAcceptTest {
  private static ServerConfig config(Duration deferAccept) {
    ServerSettings s = new ServerSettings();
    s.bindAddress = "127.0.0.1";
    s.shmKey = 0x7c0cdef1; // never attached: only the socket is opened here
    s.jobClassName = TestJob.class.getName();
    s.deferAccept = deferAccept;
    return s.toConfig();
  }

  @Test
  void aSilentClientIsHeldBackUntilItSends() throws Exception {
    try (ListenSocket socket = SocketActivation.open(config(Duration.ofSeconds(5)));
        Socket client = new Socket()) {
      assertTrue(socket.deferAcceptSeconds() >= 5, "TCP_DEFER_ACCEPT set on the socket");
      client.connect(new InetSocketAddress(socket.address(), socket.port()), 2_000);
      // The handshake is done on the client's side; the server's queue stays empty. (A negative
      // over a short while: without the option the connection is queued within microseconds.)
      Thread.sleep(300);
      assertEquals(0, socket.acceptQueue()[0], "a silent client is not in the accept queue");

      client.getOutputStream().write('G');
      client.getOutputStream().flush();
      awaitQueue(socket, 1);
    }
  }

  @Test
  void offByDefaultEveryConnectionIsQueuedAtOnce() throws Exception {
    try (ListenSocket socket = SocketActivation.open(config(Duration.ZERO));
        Socket client = new Socket()) {
      assertEquals(0, socket.deferAcceptSeconds());
      client.connect(new InetSocketAddress(socket.address(), socket.port()), 2_000);
      awaitQueue(socket, 1);
    }
  }

  @Test
  void partSecondsRoundUp() {
    assertEquals(0, config(Duration.ZERO).deferAcceptSeconds());
    assertEquals(1, config(Duration.ofMillis(1)).deferAcceptSeconds());
    assertEquals(2, config(Duration.ofMillis(1_500)).deferAcceptSeconds());
    assertEquals(60, config(Duration.ofSeconds(60)).deferAcceptSeconds());
  }

  private static void awaitQueue(ListenSocket socket, int length) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    int[] queue = socket.acceptQueue();
    while (queue[0] != length && System.nanoTime() - deadline < 0) {
      Thread.sleep(10);
      queue = socket.acceptQueue();
    }
    assertArrayEquals(new int[] {length, queue[1]}, queue, "the accept queue");
  }
}
