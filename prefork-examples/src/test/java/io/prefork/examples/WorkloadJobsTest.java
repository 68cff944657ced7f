package io.prefork.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prefork.core.ChildJob;
import io.prefork.core.Connection;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@link WaitJob} and {@link CpuJob} on an in-memory connection (no child JVM). */
class WorkloadJobsTest {
  private static final String REQUEST = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

  @Test
  void waitJobAnswersHelloAfterItsWait() throws Exception {
    long start = System.nanoTime();
    String response = serve(new WaitJob(), REQUEST);
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertEquals(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n"
            + "\r\nhello\n",
        response);
    assertTrue(millis >= WaitJob.WAIT_MILLIS, millis + " ms");
  }

  @Test
  void cpuJobAnswersADigestWithItsLength() throws Exception {
    String response = serve(new CpuJob(), REQUEST);
    String body = response.substring(response.indexOf("\r\n\r\n") + 4);
    assertTrue(body.matches("cpu [0-9a-f]+ [0-9]+\n"), body);
    assertTrue(response.contains("\r\nContent-Length: " + body.length() + "\r\n"), response);
  }

  @Test
  void cpuWorkIsDeterministicPerSeedAndDiffersBetweenSeeds() {
    assertEquals(CpuJob.work(42), CpuJob.work(42));
    assertNotEquals(CpuJob.work(42), CpuJob.work(43));
  }

  @Test
  void bothFindTheBlankLineWithBareLineFeedsAndAnswerAtEndOfInput() throws Exception {
    for (ChildJob job : new ChildJob[] {new WaitJob(), new CpuJob()}) {
      assertTrue(serve(job, "GET / HTTP/1.0\n\n").startsWith("HTTP/1.0 200 OK\r\n"));
      assertTrue(serve(job, "GET / HTTP/1.0\r\n").startsWith("HTTP/1.0 200 OK\r\n"));
    }
  }

  private static String serve(ChildJob job, String request) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    job.handle(new MemoryConnection(request, out));
    return out.toString(StandardCharsets.US_ASCII);
  }

  private record MemoryConnection(InputStream input, OutputStream output) implements Connection {
    MemoryConnection(String request, OutputStream output) {
      this(new ByteArrayInputStream(request.getBytes(StandardCharsets.US_ASCII)), output);
    }

    @Override
    public SocketChannel channel() {
      throw new UnsupportedOperationException();
    }

    @Override
    public InetSocketAddress remoteAddress() {
      return new InetSocketAddress("127.0.0.1", 1);
    }

    @Override
    public InetSocketAddress localAddress() {
      return new InetSocketAddress("127.0.0.1", 2);
    }
  }
}
