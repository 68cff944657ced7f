/**
 * The master-child protocol: the arguments a master passes on a child's command line ({@code
 * ChildArguments}), the exit codes a child reports ({@code ExitStatus}), and the last-words rule: a
 * child that cannot go on writes one line saying why to its standard error as its very last output,
 * and the master quotes that line as the reason it gives for the exit. Both sides use it; it uses
 * nothing else of prefork.
 */
package io.prefork.core.internal.protocol;
