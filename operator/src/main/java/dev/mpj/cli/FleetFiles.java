package dev.mpj.cli;

import dev.mpj.api.validation.Violation;
import dev.mpj.operator.planning.FleetManifests;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads the manifests of {@code mpj plan -f}: files, folders (every .yaml, .yml and .json file
 * below, in name order) and {@code -} for standard input.
 */
final class FleetFiles {

  private FleetFiles() {}

  static FleetManifests read(List<String> args, InputStream stdin) {
    FleetManifests all = FleetManifests.none();
    for (String arg : args) {
      all = all.plus(readOne(arg, stdin));
    }
    return all;
  }

  private static FleetManifests readOne(String arg, InputStream stdin) {
    if (arg.equals("-")) {
      try {
        return FleetManifests.of(
            "(stdin)", new String(stdin.readAllBytes(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        return unreadable("(stdin)", e.getMessage());
      }
    }
    Path path = Path.of(arg);
    if (Files.isDirectory(path)) {
      FleetManifests all = FleetManifests.none();
      for (Path file : manifestsBelow(path)) {
        all = all.plus(readFile(file));
      }
      return all;
    }
    if (!Files.exists(path)) {
      return unreadable(arg, "file not found: " + arg);
    }
    return readFile(path);
  }

  private static FleetManifests readFile(Path file) {
    try {
      return FleetManifests.of(file.toString(), Files.readString(file));
    } catch (IOException e) {
      return unreadable(file.toString(), "cannot read " + file + ": " + e.getMessage());
    }
  }

  private static List<Path> manifestsBelow(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      return files
          .filter(Files::isRegularFile)
          .filter(
              p -> {
                String n = p.getFileName().toString();
                return n.endsWith(".yaml") || n.endsWith(".yml") || n.endsWith(".json");
              })
          .sorted()
          .toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  private static FleetManifests unreadable(String source, String message) {
    return new FleetManifests(
        List.of(),
        List.of(
            new FleetManifests.InvalidDocument(
                source, null, List.of(new Violation("-f", message)))),
        List.of());
  }

  /** The number of YAML documents in {@code file}; 0 when it cannot be read. */
  static int documents(Path file) {
    try {
      FleetManifests m = FleetManifests.of(file.toString(), Files.readString(file));
      return m.jobs().size() + m.invalid().size() + m.skipped().size();
    } catch (IOException e) {
      return 0;
    }
  }
}
