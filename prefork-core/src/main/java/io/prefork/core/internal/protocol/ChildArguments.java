package io.prefork.core.internal.protocol;

import io.prefork.shm.ShmKeys;
import java.util.List;

/** What the master tells a child on its command line. */
public record ChildArguments(
    int shmKey,
    int childIndex,
    int workers,
    long generation,
    long masterPid,
    long readTimeoutMillis,
    String jobClassName,
    long writeTimeoutMillis,
    int minAcceptingWorkers,
    int warmUpConnections,
    long warmUpMillis,
    long slowStartMillis) {

  public List<String> toList() {
    return List.of(
        ShmKeys.toHex(shmKey),
        Integer.toString(childIndex),
        Integer.toString(workers),
        Long.toString(generation),
        Long.toString(masterPid),
        Long.toString(readTimeoutMillis),
        jobClassName,
        Long.toString(writeTimeoutMillis),
        Integer.toString(minAcceptingWorkers),
        Integer.toString(warmUpConnections),
        Long.toString(warmUpMillis),
        Long.toString(slowStartMillis));
  }

  public static ChildArguments parse(String[] args) {
    if (args.length != 12) {
      throw new IllegalArgumentException(
          "expected 12 arguments (shmKey childIndex workers generation masterPid readTimeoutMillis"
              + " jobClass writeTimeoutMillis minAcceptingWorkers warmUpConnections warmUpMillis"
              + " slowStartMillis),"
              + " got "
              + args.length
              + ": this class is started by a prefork master, not by hand");
    }
    return new ChildArguments(
        ShmKeys.parse(args[0]),
        Integer.parseInt(args[1]),
        Integer.parseInt(args[2]),
        Long.parseLong(args[3]),
        Long.parseLong(args[4]),
        Long.parseLong(args[5]),
        args[6],
        Long.parseLong(args[7]),
        Integer.parseInt(args[8]),
        Integer.parseInt(args[9]),
        Long.parseLong(args[10]),
        Long.parseLong(args[11]));
  }

  public int firstSlot() {
    return childIndex * workers;
  }
}
