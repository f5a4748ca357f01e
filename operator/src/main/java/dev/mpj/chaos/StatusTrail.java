package dev.mpj.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The job's status as {@code mpj local} printed it while it followed the job (a line each time the
 * phase, attempt, restarts or progress changed, e.g. {@code [ 16.2s] Running attempt 1 restarts 0
 * step 12/80 ...}), checked for regressions: the attempt and the restart count never go down, and
 * within one attempt the phase never goes back from Running to Pending and the step never goes
 * down, but once in an attempt after the first: the status keeps the previous attempt's last
 * progress until the resumed trainer reports, from the checkpoint it resumed from. A pure function
 * of the lines.
 */
public final class StatusTrail {
  private static final Pattern LINE =
      Pattern.compile(
          "^\\[\\s*[\\d.]+s\\] (Pending|Running|Restarting|Suspended|Succeeded|Failed)\\s+attempt"
              + " (\\d+)\\s+restarts (\\d+)(?:\\s+step (\\d+)/)?.*");

  private StatusTrail() {}

  /** Whether {@code line} is one of the status lines. */
  public static boolean isStatusLine(String line) {
    return LINE.matcher(line).matches();
  }

  /** What regressed, one entry each; empty when nothing did. Other lines are passed over. */
  public static List<String> regressions(List<String> lines) {
    List<String> problems = new ArrayList<>();
    String phase = null;
    int attempt = 0;
    int restarts = 0;
    long step = -1;
    boolean resumed = false;
    for (String line : lines) {
      Matcher m = LINE.matcher(line);
      if (!m.matches()) {
        continue;
      }
      String nowPhase = m.group(1);
      int nowAttempt = Integer.parseInt(m.group(2));
      int nowRestarts = Integer.parseInt(m.group(3));
      long nowStep = m.group(4) == null ? -1 : Long.parseLong(m.group(4));
      if (nowAttempt < attempt) {
        problems.add("attempt went back from " + attempt + " to " + nowAttempt + ": " + line);
      }
      if (nowRestarts < restarts) {
        problems.add("restarts went back from " + restarts + " to " + nowRestarts + ": " + line);
      }
      if (nowAttempt == attempt) {
        if (nowStep >= 0 && nowStep < step) {
          if (attempt > 1 && !resumed) {
            resumed = true;
            step = nowStep;
          } else {
            problems.add("step went back from " + step + " to " + nowStep + ": " + line);
          }
        }
        if ("Running".equals(phase) && "Pending".equals(nowPhase)) {
          problems.add("phase went back from Running to Pending in one attempt: " + line);
        }
      } else {
        // A new attempt: its first step below the last is its resume.
        resumed = nowStep >= 0 && nowStep < step;
        if (resumed) {
          step = nowStep;
        }
      }
      phase = nowPhase;
      attempt = Math.max(attempt, nowAttempt);
      restarts = Math.max(restarts, nowRestarts);
      step = Math.max(step, nowStep);
    }
    return problems;
  }
}
