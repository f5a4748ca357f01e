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
}
