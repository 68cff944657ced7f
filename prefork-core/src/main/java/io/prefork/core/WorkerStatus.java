package io.prefork.core;

import io.prefork.shm.ExitRequest;
import io.prefork.shm.SlotState;

/**
 * One worker (one slot of the status table) at the time of a {@link ServerStatus}.
 *
 * @param slot the slot's index
 * @param pid the pid of the child the worker runs in
 * @param workerIndex the worker thread's index in its child (0 with one thread per child)
 * @param state IDLE, BUSY, PARKED, STARTING, EXITING
 * @param calls connections the worker accepted
 * @param generation the generation its child was started in
 * @param millisInState how long it has been in its state
 * @param ageMillis how long ago its child was spawned
 * @param exitRequest why the master asked it to exit, or NONE
 */
public record WorkerStatus(
    int slot,
    int pid,
    int workerIndex,
    SlotState state,
    long calls,
    long generation,
    long millisInState,
    long ageMillis,
    ExitRequest exitRequest) {}
