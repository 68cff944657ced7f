package io.prefork.bench.load;

/**
 * Command-line options shared by the load peers: {@code --port N --threads N [--keepalive] [--job
 * NAME|CLASS] [--virtual]}. {@code --job} and {@code --virtual} are read by {@link
 * ThreadPoolServer} only.
 *
 * @param job the {@code ChildJob}'s class name: {@code --job} through {@link #jobClassName}, or the
 *     hello job ({@code hello-ka} with {@code --keepalive}) when it is not given
 */
record PeerArgs(int port, int threads, boolean keepAlive, String job, boolean virtual) {

  static PeerArgs parse(String[] args, int defaultThreads) {
    int port = 0;
    int threads = defaultThreads;
    boolean keepAlive = false;
    String job = null;
    boolean virtual = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--port" -> port = Integer.parseInt(args[++i]);
        case "--threads" -> threads = Integer.parseInt(args[++i]);
        case "--keepalive" -> keepAlive = true;
        case "--job" -> job = args[++i];
        case "--virtual" -> virtual = true;
        default ->
            throw new IllegalArgumentException(
                "unknown option "
                    + args[i]
                    + "; expected --port N --threads N [--keepalive] [--job NAME|CLASS]"
                    + " [--virtual]");
      }
    }
    if (port <= 0 || threads < 1) {
      throw new IllegalArgumentException("--port N (> 0) and --threads N (>= 1) are required");
    }
    return new PeerArgs(
        port,
        threads,
        keepAlive,
        jobClassName(job != null ? job : keepAlive ? "hello-ka" : "hello"),
        virtual);
  }

  /**
   * The short names {@code serve --job} knows, as class names; anything else is taken as a class
   * name.
   */
  static String jobClassName(String job) {
    return switch (job) {
      case "hello" -> "io.prefork.examples.HelloHttpJob";
      case "hello-ka" -> "io.prefork.examples.HelloKeepAliveJob";
      case "echo" -> "io.prefork.examples.EchoJob";
      case "wait" -> "io.prefork.examples.WaitJob";
      case "cpu" -> "io.prefork.examples.CpuJob";
      default -> job;
    };
  }
}
