package dev.mpj.chart;

import static dev.mpj.chart.HelmChart.NAMESPACE;
import static dev.mpj.chart.HelmChart.render;
import static dev.mpj.chart.OperatorPermissions.CLUSTER;
import static dev.mpj.chart.OperatorPermissions.LEADER_ELECTION;
import static dev.mpj.chart.OperatorPermissions.NAMESPACED;
import static dev.mpj.chart.OperatorPermissions.grantsOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.chart.OperatorPermissions.Grant;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleRef;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The rendered RBAC grants the operator exactly the calls of operator-permissions.yaml, in the
 * right place: cluster-wide when it watches every namespace, a Role per namespace when it watches a
 * list.
 */
class ChartRbacTest {
  private static final OperatorPermissions PERMISSIONS = OperatorPermissions.load();

  /**
   * The install guide says what the operator may do beyond the namespaces it watches: every
   * cluster-wide and lease grant, by verb and resource.
   */
  @Test
  void theInstallGuideNamesEveryGrantOutsideTheWatchedNamespaces() throws java.io.IOException {
    String guide =
        java.nio.file.Files.readString(RepoTools.repoRoot().resolve("docs/operations/install.md"))
            .replaceAll("\\s+", " ");
    for (String scope : List.of(CLUSTER, LEADER_ELECTION)) {
      for (Grant grant : PERMISSIONS.grants(scope)) {
        assertThat(guide)
            .as("docs/operations/install.md names %s", grant)
            .containsPattern("`" + grant.verb() + "`[^.]* on " + grant.resource());
      }
    }
  }

  @Test
  void thePermissionsFileListsTheOperatorsCalls() {
    Set<Grant> all = PERMISSIONS.allGrants();
    assertThat(all)
        .contains(
            new Grant("mpj.dev", "mixedprecisionjobs", "watch"),
            new Grant("mpj.dev", "mixedprecisionjobs/status", "patch"),
            new Grant("", "pods", "create"),
            new Grant("", "pods", "delete"),
            new Grant("", "nodes", "list"),
            new Grant("coordination.k8s.io", "leases", "patch"));
    assertThat(PERMISSIONS.grants(CLUSTER))
        .as("cluster-wide grants are read-only")
        .allSatisfy(g -> assertThat(g.verb()).isIn("get", "list", "watch"));
  }

  @Test
  void watchingAllNamespacesGrantsTheNamespacedCallsThroughAClusterRole() {
    RenderedChart chart = render();
    assertThat(chart.all(Role.class))
        .as("no Role without leader election or a namespace list")
        .isEmpty();
    Map<String, ClusterRole> roles = byName(chart.all(ClusterRole.class));
    assertThat(roles).hasSize(2);
    assertThat(grantsOf(roles.get("mpj-mpj-operator").getRules()))
        .isEqualTo(PERMISSIONS.grants(NAMESPACED));
    assertThat(grantsOf(roles.get("mpj-mpj-operator-cluster").getRules()))
        .isEqualTo(PERMISSIONS.grants(CLUSTER));
    assertBindingsGrantOnlyToTheOperator(chart);
  }

  @Test
  void watchingListedNamespacesGrantsTheNamespacedCallsOnlyThere() {
    RenderedChart chart = render("--set", "watchNamespaces={ml-team-a,ml-team-b}");
    List<Role> roles = chart.all(Role.class);
    assertThat(roles)
        .extracting(r -> r.getMetadata().getNamespace())
        .containsExactlyInAnyOrder("ml-team-a", "ml-team-b");
    for (Role role : roles) {
      assertThat(grantsOf(role.getRules())).isEqualTo(PERMISSIONS.grants(NAMESPACED));
    }
    List<RoleBinding> bindings = chart.all(RoleBinding.class);
    assertThat(bindings)
        .extracting(b -> b.getMetadata().getNamespace())
        .containsExactlyInAnyOrder("ml-team-a", "ml-team-b");

    ClusterRole clusterRole = single(chart.all(ClusterRole.class));
    assertThat(grantsOf(clusterRole.getRules()))
        .as("only the cluster-scoped reads stay cluster-wide")
        .isEqualTo(PERMISSIONS.grants(CLUSTER));
    assertBindingsGrantOnlyToTheOperator(chart);
  }

  @Test
  void leaderElectionGetsLeasesInItsNamespaceOnlyWhenItIsOn() {
    assertThat(allGranted(render()))
        .doesNotContainAnyElementsOf(PERMISSIONS.grants(LEADER_ELECTION));

    Role releaseNamespace = single(render("--set", "replicaCount=2").all(Role.class));
    assertThat(releaseNamespace.getMetadata().getNamespace()).isEqualTo(NAMESPACE);
    assertThat(grantsOf(releaseNamespace.getRules()))
        .isEqualTo(PERMISSIONS.grants(LEADER_ELECTION));

    RenderedChart elsewhere =
        render("--set", "replicaCount=3", "--set", "leaderElection.namespace=mpj-leases");
    Role leases = single(elsewhere.all(Role.class));
    assertThat(leases.getMetadata().getNamespace()).isEqualTo("mpj-leases");
    assertBindingsGrantOnlyToTheOperator(elsewhere);
  }

  @Test
  void everyCallIsGrantedAndNothingMoreWithEveryPartOn() {
    for (RenderedChart chart :
        List.of(
            render("--set", "replicaCount=2"),
            render("-f", RepoTools.repoRoot().resolve(HelmChart.ALL_ON_VALUES).toString()))) {
      assertThat(allGranted(chart)).isEqualTo(PERMISSIONS.allGrants());
      assertBindingsGrantOnlyToTheOperator(chart);
    }
  }

  @Test
  void rbacCreateFalseRendersNoRbac() {
    RenderedChart chart = render("--set", "rbac.create=false");
    assertThat(chart.kinds())
        .doesNotContain("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding");
  }

  private static Set<Grant> allGranted(RenderedChart chart) {
    Set<Grant> grants = new LinkedHashSet<>();
    chart.all(Role.class).forEach(r -> grants.addAll(grantsOf(r.getRules())));
    chart.all(ClusterRole.class).forEach(r -> grants.addAll(grantsOf(r.getRules())));
    return grants;
  }

  /**
   * Every role is bound, only to the operator's ServiceAccount, and every binding names a rendered
   * role.
   */
  private static void assertBindingsGrantOnlyToTheOperator(RenderedChart chart) {
    ServiceAccount account = chart.one(ServiceAccount.class);
    Subject operator =
        new Subject(null, "ServiceAccount", account.getMetadata().getName(), NAMESPACE);
    Set<String> boundRoles = new HashSet<>();
    for (RoleBinding binding : chart.all(RoleBinding.class)) {
      assertThat(binding.getSubjects()).containsExactly(operator);
      RoleRef ref = binding.getRoleRef();
      assertThat(ref.getKind()).isEqualTo("Role");
      boundRoles.add(binding.getMetadata().getNamespace() + "/" + ref.getName());
    }
    for (ClusterRoleBinding binding : chart.all(ClusterRoleBinding.class)) {
      assertThat(binding.getSubjects()).containsExactly(operator);
      assertThat(binding.getRoleRef().getKind()).isEqualTo("ClusterRole");
      boundRoles.add("/" + binding.getRoleRef().getName());
    }
    Set<String> roles = new HashSet<>();
    chart
        .all(Role.class)
        .forEach(r -> roles.add(r.getMetadata().getNamespace() + "/" + r.getMetadata().getName()));
    chart.all(ClusterRole.class).forEach(r -> roles.add("/" + r.getMetadata().getName()));
    assertThat(boundRoles).isEqualTo(roles);
  }

  private static Map<String, ClusterRole> byName(List<ClusterRole> roles) {
    return roles.stream().collect(Collectors.toMap(r -> r.getMetadata().getName(), r -> r));
  }

  private static <T> T single(List<T> items) {
    assertThat(items).hasSize(1);
    return items.get(0);
  }
}
