package dev.mpj.trainer.distributed;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.trainer.config.RunConfig;
import dev.mpj.trainer.loop.TrainingSession;
import dev.mpj.trainer.optim.Optimizer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a replica needs to continue a run exactly where rank 0 stands: FP32 master weights,
 * BatchNorm buffers, optimizer state and update count, loss scale and growth tracker, step, skipped
 * steps and data position, with a fingerprint of the job's spec. Rank 0 broadcasts these bytes at
 * the start, fresh or restored from a checkpoint; the others load them in place.
 *
 * <p>Layout (big-endian headers, tensor data as raw little-endian FP32, as {@code toByteArray}
 * gives): {@code "MPJR" version specSha256[32] step skipped epoch index scale growthTracker
 * updates}, then three groups (weights, buffers, optimizer state), each {@code count} then per
 * tensor {@code name rank dims... byteLength bytes}.
 */
public final class ReplicaState {
  private static final int MAGIC = 0x4d504a52; // "MPJR"
  private static final int VERSION = 1;
  private static final String[] GROUPS = {"master weights", "buffers", "optimizer state"};

  /** A named FP32 tensor as it crosses the wire. */
  private record Tensor(String name, long[] shape, byte[] data) {}

  private final byte[] specSha256;
  private final long step;
  private final long skipped;
  private final int epoch;
  private final int index;
  private final double scale;
  private final int growthTracker;
  private final long updates;
  private final List<List<Tensor>> groups;

  private ReplicaState(
      byte[] specSha256,
      long step,
      long skipped,
      int epoch,
      int index,
      double scale,
      int growthTracker,
      long updates,
      List<List<Tensor>> groups) {
    this.specSha256 = specSha256;
    this.step = step;
    this.skipped = skipped;
    this.epoch = epoch;
    this.index = index;
    this.scale = scale;
    this.growthTracker = growthTracker;
    this.updates = updates;
    this.groups = groups;
  }

  /** What {@code session} holds now. */
  public static ReplicaState of(TrainingSession session, RunConfig config) {
    var weights = session.weights();
    weights.syncBuffersToMaster();
    List<Tensor> master = tensors(weights.names(), weights.masterArrays());
    List<Tensor> buffers = tensors(weights.bufferNames(), weights.buffers());
    List<Tensor> optimizer = new ArrayList<>();
    for (Optimizer.NamedArray state : session.optimizer().state()) {
      optimizer.add(tensor(state.name(), state.array()));
    }
    return new ReplicaState(
        specSha256(config),
        session.step(),
        session.skippedSteps(),
        session.dataOrder().epoch(),
        session.dataOrder().index(),
        session.scaler().scale(),
        session.scaler().growthTracker(),
        session.optimizer().updates(),
        List.of(master, buffers, optimizer));
  }

  public long step() {
    return step;
  }

  /** The FP32 master weights by DJL's names, in the model's order. */
  public Map<String, float[]> masterWeights() {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (Tensor t : groups.get(0)) {
      float[] values = new float[t.data().length / 4];
      ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
      out.put(t.name(), values);
    }
    return out;
  }

  /** The bytes rank 0 broadcasts. */
  public byte[] toBytes() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(MAGIC);
      out.writeInt(VERSION);
      out.write(specSha256);
      out.writeLong(step);
      out.writeLong(skipped);
      out.writeInt(epoch);
      out.writeInt(index);
      out.writeDouble(scale);
      out.writeInt(growthTracker);
      out.writeLong(updates);
      for (List<Tensor> group : groups) {
        out.writeInt(group.size());
        for (Tensor t : group) {
          out.writeUTF(t.name());
          out.writeInt(t.shape().length);
          for (long d : t.shape()) {
            out.writeLong(d);
          }
          out.writeInt(t.data().length);
          out.write(t.data());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * The first 8 bytes of the SHA-256 of {@link #toBytes()}: what replicas compare to prove they
   * agree.
   */
  public long digest() {
    return ByteBuffer.wrap(sha256(toBytes())).getLong();
  }

  /**
   * Reads rank 0's bytes.
   *
   * @throws IllegalArgumentException when they are not a replica state of this format
   */
  public static ReplicaState fromBytes(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      if (in.readInt() != MAGIC || in.readInt() != VERSION) {
        throw new IllegalArgumentException("not a replica state of version " + VERSION);
      }
      byte[] spec = in.readNBytes(32);
      long step = in.readLong();
      long skipped = in.readLong();
      int epoch = in.readInt();
      int index = in.readInt();
      double scale = in.readDouble();
      int tracker = in.readInt();
      long updates = in.readLong();
      List<List<Tensor>> groups = new ArrayList<>();
      for (int g = 0; g < GROUPS.length; g++) {
        int count = in.readInt();
        List<Tensor> group = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
          String name = in.readUTF();
          long[] shape = new long[in.readInt()];
          for (int d = 0; d < shape.length; d++) {
            shape[d] = in.readLong();
          }
          byte[] data = new byte[in.readInt()];
          in.readFully(data);
          group.add(new Tensor(name, shape, data));
        }
        groups.add(group);
      }
      return new ReplicaState(spec, step, skipped, epoch, index, scale, tracker, updates, groups);
    } catch (IOException e) {
      throw new IllegalArgumentException("a truncated replica state: " + e.getMessage(), e);
    }
  }

  /**
   * Puts this state into {@code session} in place: checks first that it belongs to the same job and
   * the same model (names, shapes), then writes the arrays and the plain values.
   *
   * @throws IllegalStateException naming the first difference, with nothing changed
   */
  public void loadInto(TrainingSession session, RunConfig config) {
    if (!Arrays.equals(specSha256, specSha256(config))) {
      throw new IllegalStateException(
          "rank 0 trains another job spec than this replica: every replica must get the same spec");
    }
    var weights = session.weights();
    List<NDArray> optimizerArrays =
        session.optimizer().state().stream().map(Optimizer.NamedArray::array).toList();
    List<String> optimizerNames =
        session.optimizer().state().stream().map(Optimizer.NamedArray::name).toList();
    List<List<NDArray>> targets =
        List.of(weights.masterArrays(), weights.buffers(), optimizerArrays);
    List<List<String>> names = List.of(weights.names(), weights.bufferNames(), optimizerNames);
    for (int g = 0; g < GROUPS.length; g++) {
      check(GROUPS[g], groups.get(g), names.get(g), targets.get(g));
    }
    for (int g = 0; g < GROUPS.length; g++) {
      for (int i = 0; i < groups.get(g).size(); i++) {
        targets
            .get(g)
            .get(i)
            .set(ByteBuffer.wrap(groups.get(g).get(i).data()).order(ByteOrder.LITTLE_ENDIAN));
      }
    }
    weights.syncBuffersToMaster();
    weights.copyToWorking();
    session.optimizer().restoreUpdates(updates);
    session.scaler().restore(scale, growthTracker);
    if (step > 0 || epoch > 0 || index > 0) {
      session.restorePosition(step, skipped, epoch, index);
    }
  }

  private static void check(
      String group, List<Tensor> received, List<String> names, List<NDArray> arrays) {
    if (received.size() != arrays.size()) {
      throw new IllegalStateException(
          "rank 0 has "
              + received.size()
              + " tensors of "
              + group
              + ", this replica "
              + arrays.size()
              + ": the replicas built different models");
    }
    for (int i = 0; i < arrays.size(); i++) {
      Tensor t = received.get(i);
      NDArray a = arrays.get(i);
      if (!t.name().equals(names.get(i))
          || !new Shape(t.shape()).equals(a.getShape())
          || a.getDataType() != DataType.FLOAT32
          || t.data().length != a.getShape().size() * 4) {
        throw new IllegalStateException(
            "rank 0's "
                + group
                + " "
                + t.name()
                + " "
                + new Shape(t.shape())
                + " does not match this replica's "
                + names.get(i)
                + " "
                + a.getShape()
                + " "
                + a.getDataType());
      }
    }
  }

  private static List<Tensor> tensors(List<String> names, List<NDArray> arrays) {
    List<Tensor> out = new ArrayList<>(arrays.size());
    for (int i = 0; i < arrays.size(); i++) {
      out.add(tensor(names.get(i), arrays.get(i)));
    }
    return out;
  }

  private static Tensor tensor(String name, NDArray array) {
    if (array.getDataType() != DataType.FLOAT32) {
      throw new IllegalStateException(
          name + " is " + array.getDataType() + ", the replica state holds FP32 only");
    }
    return new Tensor(name, array.getShape().getShape(), array.toByteArray());
  }

  /**
   * The job's spec as JSON, hashed: replicas started from different specs must not train together.
   */
  static byte[] specSha256(RunConfig config) {
    try {
      return sha256(new ObjectMapper().writeValueAsBytes(config.spec()));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise the job's spec: " + e.getMessage(), e);
    }
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }
}
