package dev.mpj.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The API server's rules, with its messages (k8s.io/apimachinery/pkg/util/validation). */
class KubernetesNamesTest {

  @Test
  void aServiceNameIsADns1035LabelSoItMustStartWithALetter() {
    assertThat(KubernetesNames.dns1035Label("train-workers")).isEmpty();
    assertThat(KubernetesNames.dns1035Label("1train-workers"))
        .containsExactly(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with"
                + " an alphabetic character, and end with an alphanumeric character (e.g."
                + " 'my-name',  or 'abc-123', regex used for validation is"
                + " '[a-z]([-a-z0-9]*[a-z0-9])?')");
    assertThat(KubernetesNames.dns1035Label("a".repeat(64)))
        .containsExactly("must be no more than 63 characters");
  }

  @Test
  void aDns1123LabelAllowsALeadingDigitButNoDotsAndAtMost63Characters() {
    assertThat(KubernetesNames.dns1123Label("1train-worker-0")).isEmpty();
    assertThat(KubernetesNames.dns1123Label("a".repeat(63))).isEmpty();
    assertThat(KubernetesNames.dns1123Label("a".repeat(64))).hasSize(1);
    assertThat(KubernetesNames.dns1123Label("v1.2-worker-0")).hasSize(1);
    assertThat(KubernetesNames.dns1123Label("-a")).hasSize(1);
  }

  @Test
  void aSubdomainAllowsDotsBetweenLabelsAndAtMost253Characters() {
    assertThat(KubernetesNames.dns1123Subdomain("v1.2.train")).isEmpty();
    assertThat(KubernetesNames.dns1123Subdomain("a".repeat(253))).isEmpty();
    assertThat(KubernetesNames.dns1123Subdomain("a".repeat(254)))
        .containsExactly("must be no more than 253 characters");
    assertThat(KubernetesNames.dns1123Subdomain("Train")).hasSize(1);
    assertThat(KubernetesNames.dns1123Subdomain("a..b")).hasSize(1);
    assertThat(KubernetesNames.dns1123Subdomain("a_b")).hasSize(1);
  }

  @Test
  void labelValuesMayBeEmptyOrUpTo63CharactersOfAlphanumericsDashesUnderscoresAndDots() {
    assertThat(KubernetesNames.labelValue("")).isEmpty();
    assertThat(KubernetesNames.labelValue("My_value.1")).isEmpty();
    assertThat(KubernetesNames.labelValue("a".repeat(64)))
        .containsExactly("must be no more than 63 characters");
    assertThat(KubernetesNames.labelValue("a b")).hasSize(1);
  }

  @Test
  void labelKeysAreQualifiedNamesWithAnOptionalSubdomainPrefix() {
    assertThat(KubernetesNames.qualifiedName("mpj.dev/job-name")).isEmpty();
    assertThat(KubernetesNames.qualifiedName("team")).isEmpty();
    assertThat(KubernetesNames.qualifiedName("Bad_Prefix/x"))
        .singleElement()
        .asString()
        .startsWith("prefix part a lowercase RFC 1123 subdomain");
    assertThat(KubernetesNames.qualifiedName("a/" + "x".repeat(64)))
        .containsExactly("name part must be no more than 63 characters");
    assertThat(KubernetesNames.qualifiedName("a/b/c"))
        .singleElement()
        .asString()
        .startsWith("a qualified name must consist of");
  }

  @Test
  void annotationsMayTakeAtMost256KiBInAll() {
    String half = "x".repeat(128 * 1024);
    assertThat(KubernetesNames.annotations("a", Map.of("k", half))).isEmpty();
    assertThat(KubernetesNames.annotations("a", Map.of("k1", half, "k2", half)))
        .containsExactly(new Violation("a", "Too long: must have at most 262144 bytes"));
  }
}
