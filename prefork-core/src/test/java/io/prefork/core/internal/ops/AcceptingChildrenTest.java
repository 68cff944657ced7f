package io.prefork.core.internal.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.prefork.core.ServerStatus;
import io.prefork.core.WorkerStatus;
import io.prefork.shm.ExitRequest;
import io.prefork.shm.MasterState;
import io.prefork.shm.SlotState;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What /readyz counts as capacity: children whose every worker accepts and that stay. */
class AcceptingChildrenTest {
  private static WorkerStatus w(int slot, int pid, SlotState state, ExitRequest request) {
    return new WorkerStatus(slot, pid, slot % 2, state, 0, 1, 0, 0, request);
  }

  private static ServerStatus status(List<WorkerStatus> workers) {
    return new ServerStatus(
        1,
        100,
        MasterState.RESTARTING,
        2,
        0,
        0,
        "127.0.0.1",
        1,
        0,
        511,
        2,
        4,
        2,
        0,
        0,
        0,
        0,
        0,
        0,
        1000,
        io.prefork.shm.PoolDecision.NONE,
        0,
        0,
        workers,
        0);
  }

  @Test
  void countsChildrenWhoseWorkersAllAcceptAndStay() {
    ExitRequest none = ExitRequest.NONE;
    ServerStatus s =
        status(
            List.of(
                // child A: idle and busy: accepts
                w(0, 10, SlotState.IDLE, none),
                w(1, 10, SlotState.BUSY, none),
                // child B: one worker still starting
                w(2, 11, SlotState.IDLE, none),
                w(3, 11, SlotState.STARTING, none),
                // child C: asked to leave for a restart, still serving
                w(4, 12, SlotState.BUSY, ExitRequest.RESTART),
                w(5, 12, SlotState.IDLE, ExitRequest.RESTART),
                // child D: accepts
                w(6, 13, SlotState.IDLE, none),
                w(7, 13, SlotState.IDLE, none)));
    assertEquals(2, HttpEndpoint.acceptingChildren(s));
  }

  @Test
  void aChildWithASlotMissingIsNotCounted() {
    ServerStatus s = status(List.of(w(0, 10, SlotState.IDLE, ExitRequest.NONE)));
    assertEquals(0, HttpEndpoint.acceptingChildren(s));
  }
}
