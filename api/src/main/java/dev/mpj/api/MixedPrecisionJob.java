package dev.mpj.api;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/** A training job that runs in FP16 mixed precision (or FP32) on a gang of GPU replicas. */
@Group(Crd.GROUP)
@Version(Crd.VERSION)
@Kind(Crd.KIND)
@Plural(Crd.PLURAL)
@Singular(Crd.SINGULAR)
@ShortNames(Crd.SHORT_NAME)
// kubectl get all lists jobs beside their pods; kubectl get mpj lists them alone (the short name).
@Categories({"all", Crd.SHORT_NAME})
@AdditionalPrinterColumn(
    name = "Phase",
    jsonPath = ".status.phase",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Precision",
    jsonPath = ".spec.precision",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Replicas",
    jsonPath = ".status.replicas",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Step",
    jsonPath = ".status.progress.step",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Loss",
    jsonPath = ".status.progress.loss",
    type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(
    name = "Loss Scale",
    jsonPath = ".status.progress.lossScale",
    type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(
    name = "Restarts",
    jsonPath = ".status.restarts",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class MixedPrecisionJob
    extends CustomResource<MixedPrecisionJobSpec, MixedPrecisionJobStatus> implements Namespaced {

  @Override
  protected MixedPrecisionJobStatus initStatus() {
    return null;
  }
}
