package dev.mpj.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Follows a growing metrics.jsonl, reading only what was appended since the last look. */
final class MetricsTail {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Path file;
  private long offset;
  private long lastStep = -1;
  private final StringBuilder partial = new StringBuilder();

  MetricsTail(Path file) {
    this.file = file;
  }

  long lastStep() {
    if (!Files.exists(file)) {
      return lastStep;
    }
    try (var channel = FileChannel.open(file)) {
      if (channel.size() <= offset) {
        return lastStep;
      }
      var buffer = ByteBuffer.allocate((int) Math.min(channel.size() - offset, 1 << 20));
      offset += channel.read(buffer, offset);
      partial.append(new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8));
      int newline;
      while ((newline = partial.indexOf("\n")) >= 0) {
        String line = partial.substring(0, newline);
        partial.delete(0, newline + 1);
        JsonNode step = line.isBlank() ? null : JSON.readTree(line).get("step");
        if (step != null) {
          lastStep = step.asLong();
        }
      }
    } catch (IOException e) {
      // Not there yet, or half-written: look again next time.
    }
    return lastStep;
  }
}
