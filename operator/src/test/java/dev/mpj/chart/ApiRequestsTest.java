package dev.mpj.chart;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.chart.OperatorPermissions.Grant;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Requests map to the grants the API server's authorizer would check. */
@EnableKubernetesMockClient(crud = true)
class ApiRequestsTest {
  KubernetesMockServer server;
  KubernetesClient client;

  @Test
  void pathsAndMethodsMapToGroupResourceAndVerb() {
    assertThat(ApiRequests.grantFor("GET", "/api/v1/namespaces/ml/pods?labelSelector=a%3Db"))
        .contains(new Grant("", "pods", "list"));
    assertThat(
            ApiRequests.grantFor("GET", "/api/v1/namespaces/ml/pods?watch=true&resourceVersion=5"))
        .contains(new Grant("", "pods", "watch"));
    assertThat(ApiRequests.grantFor("GET", "/api/v1/namespaces/ml/pods/job-worker-0"))
        .contains(new Grant("", "pods", "get"));
    assertThat(ApiRequests.grantFor("DELETE", "/api/v1/namespaces/ml/pods/job-worker-0"))
        .contains(new Grant("", "pods", "delete"));
    assertThat(ApiRequests.grantFor("DELETE", "/api/v1/namespaces/ml/pods?labelSelector=x"))
        .contains(new Grant("", "pods", "deletecollection"));
    assertThat(
            ApiRequests.grantFor(
                "PATCH", "/apis/mpj.dev/v1alpha1/namespaces/ml/mixedprecisionjobs/job/status"))
        .contains(new Grant("mpj.dev", "mixedprecisionjobs/status", "patch"));
    assertThat(
            ApiRequests.grantFor(
                "PUT", "/apis/coordination.k8s.io/v1/namespaces/mpj-system/leases/mpj"))
        .contains(new Grant("coordination.k8s.io", "leases", "update"));
    assertThat(ApiRequests.grantFor("GET", "/apis/mpj.dev/v1alpha1/mixedprecisionjobs?watch=1"))
        .contains(new Grant("mpj.dev", "mixedprecisionjobs", "watch"));
    assertThat(ApiRequests.grantFor("GET", "/api/v1/nodes"))
        .contains(new Grant("", "nodes", "list"));
    assertThat(ApiRequests.grantFor("GET", "/api/v1/namespaces/ml"))
        .contains(new Grant("", "namespaces", "get"));
    assertThat(ApiRequests.grantFor("POST", "/api/v1/namespaces/ml/pods/p/eviction"))
        .contains(new Grant("", "pods/eviction", "create"));
    assertThat(ApiRequests.grantFor("GET", "/apis")).isEqualTo(Optional.empty());
    assertThat(ApiRequests.grantFor("GET", "/version")).isEqualTo(Optional.empty());
  }

  @Test
  void recordedCallsMapToGrantsAndAnUngrantedCallShows() throws Exception {
    Set<Grant> allowed = OperatorPermissions.load().allGrants();
    // The user creates the job (the operator may not); what the operator does starts after that.
    MixedPrecisionJob job = new MixedPrecisionJob();
    job.setMetadata(new ObjectMetaBuilder().withName("job").withNamespace("ml").build());
    client.resource(job).create();
    assertThat(ApiRequests.drain(server))
        .contains(new Grant("mpj.dev", "mixedprecisionjobs", "create"));

    client
        .configMaps()
        .inNamespace("ml")
        .resource(
            new ConfigMapBuilder().withNewMetadata().withName("job-config").endMetadata().build())
        .create();
    client
        .pods()
        .inNamespace("ml")
        .resource(new PodBuilder().withNewMetadata().withName("job-worker-0").endMetadata().build())
        .create();
    try (Watch watch =
        client
            .pods()
            .inNamespace("ml")
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, Pod pod) {}

                  @Override
                  public void onClose(WatcherException cause) {}
                })) {
      client.pods().inNamespace("ml").withName("job-worker-0").delete();
    }
    job.setStatus(new MixedPrecisionJobStatus());
    job.getStatus().phase = JobPhase.Pending;
    client.resource(job).patchStatus();
    client.nodes().list();
    // As JOSDK's leader election does at start; the mock server in CRUD mode insists on a name.
    client
        .resource(
            new SelfSubjectRulesReviewBuilder()
                .withNewMetadata()
                .withName("lease-access")
                .endMetadata()
                .withNewSpec()
                .withNamespace("mpj-system")
                .endSpec()
                .build())
        .create();

    Set<Grant> used = ApiRequests.drain(server);
    assertThat(used)
        .contains(
            new Grant("", "configmaps", "create"),
            new Grant("", "pods", "watch"),
            new Grant("", "pods", "delete"),
            new Grant("mpj.dev", "mixedprecisionjobs/status", "patch"),
            new Grant("", "nodes", "list"));
    // Whether the operator's real calls are all granted is OperatorRbacTest's question.

    client
        .apps()
        .deployments()
        .inNamespace("ml")
        .resource(new DeploymentBuilder().withNewMetadata().withName("d").endMetadata().build())
        .create();
    assertThat(ApiRequests.drain(server))
        .as("a call the operator has no permission for shows up")
        .containsExactly(new Grant("apps", "deployments", "create"))
        .doesNotContainAnyElementsOf(allowed);
  }
}
