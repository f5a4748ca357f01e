package dev.mpj.trainer.loop;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * One read of /proc/self/status gives resident memory, its high-water mark and its file-mapped
 * part, as the one-field reads do (the suite runs on Linux, where the file is there).
 */
class ProcessMemoryTest {

  @Test
  void oneReadGivesTheThreeFiguresOfTheStatusFile() throws Exception {
    ProcessMemory.Reading r = ProcessMemory.read();
    assertThat(r.rssBytes()).isPositive();
    assertThat(r.fileBytes()).isPositive().isLessThanOrEqualTo(r.rssBytes());
    // the kernel reports the mark as at least the resident memory of the same read
    assertThat(r.peakBytes()).isGreaterThanOrEqualTo(r.rssBytes());
    // VmRSS in kB, as the status file has it
    String status = Files.readString(Path.of("/proc/self/status"));
    assertThat(status).containsPattern("(?m)^VmRSS:\\s+\\d+ kB$");
    // the one-field reads parse the same lines: resident memory moves a little between reads
    assertThat(ProcessMemory.rssBytes()).isBetween(r.rssBytes() / 2, r.rssBytes() * 2);
    assertThat(ProcessMemory.peakRssBytes()).isGreaterThanOrEqualTo(r.rssBytes() / 2);
  }
}
