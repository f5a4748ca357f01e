package dev.mpj.cli;

import dev.mpj.api.validation.InvalidJobException;
import dev.mpj.api.validation.Violation;
import picocli.CommandLine;

/**
 * Turns an invalid job into one clear message per violation and exit code 2; other errors pass on.
 */
public final class BadInputHandler implements CommandLine.IExecutionExceptionHandler {
  @Override
  public int handleExecutionException(
      Exception ex, CommandLine commandLine, CommandLine.ParseResult parseResult) throws Exception {
    if (ex instanceof InvalidJobException invalid) {
      var err = commandLine.getErr();
      err.println(commandLine.getCommandName() + ": invalid job");
      for (Violation v : invalid.violations()) {
        err.println("  " + v);
      }
      err.flush();
      return MpjCommand.EXIT_BAD_INPUT;
    }
    throw ex;
  }
}
