package dev.mpj.chart;

import dev.mpj.chart.OperatorPermissions.Grant;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRule;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRuleBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectRulesReviewStatusBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Answers a SelfSubjectRulesReview as a real API server answers the operator's service account:
 * with the rules the chart grants it (operator-permissions.yaml, from which the chart renders its
 * Roles) and those of system:basic-user, never with a wildcard. All scopes of the file are answered
 * for every namespace: the tests keep the lease in the watched namespace.
 */
public final class SelfSubjectRulesReviews {
  static final String PATH = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews";

  /**
   * What JOSDK 5.2.3's LeaderElectionManager requires the review to show on leases before it starts
   * leader election (it throws otherwise), whatever the lease lock itself then calls.
   */
  public static final Set<Grant> LEASE_ACCESS_JOSDK_CHECKS =
      Set.of(
          new Grant("coordination.k8s.io", "leases", "create"),
          new Grant("coordination.k8s.io", "leases", "update"),
          new Grant("coordination.k8s.io", "leases", "get"));

  private SelfSubjectRulesReviews() {}

  public static boolean isReview(RecordedRequest request) {
    return "POST".equalsIgnoreCase(request.getMethod()) && request.getPath().startsWith(PATH);
  }

  /** The created review, its status holding the rules {@code granted} gives. */
  public static MockResponse answer(RecordedRequest request, OperatorPermissions granted) {
    SelfSubjectRulesReview review =
        Serialization.unmarshal(
            new String(request.getBody().getBytes(), StandardCharsets.UTF_8),
            SelfSubjectRulesReview.class);
    List<ResourceRule> rules = new ArrayList<>();
    for (OperatorPermissions.Permission p : granted.permissions()) {
      rules.add(
          new ResourceRuleBuilder()
              .withApiGroups(p.apiGroup())
              .withResources(p.resource())
              .withVerbs(p.verbs())
              .build());
    }
    for (Grant g : ApiRequests.ALLOWED_TO_EVERY_USER) {
      rules.add(
          new ResourceRuleBuilder()
              .withApiGroups(g.apiGroup())
              .withResources(g.resource())
              .withVerbs(g.verb())
              .build());
    }
    review.setStatus(
        new SubjectRulesReviewStatusBuilder()
            .withIncomplete(false)
            .withResourceRules(rules)
            .withNonResourceRules(List.of())
            .build());
    return new MockResponse().setResponseCode(201).setBody(Serialization.asJson(review));
  }
}
