package dev.mpj.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mpj.api.JobFiles;
import dev.mpj.operator.planning.GpuType;
import io.fabric8.kubernetes.api.model.Quantity;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A user's GPU catalog (mpj plan --catalog FILE): a list under {@code gpus} of entries with name,
 * memory (a Kubernetes quantity such as 80Gi), architecture, tensorCoreFormats, fp32Tflops and
 * fp16Tflops. A problem is an IllegalArgumentException with the file and the field.
 */
final class GpuCatalogFile {

  private GpuCatalogFile() {}

  static List<GpuType> read(Path file) {
    JsonNode root;
    try {
      root = JobFiles.yamlMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new IllegalArgumentException("--catalog " + file + ": cannot read: " + e.getMessage());
    }
    JsonNode gpus = root != null ? root.path("gpus") : null;
    if (gpus == null || !gpus.isArray()) {
      throw refused(file, "gpus", "is required: a list of GPU entries");
    }
    List<GpuType> entries = new ArrayList<>();
    for (int i = 0; i < gpus.size(); i++) {
      JsonNode g = gpus.get(i);
      String at = "gpus[" + i + "].";
      String name = g.path("name").asText("");
      if (name.isBlank()) {
        throw refused(file, at + "name", "is required");
      }
      if (!g.path("memory").isValueNode()) {
        throw refused(file, at + "memory", "is required, e.g. 80Gi");
      }
      long memory;
      try {
        memory = Quantity.getAmountInBytes(new Quantity(g.path("memory").asText())).longValue();
      } catch (IllegalArgumentException | ArithmeticException e) {
        throw refused(
            file, at + "memory", "'" + g.path("memory").asText() + "' is not a memory size");
      }
      if (!g.path("fp32Tflops").isNumber()) {
        throw refused(file, at + "fp32Tflops", "is required: peak dense FP32 TFLOPS");
      }
      JsonNode fp16 = g.path("fp16Tflops");
      if (!fp16.isMissingNode() && !fp16.isNull() && !fp16.isNumber()) {
        throw refused(file, at + "fp16Tflops", "must be a number");
      }
      List<String> formats = new ArrayList<>();
      g.path("tensorCoreFormats").forEach(f -> formats.add(f.asText()));
      try {
        entries.add(
            new GpuType(
                name,
                memory,
                g.path("architecture").asText(""),
                formats,
                g.path("fp32Tflops").asDouble(),
                fp16.isNumber() ? fp16.asDouble() : null,
                "catalog " + file.getFileName()));
      } catch (IllegalArgumentException e) {
        throw refused(
            file,
            at + e.getMessage().split(":")[0],
            e.getMessage().substring(e.getMessage().indexOf(':') + 1).trim());
      }
    }
    return entries;
  }

  private static IllegalArgumentException refused(Path file, String field, String message) {
    return new IllegalArgumentException("--catalog " + file + ": " + field + ": " + message);
  }
}
