package dev.mpj.local;

/**
 * The small fp16-mixed job the reference-parity tests run through {@code mpj local}: 30 steps,
 * compared with its FP32 reference at step 20. One text for both schedules.
 */
final class ParityJobManifest {
  private ParityJobManifest() {}

  /**
   * @param lossScaling the {@code lossScaling:} line of the spec
   * @param action the reference check's action (warn or fail)
   * @param schedule the reference run's schedule (before or beside)
   */
  static String of(String lossScaling, String action, String schedule) {
    return """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: parity}
        spec:
          precision: fp16-mixed
          %s
          model:
            architecture: mlp
            mlp: {hiddenSizes: [32], activation: relu}
          data:
            source: synthetic
            synthetic: {task: classification, samples: 4096, features: 32, classes: 8}
            validationFraction: 0.2
          training:
            globalBatchSize: 64
            steps: 30
            optimizer: {type: adam, learningRate: 0.002}
            gradientClipNorm: 1.0
            seed: 0
          replicas: {min: 1, max: 1}
          resources: {gpusPerReplica: 1, gpuMemory: 16Gi, cpu: "1", memory: 2Gi}
          checkpoint: {intervalSteps: 10, keep: 3, volume: {size: 1Gi}}
          parity:
            reference:
              {steps: 20, windowSteps: 10, maxAccuracyDrop: 2.0, action: %s, schedule: %s}
        """
        .formatted(lossScaling, action, schedule);
  }
}
