package io.prefork.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.prefork.core.PreforkServer;
import io.prefork.core.ServerCleanup;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link HelloHttpJob} in real child JVMs of an in-process server, through real sockets. */
class HelloHttpJobTest {
  private static final String RESPONSE =
      "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n"
          + "\r\nhello\n";

  @RegisterExtension final ServerCleanup cleanup = new ServerCleanup();

  @Test
  void answersARequestExactlyThenCloses() throws Exception {
    PreforkServer server = cleanup.start(cleanup.builder(HelloHttpJob.class));
    assertEquals(RESPONSE, new String(HelloHttpJob.response(), StandardCharsets.US_ASCII));
    try (RawClient client = new RawClient(server.port())) {
      client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      // readToEnd returns only at EOF: the response, then the child closed the connection.
      assertEquals(RESPONSE, ascii(client.readToEnd()));
    }
  }

  @Test
  void findsTheBlankLineAcrossSeveralWritesAndAcceptsBareLineFeeds() throws Exception {
    PreforkServer server = cleanup.start(cleanup.builder(HelloHttpJob.class));
    try (RawClient client = new RawClient(server.port())) {
      for (String piece : new String[] {"GET / HT", "TP/1.1\r\nHost: x\r", "\n\r", "\n"}) {
        client.send(piece);
        Thread.sleep(30);
      }
      assertEquals(RESPONSE, ascii(client.readToEnd()));
    }
    try (RawClient client = new RawClient(server.port())) {
      client.send("GET / HTTP/1.0\n");
      Thread.sleep(30);
      client.send("\n");
      assertEquals(RESPONSE, ascii(client.readToEnd()));
    }
  }

  @Test
  void answersAClientThatHalfClosesWithoutABlankLine() throws Exception {
    PreforkServer server = cleanup.start(cleanup.builder(HelloHttpJob.class));
    try (RawClient client = new RawClient(server.port())) {
      client.send("GET / HTTP/1.0\r\nHost: x\r\n").halfClose();
      assertEquals(RESPONSE, ascii(client.readToEnd()));
    }
  }

  @Test
  void answersAfterFourKibibytesWithoutABlankLine() throws Exception {
    PreforkServer server = cleanup.start(cleanup.builder(HelloHttpJob.class));
    try (RawClient client = new RawClient(server.port())) {
      // Exactly the limit, so nothing is left unread (closing with unread input sends a reset).
      String header = "GET / HTTP/1.1\r\nX: ";
      client.send(header + "a".repeat(HelloHttpJob.MAX_REQUEST - header.length()));
      assertEquals(RESPONSE, ascii(client.readToEnd()));
    }
  }

  private static String ascii(byte[] bytes) {
    return new String(bytes, StandardCharsets.US_ASCII);
  }
}
