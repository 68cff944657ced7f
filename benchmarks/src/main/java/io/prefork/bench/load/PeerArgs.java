package io.prefork.bench.load;

/** Command-line options shared by the load peers: {@code --port N --threads N [--keepalive]}. */
record PeerArgs(int port, int threads, boolean keepAlive) {

  static PeerArgs parse(String[] args, int defaultThreads) {
    int port = 0;
    int threads = defaultThreads;
    boolean keepAlive = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--port" -> port = Integer.parseInt(args[++i]);
        case "--threads" -> threads = Integer.parseInt(args[++i]);
        case "--keepalive" -> keepAlive = true;
        default ->
            throw new IllegalArgumentException(
                "unknown option " + args[i] + "; expected --port N --threads N [--keepalive]");
      }
    }
    if (port <= 0 || threads < 1) {
      throw new IllegalArgumentException("--port N (> 0) and --threads N (>= 1) are required");
    }
    return new PeerArgs(port, threads, keepAlive);
  }
}
