package dev.mpj.operator.resources;

import dev.mpj.api.MixedPrecisionJob;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A job's token, derived from the operator's key and the job's uid (HMAC-SHA256): the gang's
 * rendezvous and rank 0's progress endpoint both require it. The operator writes it into the job's
 * token Secret once and computes it again whenever it needs it, so it never reads a Secret: its
 * service account needs {@code create} on Secrets and nothing more. Pure.
 */
public final class JobTokens {
  /** The fewest bytes a key may have: 256 bits, the size of the HMAC. */
  public static final int MIN_KEY_BYTES = 32;

  private static final String HMAC = "HmacSHA256";

  private final byte[] key;

  /**
   * @throws IllegalArgumentException when the key has fewer than {@link #MIN_KEY_BYTES} bytes
   */
  public JobTokens(byte[] key) {
    if (key == null || key.length < MIN_KEY_BYTES) {
      throw new IllegalArgumentException(
          "the token key must have at least "
              + MIN_KEY_BYTES
              + " bytes, it has "
              + (key == null ? 0 : key.length));
    }
    this.key = Arrays.copyOf(key, key.length);
  }

  /** A key of {@link #MIN_KEY_BYTES} random bytes, for an operator that was given none. */
  public static JobTokens random() {
    byte[] key = new byte[MIN_KEY_BYTES];
    new SecureRandom().nextBytes(key);
    return new JobTokens(key);
  }

  /** The token of the job with this uid: 64 hex digits. */
  public String token(String uid) {
    try {
      Mac mac = Mac.getInstance(HMAC);
      mac.init(new SecretKeySpec(key, HMAC));
      return HexFormat.of().formatHex(mac.doFinal(uid.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
    }
  }

  public String token(MixedPrecisionJob job) {
    return token(job.getMetadata().getUid());
  }
}
