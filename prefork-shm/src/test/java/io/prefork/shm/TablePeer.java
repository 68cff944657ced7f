package io.prefork.shm;

/** A second process for {@link CrossProcessTest}: it attaches a table and acts on it. */
public final class TablePeer {
  private TablePeer() {}

  public static void main(String[] args) throws Exception {
    int key = ShmKeys.parse(args[1]);
    switch (args[0]) {
      case "worker" -> {
        try (ChildTable table = ChildTable.attach(key, Integer.parseInt(args[2]), 1)) {
          System.out.println("generation=" + table.generation());
          WorkerSlot slot = table.worker(0);
          for (int i = 0; i < 3; i++) {
            slot.markIdle(System.currentTimeMillis());
            slot.markBusy(System.currentTimeMillis());
          }
          System.out.println("calls=" + slot.calls());
          System.out.flush();
          long deadline = System.currentTimeMillis() + 20_000;
          while (!slot.exitRequested() && System.currentTimeMillis() < deadline) {
            Thread.sleep(1);
          }
          slot.markExiting(System.currentTimeMillis());
          System.out.println("exit=" + slot.exitRequest());
        }
      }
      case "cas" -> {
        int n = Integer.parseInt(args[2]);
        try (ControlPort port = ControlPort.attach(key)) {
          System.out.println("ready");
          System.out.flush();
          for (int i = 0; i < n; i++) {
            while (true) {
              long word = port.commandWord();
              long next =
                  SharedStatusTable.encodeCommand(
                      SharedStatusTable.commandSequence(word) + 1, Command.RESTART);
              if (port.compareAndSetCommand(word, next)) {
                break;
              }
            }
          }
          System.out.println("done");
        }
      }
      case "zeros" -> {
        // What `ipcmk -M` leaves behind: a zeroed segment whose creator is gone.
        ShmSegment.create(key, Integer.parseInt(args[2])).close();
      }
      default -> throw new IllegalArgumentException(args[0]);
    }
  }
}
