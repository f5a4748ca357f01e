package dev.mpj.trainer.checkpoint;

import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.mpj.api.Precision;
import dev.mpj.trainer.config.RunConfig;
import dev.mpj.trainer.data.Dataset;
import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * SHA-256 of the parts of a job that define the checkpoint's tensors: the model section, the shape
 * of the data the model sees (sample shape, classes, task) and the precision. Training settings
 * (steps, learning rate, interval) may change between runs; these may not.
 */
public final class ModelConfigHash {
  private static final ObjectMapper CANONICAL =
      JsonMapper.builder()
          .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
          .build();

  private ModelConfigHash() {}

  public static String of(RunConfig config, Dataset train) {
    return of(config, train, config.precision());
  }

  /** The hash of the same model and data in {@code precision} (the FP32 fallback's check). */
  public static String of(RunConfig config, Dataset train, Precision precision) {
    Map<String, Object> parts = new LinkedHashMap<>();
    parts.put("model", config.spec().model);
    parts.put("sampleShape", Arrays.toString(train.sampleShape()));
    parts.put("classes", train.classes());
    parts.put("task", train.kind().name());
    parts.put("precision", precision.value());
    try {
      return Checksums.sha256(CANONICAL.writeValueAsBytes(parts));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
