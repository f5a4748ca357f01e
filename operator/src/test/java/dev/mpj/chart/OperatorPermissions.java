package dev.mpj.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * charts/mpj-operator/operator-permissions.yaml: every API call the operator makes, with the scope
 * the chart grants it in. The chart renders its RBAC from it; the RBAC tests hold the rendered
 * roles to it.
 */
public record OperatorPermissions(List<Permission> permissions) {

  /** One verb on one resource (a subresource is written resource/subresource) of one API group. */
  public record Grant(String apiGroup, String resource, String verb) {}

  public record Permission(String apiGroup, String resource, List<String> verbs, String scope) {}

  public static final String NAMESPACED = "namespaced";
  public static final String CLUSTER = "cluster";
  public static final String LEADER_ELECTION = "leaderElection";

  public static OperatorPermissions load() {
    try {
      JsonNode root =
          new YAMLMapper()
              .readTree(HelmChart.chartDir().resolve("operator-permissions.yaml").toFile());
      List<Permission> permissions =
          new YAMLMapper().readerForListOf(Permission.class).readValue(root.get("permissions"));
      return new OperatorPermissions(permissions);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Set<Grant> grants(String scope) {
    Set<Grant> grants = new LinkedHashSet<>();
    for (Permission permission : permissions) {
      assertThat(permission.scope()).isIn(NAMESPACED, CLUSTER, LEADER_ELECTION);
      if (permission.scope().equals(scope)) {
        permission
            .verbs()
            .forEach(v -> grants.add(new Grant(permission.apiGroup(), permission.resource(), v)));
      }
    }
    return grants;
  }

  /** These permissions less one verb on one resource, as a chart that forgot it would grant. */
  public OperatorPermissions without(String apiGroup, String resource, String verb) {
    return new OperatorPermissions(
        permissions.stream()
            .map(
                p ->
                    p.apiGroup().equals(apiGroup) && p.resource().equals(resource)
                        ? new Permission(
                            p.apiGroup(),
                            p.resource(),
                            p.verbs().stream().filter(v -> !v.equals(verb)).toList(),
                            p.scope())
                        : p)
            .toList());
  }

  public Set<Grant> allGrants() {
    Set<Grant> grants = new LinkedHashSet<>();
    for (String scope : List.of(NAMESPACED, CLUSTER, LEADER_ELECTION)) {
      grants.addAll(grants(scope));
    }
    return grants;
  }

  /** Expands RBAC rules into single grants; wildcards and resource names are refused outright. */
  static Set<Grant> grantsOf(Collection<PolicyRule> rules) {
    Set<Grant> grants = new LinkedHashSet<>();
    for (PolicyRule rule : rules) {
      assertThat(rule.getResourceNames()).as("rule %s", rule).isNullOrEmpty();
      assertThat(rule.getNonResourceURLs()).as("rule %s", rule).isNullOrEmpty();
      for (String group : rule.getApiGroups()) {
        for (String resource : rule.getResources()) {
          for (String verb : rule.getVerbs()) {
            assertThat(List.of(group, resource, verb))
                .as("wildcard in rule %s", rule)
                .doesNotContain("*");
            grants.add(new Grant(group, resource, verb));
          }
        }
      }
    }
    return grants;
  }
}
