package dev.mpj.operator.resources;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class JobTokensTest {
  private static final JobTokens TOKENS =
      new JobTokens("a key of thirty-two bytes or more!".getBytes(StandardCharsets.UTF_8));

  @Test
  void aTokenIsTheHmacSha256OfTheUidUnderTheKey() {
    String token = TOKENS.token("6f1c3b2a-0000-4000-8000-000000000001");
    // Computed apart, with Python: hmac.new(key, uid, hashlib.sha256).hexdigest()
    assertThat(token).isEqualTo("2b0eebad69b494edade1609c27018a048e6a6d0eb0bc398bba6a49f82b3fd00a");
    assertThat(TOKENS.token("6f1c3b2a-0000-4000-8000-000000000001"))
        .as("the same uid, the same token: the operator recomputes it after a restart")
        .isEqualTo(token);
    assertThat(TOKENS.token("6f1c3b2a-0000-4000-8000-000000000002")).isNotEqualTo(token);
    assertThat(
            new JobTokens("another key of thirty-two bytes!!".getBytes(StandardCharsets.UTF_8))
                .token("6f1c3b2a-0000-4000-8000-000000000001"))
        .as("another key, another token")
        .isNotEqualTo(token);
  }

  @Test
  void aKeyShorterThanTheHmacIsRefused() {
    assertThatThrownBy(() -> new JobTokens(new byte[31]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least 32 bytes");
  }

  @Test
  void randomKeysGiveDifferentTokens() {
    assertThat(JobTokens.random().token("uid")).isNotEqualTo(JobTokens.random().token("uid"));
  }
}
