import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Loads libtorch the way the trainer image lays it out and computes on it: run by
 * trainer-image/Dockerfile (java LibtorchCheck.java) when it builds the CPU image.
 */
public class LibtorchCheck {
  public static void main(String[] args) {
    Engine engine = Engine.getEngine("PyTorch");
    try (NDManager manager = engine.newBaseManager()) {
      float sum = manager.ones(new Shape(2, 3)).sum().getFloat();
      if (sum != 6f) {
        throw new IllegalStateException("libtorch computed " + sum + " for the sum of six ones");
      }
      NDArray half = manager.ones(new Shape(2, 2)).toType(ai.djl.ndarray.types.DataType.FLOAT16, false);
      System.out.println("libtorch " + engine.getVersion() + " loaded; fp16 " + half.getDataType());
    }
  }
}
