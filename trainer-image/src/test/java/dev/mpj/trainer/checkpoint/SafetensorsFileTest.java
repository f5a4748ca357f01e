package dev.mpj.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** model.safetensors must be readable by anyone's safetensors reader, not only by ours. */
class SafetensorsFileTest {
  @TempDir Path dir;

  private static SafetensorsFile.Tensor tensor(String name, long[] shape, float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    return new SafetensorsFile.Tensor(name, shape, b.array());
  }

  private final List<SafetensorsFile.Tensor> tensors =
      List.of(
          tensor("01Linear_weight", new long[] {2, 3}, 1f, -2f, 3.5f, Float.MIN_VALUE, -0f, 1e30f),
          tensor("01Linear_bias", new long[] {2}, 0.25f, -0.125f),
          tensor("03BatchNorm_runningMean", new long[] {3}, 7f, 8f, 9f));

  @Test
  void anIndependentParserOfTheFormatReadsTheNamesShapesAndBitsBack() throws IOException {
    Path file = dir.resolve("model.safetensors");
    FileImage.Written written = SafetensorsFile.write(file, tensors);

    byte[] bytes = Files.readAllBytes(file);
    assertThat(written.bytes()).isEqualTo(bytes.length);
    // The format, from its specification: u64 little-endian N, N bytes of JSON, then the data.
    long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertThat((8 + n) % 8).as("data aligned to 8 bytes").isZero();
    JsonNode header =
        new ObjectMapper().readTree(new String(bytes, 8, (int) n, StandardCharsets.UTF_8));
    List<String> names = new ArrayList<>();
    long expectedOffset = 0;
    for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      names.add(e.getKey());
      SafetensorsFile.Tensor t = tensors.get(names.size() - 1);
      assertThat(e.getValue().get("dtype").asText()).isEqualTo("F32");
      List<Long> shape = new ArrayList<>();
      e.getValue().get("shape").forEach(d -> shape.add(d.asLong()));
      assertThat(shape).containsExactly(Arrays.stream(t.shape()).boxed().toArray(Long[]::new));
      long begin = e.getValue().get("data_offsets").get(0).asLong();
      long end = e.getValue().get("data_offsets").get(1).asLong();
      assertThat(begin).as("tensors packed in order").isEqualTo(expectedOffset);
      expectedOffset = end;
      byte[] data = Arrays.copyOfRange(bytes, (int) (8 + n + begin), (int) (8 + n + end));
      assertThat(data).isEqualTo(t.data());
    }
    assertThat(names)
        .containsExactly("01Linear_weight", "01Linear_bias", "03BatchNorm_runningMean");
    assertThat(8 + n + expectedOffset).as("nothing after the last tensor").isEqualTo(bytes.length);
  }

  @Test
  void djlsOwnDecoderReadsTheFile() throws IOException {
    Path file = dir.resolve("model.safetensors");
    SafetensorsFile.write(file, tensors);
    try (NDManager manager = NDManager.newBaseManager()) {
      NDList decoded = NDList.decode(manager, Files.readAllBytes(file));
      for (SafetensorsFile.Tensor t : tensors) {
        NDArray a = decoded.get(t.name());
        assertThat(a).as(t.name()).isNotNull();
        assertThat(a.getShape().getShape()).isEqualTo(t.shape());
        assertThat(a.toByteArray()).isEqualTo(t.data());
      }
    }
  }

  @Test
  void aTruncatedFileIsRefused() throws IOException {
    Path file = dir.resolve("model.safetensors");
    SafetensorsFile.write(file, tensors);
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(bytes, bytes.length - 3));
    assertThatThrownBy(() -> SafetensorsFile.read(file))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("outside the file");
  }
}
