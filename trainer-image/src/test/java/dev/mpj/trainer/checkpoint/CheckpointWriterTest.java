package dev.mpj.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Publication and retention, with host-memory snapshots (no libtorch). */
class CheckpointWriterTest {
  @TempDir Path dir;

  private static Snapshot snapshot(long step) {
    byte[] weights = new byte[16];
    weights[0] = (byte) step;
    CheckpointState state =
        new CheckpointState(
            CheckpointState.FORMAT,
            step,
            0,
            step,
            0,
            (int) step,
            null,
            new CheckpointState.LossScalerState(65536, 0),
            "fp32",
            "hash",
            null);
    return Snapshot.ofTensors(
        List.of(new SafetensorsFile.Tensor("w", new long[] {4}, weights)),
        List.of(new SafetensorsFile.Tensor("m/w", new long[] {2, 2}, new byte[16])),
        state);
  }

  private List<String> folders() throws IOException {
    return CheckpointReader.checkpointFolders(dir).stream()
        .map(p -> p.getFileName().toString())
        .toList();
  }

  @Test
  void keepsTheNewestAndLatestNamesTheLastWritten() throws IOException {
    try (CheckpointWriter writer = new CheckpointWriter(dir, 2)) {
      for (long step = 10; step <= 40; step += 10) {
        writer.submit(snapshot(step));
      }
      writer.await();
      assertThat(writer.lastPublished().step()).isEqualTo(40);
      assertThat(writer.lastPublished().path()).isEqualTo(dir.resolve("step-00000040"));
    }
    assertThat(folders()).containsExactly("step-00000040", "step-00000030");
    assertThat(CheckpointReader.latestName(dir)).isEqualTo("step-00000040");
    CheckpointReader.Loaded loaded = CheckpointReader.newestWhole(dir, m -> {});
    assertThat(loaded.state().step()).isEqualTo(40);
    assertThat(loaded.model().get(0).data()[0]).isEqualTo((byte) 40);
  }

  @Test
  void neverDeletesTheCheckpointLatestNamesEvenWhenOlderThanTheKeptOnes() throws IOException {
    for (long step = 10; step <= 40; step += 10) {
      CheckpointWriter.write(dir, snapshot(step), 10);
    }
    // As after a crash between renaming a new checkpoint into place and updating latest.
    Files.writeString(dir.resolve(CheckpointWriter.LATEST), "step-00000010\n");
    CheckpointWriter.removeOld(dir, 2);
    assertThat(folders()).containsExactly("step-00000040", "step-00000030", "step-00000010");
  }

  @Test
  void anInterruptedWriteIsNeverReadAndIsClearedAtStart() throws IOException {
    CheckpointWriter.write(dir, snapshot(10), 3);
    Path partial = Files.createDirectories(dir.resolve(".tmp-step-00000020"));
    Files.write(partial.resolve(CheckpointWriter.MODEL), new byte[] {1, 2, 3});
    assertThat(CheckpointReader.newestWhole(dir, m -> {}).state().step()).isEqualTo(10);
    new CheckpointWriter(dir, 3).close();
    assertThat(Files.exists(partial)).isFalse();
    assertThat(folders()).containsExactly("step-00000010");
  }

  @Test
  void aDamagedCheckpointIsReportedAndThePreviousOneRead() throws IOException {
    CheckpointWriter.write(dir, snapshot(10), 3);
    CheckpointWriter.write(dir, snapshot(20), 3);
    Files.delete(dir.resolve("step-00000020").resolve(CheckpointWriter.OPTIMIZER));
    List<String> reports = new ArrayList<>();
    assertThat(CheckpointReader.newestWhole(dir, reports::add).state().step()).isEqualTo(10);
    assertThat(reports)
        .singleElement()
        .asString()
        .contains("step-00000020", "optimizer.safetensors is missing");
  }

  @Test
  void writesFormat2WithTheCrc32cOfEachFileAsTheBytesOnDisk() throws IOException {
    CheckpointWriter.write(dir, snapshot(10), 3);
    Path folder = dir.resolve("step-00000010");
    CheckpointState state =
        CheckpointState.parse(Files.readAllBytes(folder.resolve(CheckpointState.FILE)));
    assertThat(state.format()).isEqualTo(2);
    for (String file : List.of(CheckpointWriter.MODEL, CheckpointWriter.OPTIMIZER)) {
      CRC32C crc = new CRC32C();
      crc.update(Files.readAllBytes(folder.resolve(file)));
      assertThat(state.files().get(file)).isEqualTo(String.format("%08x", crc.getValue()));
    }
  }

  @Test
  void aFlippedBitIsCaughtByTheCrc32c() throws IOException {
    CheckpointWriter.write(dir, snapshot(10), 3);
    CheckpointWriter.write(dir, snapshot(20), 3);
    Path model = dir.resolve("step-00000020").resolve(CheckpointWriter.MODEL);
    byte[] bytes = Files.readAllBytes(model);
    bytes[bytes.length - 3] ^= 0x01;
    Files.write(model, bytes);
    List<String> reports = new ArrayList<>();
    assertThat(CheckpointReader.newestWhole(dir, reports::add).state().step()).isEqualTo(10);
    assertThat(reports)
        .singleElement()
        .asString()
        .contains("step-00000020", "model.safetensors: CRC32C", "differs");
  }

  /**
   * A checkpoint as trainers before format 2 wrote it: the same files, state.json with {@code
   * "format" : 1} and the SHA-256 of each file.
   */
  private Path writeFormat1(long step) throws IOException {
    Snapshot s = snapshot(step);
    Path folder = Files.createDirectories(dir.resolve(CheckpointWriter.folderName(step)));
    s.model().image().writeNew(folder.resolve(CheckpointWriter.MODEL));
    s.optimizer().image().writeNew(folder.resolve(CheckpointWriter.OPTIMIZER));
    String json =
        new String(s.state().toJson(), StandardCharsets.UTF_8)
            .replaceFirst("\"format\" : 2", "\"format\" : 1")
            .replace(
                "\"files\" : null",
                "\"files\" : {\"model.safetensors\" : \""
                    + Checksums.sha256(folder.resolve(CheckpointWriter.MODEL))
                    + "\", \"optimizer.safetensors\" : \""
                    + Checksums.sha256(folder.resolve(CheckpointWriter.OPTIMIZER))
                    + "\"}");
    assertThat(json).contains("\"format\" : 1", "model.safetensors");
    Files.writeString(folder.resolve(CheckpointState.FILE), json);
    return folder;
  }

  @Test
  void aFormat1CheckpointWithSha256LoadsAndItsDamageIsStillCaught() throws IOException {
    writeFormat1(10);
    CheckpointReader.Loaded loaded = CheckpointReader.newestWhole(dir, m -> {});
    assertThat(loaded.state().format()).isEqualTo(1);
    assertThat(loaded.state().step()).isEqualTo(10);
    assertThat(loaded.model().get(0).data()[0]).isEqualTo((byte) 10);

    Path damaged = writeFormat1(20).resolve(CheckpointWriter.OPTIMIZER);
    byte[] bytes = Files.readAllBytes(damaged);
    bytes[bytes.length - 1] ^= 0x40;
    Files.write(damaged, bytes);
    List<String> reports = new ArrayList<>();
    assertThat(CheckpointReader.newestWhole(dir, reports::add).state().step()).isEqualTo(10);
    assertThat(reports)
        .singleElement()
        .asString()
        .contains("step-00000020", "optimizer.safetensors: SHA-256", "differs");
  }

  @Test
  void aFormatThisTrainerDoesNotKnowIsSkippedWithTheReason() throws IOException {
    CheckpointWriter.write(dir, snapshot(10), 3);
    CheckpointWriter.write(dir, snapshot(20), 3);
    Path state = dir.resolve("step-00000020").resolve(CheckpointState.FILE);
    Files.writeString(
        state, Files.readString(state).replaceFirst("\"format\" : 2", "\"format\" : 3"));
    List<String> reports = new ArrayList<>();
    assertThat(CheckpointReader.newestWhole(dir, reports::add).state().step()).isEqualTo(10);
    assertThat(reports).singleElement().asString().contains("step-00000020", "format 3");
  }

  @Test
  void aCheckpointThatFindsTheDiskFullLeavesThePreviousOneNewestAndTheNextIsWrittenOnceSpaceIsBack()
      throws IOException {
    // The checkpoints of steps 20 and 30 run out of space after 10 bytes: the model file's first
    // write (16 bytes of tensor data and its header) does not fit.
    DiskFullFault fault = DiskFullFault.parse("20,30@10");
    try (CheckpointWriter writer = new CheckpointWriter(dir, 3, false, fault)) {
      writer.submit(snapshot(10));
      writer.await();
      writer.submit(snapshot(20));
      writer.await(); // does not throw: the run goes on
      assertThat(writer.drainFinished())
          .extracting(CheckpointWriter.WriteReport::step)
          .containsExactly(10L);
      List<CheckpointWriter.Failed> failed = writer.drainFailed();
      assertThat(failed).extracting(CheckpointWriter.Failed::step).containsExactly(20L);
      assertThat(failed.get(0).reason())
          .contains("No space left on device")
          .contains(".tmp-step-00000020");
      // Nothing of the failed write is left; the previous checkpoint is whole, named by latest,
      // and is what a resume reads.
      try (var names = Files.list(dir)) {
        assertThat(names.map(p -> p.getFileName().toString()))
            .containsExactlyInAnyOrder("step-00000010", CheckpointWriter.LATEST);
      }
      assertThat(CheckpointReader.latestName(dir)).isEqualTo("step-00000010");
      assertThat(CheckpointReader.newestWhole(dir, m -> {}).state().step()).isEqualTo(10);
      assertThat(writer.lastPublished().step()).isEqualTo(10);

      writer.submit(snapshot(30)); // still full
      writer.submit(snapshot(40)); // space is back
      writer.await();
      assertThat(writer.drainFailed())
          .extracting(CheckpointWriter.Failed::step)
          .containsExactly(30L);
      assertThat(writer.drainFinished())
          .extracting(CheckpointWriter.WriteReport::step)
          .containsExactly(40L);
    }
    assertThat(folders()).containsExactly("step-00000040", "step-00000010");
    CheckpointReader.Loaded loaded = CheckpointReader.newestWhole(dir, m -> {});
    assertThat(loaded.state().step()).isEqualTo(40);
    assertThat(loaded.model().get(0).data()[0]).isEqualTo((byte) 40);
  }

  @Test
  void aWriteThatRunsOutOfSpaceWritesWhatFitsThenFailsAsENOSPC() throws IOException {
    Snapshot s = snapshot(20);
    long modelBytes = s.model().image().length();
    // Space for the model file and 5 bytes of the optimizer's: the optimizer file is the one that
    // fails, and the whole temporary folder goes with it.
    DiskFullFault fault = DiskFullFault.parse("20@" + (modelBytes + 5));
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> CheckpointWriter.write(dir, s, 2, fault))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(CheckpointWriter.OPTIMIZER)
        .hasMessageEndingWith("No space left on device");
    assertThat(CheckpointWriter.outOfSpace(new IOException("x: No space left on device"))).isTrue();
    assertThat(CheckpointWriter.outOfSpace(new IOException("x: Permission denied"))).isFalse();
    try (var names = Files.list(dir)) {
      assertThat(names).isEmpty();
    }
  }

  @Test
  void anotherWriteFailureStillStopsTheRun() throws IOException {
    try (CheckpointWriter writer = new CheckpointWriter(dir, 2, false, DiskFullFault.none())) {
      // The checkpoint folder replaced by a file: creating .tmp-step-N fails, not for want of
      // space.
      writer.submit(snapshot(10));
      writer.await();
      CheckpointWriter.deleteTree(dir);
      Files.writeString(dir, "not a folder");
      writer.submit(snapshot(20));
      org.assertj.core.api.Assertions.assertThatThrownBy(writer::await)
          .isInstanceOf(IOException.class);
      assertThat(writer.drainFailed()).isEmpty();
    } catch (IOException closing) {
      // close() may rethrow the same failure: what matters is that await threw it
    }
  }
}
