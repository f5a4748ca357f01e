package dev.mpj.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WriterPriorityTest {

  /** Field 19 of /proc/thread-self/stat: the calling thread's nice value. */
  private static int currentNice() throws IOException {
    String stat = Files.readString(Path.of("/proc/thread-self/stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Integer.parseInt(fields[16]); // the fields after the name start at field 3
  }

  @Test
  void aLoweredThreadRunsAtNice19AndOtherThreadsKeepTheirs() throws Exception {
    assumeTrue(Files.exists(Path.of("/proc/thread-self")), "Linux only");
    int before = currentNice();
    ExecutorService thread = Executors.newSingleThreadExecutor();
    try {
      int lowered =
          thread
              .submit(
                  () -> {
                    assertThat(WriterPriority.lowerCurrentThread()).startsWith("nice 19");
                    return currentNice();
                  })
              .get();
      assertThat(lowered).isEqualTo(19);
    } finally {
      thread.shutdown();
    }
    assertThat(currentNice()).as("the caller's thread keeps its priority").isEqualTo(before);
  }

  @Test
  void theCheckpointWriterLowersItsThreadOnlyWhenAsked(@TempDir Path dir) throws Exception {
    assumeTrue(Files.exists(Path.of("/proc/thread-self")), "Linux only");
    try (CheckpointWriter writer = new CheckpointWriter(dir, 1, true)) {
      assertThat(writer.priority()).startsWith("nice 19");
    }
    try (CheckpointWriter writer = new CheckpointWriter(dir, 1)) {
      assertThat(writer.priority()).isEqualTo("normal priority");
    }
  }
}
